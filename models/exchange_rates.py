r"""Exchange rates: utilities of "N units of entity X" with log utility in the likelihood (probit).

Each outcome is a count :math:`N_i` of an entity :math:`X_i` (``attributes['entity']``,
``attributes['count']``; :func:`bayes_utility.data.optionsets.exchange_rate_grid`), e.g. "N
people from X are saved from terminal illness", or "You receive $N" as a dollar anchor.
Its utility is

.. math::

    \mu_i = a_{X_i} \log N_i + b_{X_i} + \tau\,\epsilon_i, \qquad \epsilon_i \sim N(0, 1),

fitted to the answers directly (not a regression on point estimates): :math:`a_X` is
the utility per log-unit of X, :math:`b_X` the utility of one unit, :math:`\tau`
(``deviation_spread``) how far single outcomes stray from the log curve. Answers are
probit with unit noise per item (:mod:`models._parametric`). The intercept of the
*reference* entity (the one with ``attributes['reference']: true``, else the first
outcome's) is 0: only differences of utility are identified.

Priors: :math:`a_X \sim N(0, 2)` (a slope may come out negative: an entity the
respondent wants less of), :math:`b_X \sim N(0, 5)`, :math:`\tau \sim \mathrm{HalfNormal}(0.5)`.

The exchange rate of X in Y (how many Y are worth :math:`N_0` X, per X) is a posterior
quantity per draw, :math:`\exp((a_X \log N_0 + b_X - b_Y)/a_Y) / N_0`
(:mod:`bayes_utility.exchange`), defined only where :math:`a_Y > 0`: entities whose
slope is not clearly positive are not used as a unit of account.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from bayes_utility.models import DataStructure
from bayes_utility.models._parametric import (  # noqa: F401
    LINK,
    attribute_table,
    latent_score,
    observe,
    positive,
)

PRIORS = {"slope_scale": 2.0, "intercept_scale": 5.0, "deviation_scale": 0.5, "order_bias_scale": 1.0}
DIMS = {"mu": ["outcome"], "utility": ["outcome"], "deviation_raw": ["outcome"], "slope": ["entity"],
        "intercept": ["entity"], "intercept_raw": ["entity_other"], "y": ["comparison"]}
REPORTED = ("utility",)
CALIBRATED = ("slope", "intercept_raw", "deviation_spread", "order_bias", "mu")
SCORE_SITES = ("mu", "order_bias")
ML_PARAMS = None
SCALE_NOTE = "utility: standardised across outcomes per draw; slope, intercept, mu: noise units"


def entities_of(data) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Entity names (the reference first), each outcome's entity index, and its count."""
    attrs = attribute_table(data, ("entity", "count"), "the exchange-rate model")
    ents = [str(a["entity"]) for a in attrs]
    refs = sorted({str(a["entity"]) for a in attrs if a.get("reference")})
    if len(refs) > 1:
        raise ValueError(f"more than one reference entity: {refs}")
    ref = refs[0] if refs else ents[0]
    names = [ref] + sorted(set(ents) - {ref})
    pos = {e: i for i, e in enumerate(names)}
    count = positive([a["count"] for a in attrs], "attributes.count", data.outcome_ids)
    return names, np.array([pos[e] for e in ents]), count


def data_structure(data, model_cfg=None) -> DataStructure:
    """Each outcome's entity and count; the entities as coordinates."""
    names, entity, count = entities_of(data)
    if len(names) < 2:
        raise ValueError("the exchange-rate model needs at least two entities")
    return DataStructure(keywords={"entity": entity, "log_count": np.log(count), "n_entities": len(names)},
                         coords={"entity": names, "entity_other": names[1:]})


def sbc_structure(design) -> dict:
    """A synthetic design: three entities in turn, counts 1 to 10,000 in factors of 10."""
    n = design.n_items()
    entity = np.arange(n) % 3
    count = 10.0 ** ((np.arange(n) // 3) % 5)
    return {"entity": entity, "log_count": np.log(count), "n_entities": 3}


def model(idx_a, idx_b, n, n_outcomes: int, k_a=None, *, entity=None, log_count=None, n_entities: int = 2,
          order_bias: bool = False, centered: bool = True, slope_scale: float = PRIORS["slope_scale"],
          intercept_scale: float = PRIORS["intercept_scale"], deviation_scale: float = PRIORS["deviation_scale"],
          order_bias_scale: float = PRIORS["order_bias_scale"]):
    entity, log_count = jnp.asarray(entity), jnp.asarray(log_count)
    a = numpyro.sample("slope", dist.Normal(0.0, slope_scale).expand([n_entities]).to_event(1))
    b_raw = numpyro.sample("intercept_raw", dist.Normal(0.0, intercept_scale).expand([n_entities - 1]).to_event(1))
    b = numpyro.deterministic("intercept", jnp.concatenate([jnp.zeros(1), b_raw]))
    tau = numpyro.sample("deviation_spread", dist.HalfNormal(deviation_scale))
    eps = numpyro.sample("deviation_raw", dist.Normal(0.0, 1.0).expand([n_outcomes]).to_event(1))
    observe(a[entity] * log_count + b[entity] + tau * eps, idx_a, idx_b, n, k_a, order_bias, order_bias_scale)
