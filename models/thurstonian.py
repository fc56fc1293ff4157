r"""Thurstonian utility model (probit link, per-outcome noise).

Each outcome :math:`o` has a random utility :math:`U_o \sim N(\mu_o, \sigma_o^2)`.
A respondent shown :math:`a` as option "A" and :math:`b` as "B" answers "A" with

.. math::

    P(A) = \Phi\!\left(\frac{\mu_a - \mu_b}{\sqrt{\sigma_a^2 + \sigma_b^2}} + \beta\right),

where :math:`\beta` is an optional presentation-order (position) bias on the probit
scale (:math:`\Phi(\beta)` is P(A) for two equally good outcomes; off by default).
The :math:`k` "A" answers among the :math:`n` answers of a row are binomial
(:class:`bayes_utility.models.likelihood.PairwiseBinomial`), so a row with 20 answers weighs
ten times one with 2.

Identifiability
    The likelihood is unchanged by :math:`\mu \to \mu + c` and by
    :math:`(\mu, \sigma) \to (s\mu, s\sigma)`. Location is fixed by a zero-sum
    constraint on :math:`\mu`; scale by fixing the geometric mean of the noise
    scales to one (:math:`\sum_o \log\sigma_o = 0`). So :math:`\mu` is measured in units
    of the typical noise, and both constraints live in the model, not the optimiser.

Priors (and why)
    * :math:`\tau_\mu \sim \mathrm{HalfNormal}(3)`, :math:`\mu \sim \mathrm{ZeroSumNormal}(\tau_\mu)`:
      the utility spread in noise units is learned; 3 allows anything from no
      preference (:math:`\tau_\mu \approx 0`) to near-deterministic choices between
      typical outcomes (:math:`\Phi(3\sqrt2/\sqrt2) \approx 0.999`).
    * :math:`\tau_\sigma \sim \mathrm{HalfNormal}(1)`,
      :math:`\log\sigma = \tau_\sigma \eta`, :math:`\eta \sim \mathrm{ZeroSumNormal}(1)`
      (non-centred): outcomes' noise scales are partially pooled towards a common
      value. This is the regularisation that keeps :math:`\sigma` from blowing up as in
      the unregularised reference fit (variances in the hundreds): an outcome whose
      noise the data barely inform is pulled to the typical noise instead of
      drifting to infinity. A spread :math:`\tau_\sigma = 1` already allows noise
      scales a factor :math:`e^2 \approx 7` apart.
    * :math:`\beta \sim N(0, 1)` when order bias is modelled.

Parameterisation
    ``centered=True`` (default) samples :math:`\mu` directly: efficient when the
    answers pin utilities down (the usual case). When they carry little preference
    signal (:math:`\tau_\mu` near 0, e.g. a respondent that always answers "A") the
    centred form is a funnel (divergences, low E-BFMI); ``centered=False`` samples
    :math:`\mu = \tau_\mu z`, :math:`z \sim \mathrm{ZeroSumNormal}(1)` instead.
    The posterior is the same.

Reported scale
    ``utility`` is :math:`\mu` standardised per posterior draw to zero mean and unit
    sample standard deviation (ddof 1) across outcomes (the reference code's scale: it
    re-standardises with the unbiased sd), and
    ``noise_sd`` is :math:`\sigma` on that same scale, so numbers compare with the
    paper's. ``mu`` and ``sigma`` (noise units) are kept in the posterior too.

References
    Thurstone (1927), "A law of comparative judgment", Case III/V;
    Mazeika et al. (2025), "Utility Engineering", arXiv:2502.08640.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from bayes_utility.models.likelihood import (
    observe_pairs,
    outcome_sd,
    zero_sum_utilities,
)

LINK = "probit"
PRIORS = {"utility_scale": 3.0, "log_noise_scale": 1.0, "order_bias_scale": 1.0}
DIMS = {
    "mu": ["outcome"],
    "mu_raw": ["outcome"],
    "sigma": ["outcome"],
    "log_sigma_raw": ["outcome"],
    "utility": ["outcome"],
    "noise_sd": ["outcome"],
    "y": ["comparison"],
}
REPORTED = ("utility", "noise_sd")
# sites whose calibration is checked by simulation-based calibration (when present)
CALIBRATED = ("utility_spread", "log_noise_spread", "order_bias", "mu", "sigma")  # utility, noise_sd: mu, sigma rescaled
# the free parameters of the maximum-likelihood estimate (bayes_utility.inference.mle): how each
# is constrained, as in the model (zero-sum location; geometric-mean-one noise)
ML_PARAMS = {"mu": "zero_sum", "sigma": "log_zero_sum"}
SCALE_NOTE = (
    "utility: zero mean, unit sample sd (ddof 1) across outcomes per draw (the reference code's scale); "
    "noise_sd: per-outcome Thurstonian noise on the same scale"
)


def latent_score(params, idx_a, idx_b, order_bias: bool = False, respondent=None):
    """Probit score of answering "A" for rows (a shown first, b second); one respondent
    (``respondent`` is accepted for a uniform interface and ignored)."""
    # one gather per side of the stacked (mu, sigma^2): half the gathers (and the
    # scatter-adds of their gradients) of gathering each vector on its own
    stacked = jnp.stack([params["mu"], jnp.square(params["sigma"])], axis=-1)
    side_a, side_b = stacked[..., idx_a, :], stacked[..., idx_b, :]
    z = (side_a[..., 0] - side_b[..., 0]) * jax.lax.rsqrt(side_a[..., 1] + side_b[..., 1])
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
    log_noise_scale: float = PRIORS["log_noise_scale"],
    order_bias_scale: float = PRIORS["order_bias_scale"],
    centered: bool = True,
):
    tau_mu = numpyro.sample("utility_spread", dist.HalfNormal(utility_scale))
    mu = zero_sum_utilities("mu", tau_mu, n_outcomes, centered)
    tau_sigma = numpyro.sample("log_noise_spread", dist.HalfNormal(log_noise_scale))
    eta = numpyro.sample("log_sigma_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
    sigma = numpyro.deterministic("sigma", jnp.exp(tau_sigma * eta))
    params = {"mu": mu, "sigma": sigma}
    if order_bias:
        params["order_bias"] = numpyro.sample("order_bias", dist.Normal(0.0, order_bias_scale))
    spread = outcome_sd(mu)
    numpyro.deterministic("utility", mu / spread)
    numpyro.deterministic("noise_sd", sigma / spread)
    z = latent_score(params, idx_a, idx_b, order_bias)
    observe_pairs(z, n, k_a, LINK)
