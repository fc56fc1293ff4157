r"""Hierarchical Thurstonian model: many respondents share population utilities.

A *respondent* is whoever answered: an LLM, or one LLM under one prompt template,
system prompt or temperature (``model.group_by`` in the config). Respondent
:math:`r` shown outcome :math:`a` as "A" and :math:`b` as "B" answers "A" with

.. math::

    P(A) = \Phi\!\left(\frac{\mu_{ra} - \mu_{rb}}{\sqrt{\sigma_a^2 + \sigma_b^2}} + \beta_r\right),
    \qquad
    \mu_{r\cdot} = d_r\,(\mu_\cdot + \tau_r \delta_{r\cdot}),

with

* :math:`\mu` the **population utilities** (zero-sum, spread :math:`\tau_\mu`), optionally
  :math:`\mu_o = c_{k(o)} + \nu_o` around a mean per outcome category :math:`k(o)`
  (the paper's 30 categories) with spread :math:`\tau_c`, the category means zero-sum
  weighted by their numbers of outcomes (so :math:`\mu` keeps zero sum exactly);
* :math:`\delta_r` the respondent's **deviations** (zero-sum, unit scale) with its own
  spread :math:`\tau_r = \tau_\delta \exp(s_\delta \zeta_r + \gamma_\delta x_r)`,
  zero-sum :math:`\zeta` (so :math:`\tau_\delta` is the geometric mean of the spreads at
  :math:`x = 0`, not a second name for it): a typical spread and how much it varies
  between respondents, :math:`s_\delta`; the smaller :math:`\tau_r`, the closer the
  respondent's utilities are to the population's;
* :math:`d_r = \exp(\lambda_r)` the respondent's **decisiveness** (inverse noise scale:
  its utility differences in units of its own noise), :math:`\lambda_r = \gamma_d x_r +
  \tau_d \epsilon_r` with zero-sum :math:`\epsilon` (so the geometric mean of
  :math:`d` is one: the population scale is that of a typical respondent);
* :math:`\sigma_o` per-outcome noise shared by respondents, geometric mean one, as in
  the flat model;
* :math:`\beta_r = \bar\beta + \tau_\beta \eta_r` the respondent's **presentation-order
  bias** (probit scale; when ``order_bias`` is on), estimated from both orders.

:math:`x_r` is an optional respondent covariate (e.g. a capability score), standardised
to zero mean and unit sd; :math:`\gamma_\delta` (``deviation_slope``) and
:math:`\gamma_d` (``decisiveness_slope``) say how agreement with the population and
decisiveness change per sd of the covariate. Without a covariate they are absent.

Indifference versus bias
    A respondent that answers "A" whatever the order has no preference signal: its
    :math:`d_r` goes to zero and its :math:`\beta_r` to a large value. It is not read as
    a preference for the outcomes it happened to see first, and it does not pull the
    population utilities (tested on simulated data).

Few respondents
    How much respondents differ (:math:`s_\delta`, the spread of log decisiveness, of order
    biases) is learnt from as many values as there are respondents. With 2-3 of them
    (``respondent_spreads: auto``, the default; ``fixed`` or ``estimated`` to force) these
    spreads are fixed at their prior scales (``deviation_sd_scale`` is then unused: all
    respondents share :math:`\tau_\delta`), which removes the funnels NUTS cannot cross.

Parameterisation
    ``respondent_utilities="non_centred"``: everything below the population is non-centred
    (respondent deviations, log decisiveness, order biases, category means): with few
    answers per respondent the spreads are weakly informed and the centred form is a funnel.
    ``"centred"``: the respondents' utilities are parameters themselves (flat, zero-sum,
    with the hierarchical prior added as a factor), and so are the population utilities:
    when every respondent's answers pin its utilities down (the paper's design: hundreds
    of answers per respondent and outcome), non-centred deviations are tied to their
    spreads and NUTS needs deeper trees. The same model either way (tests/test_scale.py).
    Not the default: over the whole prior (simulation-based calibration) the centred form
    leaves many fits of weakly informative draws unconverged. Respondent-level values (log decisiveness, spreads, order biases) stay
    non-centred: their spreads are learnt from as many values as there are respondents,
    and centring them gave a funnel (1,045 divergences on the bundled six respondents).

Reported
    ``utility``: population utilities standardised per draw (zero mean, unit sd across
    outcomes), as the flat model's. ``respondent_utility``: each respondent's utilities
    standardised the same way. ``noise_scale`` :math:`= 1/d_r`.

With one respondent the model is the flat Thurstonian model with :math:`\mu + \tau\delta`
in place of :math:`\mu` (``decisiveness`` fixed at one, no spread of order biases).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from bayes_utility.models import DataStructure
from bayes_utility.models.likelihood import observe_pairs, outcome_sd, standardise

LINK = "probit"
PRIORS = {
    "utility_scale": 3.0,  # population utility spread, in noise units
    "category_scale": 1.0,  # spread of category means (with categories)
    "deviation_scale": 0.5,  # typical spread of respondents' deviations
    "deviation_sd_scale": 0.5,  # how much that spread differs between respondents (log scale)
    "log_noise_scale": 1.0,  # spread of log per-outcome noise
    "decisiveness_scale": 1.0,  # spread of respondents' log decisiveness
    "order_bias_scale": 1.0,  # mean order bias
    "order_bias_spread_scale": 0.5,  # spread of respondents' order biases
    "slope_scale": 0.5,  # covariate slopes (per sd of the covariate)
}
DIMS = {
    "mu": ["outcome"],
    "mu_raw": ["outcome"],
    "mu_pop": ["outcome"],
    "category_raw": ["category"],
    "deviation_raw": ["respondent", "outcome"],
    "mu_resp": ["respondent", "outcome"],
    "sigma": ["outcome"],
    "log_sigma_raw": ["outcome"],
    "log_decisiveness_raw": ["respondent"],
    "log_deviation_raw": ["respondent"],
    "decisiveness": ["respondent"],
    "noise_scale": ["respondent"],
    "respondent_deviation_spread": ["respondent"],
    "order_bias_raw": ["respondent"],
    "order_bias": ["respondent"],
    "utility": ["outcome"],
    "respondent_utility": ["respondent", "outcome"],
    "noise_sd": ["outcome"],
    "y": ["comparison"],
}
REPORTED = ("utility", "noise_sd")
# per-respondent sites summarised in the run's respondents.csv
RESPONDENT_SITES = ("decisiveness", "noise_scale", "respondent_deviation_spread", "order_bias")
CALIBRATED = ("utility_spread", "category_spread", "deviation_spread", "deviation_spread_sd", "deviation_slope",
              "decisiveness_spread", "decisiveness_slope", "log_noise_spread",
              "order_bias_mean", "order_bias_spread", "decisiveness", "respondent_deviation_spread",
              "order_bias", "mu", "mu_resp")  # utility, respondent_utility: the same rescaled
INPUTS = ("respondent",)  # per-comparison inputs besides idx_a, idx_b, n
SCORE_SITES = ("mu_resp", "sigma", "order_bias")
ML_PARAMS = None  # no maximum-likelihood estimate: the spreads' likelihood is unbounded
ARTEFACTS = ("respondents",)  # respondents.csv, agreement.csv and .png in every run folder
SCALE_NOTE = (
    "utility: population utilities, zero mean and unit sample sd across outcomes per draw; "
    "respondent_utility: each respondent's, standardised the same way; "
    "noise_sd: per-outcome noise on the population scale"
)


def latent_score(params, idx_a, idx_b, order_bias: bool = False, respondent=None):
    """Probit score of "A" for rows (respondent, a shown first, b second)."""
    if respondent is None:
        raise ValueError("the hierarchical model needs each comparison's respondent index")
    mu, sigma2 = params["mu_resp"], jnp.square(params["sigma"])
    diff = mu[..., respondent, idx_a] - mu[..., respondent, idx_b]
    z = diff * jax.lax.rsqrt(sigma2[..., idx_a] + sigma2[..., idx_b])
    if order_bias:
        z = z + params["order_bias"][..., respondent]
    return z


PARAMETERISATIONS = ("non_centred", "centred")
FEW_RESPONDENTS = 3  # up to this many, spreads between respondents are fixed at their prior scales


def _zero_sum_normal_logpdf(x, scale):
    """log density of zero-sum ``x`` (last axis) under ZeroSumNormal(``scale``), one scale per row:
    an isotropic normal on the (N - 1)-dimensional zero-sum subspace."""
    dof = jnp.shape(x)[-1] - 1
    return (-0.5 * jnp.sum(jnp.square(x), axis=-1) / jnp.square(scale)
            - dof * (jnp.log(scale) + 0.5 * jnp.log(2.0 * jnp.pi)))


def spreads_estimated(n_respondents: int, respondent_spreads: str = "auto") -> bool:
    """Whether the between-respondent spreads are parameters (else fixed at prior scales)."""
    if respondent_spreads not in ("auto", "estimated", "fixed"):
        raise ValueError(f"respondent_spreads must be auto, estimated or fixed, not {respondent_spreads!r}")
    if respondent_spreads == "auto":
        return n_respondents > FEW_RESPONDENTS
    return respondent_spreads == "estimated"


def model(
    idx_a,
    idx_b,
    n,
    n_outcomes: int,
    k_a=None,
    *,
    respondent=None,
    n_respondents: int = 1,
    category=None,
    n_categories: int = 0,
    covariate=None,
    order_bias: bool = False,
    centered: bool = True,  # accepted for a uniform interface (see respondent_utilities)
    respondent_spreads: str = "auto",
    respondent_utilities: str = "non_centred",
    utility_scale: float = PRIORS["utility_scale"],
    category_scale: float = PRIORS["category_scale"],
    deviation_scale: float = PRIORS["deviation_scale"],
    deviation_sd_scale: float = PRIORS["deviation_sd_scale"],
    log_noise_scale: float = PRIORS["log_noise_scale"],
    decisiveness_scale: float = PRIORS["decisiveness_scale"],
    order_bias_scale: float = PRIORS["order_bias_scale"],
    order_bias_spread_scale: float = PRIORS["order_bias_spread_scale"],
    slope_scale: float = PRIORS["slope_scale"],
):
    n_r = int(n_respondents)
    if respondent_utilities not in PARAMETERISATIONS:
        raise ValueError(f"respondent_utilities must be one of {PARAMETERISATIONS}, not {respondent_utilities!r}")
    centred = respondent_utilities == "centred"
    estimated = n_r > 1 and spreads_estimated(n_r, respondent_spreads)
    if respondent is None:
        respondent = jnp.zeros(jnp.shape(idx_a), dtype=jnp.int32)
    # population
    tau_mu = numpyro.sample("utility_spread", dist.HalfNormal(utility_scale))
    if centred:
        mu = numpyro.sample("mu_pop", dist.ZeroSumNormal(tau_mu, event_shape=(n_outcomes,)))
    else:
        mu = tau_mu * numpyro.sample("mu_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
    if n_categories and category is not None:
        # category means with zero outcome-weighted mean: they add nothing to the mean of mu
        # (which stays zero), so no direction of the category means is left to the prior alone
        tau_c = numpyro.sample("category_spread", dist.HalfNormal(category_scale))
        c = numpyro.sample("category_raw", dist.ZeroSumNormal(1.0, event_shape=(n_categories,)))
        weight = jnp.bincount(jnp.asarray(category), length=n_categories) / jnp.shape(category)[0]
        c = c - jnp.sum(c * weight, axis=-1, keepdims=True)
        mu = mu + tau_c[..., None] * c[..., category]
    mu = numpyro.deterministic("mu", mu)
    # respondents: deviations and decisiveness
    tau_d = numpyro.sample("deviation_spread", dist.HalfNormal(deviation_scale))
    log_tau_r = jnp.log(tau_d)[..., None] * jnp.ones(n_r)
    if estimated:  # respondents differ in how far they stray from the population
        # zero-sum: deviation_spread is the geometric mean of the respondents' spreads, not
        # a second parameter for the same thing (which would leave a ridge only priors bound)
        s_dev = numpyro.sample("deviation_spread_sd", dist.HalfNormal(deviation_sd_scale))
        e_dev = numpyro.sample("log_deviation_raw", dist.ZeroSumNormal(1.0, event_shape=(n_r,)))
        log_tau_r = log_tau_r + s_dev[..., None] * e_dev
    log_dec = jnp.zeros(n_r)
    if covariate is not None:
        x = jnp.asarray(covariate)
        g_dev = numpyro.sample("deviation_slope", dist.Normal(0.0, slope_scale))
        log_tau_r = log_tau_r + g_dev[..., None] * x
    if n_r > 1:
        # with few respondents their spread cannot be learnt from 2-3 values: fixed at the
        # prior scale (no funnel); with more, a parameter
        s_dec = (numpyro.sample("decisiveness_spread", dist.HalfNormal(decisiveness_scale)) if estimated
                 else jnp.asarray(decisiveness_scale))
        eps = numpyro.sample("log_decisiveness_raw", dist.ZeroSumNormal(1.0, event_shape=(n_r,)))
        log_dec = s_dec[..., None] * eps
        if covariate is not None:
            g_dec = numpyro.sample("decisiveness_slope", dist.Normal(0.0, slope_scale))
            log_dec = log_dec + g_dec[..., None] * x
    tau_r = numpyro.deterministic("respondent_deviation_spread", jnp.exp(log_tau_r))
    dec = numpyro.deterministic("decisiveness", jnp.exp(log_dec))
    numpyro.deterministic("noise_scale", jnp.exp(-log_dec))
    if centred:
        # the respondents' utilities themselves are the parameters (zero-sum, flat), with the
        # hierarchical prior mu_resp_r - d_r mu ~ ZeroSumNormal(d_r tau_r) added as a factor:
        # the same model; the geometry NUTS needs when each respondent's answers pin its
        # utilities down (then the non-centred deviations are tied to their spreads)
        with numpyro.plate("respondents", n_r, dim=-1):
            mu_resp = numpyro.sample("mu_resp", dist.ImproperUniform(
                dist.constraints.zero_sum(1), batch_shape=(n_r,), event_shape=(n_outcomes,)))
            numpyro.factor("respondent_prior", _zero_sum_normal_logpdf(
                mu_resp - dec[..., :, None] * mu[..., None, :], dec * tau_r))
    else:
        with numpyro.plate("respondents", n_r, dim=-1):
            delta = numpyro.sample("deviation_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
        mu_resp = numpyro.deterministic(
            "mu_resp", dec[..., :, None] * (mu[..., None, :] + tau_r[..., :, None] * delta))
    # per-outcome noise, shared
    tau_sigma = numpyro.sample("log_noise_spread", dist.HalfNormal(log_noise_scale))
    eta = numpyro.sample("log_sigma_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
    sigma = numpyro.deterministic("sigma", jnp.exp(tau_sigma[..., None] * eta))
    params = {"mu_resp": mu_resp, "sigma": sigma}
    if order_bias:
        b_mean = numpyro.sample("order_bias_mean", dist.Normal(0.0, order_bias_scale))
        if n_r > 1:
            b_spread = (numpyro.sample("order_bias_spread", dist.HalfNormal(order_bias_spread_scale)) if estimated
                        else jnp.asarray(order_bias_spread_scale))
            b_raw = numpyro.sample("order_bias_raw", dist.Normal(0.0, 1.0).expand([n_r]).to_event(1))
            beta = b_mean[..., None] + b_spread[..., None] * b_raw
        else:
            beta = b_mean[..., None] * jnp.ones(1)
        params["order_bias"] = numpyro.deterministic("order_bias", beta)
    spread = outcome_sd(mu)
    numpyro.deterministic("utility", mu / spread)
    numpyro.deterministic("noise_sd", sigma / spread)
    numpyro.deterministic("respondent_utility", standardise(mu_resp))
    z = latent_score(params, idx_a, idx_b, order_bias, respondent)
    observe_pairs(z, n, k_a, LINK)


def data_structure(data, model_cfg=None) -> DataStructure:
    """Who the respondents are (``model.group_by``), each outcome's category
    (``model.categories``) and a respondent covariate (``model.covariate``): the model's
    sizes and inputs, the ``respondent``/``category`` coordinates, and posterior attributes
    that say how respondents were told apart."""
    group_by = tuple(getattr(model_cfg, "group_by", None) or ("respondent",))
    respondents = tuple(data.respondent_labels(group_by))
    keywords: dict = {"n_respondents": len(respondents)}
    coords: dict = {"respondent": list(respondents)}
    attrs = {"hierarchical": 1,
             "respondent_utilities": getattr(model_cfg, "respondent_utilities", "non_centred"),
             "group_by": " + ".join(group_by)}
    if getattr(model_cfg, "categories", False):
        labels = [c if c else "(none)" for c in data.outcomes["category"]]
        cats = tuple(sorted(set(labels)))
        if len(cats) < 2:
            raise ValueError(f"{data.source}: model.categories needs outcomes in at least two categories")
        lookup = {c: i for i, c in enumerate(cats)}
        keywords["n_categories"] = len(cats)
        keywords["category"] = jnp.asarray(np.array([lookup[c] for c in labels], dtype=np.int32))
        coords["category"] = list(cats)
    posterior_coords = {}
    cov = getattr(model_cfg, "covariate", None)
    if cov is not None:
        x = read_covariate(cov, respondents, group_by)
        sd = x.std()
        keywords["covariate"] = jnp.asarray((x - x.mean()) / sd if sd > 0 else x - x.mean(), dtype=jnp.float32)
        attrs.update(covariate=f"{cov.column} from {cov.path}", covariate_mean=float(np.mean(x)),
                     covariate_sd=float(np.std(x)))
        posterior_coords["covariate_value"] = ("respondent", x)
    return DataStructure(keywords=keywords, coords=coords, attrs=attrs, posterior_coords=posterior_coords,
                         group_by=group_by, respondents=respondents)


def read_covariate(cov, respondents, group_by=("respondent",)) -> np.ndarray:
    """One covariate value per respondent from ``cov.path`` (a CSV), in ``respondents``' order.

    With ``group_by`` respondent and template, a respondent "LLM | template" takes the
    value of the LLM. Missing respondents and non-numeric values are errors that name them.
    """
    import pandas as pd

    table = pd.read_csv(cov.path)
    for col in (cov.respondent_column, cov.column):
        if col not in table.columns:
            raise ValueError(f"{cov.path}: no column {col!r}; columns are {list(table.columns)}")
    values = dict(zip(table[cov.respondent_column].astype(str).str.strip(),
                      pd.to_numeric(table[cov.column], errors="coerce")))
    pos = list(group_by).index("respondent") if "respondent" in group_by else None
    if pos is None:
        raise ValueError("a respondent covariate needs 'respondent' in model.group_by")
    keys = [r.split(" | ")[pos] for r in respondents]
    missing = sorted({k for k in keys if k not in values})
    if missing:
        raise ValueError(f"{cov.path}: no {cov.column!r} value for respondent(s) {missing}")
    bad = sorted({k for k in keys if not np.isfinite(values[k])})
    if bad:
        raise ValueError(f"{cov.path}: {cov.column!r} is not a number for {bad}")
    return np.array([values[k] for k in keys], dtype=float)
