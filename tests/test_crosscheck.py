"""NumPyro against independent implementations: PyMC posteriors, scipy and choix optima."""
import numpy as np
import pandas as pd
import pytest

import bayes_utility as bu
from bayes_utility.data.simulate import random_truth, simulate_dataset
from bayes_utility.inference.crosscheck import (
    choix_bradley_terry_ml,
    compare_posteriors,
    fit_pymc,
    scipy_thurstonian_ml,
)
from bayes_utility.inference.mle import maximum_likelihood


@pytest.fixture(scope="module")
def dense_data():
    """10 outcomes, all 45 pairs, 20 answers per order: an interior ML optimum."""
    rng = np.random.default_rng(2024)
    return simulate_dataset(random_truth(10, rng, utility_sd=1.0, order_bias=0.3), rng, n_pairs=45, k_per_order=20)


def test_bradley_terry_ml_matches_choix(dense_data):
    arr, _ = dense_data.arrays("exclude", pool_orders=True)
    ours = maximum_likelihood(arr, "bradley_terry")
    theirs = choix_bradley_terry_ml(arr)
    assert ours.converged
    np.testing.assert_allclose(ours.params["u"], theirs, atol=1e-5)


@pytest.mark.parametrize("order_bias", [False, True])
def test_thurstonian_ml_matches_scipy(dense_data, order_bias):
    arr, _ = dense_data.arrays("exclude", pool_orders=not order_bias)
    ours = maximum_likelihood(arr, "thurstonian", order_bias=order_bias)
    theirs = scipy_thurstonian_ml(arr, order_bias=order_bias)
    assert ours.converged and theirs["converged"]
    # scipy's L-BFGS-B uses finite-difference gradients: agreement to ~1e-4 is its precision
    np.testing.assert_allclose(ours.params["mu"], theirs["mu"], atol=1e-3)
    np.testing.assert_allclose(ours.params["sigma"], theirs["sigma"], atol=1e-3)
    if order_bias:
        assert ours.params["order_bias"] == pytest.approx(theirs["order_bias"], abs=1e-3)
        assert ours.params["order_bias"] == pytest.approx(0.3, abs=0.15)  # and near the truth


def test_ml_reports_no_finite_optimum_when_one_outcome_always_wins():
    rng = np.random.default_rng(5)
    truth = random_truth(4, rng, link="logit")
    data = simulate_dataset(truth, rng, n_pairs=6, k_per_order=5)
    counts = data.counts.copy()
    best = data.outcome_ids[0]
    counts.loc[counts["outcome_a"] == best, ["n_a", "n_b"]] = [10, 0]
    counts.loc[counts["outcome_b"] == best, ["n_a", "n_b"]] = [0, 10]
    perfect = bu.PreferenceData.from_tables(data.outcomes, counts=counts, source="perfect")
    est = maximum_likelihood(perfect, "bradley_terry")
    assert not est.converged or est.params["u"][0] > 8  # runs off: no finite maximum


@pytest.mark.statistical
def test_numpyro_and_pymc_posteriors_agree(small_data):
    """Same data, same model, two implementations: means and sds within MCSE-based bounds."""
    arr, _ = small_data.arrays("exclude", pool_orders=True)  # as bu.fit (the default policy)
    ours = bu.fit(small_data, "thurstonian", chains=4, warmup=1000, draws=1000, seed=11, progress_bar=False)
    theirs = fit_pymc(arr, draws=1000, tune=1000, chains=4, seed=12)
    table = compare_posteriors(ours, theirs, var_names=("utility", "noise_sd", "utility_spread"))
    assert len(table) == 2 * (12 + 12 + 1)
    assert table["ok"].all(), table[~table["ok"]]
    # the check has teeth: a different prior (strong shrinkage of utilities) is told apart
    shrunk = bu.fit(small_data, "thurstonian", chains=4, warmup=1000, draws=1000, seed=13, progress_bar=False,
                    config=bu.RunConfig(data={"path": "-"}, model={"priors": {"utility_scale": 0.3}}))
    table = compare_posteriors(shrunk, theirs, var_names=("utility_spread",))
    assert not table["ok"].all()


# ------------------------------------------------------------------ PyMC twins of every model family
TWIN = {"chains": 4, "warmup": 500, "draws": 1000, "progress_bar": False}


@pytest.fixture(scope="module")
def order_bias_data():
    """8 outcomes, all 28 pairs, both orders, 6 answers each, order bias 0.4 (probit and logit truths)."""
    rng = np.random.default_rng(77)
    return {link: simulate_dataset(random_truth(8, rng, link=link, utility_sd=1.0, order_bias=0.4), rng,
                                   n_pairs=28, k_per_order=6, unparseable_rate=0.05)
            for link in ("probit", "logit")}


