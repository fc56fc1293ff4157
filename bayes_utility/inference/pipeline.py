"""From preference data to an ArviZ InferenceData: NUTS, or MAP / SVI for quick looks.

:func:`fit` is the one call from data to posterior::

    import bayes_utility as bu
    data = bu.load_dataset("bayes_utility/datasets/llama2_7b_sim")
    idata = bu.fit(data, model="thurstonian", chains=4, draws=500)

The InferenceData carries the groups ``posterior``, ``sample_stats`` (NUTS only),
``log_likelihood`` (per comparison row, for LOO), ``observed_data``,
``constant_data`` and, when pairs are held out, ``predictions`` (P("A") per held-out
row and draw) with ``predictions_constant_data``. Outcome ids are the ``outcome``
coordinate, with texts and categories as extra coordinates; ``posterior.attrs``
records how the fit was made (``inference_method``: ``nuts``, or ``map``/``svi``
marked *approximate*).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import arviz as az
import numpy as np

from ..config import RunConfig
from ..data.dataset import PreferenceData
from ..data.schema import Exclusion
from ..models import DataStructure, get_model, structure_of
from .heldout import split_pairs
from .idata import add_heldout_predictions, describe, to_inferencedata
from .pointwise import (
    STORE_PREDICTIVE_MAX,
    add_posterior_predictive,
    pointwise_log_likelihood,
)
from .sampling import bind_model, method_notes, prior_draws, sample

logger = logging.getLogger(__name__)


@dataclass
class FitOutput:
    """What :func:`fit_run` returns: the InferenceData plus bookkeeping."""

    idata: az.InferenceData
    exclusions: list[Exclusion]
    timing: dict[str, float]
    train_rows: np.ndarray
    heldout_rows: np.ndarray
    notes: list[str] = field(default_factory=list)


def fit_run(data: PreferenceData, cfg: RunConfig) -> FitOutput:
    """Fit ``data`` as the config says: the whole fit, top to bottom.

    validate -> what the model needs from the data -> hold pairs out -> arrays -> the model
    with its settings -> sample -> InferenceData (with held-out predictions and attributes).
    The run folder's files are written from the result (:func:`bayes_utility.workflow.fit.run_fit`).
    """
    _check_respondents(data, cfg)
    mod = get_model(cfg.model.name)
    structure = structure_of(mod, data, cfg.model)
    # hold a pair out wherever the model cannot tell its answers apart (all templates of a flat fit)
    train_rows, held_rows = split_pairs(data.counts, cfg.heldout.fraction, cfg.heldout.max_pairs,
                                        np.random.default_rng(cfg.heldout.seed), told_apart=structure.group_by)
    arr, excl = _fitted_arrays(data, cfg, train_rows, structure)
    _, model_fn = bind_model(cfg.model, data.n_outcomes, structure=structure.keywords)

    timing: dict[str, float] = {}
    t_start = time.perf_counter()
    draws = sample(model_fn, arr, cfg, timing)
    t_post = time.perf_counter()
    ll = pointwise_log_likelihood(mod, draws.samples, arr, cfg.model.order_bias) if cfg.output.log_likelihood else None
    prior, prior_predictive = (prior_draws(model_fn, arr, cfg.inference, draws.samples) if cfg.output.prior
                               else (None, None))
    idata = to_inferencedata(mod, draws, arr, data, structure, log_likelihood=ll, prior=prior,
                             prior_predictive=prior_predictive)
    timing["to_inferencedata_s"] = time.perf_counter() - t_post
    timing["total_s"] = time.perf_counter() - t_start

    if len(held_rows):
        excl = excl + add_heldout_predictions(idata, data, mod, cfg, held_rows, structure)
    describe(idata, mod, cfg, arr, structure, len(held_rows), draws.notes[0] if draws.notes else None)
    if _store_predictive(cfg, len(arr.n)):
        add_posterior_predictive(idata, seed=cfg.inference.seed)
    return FitOutput(idata=idata, exclusions=excl, timing=timing, train_rows=train_rows,
                     heldout_rows=held_rows, notes=method_notes(cfg.inference, draws.fixed))


def _check_respondents(data: PreferenceData, cfg: RunConfig) -> None:
    if not cfg.model.hierarchical and not cfg.model.pool_respondents and len(data.respondents) > 1:
        raise ValueError(
            f"{data.source}: answers of {len(data.respondents)} respondents {data.respondents}; "
            f"the flat model {cfg.model.name!r} fits one respondent: set data.respondent, or fit them together "
            "with model.name: thurstonian_hierarchical (or as one: model.pool_respondents: true)"
        )


def _fitted_arrays(data: PreferenceData, cfg: RunConfig, rows, structure: DataStructure):
    """The comparisons a fit sees, and the rows left out (exclusions)."""
    # Without order bias both presentation orders carry the same information: pool them.
    arr, excl = data.arrays(cfg.data.unparseable, rows=rows,
                            pool_orders=cfg.data.pool_orders and not cfg.model.order_bias, **structure.grouping)
    if len(arr.n) == 0:
        raise ValueError(f"{data.source}: no comparison rows with answers are left to fit")
    if cfg.model.order_bias is False and _all_same_side(data, rows):
        logger.warning("every answer is 'A' (or every answer 'B'): this is order bias, not preference; "
                       "set model.order_bias: true")
    return arr, excl


def _store_predictive(cfg: RunConfig, n_comparisons: int) -> bool:
    """Whether the posterior predictive answers go into the InferenceData (``output.posterior_predictive``)."""
    inf, pp = cfg.inference, cfg.output.posterior_predictive
    return inf.method == "nuts" and (pp == "store" or (
        pp == "auto" and inf.chains * inf.draws * n_comparisons <= STORE_PREDICTIVE_MAX))


def _all_same_side(data: PreferenceData, rows) -> bool:
    c = data.counts.iloc[rows]
    return bool(c["n_b"].sum() == 0 or c["n_a"].sum() == 0)


def fit(
    data: PreferenceData,
    model: str = "thurstonian",
    config: RunConfig | None = None,
    *,
    order_bias: bool | None = None,
    unparseable: str | None = None,
    **inference,
) -> az.InferenceData:
    """Fit a model to preference data and return the posterior as InferenceData.

    Parameters
    ----------
    data : PreferenceData
    model : {"thurstonian", "bradley_terry", "thurstonian_hierarchical"}
    order_bias : bool, optional
        Model a presentation-order bias (default: the config's, else off).
    unparseable : {"half", "exclude"}, optional
        Unparseable-answer policy (default: the config's, else ``"exclude"``).
    config : RunConfig, optional
        A full recipe; ``model``/``order_bias``/``inference`` keywords override it.
    **inference
        Any field of :class:`~bayes_utility.config.InferenceConfig`
        (``chains``, ``warmup``, ``draws``, ``seed``, ``method``, ...).
    """
    if config is None:
        config = RunConfig(data={"path": data.source})
    overrides: dict = {"model": {"name": model}}
    if order_bias is not None:
        overrides["model"]["order_bias"] = order_bias
    if unparseable is not None:
        overrides["data"] = {"unparseable": unparseable}
    if inference:
        overrides["inference"] = inference
    cfg = config.with_overrides(**overrides)
    return fit_run(data, cfg).idata
