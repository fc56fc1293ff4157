r"""Expected-utility model: outcomes and lotteries over them, fitted jointly (probit).

The items a respondent chooses between are *base outcomes* and *lotteries*
:math:`L = \{(o_i, p_i)\}` over base outcomes (an outcome's ``attributes`` carry
``{"lottery": [{"outcome": ID, "probability": P}, ...]}``; the probabilities may be
shown to the respondent or not: implicit lotteries are the same). Each item has a
Thurstonian utility as in the flat model; a lottery's is its expected utility plus a
lottery-specific deviation,

.. math::

    \mu_L = \sum_i p_i\,\mu_{o_i} + \tau_{EU}\,\epsilon_L, \qquad \epsilon_L \sim N(0, 1),

so :math:`\tau_{EU}` (``eu_violation``) is the **EU-violation scale**: zero for a
respondent that values every lottery at its expected utility, and as large as the
utility spread for one whose lottery valuations ignore the outcomes. Answers follow
:math:`P(A) = \Phi((\mu_a - \mu_b)/\sqrt{\sigma_a^2 + \sigma_b^2} + \beta)` over all items.

Identifiability and priors as :mod:`models.thurstonian` (zero-sum base utilities,
geometric-mean-one noise over all items, partially pooled log noise), plus
:math:`\tau_{EU} \sim \mathrm{HalfNormal}(1)` in noise units (non-centred deviations).

Reported: ``utility`` (all items, standardised per draw by the base outcomes' mean and
sd, so lotteries sit on the outcomes' scale), ``noise_sd``, ``eu_violation_std``
(:math:`\tau_{EU}` on that standardised scale). The paper's metrics per draw (Pearson r
between :math:`U(L)` and :math:`EU(L)`, MAE of standardised values, share of lottery
pairs ordered as their expected utilities) are in :mod:`bayes_utility.analyses.expected_utility`.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from bayes_utility.models import DataStructure
from bayes_utility.models.likelihood import observe_pairs, outcome_sd
from bayes_utility.models.thurstonian import latent_score as _flat_score

LINK = "probit"
PRIORS = {"utility_scale": 3.0, "log_noise_scale": 1.0, "eu_violation_scale": 1.0, "order_bias_scale": 1.0}
DIMS = {
    "mu": ["outcome"],
    "mu_base": ["base_outcome"],
    "mu_base_raw": ["base_outcome"],
    "lottery_raw": ["lottery"],
    "sigma": ["outcome"],
    "log_sigma_raw": ["outcome"],
    "utility": ["outcome"],
    "noise_sd": ["outcome"],
    "y": ["comparison"],
}
REPORTED = ("utility", "noise_sd")
CALIBRATED = ("utility_spread", "log_noise_spread", "eu_violation", "order_bias", "mu", "sigma")
SCORE_SITES = ("mu", "sigma", "order_bias")
ML_PARAMS = None
ARTEFACTS = ("expected_utility",)  # expected_utility.json in every run folder
SCALE_NOTE = ("utility: outcomes and lotteries, standardised by the base outcomes' mean and sd per draw; "
              "eu_violation_std: the lottery deviations' sd on that scale")


def latent_score(params, idx_a, idx_b, order_bias: bool = False, respondent=None):
    """Probit score of "A": the flat Thurstonian score over all items."""
    return _flat_score(params, idx_a, idx_b, order_bias)


def data_structure(data, model_cfg=None) -> DataStructure:
    """Which outcomes are lotteries over which base outcomes; the weights are kept in the
    InferenceData (``constant_data.lottery_weights``: the expected-utility metrics need them)."""
    kw = lottery_structure(data.outcomes)
    ids = np.asarray(data.outcome_ids, dtype=str)
    return DataStructure(
        keywords=kw, coords={"base_outcome": ids[kw["base_index"]].tolist(), "lottery": ids[kw["lottery_index"]].tolist()},
        constant_data={"lottery_weights": (("lottery", "base_outcome"), kw["lottery_weights"])})


def lottery_structure(outcomes, key: str = "lottery", what: str = "the expected-utility model") -> dict:
    """Structural keywords from an outcomes table: which items are lotteries (attributes
    ``key``: ``[{outcome, probability}, ...]``) and their probabilities over base
    outcomes. Raises ValueError naming bad lotteries."""
    ids = [str(i) for i in outcomes["id"]]
    pos = {o: i for i, o in enumerate(ids)}
    attrs = list(outcomes["attributes"]) if "attributes" in outcomes else [None] * len(ids)
    is_lottery = [isinstance(a, dict) and key in a for a in attrs]
    base = [i for i, lot in enumerate(is_lottery) if not lot]
    lots = [i for i, lot in enumerate(is_lottery) if lot]
    if not lots or len(base) < 2:
        raise ValueError(f"{what} needs outcomes whose attributes have '{key}': [{{outcome, probability}}, ...] "
                         "and at least two other outcomes")
    base_pos = {b: j for j, b in enumerate(base)}
    weights = np.zeros((len(lots), len(base)))
    for r, i in enumerate(lots):
        for item in attrs[i][key]:
            o = str(item.get("outcome"))
            if o not in pos or pos[o] not in base_pos:
                raise ValueError(f"lottery {ids[i]!r}: {o!r} is not a base outcome")
            weights[r, base_pos[pos[o]]] += float(item.get("probability", np.nan))
        total = weights[r].sum()
        if not np.isfinite(total) or abs(total - 1.0) > 1e-6 or (weights[r] < 0).any():
            raise ValueError(f"lottery {ids[i]!r}: probabilities must be >= 0 and sum to 1 (sum {total:.6g})")
    return {"base_index": np.array(base), "lottery_index": np.array(lots), "lottery_weights": weights}


def model(
    idx_a,
    idx_b,
    n,
    n_outcomes: int,
    k_a=None,
    *,
    base_index=None,
    lottery_index=None,
    lottery_weights=None,
    order_bias: bool = False,
    centered: bool = True,
    utility_scale: float = PRIORS["utility_scale"],
    log_noise_scale: float = PRIORS["log_noise_scale"],
    eu_violation_scale: float = PRIORS["eu_violation_scale"],
    order_bias_scale: float = PRIORS["order_bias_scale"],
    violation_site: str = "eu_violation",
    raw_site: str = "lottery_raw",
):
    base_index, lottery_index = jnp.asarray(base_index), jnp.asarray(lottery_index)
    w = jnp.asarray(lottery_weights)
    n_base, n_lot = w.shape[1], w.shape[0]
    tau_mu = numpyro.sample("utility_spread", dist.HalfNormal(utility_scale))
    if centered:
        mu_base = numpyro.sample("mu_base", dist.ZeroSumNormal(tau_mu, event_shape=(n_base,)))
    else:
        mu_base = tau_mu * numpyro.sample("mu_base_raw", dist.ZeroSumNormal(1.0, event_shape=(n_base,)))
    tau_eu = numpyro.sample(violation_site, dist.HalfNormal(eu_violation_scale))
    eps = numpyro.sample(raw_site, dist.Normal(0.0, 1.0).expand([n_lot]).to_event(1))
    mu_lot = mu_base @ w.T + tau_eu * eps
    mu = jnp.zeros(n_outcomes).at[base_index].set(mu_base).at[lottery_index].set(mu_lot)
    mu = numpyro.deterministic("mu", mu)
    tau_sigma = numpyro.sample("log_noise_spread", dist.HalfNormal(log_noise_scale))
    eta = numpyro.sample("log_sigma_raw", dist.ZeroSumNormal(1.0, event_shape=(n_outcomes,)))
    sigma = numpyro.deterministic("sigma", jnp.exp(tau_sigma * eta))
    params = {"mu": mu, "sigma": sigma}
    if order_bias:
        params["order_bias"] = numpyro.sample("order_bias", dist.Normal(0.0, order_bias_scale))
    spread = outcome_sd(mu_base)[..., 0]
    numpyro.deterministic("utility", mu / spread)  # base utilities sum to zero: only the scale to fix
    numpyro.deterministic("noise_sd", sigma / spread)
    numpyro.deterministic(f"{violation_site}_std", tau_eu / spread)
    observe_pairs(latent_score(params, idx_a, idx_b, order_bias), n, k_a, LINK)
