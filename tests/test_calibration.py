"""Simulation-based calibration: the check passes for the models, fails for a wrong one,
and studies resume, extend and parallelise without changing a single rank."""
import json

import numpy as np
import pandas as pd
import pytest

from bayes_utility.cli import main
from bayes_utility.config import CalibrationConfig, load_calibration_config
from bayes_utility.inference.calibration import CalibrationError, run_calibration
from bayes_utility.inference.sbc_checks import uniformity_tests

CONFIGS = "inference_configs"


def tiny(**over) -> CalibrationConfig:
    """Five outcomes, short chains: for the machinery, not for statistics."""
    base = CalibrationConfig(
        name="tiny", model={"name": "bradley_terry"}, design={"n_outcomes": 5, "answers_per_order": 3},
        inference={"chains": 2, "warmup": 100, "draws": 100}, sbc={"replications": 6, "draws_kept": 49, "bins": 5},
    )
    return base.with_overrides(**over)


def test_uniformity_tests_accept_uniform_and_reject_shifted_or_humped():
    rng = np.random.default_rng(3)
    kept, reps = 99, 400
    ranks = pd.DataFrame({
        "uniform": rng.integers(0, kept + 1, reps),
        "shifted": np.minimum(rng.integers(0, kept + 1, reps) + 15, kept),  # posterior biased low
        "humped": np.clip(np.round(rng.normal(50, 12, reps)), 0, kept).astype(int),  # posterior too wide
    })
    tests, threshold = uniformity_tests(ranks, kept, 10, 0.01)
    assert threshold == pytest.approx(0.01 / 3)  # three families: Holm's first step
    assert tests.loc["uniform", "ok"]
    assert not tests.loc["shifted", "ok"] and tests.loc["shifted", "p_ks"] < 1e-6
    assert not tests.loc["humped", "ok"] and tests.loc["humped", "p_chi2"] < 1e-6


def test_ecdf_band_covers_uniform_ecdfs_at_its_level():
    """The simultaneous 95% band of the SBC ECDF plots: fresh uniform samples (another seed than
    the band's simulation) stay entirely inside it 95% of the time (2,000 samples: +-0.02 is 4
    Monte Carlo standard errors); samples from Beta(1.4, 1) (control) mostly leave it."""
    from bayes_utility.inference.sbc_checks import ecdf_band

    n, x = 100, np.arange(1, 100) / 100
    lower, upper = ecdf_band(n, x, prob=0.95)
    rng = np.random.default_rng(2024)

    def inside(draw) -> float:
        hits = [np.all((e >= lower) & (e <= upper))
                for e in (np.searchsorted(np.sort(draw()), x, side="right") / n for _ in range(2000))]
        return float(np.mean(hits))

    assert abs(inside(lambda: rng.random(n)) - 0.95) < 0.02
    assert inside(lambda: rng.beta(1.4, 1.0, n)) < 0.5


def test_families_count_a_vector_once_and_holm_steps_down():
    """Twenty uniform elements of one vector are one family (Bonferroni inside); Holm rejects
    a family at alpha / (F - j) after the j families with smaller p-values."""
    rng = np.random.default_rng(4)
    kept, reps = 99, 300
    cols = {f"mu[{j}]": rng.integers(0, kept + 1, reps) for j in range(20)}
    cols["spread"] = rng.integers(0, kept + 1, reps)
    tests, threshold = uniformity_tests(pd.DataFrame(cols), kept, 10, 0.01)
    assert threshold == pytest.approx(0.01 / 2) and tests["ok"].all()
    assert set(tests["family"]) == {"mu", "spread"}
    fam = tests.groupby("family")["p_family"].first()
    assert fam["mu"] == pytest.approx(min(1.0, 20 * tests.loc[tests["family"] == "mu", "p_value"].min()))
    # one element of mu shifted: the whole family is rejected, the other family is not
    cols["mu[7]"] = np.minimum(cols["mu[7]"] + 25, kept)
    tests, _ = uniformity_tests(pd.DataFrame(cols), kept, 10, 0.01)
    assert not tests.loc[tests["family"] == "mu", "ok"].any() and tests.loc["spread", "ok"]
    # Holm, not Bonferroni: p-values 0.004 and 0.009 at alpha 0.01 over two families are both
    # rejected (0.004 < 0.005, then 0.009 < 0.01); Bonferroni would keep the second
    from bayes_utility.inference import sbc_checks as calibration

    fake = pd.DataFrame({"a": [0], "b": [0]})
    orig = calibration.stats.kstest
    ps = iter([0.002, 0.0045])  # x 2 for the two tests per quantity: 0.004, 0.009
    try:
        calibration.stats.kstest = lambda *a, **k: type("R", (), {"pvalue": next(ps)})()
        holm, _ = uniformity_tests(fake, 9, 2, 0.01)
    finally:
        calibration.stats.kstest = orig
    assert holm["p_value"].tolist() == pytest.approx([0.004, 0.009]) and not holm["ok"].any()


