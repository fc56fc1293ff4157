r"""Time discounting: choices between "$A now" and "$B in t months" (probit).

Shared by :mod:`models.time_discounting_exponential` and
:mod:`models.time_discounting_hyperbolic` (``model.name``), which differ only in the
discount function :math:`D(t)`. An amount :math:`A` received after :math:`t` months is
worth :math:`\log A + \log D(t)` (log utility of the present value), and the respondent's
utility of it is that times a **sensitivity** :math:`\kappa` (noise units per log-dollar):

.. math::

    \mu_i = \kappa\,(\log A_i + \log D(t_i)), \qquad
    D(t) = e^{-r t} \ \text{(exponential)}, \qquad D(t) = \frac{1}{1 + k t} \ \text{(hyperbolic)},

and answers are probit with unit noise per item (:mod:`models._parametric`). The
outcomes carry ``attributes['amount']`` (> 0) and ``attributes['months']`` (>= 0)
(:func:`bayes_utility.data.optionsets.time_discounting`).

Priors: :math:`\kappa \sim \mathrm{HalfNormal}(10)` (from indifference to near-certain
choices between amounts 10% apart); the rate :math:`r` or :math:`k` per month
:math:`\sim \mathrm{HalfNormal}(0.2)` (from perfect patience to halving value within
about 3-5 months).

Reported: ``discount_rate`` (per month), ``sensitivity``, ``discount_factor_12m``
(:math:`D(12)`: what a dollar in a year is worth now) and ``delay_for_half`` (months
until :math:`D = 1/2`), each with its posterior. ``bayes-utility discounting CONFIG`` fits
both forms and compares them by PSIS-LOO.
"""
from __future__ import annotations

import math

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

PRIORS = {"sensitivity_scale": 10.0, "rate_scale": 0.2, "order_bias_scale": 1.0}
DIMS = {"mu": ["outcome"], "utility": ["outcome"], "y": ["comparison"]}
REPORTED = ("utility",)
CALIBRATED = ("sensitivity", "discount_rate", "order_bias", "mu")
SCORE_SITES = ("mu", "order_bias")
ML_PARAMS = None
SCALE_NOTE = ("utility: each option's utility standardised across options per draw; mu: noise units; "
              "discount_rate: per month")
DISCOUNTS = ("exponential", "hyperbolic")


def data_structure(data, model_cfg=None) -> DataStructure:
    """Each option's amount and delay."""
    attrs = attribute_table(data, ("amount", "months"), "a time-discounting model")
    amount = positive([a["amount"] for a in attrs], "attributes.amount", data.outcome_ids)
    months = np.asarray([a["months"] for a in attrs], dtype=float)
    if not np.all(np.isfinite(months) & (months >= 0)):
        raise ValueError("attributes.months must be >= 0 on every outcome")
    return DataStructure(keywords={"log_amount": np.log(amount), "months": months})


def sbc_structure(design) -> dict:
    """A synthetic design for calibration: item 0 is $1,000 now, the others larger amounts
    (x1.1 to x3) after 1 to 60 months."""
    n = design.n_items()
    rng = np.random.default_rng(design.lottery_seed)
    amount = np.concatenate([[1000.0], 1000.0 * rng.choice([1.1, 1.25, 1.5, 2.0, 3.0], n - 1)])
    months = np.concatenate([[0.0], rng.choice([1.0, 3.0, 6.0, 12.0, 24.0, 60.0], n - 1)])
    return {"log_amount": np.log(amount), "months": months}


def log_discount(rate, months, discount: str):
    if discount == "exponential":
        return -rate * months
    if discount == "hyperbolic":
        return -jnp.log1p(rate * months)
    raise ValueError(f"unknown discount {discount!r}; expected one of {DISCOUNTS}")


def model(idx_a, idx_b, n, n_outcomes: int, k_a=None, *, log_amount=None, months=None,
          discount: str = "hyperbolic", order_bias: bool = False, centered: bool = True,
          sensitivity_scale: float = PRIORS["sensitivity_scale"], rate_scale: float = PRIORS["rate_scale"],
          order_bias_scale: float = PRIORS["order_bias_scale"]):
    log_amount, months = jnp.asarray(log_amount), jnp.asarray(months)
    kappa = numpyro.sample("sensitivity", dist.HalfNormal(sensitivity_scale))
    rate = numpyro.sample("discount_rate", dist.HalfNormal(rate_scale))
    numpyro.deterministic("discount_factor_12m", jnp.exp(log_discount(rate, 12.0, discount)))
    half = math.log(2.0) / rate if discount == "exponential" else 1.0 / rate
    numpyro.deterministic("delay_for_half", half)
    observe(kappa * (log_amount + log_discount(rate, months, discount)), idx_a, idx_b, n, k_a, order_bias,
            order_bias_scale)
