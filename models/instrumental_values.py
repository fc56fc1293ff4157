r"""Instrumental-values model: start states valued by where they lead (probit).

The items are observation histories of Markov processes
(:func:`bayes_utility.data.optionsets.markov_histories`): start states :math:`s`, whose
``attributes['successors']`` give the transition probabilities to the histories
:math:`s \to s'` they lead to, and those histories. A start state's utility is the
expected utility of its successors plus a state-specific deviation,

.. math::

    \mu_s = \sum_{s'} P(s' \mid s)\,\mu_{s \to s'} + \tau_{IV}\,\epsilon_s, \qquad \epsilon_s \sim N(0, 1),

so :math:`\tau_{IV}` (``instrumental_violation``) is zero for a respondent that values
states purely instrumentally (Bellman's equation with no reward in start states and
discount 1: with discount :math:`\gamma < 1` the relation would depend on where the
utility scale's zero is, which answers cannot fix). Everything else as
:mod:`models.expected_utility` (the same likelihood and priors; a start state is a
lottery over its successors): zero-sum history utilities, geometric-mean-one noise,
:math:`\tau_{IV} \sim \mathrm{HalfNormal}(1)` in noise units.

Reported: ``utility`` (standardised by the histories' mean and sd per draw),
``noise_sd``, ``instrumental_violation_std``. The reference method's Bellman-error
score with :math:`\gamma = 0.99` per draw: :mod:`bayes_utility.analyses.instrumental`.
"""
from __future__ import annotations

from bayes_utility.models import DataStructure
from bayes_utility.models import expected_utility as _eu

LINK = _eu.LINK
PRIORS = {"utility_scale": 3.0, "log_noise_scale": 1.0, "instrumental_violation_scale": 1.0,
          "order_bias_scale": 1.0}
DIMS = {**{k: v for k, v in _eu.DIMS.items() if k != "lottery_raw"}, "state_raw": ["start_state"],
        "mu_base": ["history"], "mu_base_raw": ["history"]}
REPORTED = _eu.REPORTED
CALIBRATED = ("utility_spread", "log_noise_spread", "instrumental_violation", "order_bias", "mu", "sigma")
SCORE_SITES = _eu.SCORE_SITES
ML_PARAMS = None
SCALE_NOTE = ("utility: start states and histories, standardised by the histories' mean and sd per draw; "
              "instrumental_violation_std: the start states' deviations' sd on that scale")
latent_score = _eu.latent_score


def data_structure(data, model_cfg=None) -> DataStructure:
    """Start states as lotteries over their histories (weights kept in ``constant_data``)."""
    import numpy as np

    kw = _eu.lottery_structure(data.outcomes, key="successors", what="the instrumental-values model")
    ids = np.asarray(data.outcome_ids, dtype=str)
    return DataStructure(
        keywords=kw, coords={"history": ids[kw["base_index"]].tolist(), "start_state": ids[kw["lottery_index"]].tolist()},
        constant_data={"lottery_weights": (("start_state", "history"), kw["lottery_weights"])})


def model(idx_a, idx_b, n, n_outcomes: int, k_a=None, *, base_index=None, lottery_index=None,
          lottery_weights=None, order_bias: bool = False, centered: bool = True,
          utility_scale: float = PRIORS["utility_scale"], log_noise_scale: float = PRIORS["log_noise_scale"],
          instrumental_violation_scale: float = PRIORS["instrumental_violation_scale"],
          order_bias_scale: float = PRIORS["order_bias_scale"]):
    _eu.model(idx_a, idx_b, n, n_outcomes, k_a, base_index=base_index, lottery_index=lottery_index,
              lottery_weights=lottery_weights, order_bias=order_bias, centered=centered,
              utility_scale=utility_scale, log_noise_scale=log_noise_scale,
              eu_violation_scale=instrumental_violation_scale, order_bias_scale=order_bias_scale,
              violation_site="instrumental_violation", raw_site="state_raw")
