"""Independent implementations to check the NumPyro models against.

* :func:`pymc_thurstonian`, :func:`pymc_bradley_terry`, :func:`pymc_thurstonian_hierarchical`
  (2-3 respondents) and :func:`fit_pymc`: the models written again in PyMC (PyTensor
  graph, PyMC's NUTS or nutpie): same priors, constraints and likelihood as ``models/``,
  no shared code.
* :func:`compare_posteriors`: agreement of two posteriors' means and standard
  deviations per parameter, in units of their combined Monte Carlo standard error.
* :func:`scipy_thurstonian_ml`: the Thurstonian maximum-likelihood estimate by
  ``scipy.optimize`` on a NumPy/SciPy likelihood (another parameterisation of the
  constraints: the last element is minus the sum of the others).
* :func:`choix_bradley_terry_ml`: the Bradley-Terry maximum-likelihood estimate by
  the ``choix`` package.

PyMC and choix are optional (``pip install bayes_utility[test]``).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..data.dataset import ComparisonArrays
from ..data.schema import SCALE_DDOF


# ------------------------------------------------------------------ PyMC
def pymc_thurstonian(arr: ComparisonArrays, *, order_bias: bool = False, utility_scale: float = 3.0,
                     log_noise_scale: float = 1.0, order_bias_scale: float = 1.0):
    """The Thurstonian model of ``models/thurstonian.py`` as a PyMC model."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.dist_math import normal_lcdf

    coords = {"outcome": np.arange(arr.n_outcomes), "comparison": np.arange(len(arr.n))}
    with pm.Model(coords=coords) as model:
        tau_mu = pm.HalfNormal("utility_spread", utility_scale)
        mu = pm.ZeroSumNormal("mu", sigma=tau_mu, dims="outcome")
        tau_sigma = pm.HalfNormal("log_noise_spread", log_noise_scale)
        eta = pm.ZeroSumNormal("log_sigma_raw", sigma=1.0, dims="outcome")
        sigma = pm.Deterministic("sigma", pt.exp(tau_sigma * eta), dims="outcome")
        spread = pt.std(mu, ddof=SCALE_DDOF)
        pm.Deterministic("utility", mu / spread, dims="outcome")
        pm.Deterministic("noise_sd", sigma / spread, dims="outcome")
        a, b = arr.idx_a, arr.idx_b
        z = (mu[a] - mu[b]) / pt.sqrt(sigma[a] ** 2 + sigma[b] ** 2)
        if order_bias:
            z = z + pm.Normal("order_bias", 0.0, order_bias_scale)
        k, n = np.asarray(arr.k_a, dtype=float), np.asarray(arr.n, dtype=float)
        # binomial kernel k log Phi(z) + (n - k) log Phi(-z); the binomial coefficient is a constant
        pm.Potential("y", pt.sum(k * normal_lcdf(0.0, 1.0, z) + (n - k) * normal_lcdf(0.0, 1.0, -z)))
    return model


def _binomial_kernel(k, n, log_f_z, log_f_minus_z):
    """k log F(z) + (n - k) log F(-z), summed (the binomial coefficient is a constant)."""
    import pytensor.tensor as pt

    return pt.sum(k * log_f_z + (n - k) * log_f_minus_z)


