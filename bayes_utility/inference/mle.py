"""Maximum-likelihood point estimates: the reference method's estimator, no priors.

The reference method fits its Thurstonian model by maximising the likelihood; this
module gives that estimate for any model in ``models/`` (the parameters the model
lists in ``ML_PARAMS``, with the model's own identifiability constraints and its own
``latent_score`` and likelihood), optimised by BFGS in double precision.

Use it to compare with published point estimates, or as a starting value. It has no
uncertainty and, unlike the posterior, is unregularised: an outcome that wins every
comparison has no finite estimate (``converged`` is then false and the estimate
runs off), and per-outcome noise scales may collapse towards zero. Report the
posterior; use this for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.dataset import ComparisonArrays, PreferenceData
from ..data.schema import standardised
from ..models import get_model


@dataclass(frozen=True)
class MLEstimate:
    params: dict[str, np.ndarray]  # e.g. mu, sigma (Thurstonian) or u (Bradley-Terry); order_bias
    utility: np.ndarray  # standardised: zero mean, unit sd across outcomes
    log_likelihood: float
    converged: bool
    iterations: int


def maximum_likelihood(data: PreferenceData | ComparisonArrays, model: str = "thurstonian", *,
                       order_bias: bool = False, unparseable: str = "exclude", max_iter: int = 2000) -> MLEstimate:
    """ML estimate of ``model``'s parameters from ``data`` (all rows, both orders)."""
    import jax
    import jax.numpy as jnp
    from numpyro.distributions.transforms import ZeroSumTransform
    from scipy.optimize import minimize

    from ..models.likelihood import pair_log_likelihood

    arr = data if isinstance(data, ComparisonArrays) else data.arrays(unparseable, pool_orders=not order_bias)[0]
    mod = get_model(model)
    n_out = arr.n_outcomes
    zero_sum = ZeroSumTransform(1)
    names = list(mod.ML_PARAMS)
    with jax.enable_x64(True):
        idx_a, idx_b = jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b)
        k, n = jnp.asarray(arr.k_a, dtype=jnp.float64), jnp.asarray(arr.n, dtype=jnp.float64)

        def unpack(theta):
            params = {}
            for j, name in enumerate(names):
                free = zero_sum(theta[j * (n_out - 1):(j + 1) * (n_out - 1)])
                params[name] = jnp.exp(free) if mod.ML_PARAMS[name] == "log_zero_sum" else free
            if order_bias:
                params["order_bias"] = theta[-1]
            return params

        def neg_log_lik(theta):
            z = mod.latent_score(unpack(theta), idx_a, idx_b, order_bias)
            return -jnp.sum(pair_log_likelihood(k, n, z, mod.LINK))

        value_and_grad = jax.jit(jax.value_and_grad(neg_log_lik))
        hessian = jax.jit(jax.hessian(neg_log_lik))
        theta0 = np.zeros(len(names) * (n_out - 1) + int(order_bias))
        res = minimize(lambda t: tuple(np.asarray(v, dtype=float) for v in value_and_grad(t)), theta0, jac=True,
                       hess=lambda t: np.asarray(hessian(t), dtype=float), method="trust-exact",
                       options={"maxiter": max_iter, "gtol": 1e-8})
        params = {k_: np.asarray(v, dtype=float) for k_, v in unpack(jnp.asarray(res.x)).items()}
        loglik = -float(res.fun)
        # at the optimum trust-exact may stop on rounding ("bad approximation") with a zero gradient
        converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-5
        iterations = int(res.nit)
    location = params[names[0]]
    utility = standardised(location)
    return MLEstimate(params=params, utility=utility, log_likelihood=loglik, converged=converged,
                      iterations=iterations)
