"""Parameter recovery on simulated data with known truth (statistical, fixed seeds).

Tolerances: with N outcomes and nominal 90% intervals the number of covered
outcomes is about Binomial(N, 0.9) when the model is calibrated, so the 80-97%
band the checks use is about [-2.4, +1.6] binomial standard deviations at N=60
(interval estimates are not independent across outcomes, which widens the spread
a little; the seeds are fixed, so a pass is reproducible, not lucky each run).
"""
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import bayes_utility as bu
from bayes_utility.data.simulate import SimulationTruth, random_truth, simulate_dataset

pytestmark = pytest.mark.statistical

NUTS = {"chains": 4, "warmup": 500, "draws": 1000, "progress_bar": False, "chain_method": "parallel"}
COVERAGE_BAND = (0.80, 0.97)


def coverage(draws: np.ndarray, truth: np.ndarray, prob: float = 0.9) -> float:
    lo, hi = np.quantile(draws, [(1 - prob) / 2, 1 - (1 - prob) / 2], axis=0)
    return float(np.mean((truth >= lo) & (truth <= hi)))


def flat(idata, name):
    x = idata.posterior[name].values
    return x.reshape(-1, *x.shape[2:])


@pytest.mark.parametrize("model, link", [("thurstonian", "probit"), ("bradley_terry", "logit")])
def test_utilities_are_recovered(model, link):
    rng = np.random.default_rng(20261127)
    truth = random_truth(60, rng, link=link, utility_sd=1.5, log_noise_sd=0.3)
    data = simulate_dataset(truth, rng, k_per_order=10, unparseable_rate=0.02)
    idata = bu.fit(data, model=model, seed=3, **NUTS)
    verdict = bu.diagnose(idata)
    assert verdict.n_divergent == 0 and verdict.max_rhat <= 1.01, verdict.text()
    u = flat(idata, "utility")
    target = truth.standardized_utility()
    rho = stats.spearmanr(u.mean(0), target).statistic
    cov = coverage(u, target)
    assert rho > 0.95, rho
    assert COVERAGE_BAND[0] <= cov <= COVERAGE_BAND[1], cov


def test_noise_scales_and_order_bias_are_recovered():
    rng = np.random.default_rng(7)
    n = 60
    mu = rng.normal(0, 1.5, n)
    sigma = np.exp(rng.normal(0, 0.5, n))
    truth = SimulationTruth(mu=mu, sigma=sigma, order_bias=0.5, link="probit")
    data = simulate_dataset(truth, rng, k_per_order=10)
    idata = bu.fit(data, model="thurstonian", order_bias=True, seed=5, **NUTS)
    beta = flat(idata, "order_bias")
    # one scalar: a 3-posterior-sd band (fails about 0.3% of the time if calibrated)
    z = (beta.mean() - 0.5) / beta.std()
    assert abs(z) < 3, (beta.mean(), beta.std())
    _, sigma_true = truth.noise_units()
    cov_sigma = coverage(flat(idata, "sigma"), sigma_true)
    assert COVERAGE_BAND[0] <= cov_sigma <= COVERAGE_BAND[1], cov_sigma
    rho = stats.spearmanr(flat(idata, "sigma").mean(0), sigma_true).statistic
    assert rho > 0.5, rho  # noise scales are weakly identified, but informed
    cov_u = coverage(flat(idata, "utility"), truth.standardized_utility())
    assert COVERAGE_BAND[0] <= cov_u <= COVERAGE_BAND[1], cov_u


def test_real_smollm2_answers_are_order_bias_not_preference():
    """SmolLM2-135M answers "A" almost always: the fit must put that in the order bias."""
    data = bu.load_dataset("builtin:smollm2_135m_real")
    cfg = bu.load_config(Path(__file__).resolve().parents[1] / "inference_configs" / "smollm2_real.yaml")
    idata = bu.fit(data, model=cfg.model.name, config=cfg, seed=1, **NUTS)
    verdict = bu.diagnose(idata)
    assert verdict.ok, verdict.text()
    share_a = data.counts["n_a"].sum() / (data.counts["n_a"].sum() + data.counts["n_b"].sum())
    assert share_a > 0.8
    beta = flat(idata, "order_bias")
    lo, hi = np.quantile(beta, [0.03, 0.97])
    assert lo > 1.3, (lo, hi)  # logistic(1.3) = 0.79: "A" chosen between equally good outcomes
    # with the bias modelled, almost no preference is left: the utility spread (logit
    # units) is far below that of a coherent respondent (1.5 in the tests above)
    spread = flat(idata, "utility_spread")
    assert np.quantile(spread, 0.97) < 0.5, np.quantile(spread, [0.03, 0.5, 0.97])


@pytest.mark.slow
def test_recovery_at_200_outcomes_both_models():
    """Larger recovery run (slow; not in CI): 200 outcomes, paper design, K=10 per order."""
    rng = np.random.default_rng(99)
    for model, link in (("thurstonian", "probit"), ("bradley_terry", "logit")):
        truth = random_truth(200, rng, link=link, utility_sd=1.5, log_noise_sd=0.3)
        data = simulate_dataset(truth, rng, k_per_order=10, unparseable_rate=0.05)
        idata = bu.fit(data, model=model, seed=11, **{**NUTS, "warmup": 800, "draws": 800})
        assert bu.diagnose(idata).ok
        u = flat(idata, "utility")
        target = truth.standardized_utility()
        assert stats.spearmanr(u.mean(0), target).statistic > 0.97
        assert COVERAGE_BAND[0] <= coverage(u, target) <= COVERAGE_BAND[1]
