"""MAP is a quick look, never a posterior in disguise: the spreads whose joint mode is
degenerate are held at their prior scales (no runaway noise), its utilities agree with the
NUTS posterior mean, and its report shows no interval, rank interval or P(top k)."""
import numpy as np
import pytest

from bayes_utility.config import RunConfig
from bayes_utility.data.simulate import (
    HierarchicalTruth,
    random_truth,
    simulate_dataset,
    simulate_respondents,
)
from bayes_utility.inference.pipeline import fit_run

NUTS = {"chains": 2, "warmup": 500, "draws": 500, "progress_bar": False, "chain_method": "sequential", "seed": 3}
MAP = {"method": "map", "svi_steps": 3000, "progress_bar": False}


@pytest.fixture(scope="module")
def flat():
    rng = np.random.default_rng(11)
    data = simulate_dataset(random_truth(20, rng, log_noise_sd=0.5), rng, k_per_order=5, unparseable_rate=0.05)
    base = RunConfig(name="m", data={"path": "x"}, heldout={"fraction": 0.0})
    nuts = fit_run(data, base.with_overrides(inference=NUTS)).idata
    point = fit_run(data, base.with_overrides(inference=MAP))
    return nuts, point


@pytest.mark.statistical
def test_map_holds_the_noise_spread_and_agrees_with_the_posterior_mean(flat):
    nuts, point = flat
    post = point.idata.posterior
    assert post["log_noise_spread"].item() == 1.0  # the prior scale, held
    assert any("log_noise_spread = 1" in n for n in point.notes)
    # no runaway: noise scales within the range the posterior mean spans, utilities not collapsed
    sig = nuts.posterior["sigma"].mean(("chain", "draw")).values
    assert post["sigma"].values.max() < 3 * sig.max() and post["sigma"].values.min() > sig.min() / 3
    ratio = post["utility_spread"].item() / float(nuts.posterior["utility_spread"].mean())
    assert 0.5 < ratio < 2.0, ratio
    # standardised utilities: each within 1.5 posterior sd of the posterior mean (a mode and a
    # mean differ by a fraction of the sd when the posterior is near normal; measured max 0.7 sd)
    mean = nuts.posterior["utility"].mean(("chain", "draw")).values
    sd = nuts.posterior["utility"].std(("chain", "draw")).values
    z = np.abs(post["utility"].values.ravel() - mean) / sd
    assert z.max() < 1.5, z.max()


def test_map_negative_control_without_fixed_spreads_runs_off(flat):
    """The control: the same MAP with the noise spread free drifts where the fixed one does not
    (the degenerate joint mode), so the fix is what keeps the estimate sane."""
    import bayes_utility.inference.sampling as inf

    nuts, point = flat
    saved = dict(inf.MAP_FIXED_SPREADS)
    try:
        inf.MAP_FIXED_SPREADS.clear()
        rng = np.random.default_rng(11)
        data = simulate_dataset(random_truth(20, rng, log_noise_sd=0.5), rng, k_per_order=5, unparseable_rate=0.05)
        free = fit_run(data, RunConfig(name="m", data={"path": "x"}, heldout={"fraction": 0.0}, inference=MAP))
    finally:
        inf.MAP_FIXED_SPREADS.update(saved)
    post = free.idata.posterior
    assert not any("prior scales" in n for n in free.notes)
    assert post["log_noise_spread"].item() > 2.0 or post["utility_spread"].item() < 0.1, (
        post["log_noise_spread"].item(), post["utility_spread"].item())


def test_hierarchical_map_holds_every_pooled_spread():
    rng = np.random.default_rng(5)
    n, r = 10, 4
    mu = rng.normal(0, 1.5, n)
    truth = HierarchicalTruth(mu=mu, deviations=rng.normal(0, 0.3, (r, n)), decisiveness=np.exp(rng.normal(0, 0.3, r)),
                              sigma=np.exp(rng.normal(0, 0.3, n)), order_bias=rng.normal(0.2, 0.2, r),
                              respondents=tuple(f"m{i}" for i in range(r)))
    data = simulate_respondents(truth, rng, k_per_order=3)
    cfg = RunConfig(name="h", data={"path": "x"}, heldout={"fraction": 0.0}, inference=MAP,
                    model={"name": "thurstonian_hierarchical", "order_bias": True})
    out = fit_run(data, cfg)
    post = out.idata.posterior
    for site, value in (("log_noise_spread", 1.0), ("deviation_spread", 0.5), ("deviation_spread_sd", 0.5),
                        ("decisiveness_spread", 1.0), ("order_bias_spread", 0.5)):
        assert post[site].item() == value, site
    assert np.all(np.isfinite(post["decisiveness"].values))
    assert 0.1 < post["decisiveness"].values.min() and post["decisiveness"].values.max() < 10


def test_map_report_shows_no_interval(flat, tmp_path):
    from bayes_utility.inference.diagnostics import diagnose
    from bayes_utility.reporting.report import write_report
    from bayes_utility.reporting.runfolder import write_run

    _, point = flat
    rng = np.random.default_rng(11)
    data = simulate_dataset(random_truth(20, rng, log_noise_sd=0.5), rng, k_per_order=5, unparseable_rate=0.05)
    cfg = RunConfig(name="m", data={"path": "x"}, heldout={"fraction": 0.0}, inference=MAP)
    run = tmp_path / "run"
    run.mkdir()
    write_run(run, cfg, data, point, diagnose(point.idata), None)
    html, md = write_report([run])
    text = html.read_text() + md.read_text()
    assert "rank (point estimate)" in text and "utility (point estimate)" in text
    for claim in ("HDI", "highest-density", "P(top", "rank [", "credible interval", "posterior predictive interval"):
        assert claim not in text, claim


def test_compare_refuses_a_map_run_and_says_why(flat):
    """A MAP fit beside a NUTS fit of the same data: the comparison names the MAP run as an
    approximate fit, not as other observations; two NUTS fits (control) compare."""
    from bayes_utility.inference.compare import NotComparable, compare_idata

    nuts, point = flat
    with pytest.raises(NotComparable, match=r"map: an approximate MAP fit.*inference.method: nuts"):
        compare_idata({"nuts": nuts, "map": point.idata})
    assert len(compare_idata({"a": nuts, "b": nuts})) == 2