def pymc_bradley_terry(arr: ComparisonArrays, *, order_bias: bool = False, utility_scale: float = 5.0,
                       order_bias_scale: float = 1.7):
    """The Bradley-Terry model of ``models/bradley_terry.py`` as a PyMC model (logit link)."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"outcome": np.arange(arr.n_outcomes)}
    with pm.Model(coords=coords) as model:
        tau = pm.HalfNormal("utility_spread", utility_scale)
        u = pm.ZeroSumNormal("u", sigma=tau, dims="outcome")
        pm.Deterministic("utility", u / pt.std(u, ddof=SCALE_DDOF), dims="outcome")
        z = u[arr.idx_a] - u[arr.idx_b]
        if order_bias:
            z = z + pm.Normal("order_bias", 0.0, order_bias_scale)
        k, n = np.asarray(arr.k_a, dtype=float), np.asarray(arr.n, dtype=float)
        # log sigmoid(z) = -softplus(-z)
        pm.Potential("y", _binomial_kernel(k, n, -pt.softplus(-z), -pt.softplus(z)))
    return model


def pymc_thurstonian_hierarchical(arr: ComparisonArrays, *, order_bias: bool = False, utility_scale: float = 3.0,
                                  deviation_scale: float = 0.5, log_noise_scale: float = 1.0,
                                  decisiveness_scale: float = 1.0, order_bias_scale: float = 1.0,
                                  order_bias_spread_scale: float = 0.5):
    """The hierarchical Thurstonian model of ``models/thurstonian_hierarchical.py`` for 2-3
    respondents (its default there: the spreads between respondents fixed at their prior
    scales), without categories or covariate, as a PyMC model."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.dist_math import normal_lcdf

    resp = np.asarray(arr.respondent)
    n_r = int(resp.max()) + 1
    if not 2 <= n_r <= 3:
        raise ValueError("the PyMC twin is the 2-3 respondent variant")
    coords = {"outcome": np.arange(arr.n_outcomes), "respondent": np.arange(n_r)}
    with pm.Model(coords=coords) as model:
        tau_mu = pm.HalfNormal("utility_spread", utility_scale)
        mu = tau_mu * pm.ZeroSumNormal("mu_raw", sigma=1.0, dims="outcome")
        pm.Deterministic("utility", mu / pt.std(mu, ddof=SCALE_DDOF), dims="outcome")
        tau_d = pm.HalfNormal("deviation_spread", deviation_scale)
        eps = pm.ZeroSumNormal("log_decisiveness_raw", sigma=1.0, dims="respondent")
        dec = pm.Deterministic("decisiveness", pt.exp(decisiveness_scale * eps), dims="respondent")
        delta = pm.ZeroSumNormal("deviation_raw", sigma=1.0, dims=("respondent", "outcome"), n_zerosum_axes=1)
        mu_resp = dec[:, None] * (mu[None, :] + tau_d * delta)
        tau_s = pm.HalfNormal("log_noise_spread", log_noise_scale)
        sigma = pm.Deterministic("sigma", pt.exp(tau_s * pm.ZeroSumNormal("log_sigma_raw", sigma=1.0,
                                                                          dims="outcome")), dims="outcome")
        a, b = arr.idx_a, arr.idx_b
        z = (mu_resp[resp, a] - mu_resp[resp, b]) / pt.sqrt(sigma[a] ** 2 + sigma[b] ** 2)
        if order_bias:
            b_mean = pm.Normal("order_bias_mean", 0.0, order_bias_scale)
            raw = pm.Normal("order_bias_raw", 0.0, 1.0, dims="respondent")
            beta = pm.Deterministic("order_bias", b_mean + order_bias_spread_scale * raw, dims="respondent")
            z = z + beta[resp]
        k, n = np.asarray(arr.k_a, dtype=float), np.asarray(arr.n, dtype=float)
        pm.Potential("y", _binomial_kernel(k, n, normal_lcdf(0.0, 1.0, z), normal_lcdf(0.0, 1.0, -z)))
    return model


PYMC_MODELS = {"thurstonian": pymc_thurstonian, "bradley_terry": pymc_bradley_terry,
               "thurstonian_hierarchical": pymc_thurstonian_hierarchical}


def fit_pymc(arr: ComparisonArrays, *, order_bias: bool = False, draws: int = 1000, tune: int = 1000,
             chains: int = 4, seed: int = 0, target_accept: float = 0.8, sampler: str = "pymc",
             model: str = "thurstonian", **priors):
    """Sample the PyMC twin of ``model`` with PyMC's NUTS (or ``sampler="nutpie"``); InferenceData.

    Chains run in separate processes started by a fork server, so a script that calls
    this needs the usual ``if __name__ == "__main__":`` guard.
    """
    import pymc as pm

    model = PYMC_MODELS[model](arr, order_bias=order_bias, **priors)
    with model:
        if sampler == "nutpie":
            import nutpie  # noqa: F401  (ImportError: not installed)

            return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, nuts_sampler="nutpie",
                             target_accept=target_accept, progressbar=False)
        # chains in fresh processes: forking a process that has started JAX's threads can deadlock
        return pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, os.cpu_count() or 1),
                         mp_ctx="forkserver", random_seed=seed, target_accept=target_accept, progressbar=False,
                         compute_convergence_checks=False)


