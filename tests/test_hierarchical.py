"""Hierarchical Thurstonian model: plumbing, recovery of respondents' differences, order
bias and indifference on simulated respondents, a covariate slope, agreement matrix."""
import json

import numpy as np
import pandas as pd
import pytest

from bayes_utility.analyses.hierarchy import (
    agreement,
    correlation_draws,
    respondent_table,
)
from bayes_utility.config import RunConfig
from bayes_utility.data.simulate import HierarchicalTruth, simulate_respondents
from bayes_utility.inference.pipeline import fit_run
from bayes_utility.workflow.fit import run_fit


def hier_cfg(**over) -> RunConfig:
    raw = {"name": "hier", "data": {"path": "simulated"},
           "model": {"name": "thurstonian_hierarchical", "order_bias": True},
           "heldout": {"fraction": 0.0},
           "inference": {"chains": 2, "warmup": 500, "draws": 500, "target_accept": 0.9, "progress_bar": False}}
    for section, values in over.items():
        raw[section] = {**raw.get(section, {}), **values}
    return RunConfig.model_validate(raw)


def truth_of(rng, n_outcomes, decisiveness, deviation_sd, order_bias, names=None):
    r = len(decisiveness)
    mu = rng.normal(0.0, 1.5, n_outcomes)
    dev = rng.normal(0.0, 1.0, (r, n_outcomes)) * np.asarray(deviation_sd)[:, None]
    return HierarchicalTruth(
        mu=mu - mu.mean(), deviations=dev - dev.mean(axis=1, keepdims=True),
        decisiveness=np.asarray(decisiveness, float), sigma=np.exp(rng.normal(0.0, 0.2, n_outcomes)),
        order_bias=np.asarray(order_bias, float), respondents=tuple(names or [f"r{i}" for i in range(r)]))


# ----------------------------------------------------------------- plumbing
def test_arrays_pool_orders_within_a_respondent_only():
    rng = np.random.default_rng(0)
    truth = truth_of(rng, 5, [1.0, 1.0], [0.2, 0.2], [0.0, 0.0])
    data = simulate_respondents(truth, rng, n_pairs=10, k_per_order=3)
    arr, _ = data.arrays("exclude", pool_orders=True, group_by=["respondent"])
    assert arr.respondents == ("r0", "r1") and len(arr.n) == 20  # 10 pairs x 2 respondents
    assert set(arr.n) == {6.0} and arr.inputs()["respondent"].tolist().count(1) == 10
    flat, _ = data.arrays("exclude", pool_orders=True)
    assert len(flat.n) == 10 and flat.respondent is None
    both, _ = data.arrays("exclude", group_by=["respondent", "prompt_template"])
    assert both.respondents[0].startswith("r0 | ")


def test_flat_model_refuses_several_respondents_and_options_need_a_hierarchy(tmp_path):
    rng = np.random.default_rng(1)
    data = simulate_respondents(truth_of(rng, 5, [1.0, 1.0], [0.2, 0.2], [0.0, 0.0]), rng, n_pairs=10)
    with pytest.raises(ValueError, match="thurstonian_hierarchical"):
        fit_run(data, hier_cfg(model={"name": "thurstonian", "order_bias": False}))
    with pytest.raises(ValueError, match="hierarchical model"):
        hier_cfg(model={"name": "thurstonian", "categories": True})
    table = tmp_path / "scores.csv"
    table.write_text("Model Name,MMLU\nr0,70\n")
    cfg = hier_cfg(model={"covariate": {"path": str(table), "column": "MMLU", "respondent_column": "Model Name"}})
    with pytest.raises(ValueError, match=r"no 'MMLU' value for respondent\(s\) \['r1'\]"):
        fit_run(data, cfg)


