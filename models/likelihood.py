r"""Likelihood pieces shared by the pairwise-comparison models.

A comparison row holds :math:`k` answers "A" out of :math:`n` answers to one
ordered pair. Given a latent score :math:`z` (probit or logit scale),

.. math::

    \log p(k \mid n, z) = \log\binom{n}{k} + k \log F(z) + (n - k) \log F(-z),

with :math:`F = \Phi` (probit) or the logistic function (logit). The binomial
coefficient uses :math:`\Gamma` so that fractional :math:`k` (the reference method's
half-votes for unparseable answers) gives a proper pseudo-likelihood; log-CDFs are
evaluated stably (``log_ndtr``, ``log_sigmoid``), never as ``log(Phi(z))``.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import erfc, gammaln, ndtr
from numpyro.distributions import Distribution, constraints
from numpyro.distributions.util import promote_shapes, validate_sample

from ..data.schema import SCALE_DDOF

LINKS = ("probit", "logit")


def cdf(z, link: str):
    """:math:`F(z)`: probability of answer "A" given the latent score."""
    if link == "probit":
        return ndtr(z)
    if link == "logit":
        return jax.nn.sigmoid(z)
    raise ValueError(f"unknown link {link!r}; expected one of {LINKS}")


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


_TAIL = 8.0  # beyond |z| = 8 the asymptotic series (7 terms) is within 4e-8 of log Phi (float64)


@jax.custom_jvp
def log_ndtr_pair(z):
    r"""``(log Phi(z), log Phi(-z))`` from one ``erfc`` evaluation.

    The smaller tail :math:`\log\Phi(-|z|)` comes from ``erfc`` for :math:`|z| < 8` and
    from the asymptotic series
    :math:`-z^2/2 - \log|z| - \tfrac12\log 2\pi + \log(1 - z^{-2} + 3z^{-4} - \dots + 10395z^{-12})`
    beyond (truncation error below 4e-8 at :math:`|z| \ge 8`, so float64 log-likelihoods
    for LOO are accurate too); the larger one is ``log1p(-exp(small))``. The derivative is supplied in
    closed form, :math:`d\log\Phi(z)/dz = \phi(z)/\Phi(z)`, so autodiff never goes
    through ``erfc``. About twice as fast as two calls of ``log_ndtr`` with their
    gradients, and as accurate in float32 (see tests/test_likelihood.py).
    """
    x = jnp.abs(z)
    xs = jnp.minimum(x, _TAIL)
    direct = jnp.log(0.5 * erfc(xs * (1.0 / math.sqrt(2.0))))
    xt = jnp.maximum(x, _TAIL)
    inv2 = 1.0 / (xt * xt)
    # 1 - x + 3x^2 - 15x^3 + 105x^4 - 945x^5 + 10395x^6 with x = 1/z^2, by Horner's rule
    poly = 1.0 - 9.0 * inv2 * (1.0 - 11.0 * inv2)
    poly = 1.0 - 3.0 * inv2 * (1.0 - 5.0 * inv2 * (1.0 - 7.0 * inv2 * poly))
    series = -0.5 * xt * xt - jnp.log(xt) - _LOG_SQRT_2PI + jnp.log1p(-inv2 * poly)
    small = jnp.where(x < _TAIL, direct, series)
    big = jnp.log1p(-jnp.exp(small))
    positive = z >= 0
    return jnp.where(positive, big, small), jnp.where(positive, small, big)


@log_ndtr_pair.defjvp
def _log_ndtr_pair_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    lp, lm = log_ndtr_pair(z)
    log_pdf = -0.5 * z * z - _LOG_SQRT_2PI
    return (lp, lm), (jnp.exp(log_pdf - lp) * dz, -jnp.exp(log_pdf - lm) * dz)


def log_cdf_pair(z, link: str):
    """``(log F(z), log F(-z))``, stable, for the probit or logit link."""
    if link == "probit":
        return log_ndtr_pair(z)
    if link == "logit":
        return jax.nn.log_sigmoid(z), jax.nn.log_sigmoid(-z)
    raise ValueError(f"unknown link {link!r}; expected one of {LINKS}")


def pair_log_likelihood(k, n, z, link: str):
    """Binomial log-likelihood of ``k`` of ``n`` answers "A" at latent score ``z``."""
    log_binom = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    log_p, log_q = log_cdf_pair(z, link)
    return log_binom + k * log_p + (n - k) * log_q


class PairwiseBinomial(Distribution):
    """Number of "A" answers among ``total_count`` answers, with P(A) = F(z).

    Parameters
    ----------
    z : array
        Latent score on the link's scale.
    total_count : array
        Answers per row (may be fractional under the half-vote policy).
    link : {"probit", "logit"}
    """

    arg_constraints = {"z": constraints.real, "total_count": constraints.nonnegative}
    pytree_data_fields = ("z", "total_count")
    pytree_aux_fields = ("link",)
    has_enumerate_support = False

    def __init__(self, z, total_count, link: str = "probit", *, validate_args=None):
        if link not in LINKS:
            raise ValueError(f"unknown link {link!r}; expected one of {LINKS}")
        self.link = link
        self.z, self.total_count = promote_shapes(z, total_count)
        batch_shape = jax.lax.broadcast_shapes(jnp.shape(z), jnp.shape(total_count))
        super().__init__(batch_shape=batch_shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(0.0, self.total_count)

    @property
    def probs(self):
        return cdf(self.z, self.link)

    def sample(self, key, sample_shape=()):
        shape = sample_shape + self.batch_shape
        n = jnp.broadcast_to(self.total_count, shape)
        p = jnp.broadcast_to(self.probs, shape)
        # Integer draws; fractional total counts are rounded down for simulation.
        return jax.random.binomial(key, jnp.floor(n), p).astype(jnp.result_type(float))

    @validate_sample
    def log_prob(self, value):
        return pair_log_likelihood(value, self.total_count, self.z, self.link)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def variance(self):
        p = self.probs
        return self.total_count * p * (1 - p)


# ----------------------------------------------------------- model building blocks
def outcome_sd(x, axis: int = -1):
    """Sample sd (ddof = :data:`SCALE_DDOF`) across outcomes, kept as a size-1 axis."""
    return jnp.std(x, axis=axis, ddof=SCALE_DDOF, keepdims=True)


def standardise(x, axis: int = -1):
    """``x`` to the reported scale: zero mean, unit sample sd across outcomes."""
    x = x - jnp.mean(x, axis=axis, keepdims=True)
    return x / outcome_sd(x, axis)


def zero_sum_utilities(name: str, spread, n_outcomes: int, centered: bool = True):
    """Utilities with a zero-sum constraint and scale ``spread``, as site ``name``.

    Centred: ``name ~ ZeroSumNormal(spread)``. Non-centred: ``name_raw ~
    ZeroSumNormal(1)`` and ``name = spread * name_raw`` (deterministic); the same
    prior, a different geometry for NUTS.
    """
    if centered:
        return numpyro.sample(name, dist.ZeroSumNormal(spread, event_shape=(n_outcomes,)))
    raw = numpyro.sample(f"{name}_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
    return numpyro.deterministic(name, spread * raw)


def observe_pairs(z, n, k_a, link: str):
    """The likelihood site ``y`` over the ``comparison`` plate."""
    with numpyro.plate("comparison", jnp.shape(z)[-1]):
        return numpyro.sample("y", PairwiseBinomial(z, n, link=link), obs=k_a)
