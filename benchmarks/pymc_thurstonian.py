"""The Thurstonian model of ``models/thurstonian.py`` written independently in PyMC.

Same data (pooled unordered pairs), same likelihood (binomial, probit) and the same
priors and constraints: zero-sum utilities with a HalfNormal(3) spread, log noise
scales zero-sum (geometric mean 1) and partially pooled, non-centred, with a
HalfNormal(1) spread. Used by the benchmark; sampled by PyMC's NUTS or by nutpie.
"""
from __future__ import annotations

import numpy as np


def build_model(arr, utility_scale: float = 3.0, log_noise_scale: float = 1.0):
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions.dist_math import normal_lcdf

    n_out = arr.n_outcomes
    coords = {"outcome": np.arange(n_out), "comparison": np.arange(len(arr.n))}
    with pm.Model(coords=coords) as model:
        tau_mu = pm.HalfNormal("utility_spread", utility_scale)
        mu = pm.ZeroSumNormal("mu", sigma=tau_mu, dims="outcome")
        tau_sigma = pm.HalfNormal("log_noise_spread", log_noise_scale)
        eta = pm.ZeroSumNormal("log_sigma_raw", sigma=1.0, dims="outcome")
        sigma = pm.Deterministic("sigma", pt.exp(tau_sigma * eta), dims="outcome")
        spread = pt.std(mu)
        pm.Deterministic("utility", mu / spread, dims="outcome")
        a, b = arr.idx_a, arr.idx_b
        z = (mu[a] - mu[b]) / pt.sqrt(sigma[a] ** 2 + sigma[b] ** 2)
        k = arr.k_a
        n = arr.n
        # binomial kernel k log Phi(z) + (n - k) log Phi(-z) (+ a constant)
        pm.Potential("y", pt.sum(k * normal_lcdf(0.0, 1.0, z) + (n - k) * normal_lcdf(0.0, 1.0, -z)))
    return model


def fit_pymc(arr, draws: int = 500, tune: int = 500, chains: int = 4, seed: int = 0, sampler: str = "pymc"):
    """Sample with PyMC's NUTS (``sampler="pymc"``) or nutpie; returns InferenceData."""
    import pymc as pm

    if np.any(arr.k_a != np.round(arr.k_a)):
        raise ValueError("the PyMC cross-check takes whole counts (use unparseable='exclude')")
    model = build_model(arr)
    with model:
        if sampler == "nutpie":
            import nutpie  # noqa: F401  (ImportError: not installed)

            return pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed, nuts_sampler="nutpie",
                             progressbar=False)
        return pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2), random_seed=seed,
                         progressbar=False, compute_convergence_checks=False)
