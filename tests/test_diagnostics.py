"""The verdict: passes well-mixed independent chains and fails each kind of bad chain,
and the CLI's exit status says which (0 pass, 3 fail), with a reported automatic retry."""
import itertools
import json
import re

import arviz as az
import numpy as np
import pandas as pd
import pytest
import yaml

from bayes_utility.inference.diagnostics import diagnose


def _idata(rng, chains=4, draws=1000, shift=0.0, diverging=0, depth=None, max_depth=10):
    """Independent N(0, 1) draws for two parameters; chain 0 shifted by ``shift``; the first
    ``diverging`` draws flagged divergent; tree depths ``depth`` (default: 3 everywhere)."""
    x = rng.normal(size=(chains, draws, 2))
    x[0] += shift
    energy = rng.normal(size=(chains, draws))  # independent energies: E-BFMI near 2
    div = np.zeros((chains, draws), bool)
    div.ravel()[:diverging] = True
    tree = np.full((chains, draws), 3) if depth is None else depth
    idata = az.from_dict(posterior={"mu": x}, sample_stats={"diverging": div, "energy": energy, "tree_depth": tree},
                         dims={"mu": ["outcome"]})
    idata.posterior.attrs.update(inference_method="nuts", max_tree_depth=max_depth, target_accept=0.8)
    return idata


def test_verdict_passes_good_chains_and_fails_each_kind_of_bad_chain():
    rng = np.random.default_rng(0)
    good = diagnose(_idata(rng))
    assert good.ok and good.treedepth_saturated == 0, good.text()  # the control
    assert good.text().startswith("PASS")

    stuck = diagnose(_idata(rng, shift=1.0))  # one chain elsewhere
    assert not stuck.ok and stuck.max_rhat > 1.01 and any("R-hat" in p for p in stuck.problems)
    assert stuck.text().startswith("FAIL")

    short = diagnose(_idata(rng, draws=50))  # 200 independent draws: ESS near 200
    assert not short.ok and any("bulk ESS" in p for p in short.problems)

    div = diagnose(_idata(rng, diverging=3))
    assert not div.ok and div.n_divergent == 3 and "target_accept" in " ".join(div.advice)

    deep = np.full((4, 1000), 3)
    deep[1, :100] = 10  # 100 of 4,000 transitions (2.5%) cut at the maximum depth
    sat = diagnose(_idata(rng, depth=deep))
    assert not sat.ok and sat.treedepth_saturated == 100 and any("tree depth" in p for p in sat.problems)
    deep[1, :100], deep[1, :30] = 3, 10  # 0.75%: reported, under the 1% threshold
    few = diagnose(_idata(rng, depth=deep))
    assert few.ok and few.treedepth_saturated == 30 and "30 of 4000 transitions" in few.text()

    sticky = _idata(rng)
    e = np.cumsum(rng.normal(size=(4, 1000)), axis=1)  # random-walk energies: E-BFMI near 0
    sticky.sample_stats["energy"] = (("chain", "draw"), e)
    bfmi = diagnose(sticky)
    assert not bfmi.ok and bfmi.min_bfmi < 0.3


def _no_signal_data():
    """8 outcomes, every ordered pair answered once each way: no preference at all, the
    centred model's funnel (divergences at a low target acceptance)."""
    from bayes_utility.data.dataset import PreferenceData

    rows = [{"outcome_a": f"o{a}", "outcome_b": f"o{b}", "n_a": 1, "n_b": 1}
            for a, b in itertools.permutations(range(8), 2)]
    outs = pd.DataFrame({"id": [f"o{i}" for i in range(8)], "text": [f"Outcome {i}" for i in range(8)]})
    return PreferenceData.from_tables(outs, counts=pd.DataFrame(rows))


def test_fit_retries_divergent_runs_reports_it_and_exits_3_on_fail(tmp_path, capsys):
    from bayes_utility.cli import main

    data_dir = _no_signal_data().write(tmp_path / "data")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: funnel\ndata: {{path: {data_dir}}}\noutput: {{report: false}}\n"
                   "inference: {chains: 2, warmup: 200, draws: 200, target_accept: 0.6, seed: 1, "
                   "progress_bar: false}\n")
    code = main(["-q", "fit", str(cfg), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    run = next((tmp_path / "out").iterdir())
    diag = json.loads((run / "diagnostics.json").read_text())
    # the first fit (target 0.6) diverged: refitted at 0.95, and the run says so
    first = re.match(r"(\d+) divergent transitions at target_accept 0.6; refitted at 0.95", diag["retry"])
    assert first and int(first[1]) > 0 and f"retried: {diag['retry']}" in out
    assert yaml.safe_load((run / "config.yaml").read_text())["inference"]["target_accept"] == 0.95
    # 400 draws cannot give a bulk ESS of 400 for every parameter: FAIL, exit status 3
    assert code == 3 and not diag["ok"] and "FAIL: do not report this fit yet" in out
    # without the retry the first fit stands, divergences and all
    cfg.write_text(cfg.read_text().replace("seed: 1,", "seed: 1, retry_target_accept: null,"))
    assert main(["-q", "fit", str(cfg), "--out", str(tmp_path / "out2")]) == 3
    diag2 = json.loads((next((tmp_path / "out2").iterdir()) / "diagnostics.json").read_text())
    assert diag2["retry"] is None and diag2["n_divergent"] == int(first[1])  # the same first fit


@pytest.mark.parametrize("target", [0.5, 0.95])
def test_retry_is_skipped_when_target_is_not_higher(target):
    from bayes_utility.config import RunConfig
    from bayes_utility.workflow.fit import _retry_divergent

    cfg = RunConfig(name="x", data={"path": "d"}, inference={"target_accept": 0.95, "retry_target_accept": target})
    verdict = diagnose(_idata(np.random.default_rng(1), diverging=2))
    assert _retry_divergent(None, cfg, "fit", verdict) == (cfg, "fit", verdict)
