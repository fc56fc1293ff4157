"""End to end: the Python API, run folders and the CLI on small data."""
import json
import subprocess
import sys

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bayes_utility as bu
from bayes_utility.config import RunConfig

FAST = {"chains": 2, "warmup": 150, "draws": 150, "progress_bar": False, "chain_method": "sequential"}


def test_fit_returns_labelled_inferencedata(small_data):
    idata = bu.fit(small_data, model="thurstonian", seed=1, **FAST)
    assert isinstance(idata, az.InferenceData)
    for g in ("posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"):
        assert g in idata.groups(), g
    post = idata.posterior
    assert post["utility"].dims == ("chain", "draw", "outcome")
    assert list(post["outcome"].values) == small_data.outcome_ids
    assert list(post["outcome_text"].values) == small_data.outcomes["text"].tolist()
    # one log-likelihood value per comparison (unordered pair: no order bias) for LOO
    n_pairs = len({frozenset(p) for p in small_data.counts[["outcome_a", "outcome_b"]].to_numpy()})
    assert idata.log_likelihood["y"].shape == (2, 150, n_pairs)
    assert idata.posterior.attrs["comparison_unit"].startswith("unordered pair")
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)
    assert post.attrs["inference_method"] == "nuts"


def test_bradley_terry_and_map_are_labelled(small_data):
    idata = bu.fit(small_data, model="bradley_terry", method="map", svi_steps=300, progress_bar=False)
    assert idata.posterior.attrs["inference_method"] == "map"
    assert idata.posterior.attrs["approximate"] == 1
    assert idata.posterior.sizes["draw"] == 1
    verdict = bu.diagnose(idata)
    assert not verdict.ok and "APPROXIMATE" in verdict.text()


def test_run_folder_contents(small_data, tmp_path):
    cfg = RunConfig(name="t", data={"path": "unused"}, inference=FAST, heldout={"fraction": 0.2})
    res = bu.run_fit(cfg, data=small_data, out=tmp_path)
    files = {p.name for p in res.run_dir.iterdir()}
    for f in ("posterior.nc", "summary.csv", "summary_scalars.csv", "diagnostics.json", "verdict.txt",
              "heldout.json", "config.yaml", "provenance.json", "utilities.png"):
        assert f in files, f
    summ = pd.read_csv(res.run_dir / "summary.csv")
    for col in ("outcome_id", "text", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"):
        assert col in summ.columns, col
    assert set(summ["quantity"]) == {"utility", "noise_sd"}
    prov = json.loads((res.run_dir / "provenance.json").read_text())
    assert prov["data_sha256"] == small_data.content_hash()
    assert prov["n_rows_fitted"] + prov["n_rows_heldout"] == len(small_data.counts)
    assert prov["seed"] == FAST.get("seed", 0)
    held = json.loads((res.run_dir / "heldout.json").read_text())
    assert held["n_pairs"] > 0 and 0 <= held["accuracy"]["mean"] <= 1
    run = bu.load_run(res.run_dir)
    back = run.idata
    assert "predictions" in back.groups()
    assert list(back.posterior["outcome_text"].values) == small_data.outcomes["text"].tolist()
    assert run.diagnostics["n_draws"] == 300
    # the labelled run: its config, verdict, utilities best first, files; the old 4-tuple still unpacks
    assert run.path == res.run_dir and run.config.name == "t" and run.method == "nuts"
    assert run.passed == res.verdict.ok and run.verdict.startswith(("PASS", "FAIL"))
    assert run.utilities["mean"].is_monotonic_decreasing and len(run.utilities) == 12
    assert {"posterior.nc", "summary.csv", "verdict.txt"} <= set(run.files)
    with pytest.warns(DeprecationWarning, match="4-tuple"):
        idata, summ, diag, held = run
    assert idata is back and diag["n_draws"] == 300


def test_order_bias_warning_when_everything_is_a(caplog):
    outs = pd.DataFrame({"id": ["a", "b", "c"], "text": ["A", "B", "C"]})
    counts = pd.DataFrame({"outcome_a": ["a", "b", "b", "c"], "outcome_b": ["b", "a", "c", "b"],
                           "n_a": [3, 3, 3, 3], "n_b": [0, 0, 0, 0]})
    data = bu.PreferenceData.from_tables(outs, counts=counts)
    with caplog.at_level("WARNING"):
        bu.fit(data, method="map", svi_steps=50, progress_bar=False)
    assert "order bias, not preference" in caplog.text


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bayes_utility", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_cli_fit_and_summary(small_data, tmp_path):
    data_dir = small_data.write(tmp_path / "data")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"name: clitest\ndata: {{path: {data_dir}}}\n"
        "inference: {chains: 4, warmup: 50, draws: 50, target_accept: 0.8, progress_bar: false}\n"
        "heldout: {fraction: 0.1}\n"
    )
    # the sampler settings from the command line, written into the run's resolved config
    res = _cli("fit", str(cfg), "--out", str(tmp_path / "out"), "--chains", "2", "--warmup", "100", "--draws", "100",
               "--target-accept", "0.85")
    # 2 x 100 draws cannot reach a bulk ESS of 400 everywhere: the verdict fails, exit status 3
    assert res.returncode == 3, res.stderr
    assert "FAIL: do not report this fit yet" in res.stdout and "bulk ESS" in res.stdout
    assert "run folder:" in res.stdout and "held-out" in res.stdout
    run = next((tmp_path / "out").iterdir())
    assert (run / "posterior.nc").exists()
    import yaml

    saved = yaml.safe_load((run / "config.yaml").read_text())["inference"]
    assert (saved["chains"], saved["warmup"], saved["draws"], saved["target_accept"]) == (2, 100, 100, 0.85)
    assert az.from_netcdf(run / "posterior.nc").posterior.sizes == {"chain": 2, "draw": 100, "outcome": 12}
    s = _cli("summary", str(run))
    assert s.returncode == 0 and "utility (posterior mean" in s.stdout
    assert "... 2 more ..." in _cli("summary", str(run), "--top", "5").stdout  # 12 outcomes: 5 + 5 shown
    assert "more ..." not in _cli("summary", str(run), "--top", "0").stdout  # 0: all