@pytest.mark.statistical
@pytest.mark.parametrize("model, link", [
    # the Thurstonian order-bias formula is checked in CI by SBC against the independent numpy
    # generator (with the sign-flip control); its PyMC twin runs by hand
    pytest.param("thurstonian", "probit", marks=pytest.mark.slow), ("bradley_terry", "logit")])
def test_numpyro_and_pymc_agree_with_order_bias(order_bias_data, model, link):
    """Order bias is where a sign or a pooling error would hide: both implementations see the
    same ordered rows; utilities, spread and order bias agree within MCSE-based bounds."""
    data = order_bias_data[link]
    arr, _ = data.arrays("exclude", pool_orders=False)
    ours = bu.fit(data, model, order_bias=True, seed=21, **TWIN)
    theirs = fit_pymc(arr, model=model, order_bias=True, draws=1000, tune=500, chains=4, seed=22)
    table = compare_posteriors(ours, theirs, var_names=("utility", "utility_spread", "order_bias"))
    assert len(table) == 2 * (8 + 1 + 1)
    assert table["ok"].all(), table[~table["ok"]]
    if model == "bradley_terry":
        # the control: the twin fitted with the order-bias term's sign reversed (rows read with
        # the options swapped) agrees on the utilities and is told apart on the order bias
        import dataclasses

        flipped = dataclasses.replace(arr, idx_a=arr.idx_b, idx_b=arr.idx_a, k_a=arr.n - arr.k_a)
        wrong = fit_pymc(flipped, model=model, order_bias=True, draws=1000, tune=500, chains=4, seed=23)
        bias = compare_posteriors(ours, wrong, var_names=("order_bias",))
        assert not bias["ok"].all()
        assert compare_posteriors(ours, wrong, var_names=("utility",))["ok"].all()


@pytest.mark.statistical
def test_numpyro_and_pymc_agree_on_a_small_hierarchical_model():
    """Three respondents (the variant with the spreads between them fixed), 6 outcomes, all
    pairs, both orders, order bias: population utilities, decisiveness, order biases and the
    deviation spread agree within MCSE-based bounds."""
    from bayes_utility.data.simulate import HierarchicalTruth, simulate_respondents

    rng = np.random.default_rng(31)
    n, r = 6, 3
    truth = HierarchicalTruth(mu=rng.normal(0, 1.2, n), deviations=rng.normal(0, 0.3, (r, n)),
                              decisiveness=np.exp(rng.normal(0, 0.4, r)), sigma=np.exp(rng.normal(0, 0.3, n)),
                              order_bias=rng.normal(0.2, 0.3, r), respondents=("m0", "m1", "m2"))
    data = simulate_respondents(truth, rng, n_pairs=15, k_per_order=5)
    arr, _ = data.arrays("exclude", pool_orders=False, group_by=["respondent"])
    ours = bu.fit(data, "thurstonian_hierarchical", order_bias=True, seed=31, target_accept=0.95, **TWIN)
    theirs = fit_pymc(arr, model="thurstonian_hierarchical", order_bias=True, draws=1000, tune=500, chains=4,
                      seed=32, target_accept=0.95)
    names = ("utility", "decisiveness", "order_bias", "deviation_spread", "utility_spread")
    table = compare_posteriors(ours, theirs, var_names=names)
    assert len(table) == 2 * (6 + 3 + 3 + 1 + 1)
    assert table["ok"].all(), table[~table["ok"]]


def test_from_pairs_gives_choix_the_same_estimate():
    """(winner, loser) pairs simulated by numpy under Bradley-Terry, given to bu.from_pairs and to
    choix.ilsr_pairwise as they are: the ML utilities agree (both zero-mean). Control: the pairs
    with winner and loser swapped give the negated utilities, not the same ones."""
    import choix

    import bayes_utility as bu

    rng = np.random.default_rng(7)
    names = ["apple", "pear", "plum", "fig", "kiwi", "lime"]
    u = rng.normal(0.0, 1.0, len(names))
    pairs = []
    for _ in range(600):
        i, j = rng.choice(len(names), 2, replace=False)
        win = rng.random() < 1.0 / (1.0 + np.exp(-(u[i] - u[j])))
        pairs.append((names[i], names[j]) if win else (names[j], names[i]))
    data = bu.from_pairs(pairs)
    assert data.n_answers == 600 and sorted(data.outcome_ids) == sorted(names)
    ours = maximum_likelihood(data, "bradley_terry")
    theirs = choix.ilsr_pairwise(len(names), [(names.index(w), names.index(lo)) for w, lo in pairs], alpha=0.0)
    theirs = pd.Series(theirs - theirs.mean(), index=names)[data.outcome_ids].to_numpy()
    assert ours.converged
    np.testing.assert_allclose(ours.params["u"], theirs, atol=1e-4)
    swapped = maximum_likelihood(bu.from_pairs([(lo, w) for w, lo in pairs]), "bradley_terry")
    np.testing.assert_allclose(swapped.params["u"], -theirs, atol=1e-4)
    assert np.abs(swapped.params["u"] - theirs).max() > 0.5