def test_agreement_matches_numpy_correlations_per_draw():
    """The per-draw correlation matrix against np.corrcoef, on a fake posterior."""
    import arviz as az

    rng = np.random.default_rng(2)
    resp = rng.normal(size=(1, 7, 3, 6))
    pop = rng.normal(size=(1, 7, 6))
    idata = az.from_dict(posterior={"respondent_utility": resp, "utility": pop},
                         coords={"respondent": ["a", "b", "c"], "outcome": list("uvwxyz")},
                         dims={"respondent_utility": ["respondent", "outcome"], "utility": ["outcome"]})
    corr = correlation_draws(idata).values
    for d in range(7):
        np.testing.assert_allclose(corr[d], np.corrcoef(np.vstack([resp[0, d], pop[0, d]])), atol=1e-12)
    table = agreement(idata, prob=0.9)
    assert len(table) == 6 and set(table["b"]) >= {"population"}
    row = table[(table["a"] == "a") & (table["b"] == "population")].iloc[0]
    x = corr[:, 0, 3]
    assert row["pearson_mean"] == pytest.approx(x.mean()) and row["pearson_lo"] <= x.mean() <= row["pearson_hi"]


# ----------------------------------------------------------------- recovery
@pytest.fixture(scope="module")
def four_respondents():
    """r0, r1 close to the population; r2 strays far from it; r3 always answers "A"
    (no preference signal: decisiveness near zero, order bias 3)."""
    rng = np.random.default_rng(7)
    truth = truth_of(rng, 14, decisiveness=[1.5, 1.0, 1.2, 0.02], deviation_sd=[0.15, 0.15, 1.2, 0.15],
                     order_bias=[0.0, 0.6, -0.4, 3.0])
    data = simulate_respondents(truth, rng, n_pairs=60, k_per_order=5)
    fit = fit_run(data, hier_cfg())
    return truth, data, fit.idata


@pytest.mark.statistical
def test_recovers_order_bias_and_indifference(four_respondents):
    truth, data, idata = four_respondents
    post = idata.posterior
    assert int(idata.sample_stats["diverging"].sum()) <= 10
    ob = post["order_bias"].stack(s=("chain", "draw")).values  # (respondent, draws)
    lo, hi = np.quantile(ob, [0.005, 0.995], axis=1)
    for r in range(3):  # 99% intervals of the ordinary respondents cover the truth
        assert lo[r] < truth.order_bias[r] < hi[r], (r, lo[r], hi[r])
    assert lo[1] > 0 and hi[2] < 0
    # the respondent that always answers "A": read as bias, not preference
    assert lo[3] > 1.5
    dec = post["decisiveness"].stack(s=("chain", "draw")).values
    assert np.argmin(dec.mean(axis=1)) == 3
    # (saturated at P(A) = 0.999, its answers say little about how decisive it is: only the mean is checked)
    # and it does not pull the population utilities away from the truth
    u = post["utility"].mean(("chain", "draw")).values
    assert np.corrcoef(u, truth.mu)[0, 1] > 0.95
    # each comparison is named by its respondent and pair (as shown)
    cd = idata.constant_data
    names = np.asarray(post["respondent"].values, dtype=str)[cd["respondent_idx"].values]
    expected = [f"{r}: {a} vs {b}" for r, a, b in zip(names, cd["outcome_a"].values, cd["outcome_b"].values)]
    assert [str(c) for c in idata.observed_data["comparison"].values] == expected


@pytest.mark.statistical
def test_recovers_which_respondent_disagrees(four_respondents):
    truth, data, idata = four_respondents
    tab = respondent_table(idata, prob=0.99).set_index("respondent")
    true_corr = truth.correlation_with_population()
    for r in range(3):
        name = f"r{r}"
        assert tab.loc[name, "corr_population_lo"] < true_corr[r] < tab.loc[name, "corr_population_hi"] + 1e-9
    means = tab["corr_population_mean"]
    assert means["r2"] < min(means["r0"], means["r1"])
    spread = tab["respondent_deviation_spread_mean"]
    assert spread["r2"] > max(spread["r0"], spread["r1"])
    # each respondent's own utilities recovered
    ru = idata.posterior["respondent_utility"].mean(("chain", "draw")).values
    for r in range(3):
        assert np.corrcoef(ru[r], truth.mu_resp[r])[0, 1] > 0.9


