r"""Bradley-Terry utility model (logit link, one noise scale).

Outcome :math:`o` has utility :math:`u_o`; a respondent shown :math:`a` as "A" and
:math:`b` as "B" answers "A" with

.. math::

    P(A) = \operatorname{logistic}(u_a - u_b + \beta),

equivalent to a random-utility model with i.i.d. Gumbel noise of one common scale,
which is fixed to one for identifiability (utilities are in logit units); location
is fixed by a zero-sum constraint. :math:`\beta` is an optional presentation-order
bias on the logit scale. Answers are binomial per ordered pair.

Priors (and why)
    * :math:`\tau_u \sim \mathrm{HalfNormal}(5)`, :math:`u \sim \mathrm{ZeroSumNormal}(\tau_u)`:
      learned spread in logit units; 5 covers everything from indifference to
      near-certain choices (logistic(5) = 0.993 for a one-spread gap).
    * :math:`\beta \sim N(0, 1.7)` when order bias is modelled (about the probit
      model's N(0, 1) prior mapped to the logit scale).

Parameterisation
    ``centered=False`` samples :math:`u = \tau_u z` (non-centred), for data with
    little preference signal; see :mod:`bayes_utility.models.thurstonian`.

Reported scale
    ``utility`` is :math:`u` standardised per draw to zero mean and unit sd across
    outcomes, comparable with the Thurstonian model's ``utility``.

References
    Bradley & Terry (1952); Zermelo (1929).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from bayes_utility.models.likelihood import (
    observe_pairs,
    outcome_sd,
    zero_sum_utilities,
)

LINK = "logit"
PRIORS = {"utility_scale": 5.0, "order_bias_scale": 1.7}
DIMS = {"u": ["outcome"], "u_raw": ["outcome"], "utility": ["outcome"], "y": ["comparison"]}
REPORTED = ("utility",)
CALIBRATED = ("utility_spread", "order_bias", "u")  # checked by simulation-based calibration
ML_PARAMS = {"u": "zero_sum"}  # free parameters of the ML estimate (bayes_utility.inference.mle)
SCALE_NOTE = "utility: zero mean, unit sample sd across outcomes per draw; u: logit units"


def latent_score(params, idx_a, idx_b, order_bias: bool = False, respondent=None):
    """Logit score of answering "A" for rows (a shown first, b second)."""
    u = params["u"]
    z = u[..., idx_a] - u[..., idx_b]
    if order_bias:
        z = z + jnp.expand_dims(params["order_bias"], -1)
    return z


def model(
    idx_a,
    idx_b,
    n,
    n_outcomes: int,
    k_a=None,
    *,
    order_bias: bool = False,
    utility_scale: float = PRIORS["utility_scale"],
    order_bias_scale: float = PRIORS["order_bias_scale"],
    centered: bool = True,
):
    tau = numpyro.sample("utility_spread", dist.HalfNormal(utility_scale))
    u = zero_sum_utilities("u", tau, n_outcomes, centered)
    params = {"u": u}
    if order_bias:
        params["order_bias"] = numpyro.sample("order_bias", dist.Normal(0.0, order_bias_scale))
    numpyro.deterministic("utility", u / outcome_sd(u))
    z = latent_score(params, idx_a, idx_b, order_bias)
    observe_pairs(z, n, k_a, LINK)
