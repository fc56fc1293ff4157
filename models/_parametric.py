"""Shared pieces of the parametric-utility models (time discounting, exchange rates,
corrigibility): an item's utility is a function of what the item *is* (an amount and a
delay, a count of an entity, the size of a value change), with parameters learned
inside the likelihood; answers are probit with unit noise per item.

A respondent shown ``a`` first and ``b`` second answers "A" with
``Phi((mu_a - mu_b) / sqrt(2) + beta)`` (``beta``: optional order bias), so ``mu`` is in
units of the per-item Thurstonian noise sd, as in :mod:`models.thurstonian`.
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from bayes_utility.models.likelihood import observe_pairs, standardise

LINK = "probit"
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def latent_score(params, idx_a, idx_b, order_bias: bool = False, respondent=None):
    """Probit score of "A": the items' utility difference over the noise of a difference."""
    mu = params["mu"]
    z = (mu[..., idx_a] - mu[..., idx_b]) * _INV_SQRT2
    if order_bias:
        z = z + jnp.expand_dims(params["order_bias"], -1)
    return z


def observe(mu, idx_a, idx_b, n, k_a, order_bias: bool, order_bias_scale: float):
    """Record ``mu`` and the standardised ``utility``, then the answers."""
    mu = numpyro.deterministic("mu", mu)
    params = {"mu": mu}
    if order_bias:
        params["order_bias"] = numpyro.sample("order_bias", dist.Normal(0.0, order_bias_scale))
    numpyro.deterministic("utility", standardise(mu))
    observe_pairs(latent_score(params, idx_a, idx_b, order_bias), n, k_a, LINK)


def attribute_table(data, keys: tuple[str, ...], what: str) -> list[dict]:
    """Each outcome's ``attributes`` (a dict per outcome); a ValueError naming the outcomes
    that lack one of ``keys`` (at most five shown)."""
    attrs = list(data.outcomes["attributes"]) if "attributes" in data.outcomes else [None] * data.n_outcomes
    bad = [str(o) for o, a in zip(data.outcome_ids, attrs) if not isinstance(a, dict)
           or not all(k in a for k in keys)]
    if bad:
        raise ValueError(f"{what} needs attributes {', '.join(keys)} on every outcome; missing on "
                         f"{len(bad)}: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}")
    return attrs


def positive(values, name: str, ids) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    bad = [str(i) for i, v in zip(ids, x) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise ValueError(f"{name} must be a positive number; not on {', '.join(bad[:5])}")
    return x