def test_cli_version_help_and_quiet_libraries():
    """--version; every argument of every command has help; library warnings (numpy here) reach
    the console only with -v, the library's own warnings always."""
    import argparse
    import re

    from bayes_utility.cli import build_parser

    v = _cli("--version")
    assert v.returncode == 0 and re.fullmatch(r"bayes-utility \d+\.\d+\.\d+\S*\n", v.stdout)
    missing = []

    def walk(parser, name):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub, sp in a.choices.items():
                    walk(sp, sub)
            elif not a.help:
                missing.append(f"{name} {a.dest}")

    walk(build_parser(), "bayes-utility")
    assert not missing, missing
    script = ("import sys, warnings, numpy as np; from bayes_utility.cli import _setup_logging; "
              "from bayes_utility.data import DisconnectedGraphWarning; _setup_logging(int(sys.argv[1])); "
              "np.var([1.0], ddof=1); warnings.warn('ours: two components', DisconnectedGraphWarning)")
    for verbose, shown in ((0, False), (1, True)):
        out = subprocess.run([sys.executable, "-c", script, str(verbose)], capture_output=True, text=True,
                             timeout=120).stderr
        assert "ours: two components" in out
        assert ("Degrees of freedom" in out) == shown, out


def test_cli_reports_bad_data_clearly(tmp_path):
    (tmp_path / "outcomes.csv").write_text("id,text\na,A\nb,B\n")
    (tmp_path / "counts.csv").write_text("outcome_a,outcome_b,n_a,n_b\na,c,1,-1\n")
    res = _cli("validate", str(tmp_path))
    assert res.returncode == 2
    assert "counts.csv, row 1 (line 2), field 'outcome_b': unknown outcome id 'c'" in res.stderr
    assert "field 'n_b': negative count" in res.stderr
    bad_cfg = tmp_path / "c.yaml"
    bad_cfg.write_text("name: x\ndata: {path: d}\nsampler: {}\n")
    res = _cli("fit", str(bad_cfg))
    assert res.returncode == 2 and "sampler" in res.stderr


def test_arviz_takes_the_run_folder_as_it_is(small_data, tmp_path):
    """posterior.nc opened by ArviZ alone: comparisons named by their pair, posterior predictive
    answers on the observed data's dims whose mean over draws is n * P(A) with P(A) from scipy's
    normal cdf on the posterior draws (control: the reversed probabilities are rejected), and
    az.loo, az.plot_ppc and az.plot_loo_pit run."""
    import matplotlib

    matplotlib.use("Agg")
    from scipy import stats

    cfg = RunConfig(name="az", data={"path": "unused"}, inference=FAST, output={"prior": True})
    res = bu.run_fit(cfg, data=small_data, out=tmp_path)
    idata = az.from_netcdf(res.run_dir / "posterior.nc")
    cd, post = idata.constant_data, idata.posterior
    comp = idata.observed_data["y"]["comparison"].values
    assert [str(c) for c in comp] == [f"{a} vs {b}" for a, b in zip(cd["outcome_a"].values, cd["outcome_b"].values)]
    pp = idata.posterior_predictive["y"]
    assert pp.dims == ("chain", "draw", "comparison") and (pp.comparison.values == comp).all()
    n = cd["n"].values
    assert int(pp.min()) >= 0 and bool((pp <= n).all())
    ia, ib = cd["idx_a"].values, cd["idx_b"].values
    mu, sig = post["mu"].values, post["sigma"].values
    z = (mu[..., ia] - mu[..., ib]) / np.sqrt(sig[..., ia] ** 2 + sig[..., ib] ** 2)
    if "order_bias" in post:
        z = z + post["order_bias"].values[..., None]
    p = stats.norm.cdf(z)
    draws = pp.sizes["chain"] * pp.sizes["draw"]
    se = pp.values.reshape(draws, -1).std(0) / np.sqrt(draws) + 1e-9
    dev = np.abs(pp.values.reshape(draws, -1).mean(0) - n * p.reshape(draws, -1).mean(0)) / se
    assert dev.max() < 5.0, dev.max()  # 5 standard errors over ~100 comparisons
    dev_reversed = np.abs(pp.values.reshape(draws, -1).mean(0) - n * (1 - p).reshape(draws, -1).mean(0)) / se
    assert (dev_reversed > 5.0).mean() > 0.5
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo) and loo.pareto_k.shape == (len(comp),)
    az.plot_ppc(idata, num_pp_samples=20)
    az.plot_loo_pit(idata, y="y")
    # the prior on request: the utility spread's draws are HalfNormal(3) by scipy's KS test, its
    # predictive answers within [0, n]; control: the posterior's spread is not that distribution
    tau = idata.prior["utility_spread"].values.ravel()
    assert len(tau) == FAST["draws"]
    assert stats.kstest(tau, stats.halfnorm(scale=3.0).cdf).pvalue > 1e-3
    assert stats.kstest(post["utility_spread"].values.ravel(), stats.halfnorm(scale=3.0).cdf).pvalue < 1e-3
    y0 = idata.prior_predictive["y"].values
    assert y0.shape == (1, FAST["draws"], len(comp)) and (y0 >= 0).all() and (y0 <= n).all()
    az.plot_ppc(idata, group="prior", num_pp_samples=20)