def compare_posteriors(post_a, post_b, var_names=("utility",), family_level: float = 0.001) -> pd.DataFrame:
    r"""Means and sds of two posteriors, element by element, in units of their MCSE.

    For each scalar parameter, :math:`z = (m_a - m_b) / \sqrt{\mathrm{mcse}_a^2 + \mathrm{mcse}_b^2}`
    for the mean and likewise for the sd (ArviZ's MCSE of the mean and of the sd).
    Two correct samplers of the same posterior give :math:`z \approx N(0, 1)`; the
    row's ``ok`` uses the two-sided Bonferroni bound that makes the chance of any
    false alarm over all rows and both statistics at most ``family_level``.
    """
    import arviz as az

    rows = []
    for var in var_names:
        sa = az.summary(post_a, var_names=[var], kind="all", round_to="none")
        sb = az.summary(post_b, var_names=[var], kind="all", round_to="none")
        sb.index = sa.index  # same order of elements; labels may differ between libraries
        for stat, err in (("mean", "mcse_mean"), ("sd", "mcse_sd")):
            se = np.sqrt(sa[err] ** 2 + sb[err] ** 2)
            rows.append(pd.DataFrame({"parameter": sa.index, "statistic": stat, "a": sa[stat], "b": sb[stat],
                                      "difference": sa[stat] - sb[stat], "combined_mcse": se,
                                      "z": (sa[stat] - sb[stat]) / se}))
    out = pd.concat(rows, ignore_index=True)
    bound = stats.norm.isf(family_level / (2 * len(out)))
    out["bound"] = bound
    out["ok"] = out["z"].abs() <= bound
    return out


# ------------------------------------------------------------------ maximum likelihood
def _with_last(free: np.ndarray) -> np.ndarray:
    """Zero-sum vector from its first n-1 elements."""
    return np.append(free, -free.sum())


def scipy_thurstonian_ml(arr: ComparisonArrays, *, order_bias: bool = False) -> dict:
    """Thurstonian ML estimate by L-BFGS-B on a NumPy likelihood; ``mu``, ``sigma``, ...

    Constraints as in the model: ``sum(mu) = 0`` and ``sum(log sigma) = 0``.
    """
    n_out = arr.n_outcomes
    a, b = np.asarray(arr.idx_a), np.asarray(arr.idx_b)
    k, n = np.asarray(arr.k_a, dtype=float), np.asarray(arr.n, dtype=float)

    def unpack(theta):
        mu = _with_last(theta[: n_out - 1])
        sigma = np.exp(_with_last(theta[n_out - 1: 2 * n_out - 2]))
        beta = theta[-1] if order_bias else 0.0
        return mu, sigma, beta

    def neg_log_lik(theta):
        mu, sigma, beta = unpack(theta)
        z = (mu[a] - mu[b]) / np.hypot(sigma[a], sigma[b]) + beta
        return -np.sum(k * special.log_ndtr(z) + (n - k) * special.log_ndtr(-z))

    theta0 = np.zeros(2 * (n_out - 1) + int(order_bias))
    res = optimize.minimize(neg_log_lik, theta0, method="L-BFGS-B",
                            options={"maxiter": 20000, "maxfun": 200000, "ftol": 1e-14, "gtol": 1e-9})
    mu, sigma, beta = unpack(res.x)
    out = {"mu": mu, "sigma": sigma, "log_likelihood": -float(res.fun), "converged": bool(res.success)}
    if order_bias:
        out["order_bias"] = float(beta)
    return out


def choix_bradley_terry_ml(arr: ComparisonArrays) -> np.ndarray:
    """Bradley-Terry ML utilities (zero mean, logit units) by ``choix.opt_pairwise``.

    Needs whole answer counts (each answer is one (winner, loser) comparison).
    """
    import choix

    k, n = np.asarray(arr.k_a), np.asarray(arr.n)
    if np.any(k != np.round(k)):
        raise ValueError("choix takes whole answers: use unparseable='exclude'")
    k = k.astype(int)
    wins = [(int(x), int(y)) for x, y, c in zip(arr.idx_a, arr.idx_b, k) for _ in range(c)]
    losses = [(int(y), int(x)) for x, y, c in zip(arr.idx_a, arr.idx_b, n.astype(int) - k) for _ in range(c)]
    params = choix.opt_pairwise(arr.n_outcomes, wins + losses, alpha=0.0, method="Newton-CG", tol=1e-10)
    return params - params.mean()
