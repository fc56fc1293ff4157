"""NumPyro model definitions, one module per statistical model.

Installed as :mod:`bayes_utility.models`; load a model by name with
:func:`bayes_utility.models.get_model` (or ``model: NAME`` in a config).

Every module defines

``model(idx_a, idx_b, n, n_outcomes, k_a=None, *, order_bias=False, **priors)``
    the plain NumPyro model; ``k_a=None`` gives the prior predictive.
``latent_score(params, idx_a, idx_b, order_bias=False)``
    the link-scale score of "A" for each row, from a dict of parameter values
    (used inside the model and for predictions, so the two never disagree).
Hierarchical models also take ``respondent`` (a per-comparison input, listed in
``INPUTS``) and structural keywords (``n_respondents``, ``category``/``n_categories``,
``covariate``), and name the sites ``latent_score`` reads in ``SCORE_SITES``.

A model that needs more from the data than the comparisons (e.g. which outcomes are
lotteries, or each outcome's amount and delay) defines ``data_structure(data) ->
(keywords, coords)``, and ``sbc_structure(design) -> keywords``: a synthetic one for
simulation-based calibration.

``LINK``, ``PRIORS`` (default prior hyper-parameters), ``DIMS`` (site -> dims),
``REPORTED`` (the sites summarised per outcome), ``CALIBRATED`` (the sites whose
calibration simulation-based calibration checks; :mod:`bayes_utility.calibration`
adds the data log-likelihood), ``ML_PARAMS`` (the free parameters of the
maximum-likelihood estimate and their constraint: ``zero_sum`` or ``log_zero_sum``)
and ``SCALE_NOTE``.
"""
from __future__ import annotations

import importlib
from types import ModuleType

MODEL_NAMES = ("thurstonian", "bradley_terry", "thurstonian_hierarchical", "expected_utility", "instrumental_values",
               "time_discounting_exponential", "time_discounting_hyperbolic", "exchange_rates", "corrigibility")

__all__ = ["MODEL_NAMES", "get_model"]


def get_model(name: str) -> ModuleType:
    """Return the model module called ``name`` (e.g. ``"thurstonian"``)."""
    key = name.replace("-", "_").lower()
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(MODEL_NAMES)}")
    return importlib.import_module(f"{__name__}.{key}")