def test_calibration_config_validation(tmp_path):
    with pytest.raises(ValueError, match="bins"):
        tiny(sbc={"draws_kept": 50})
    with pytest.raises(ValueError, match="draws_kept"):
        tiny(sbc={"draws_kept": 999, "bins": 10})
    with pytest.raises(ValueError, match="unknown simulate.priors"):
        tiny(simulate={"priors": {"log_noise_scale": 2.0}})  # not a Bradley-Terry hyper-parameter
    with pytest.raises(ValueError, match="design.pairs"):
        tiny(design={"pairs": 2})
    cfg = load_calibration_config(f"{CONFIGS}/sbc_thurstonian.yaml")
    assert cfg.model.name == "thurstonian" and cfg.design.n_pairs() == 28
    for model in ("thurstonian", "bradley_terry"):
        large = load_calibration_config(f"{CONFIGS}/sbc_{model}_large.yaml")
        assert large.model.name == model and large.design.n_pairs() == 295


def test_resume_extend_and_parallel_give_the_same_ranks(tmp_path):
    cfg = tiny()
    first = run_calibration(cfg.with_overrides(sbc={"replications": 4}), out=tmp_path / "a", progress=False)
    log = tmp_path / "a" / "tiny" / "replications.jsonl"
    before = log.read_text().splitlines()
    assert len(before) == 4
    # an interrupted write leaves half a line: it is dropped and that replication redone
    log.write_text("\n".join(before) + "\n" + before[-1][: len(before[-1]) // 2])
    extended = run_calibration(cfg, out=tmp_path / "a", progress=False)
    after = log.read_text().splitlines()
    assert after[:4] == before and len(after) == 6  # nothing refitted, two added
    assert extended.ranks.loc[:3].equals(first.ranks)
    # two processes, fresh folder: identical ranks (each replication is seeded by its index)
    parallel = run_calibration(cfg.with_overrides(sbc={"workers": 2}), out=tmp_path / "b", progress=False)
    assert parallel.ranks.equals(extended.ranks)
    for f in ("ranks.csv", "tests.csv", "calibration.json", "sbc_ecdf.png", "sbc_ranks.png", "report.txt"):
        assert (tmp_path / "b" / "tiny" / f).stat().st_size > 0
    # a different recipe in the same folder is refused unless restarted
    with pytest.raises(CalibrationError, match="different recipe"):
        run_calibration(cfg.with_overrides(design={"answers_per_order": 4}), out=tmp_path / "a", progress=False)
    restarted = run_calibration(cfg.with_overrides(design={"answers_per_order": 4}, sbc={"replications": 2}),
                                out=tmp_path / "a", restart=True, progress=False)
    assert len(restarted.ranks) == 2


def test_calibrate_cli(tmp_path, capsys):
    path = tmp_path / "sbc.yaml"
    path.write_text(
        "name: cli\nmodel: {name: thurstonian, order_bias: true}\ndesign: {n_outcomes: 4, answers_per_order: 2}\n"
        "inference: {chains: 1, warmup: 60, draws: 60}\nsbc: {replications: 3, draws_kept: 19, bins: 4}\n"
    )
    # the three replications in one vectorised run
    code = main(["-q", "calibrate", str(path), "--out", str(tmp_path), "--batch", "3"])
    out = capsys.readouterr().out
    assert code in (0, 3) and "SBC of thurstonian" in out
    summary = json.loads((tmp_path / "cli" / "calibration.json").read_text())
    assert summary["replications"] == 3 and summary["passed"] == (code == 0)
    ranks = pd.read_csv(tmp_path / "cli" / "ranks.csv", index_col=0)
    assert {"order_bias", "utility_spread", "log_noise_spread", "log_lik", "mu[3]", "sigma[0]", "sd(mu)",
            "max(sigma)"} <= set(ranks)
    assert "utility[0]" not in ranks  # mu rescaled: not a second family for the same parameter
    assert ranks.to_numpy().min() >= 0 and ranks.to_numpy().max() <= 19
    assert list(ranks.index) == [0, 1, 2]
    path.write_text("name: bad\nmodel: {name: thurstonian}\nsbc: {bins: 7}\n")
    assert main(["-q", "calibrate", str(path), "--out", str(tmp_path)]) == 2


CI_REPLICATIONS = {"hierarchical": 30}  # the others: 60
# replications in two processes (identical ranks: see the resume/parallel test above)
CI_WORKERS = 2
# alpha 0.001 per study, not the recipes' 0.01: with several studies of correct models per
# CI run, 0.01 each gives false alarms (measured: corrigibility's first 60 replications give
# max(mu) p 0.0011 < 0.00125, its 300 give p 0.83); every negative control still fails at it.
CI_ALPHA = 0.001
# CI runs the studies with an independent (numpy) generator, where a formula error shows;
def test_batched_replications_follow_their_own_data():
    """``sbc.batch`` fits several replications in one vectorised run. Over the first draws after
    a short warm-up (before floating-point reassociation under vectorisation lets trajectories
    part), each replication's chains equal those of the same replication fitted alone; the
    batch handed the data in another order (control) does not. (A batched study end to end:
    test_calibrate_cli.)"""
    import jax

    from bayes_utility.inference.calibration import Replicator

    cfg = tiny().with_overrides(inference={"warmup": 2, "draws": 8}, sbc={"draws_kept": 9})
    rep = Replicator(cfg)
    sims = [rep._simulate(i) for i in range(2)]
    alone = [rep.sampler.run(s["key"], s["args"], s["kwargs"])[0] for s in sims]

    def batched(order):
        stack = lambda *xs: jax.numpy.stack(xs)  # noqa: E731
        return rep.sampler.run_batch(stack(*[s["key"] for s in sims]),
                                     jax.tree.map(stack, *[sims[i]["args"] for i in order]),
                                     jax.tree.map(stack, *[sims[i]["kwargs"] for i in order]))[0]

    same, swapped = batched([0, 1]), batched([1, 0])
    for b in range(2):
        for site, draws in alone[b].items():
            assert same[site].shape[1:] == draws.shape
            np.testing.assert_allclose(same[site][b][:, :3], draws[:, :3], atol=1e-4, rtol=1e-4)
        assert max(np.abs(swapped[k][b][:, :3] - v[:, :3]).max() for k, v in alone[b].items()) > 0.01


# the studies whose generator is the model itself (they can only see sampler problems; the
# formulas are checked against PyMC twins and closed forms) run by hand, with their figures
# in docs/validation.md: scripts/test.sh -m slow -k sbc
BY_HAND = {"hierarchical", "expected_utility", "time_discounting_exponential", "time_discounting_hyperbolic",
           "exchange_rates", "corrigibility"}


@pytest.mark.statistical
@pytest.mark.parametrize("model", [
    pytest.param(m, marks=pytest.mark.slow) if m in BY_HAND else m
    for m in ["thurstonian", "bradley_terry", "hierarchical", "expected_utility", "time_discounting_exponential",
              "time_discounting_hyperbolic", "exchange_rates", "corrigibility"]])
def test_sbc_passes_at_ci_size(model, tmp_path):
    """The CI recipes (both orders, order bias, lost answers; 3 respondents for the hierarchical model;
    synthetic item designs for the parametric models)."""
    from bayes_utility.models import get_model

    cfg = load_calibration_config(f"{CONFIGS}/sbc_{model}.yaml")
    # CI runs the first replications of each recipe (each is seeded by its index, so this is
    # a prefix of the study the recipe describes); the whole recipes pass by hand (README)
    cfg = cfg.with_overrides(sbc={"replications": min(cfg.sbc.replications, CI_REPLICATIONS.get(model, 60)),
                                  "workers": CI_WORKERS, "alpha": CI_ALPHA})
    res = run_calibration(cfg, out=tmp_path, progress=False)
    assert len(res.ranks) == cfg.sbc.replications
    assert res.passed, res.report()
    # the study checked what it claims: every calibrated site the model samples under this
    # recipe (three respondents: the spreads between them are fixed), and the likelihood
    sites = set(res.ranks.columns.str.replace(r"\[\d+\]$", "", regex=True))
    expected = set(get_model(cfg.model.name).CALIBRATED) | {"log_lik"}
    if model == "hierarchical":
        expected -= {"deviation_spread_sd", "decisiveness_spread", "order_bias_spread"}
    assert expected <= sites


def test_unconverged_replications_are_not_evidence():
    """Uniform ranks from 60 replications of which 9 (15%) did not converge: the study fails on
    convergence alone; with 3 (5%) it passes. A replication counts as unconverged with R-hat
    above 1.05 or divergences in more than 1% of its draws."""
    from bayes_utility.inference.sbc_checks import analyse

    cfg = tiny(sbc={"replications": 60, "draws_kept": 49, "bins": 5})
    rng = np.random.default_rng(0)
    assert cfg.inference.chains * cfg.inference.draws == 200  # so 3 divergences are over 1% of draws

    def records(n_bad):
        return [{"index": i, "ranks": {"a": int(rng.integers(0, 50)), "b": int(rng.integers(0, 50))},
                 "divergences": 3 if i < n_bad and i % 2 else 0, "max_rhat": 1.2 if i < n_bad and not i % 2 else 1.0,
                 "min_ess_bulk": 300.0, "n_answers": 10, "seconds": 0.1} for i in range(60)]

    bad = analyse(records(9), cfg)
    assert bad.tests["ok"].all() and not bad.passed and bad.n_unconverged == 9
    assert "9 replications did not converge" in bad.report()
    ok = analyse(records(3), cfg)
    assert ok.passed and ok.n_unconverged == 3


@pytest.mark.statistical
def test_sbc_fails_when_the_generator_flips_the_order_bias_sign(tmp_path):
    """The CI Thurstonian recipe (which passes above; its first 30 replications) with answers from the
    independent numpy generator whose order bias has the wrong sign: a sign error in a
    model's likelihood would look like this. Detected by the order bias and the log-likelihood."""
    cfg = load_calibration_config(f"{CONFIGS}/sbc_thurstonian.yaml").with_overrides(
        simulate={"generator": "numpy", "order_bias_sign": -1}, sbc={"replications": 30, "workers": CI_WORKERS, "alpha": CI_ALPHA})
    res = run_calibration(cfg, out=tmp_path, progress=False)
    assert not res.passed
    failed = set(res.tests.loc[~res.tests["ok"], "family"])
    assert "order_bias" in failed, res.report()


@pytest.mark.statistical
@pytest.mark.parametrize("generator_scale, passes", [(3.0, True), (4.5, False)])
def test_sbc_detects_a_utility_spread_prior_one_and_a_half_times_wider(tmp_path, generator_scale, passes):
    """On the weakly informative design the model's own prior (3.0) passes and a generator
    prior 1.5x wider (4.5) fails, through the spread and the targeted summaries of the
    utilities (their sd and largest element), not through any single utility."""
    cfg = load_calibration_config(f"{CONFIGS}/sbc_thurstonian_weak.yaml").with_overrides(
        simulate={"generator": "numpy", "priors": {"utility_scale": generator_scale}}, sbc={"workers": CI_WORKERS, "alpha": CI_ALPHA})
    res = run_calibration(cfg, out=tmp_path, progress=False)
    assert res.passed == passes, res.report()
    if not passes:
        failed = set(res.tests.loc[~res.tests["ok"], "family"])
        assert failed & {"sd(mu)", "max(mu)", "utility_spread"}, failed
        assert res.tests.loc["sd(mu)", "mean_rank"] > 0.55  # the truth's spread ranks high: prior too narrow
