"""Pointwise log-likelihoods of a fit (per comparison and draw, for PSIS-LOO and ``compare``)
and its posterior predictive answers (for ``az.plot_ppc`` and LOO-PIT).

Computed from the model module's own ``latent_score`` and the shared likelihood (not by
re-tracing the model per draw), in float64; recomputed from a saved InferenceData's
posterior, constant and observed data when a run folder did not store them. Imports
nothing above the likelihood and the model registry.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ..data.dataset import ComparisonArrays
from ..models import get_model
from ..models.likelihood import cdf, pair_log_likelihood

SCORE_PARAMS = ("mu", "sigma", "u", "order_bias", "mu_resp")  # what the models' latent_score functions read


def score_params(source) -> dict:
    """The parameters ``latent_score`` reads, from samples or a posterior Dataset."""
    return {k: jnp.asarray(np.asarray(source[k])) for k in SCORE_PARAMS if k in source}


def pointwise_log_likelihood(mod, samples: dict, arr: ComparisonArrays, order_bias: bool) -> np.ndarray:
    """Log-likelihood of every comparison under every draw, shape ``(chain, draw, comparison)``.

    Uses the model module's own ``latent_score`` and the shared likelihood, one chain at
    a time (memory), instead of re-tracing the model for every draw.
    """
    try:
        from jax.experimental import enable_x64  # jax < 0.7
    except ImportError:
        enable_x64 = partial(jax.enable_x64, True)

    # in float64: a near-certain answer's log-likelihood (about -1e-20) would round to
    # exactly 0 in float32 for every draw, and PSIS-LOO cannot smooth constant weights
    with enable_x64():
        params = {k: v.astype(jnp.float64) for k, v in score_params(samples).items()}
        k, n = jnp.asarray(arr.k_a, jnp.float64), jnp.asarray(arr.n, jnp.float64)
        return _map_chains(mod, params, arr, order_bias, lambda z: pair_log_likelihood(k, n, z, mod.LINK))


def _map_chains(mod, params: dict, arr: ComparisonArrays, order_bias: bool, of_score) -> np.ndarray:
    """``of_score`` of every comparison's latent score under every draw, one chain at a time
    (memory), ``(chain, draw, comparison)``: the model's own ``latent_score``, not a
    re-trace of the model per draw."""
    idx_a, idx_b = jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b)
    inputs = {k: jnp.asarray(v) for k, v in arr.inputs().items()}

    @jax.jit
    def per_chain(p):
        return of_score(mod.latent_score(p, idx_a, idx_b, order_bias, **inputs))

    return np.asarray(jax.lax.map(per_chain, params))


def comparison_arrays_of(idata) -> ComparisonArrays:
    """The fitted comparisons of a fit's InferenceData (constant and observed data)."""
    cd = idata.constant_data
    respondent = np.asarray(cd["respondent_idx"]) if "respondent_idx" in cd else None
    n_out = idata.posterior.sizes.get("outcome", int(max(cd["idx_a"].max(), cd["idx_b"].max())) + 1)
    return ComparisonArrays(idx_a=np.asarray(cd["idx_a"]), idx_b=np.asarray(cd["idx_b"]),
                            k_a=np.asarray(idata.observed_data["y"]), n=np.asarray(cd["n"]), n_outcomes=int(n_out),
                            rows=np.asarray(cd["first_row"]), n_rows=int(idata.posterior.attrs.get("n_fitted_rows", 0)),
                            respondent=respondent)


def _require(idata, what: str) -> None:
    for need in ("posterior", "constant_data", "observed_data"):
        if need not in idata.groups():
            raise ValueError(f"cannot {what}: the InferenceData has no {need} group")


def _per_comparison(idata, values: np.ndarray) -> xr.Dataset:
    """``y`` of shape (chain, draw, comparison) on the fit's coordinates."""
    post = idata.posterior
    return xr.Dataset({"y": (("chain", "draw", "comparison"), values)},
                      coords={"chain": post.chain.values, "draw": post.draw.values,
                              "comparison": idata.observed_data["y"]["comparison"].values})


def add_log_likelihood(idata):
    """Add the ``log_likelihood`` group (float64, recomputed from the posterior) when missing.

    Run folders of large fits do not store it (``output.store_log_likelihood``):
    :func:`bayes_utility.reporting.runfolder.load_run` calls this. Works for every model whose latent
    score reads posterior sites and the comparisons' indices (all bundled ones).
    """
    if "log_likelihood" in idata.groups():
        return idata
    _require(idata, "recompute the log-likelihood")
    attrs = idata.posterior.attrs
    mod = get_model(attrs["model"])
    arr = comparison_arrays_of(idata)
    ll = pointwise_log_likelihood(mod, idata.posterior, arr, bool(attrs.get("order_bias", 0)))
    idata.add_groups(log_likelihood=_per_comparison(idata, ll))
    return idata


# draws x comparisons up to which a fit stores its posterior predictive answers
# (``output.posterior_predictive: auto``); integers, compressed in posterior.nc
STORE_PREDICTIVE_MAX = 20_000_000


def answer_probability(mod, samples, arr: ComparisonArrays, order_bias: bool) -> np.ndarray:
    """P(answer "A") of every comparison under every draw, ``(chain, draw, comparison)``."""
    return _map_chains(mod, score_params(samples), arr, order_bias, lambda z: cdf(z, mod.LINK))


def add_posterior_predictive(idata, seed: int = 0):
    """Add the ``posterior_predictive`` group: ``y``, the count of answers "A" of every fitted
    comparison replicated under every draw (binomial with the comparison's answer count and
    the draw's P(A)), on the observed data's dims, so ``az.plot_ppc`` and
    ``az.plot_loo_pit`` take the fit as it is. Under the half-vote policy the observed
    counts may be halves; the replicates count whole answers."""
    if "posterior_predictive" in idata.groups():
        return idata
    _require(idata, "draw posterior predictive answers")
    attrs = idata.posterior.attrs
    arr = comparison_arrays_of(idata)
    p = answer_probability(get_model(attrs["model"]), idata.posterior, arr, bool(attrs.get("order_bias", 0)))
    n = np.rint(np.asarray(arr.n)).astype(np.int64)
    y = np.random.default_rng(seed).binomial(n, np.clip(p, 0.0, 1.0))
    y = y.astype(np.int16 if n.max(initial=0) < np.iinfo(np.int16).max else np.int32)
    idata.add_groups(posterior_predictive=_per_comparison(idata, y))
    return idata