@pytest.mark.statistical
def test_decisiveness_slope_on_a_respondent_covariate(tmp_path):
    """Eight respondents whose decisiveness rises with a capability score: the slope's
    posterior covers the planted value and excludes zero; the run folder has the tables."""
    rng = np.random.default_rng(11)
    score = np.linspace(60.0, 90.0, 8)
    x = (score - score.mean()) / score.std()
    slope = 0.6
    names = [f"llm-{i}" for i in range(8)]
    truth = truth_of(rng, 10, decisiveness=np.exp(slope * x), deviation_sd=[0.2] * 8, order_bias=[0.0] * 8,
                     names=names)
    data = simulate_respondents(truth, rng, n_pairs=30, k_per_order=4)
    data_dir = data.write(tmp_path / "data")
    table = tmp_path / "capability.csv"
    pd.DataFrame({"model": names, "mmlu": score}).to_csv(table, index=False)
    cfg = hier_cfg(data={"path": str(data_dir)}, heldout={"fraction": 0.1},
                   model={"order_bias": False, "covariate": {"path": str(table), "column": "mmlu",
                                                              "respondent_column": "model"}},
                   output={"dir": str(tmp_path / "out")})
    res = run_fit(cfg)
    s = res.fit.idata.posterior["decisiveness_slope"].values.ravel()
    lo, hi = np.quantile(s, [0.005, 0.995])
    assert lo < slope < hi and lo > 0
    tab = pd.read_csv(res.run_dir / "respondents.csv")
    assert list(tab["respondent"]) == names and np.allclose(tab["covariate"], score)
    agree = pd.read_csv(res.run_dir / "agreement.csv")
    assert len(agree) == 9 * 8 // 2
    held = json.loads((res.run_dir / "heldout.json").read_text())
    assert set(held["by_respondent"]) <= set(names) and len(held["by_respondent"]) >= 4
    assert (res.run_dir / "agreement.png").stat().st_size > 10_000
    html = (res.run_dir / "report.html").read_text()
    assert "Respondents" in html and "agreement.png" not in html  # embedded, not linked


# ----------------------------------------------------------- model comparison
@pytest.mark.statistical
def test_loo_prefers_partial_pooling_and_order_bias_where_the_truth_has_them():
    """Documented comparisons on simulated data with known truth, on the same ordered rows
    (data.pool_orders: false): hierarchical beats complete pooling when respondents
    differ; a model with order bias beats one without when the respondents have it."""
    from bayes_utility.inference.compare import compare_idata

    rng = np.random.default_rng(5)
    truth = truth_of(rng, 10, decisiveness=[1.0, 1.0, 1.0], deviation_sd=[1.0, 1.0, 1.0], order_bias=[0.5] * 3)
    data = simulate_respondents(truth, rng, n_pairs=45, k_per_order=5)
    fits = {
        "hierarchical": hier_cfg(data={"pool_orders": False}),
        "pooled_flat": hier_cfg(data={"pool_orders": False},
                                model={"name": "thurstonian", "pool_respondents": True}),
        "hierarchical_no_bias": hier_cfg(data={"pool_orders": False}, model={"order_bias": False}),
    }
    idata = {k: fit_run(data, cfg).idata for k, cfg in fits.items()}
    for a, b in (("hierarchical", "pooled_flat"), ("hierarchical", "hierarchical_no_bias")):
        table = compare_idata({a: idata[a], b: idata[b]})
        assert table.index[0] == a, table
        assert table.loc[b, "elpd_diff"] > 2 * table.loc[b, "dse"], table


def test_without_stored_log_likelihood_compare_says_why():
    """output.log_likelihood: false (fits too large for draws x rows in memory): no LOO group,
    and compare refuses with the reason instead of failing inside ArviZ."""
    from bayes_utility.inference.compare import NotComparable, compare_idata

    rng = np.random.default_rng(3)
    data = simulate_respondents(truth_of(rng, 5, [1.0, 1.0], [0.2, 0.2], [0.0, 0.0]), rng, n_pairs=10)
    small = {"chains": 1, "warmup": 50, "draws": 50, "progress_bar": False}
    a = fit_run(data, hier_cfg(inference=small, output={"log_likelihood": False})).idata
    b = fit_run(data, hier_cfg(inference=small)).idata
    assert "log_likelihood" not in a.groups() and "log_likelihood" in b.groups()
    with pytest.raises(NotComparable, match="output.log_likelihood"):
        compare_idata({"a": a, "b": b})
