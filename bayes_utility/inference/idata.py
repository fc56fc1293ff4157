"""The InferenceData of a fit, group by group: posterior and sample statistics, the pointwise
log-likelihood, observed and constant data, what the model adds (coordinates, constant data,
attributes: :class:`bayes_utility.models.DataStructure`), held-out predictions; outcome ids
with texts and categories as coordinates, a name per comparison, and attributes that say
how the fit was made."""
from __future__ import annotations

import logging

import arviz as az
import jax.numpy as jnp
import numpy as np
import xarray as xr

from ..data.dataset import ComparisonArrays, PreferenceData
from ..data.schema import DEFAULT_TEMPLATE
from ..models.likelihood import cdf
from .pointwise import score_params
from .sampling import model_inputs

logger = logging.getLogger(__name__)


def _coords(data: PreferenceData, arr: ComparisonArrays):
    return {"outcome": data.outcome_ids, "comparison": comparison_labels(data, arr)}


def comparison_labels(data: PreferenceData, arr: ComparisonArrays) -> np.ndarray:
    """A name per fitted comparison: ``"a vs b"`` (first shown first), prefixed by the
    respondent when the data have several and suffixed by the prompt template when not the
    default; numbered where names would repeat."""
    ids = np.asarray(data.outcome_ids, dtype=str)
    rows = data.counts.iloc[np.asarray(arr.rows)]
    labels = np.char.add(np.char.add(ids[arr.idx_a], " vs "), ids[arr.idx_b]).astype(object)
    if data.counts["respondent"].nunique() > 1:
        labels = rows["respondent"].astype(str).to_numpy(dtype=object) + ": " + labels
    template = rows["prompt_template"].astype(str).to_numpy(dtype=object)
    if (template != DEFAULT_TEMPLATE).any():
        labels = labels + " [" + template + "]"
    if len(set(labels)) < len(labels):
        labels = np.array([f"{x} #{i}" for i, x in enumerate(labels)], dtype=object)
    return labels.astype(str)


def _label_outcomes(idata: az.InferenceData, data: PreferenceData) -> az.InferenceData:
    texts = data.outcomes["text"].to_numpy(dtype=str)
    cats = np.array([c if c is not None else "" for c in data.outcomes["category"]], dtype=str)
    for group in idata.groups():
        ds = getattr(idata, group)
        if "outcome" in ds.dims:
            ds.coords["outcome_text"] = ("outcome", texts)
            ds.coords["outcome_category"] = ("outcome", cats)
    return idata


def to_inferencedata(mod, draws, arr: ComparisonArrays, data: PreferenceData, structure, *, log_likelihood=None,
                     prior=None, prior_predictive=None) -> az.InferenceData:
    """The fit's groups: draws, NUTS statistics, pointwise log-likelihood, answers, the
    comparisons (``constant_data``) and what the model adds to them."""
    ids = np.asarray(data.outcome_ids, dtype=str)
    constant = {
        "outcome_a": ids[arr.idx_a], "outcome_b": ids[arr.idx_b], "n": np.asarray(arr.n),
        "idx_a": np.asarray(arr.idx_a), "idx_b": np.asarray(arr.idx_b), "first_row": arr.rows.astype(np.int64),
    }
    if arr.respondent is not None:
        constant["respondent_idx"] = np.asarray(arr.respondent)
    coords = {**_coords(data, arr), **structure.coords}
    idata = az.from_dict(
        posterior=draws.samples, prior=prior, prior_predictive=prior_predictive, sample_stats=draws.sample_stats,
        log_likelihood=None if log_likelihood is None else {"y": log_likelihood},
        observed_data={"y": np.asarray(arr.k_a)}, constant_data=constant, coords=coords,
        dims={**mod.DIMS, **{k: ["comparison"] for k in constant}},
    )
    for name, (dims, values) in structure.constant_data.items():
        idata.constant_data[name] = xr.DataArray(np.asarray(values), dims=dims,
                                                 coords={d: coords[d] for d in dims if d in coords})
    for name, (dim, values) in structure.posterior_coords.items():
        idata.posterior.coords[name] = (dim, values)
    return _label_outcomes(idata, data)


def describe(idata: az.InferenceData, mod, cfg, arr: ComparisonArrays, structure, n_heldout: int,
             init_note: str | None = None) -> None:
    """Posterior attributes: how the fit was made (method, model, link, policy, seed, NUTS
    settings), what was fitted, and what the model says about its structure."""
    inf = cfg.inference
    attrs = idata.posterior.attrs
    attrs.update(inference_method=inf.method, approximate=int(inf.method != "nuts"), model=cfg.model.name,
                 order_bias=int(cfg.model.order_bias), link=mod.LINK, unparseable_policy=cfg.data.unparseable,
                 scale=mod.SCALE_NOTE, seed=inf.seed)
    if inf.method == "nuts":
        attrs.update(target_accept=inf.target_accept, max_tree_depth=inf.max_tree_depth,
                     init=init_note or "uniform(-1, 1) in the unconstrained space")
    attrs.update(n_heldout_rows=int(n_heldout), n_fitted_rows=arr.n_rows,
                 comparison_unit="unordered pair, both orders pooled" if arr.pooled else "ordered pair (row)")
    attrs.update(structure.attrs)


def add_heldout_predictions(idata, data, mod, cfg, held_rows, structure) -> list:
    """Add P("A") per held-out row and draw (``predictions``, ``predictions_constant_data``);
    returns the held-out rows left out (exclusions)."""
    arr, excl = data.arrays(cfg.data.unparseable, rows=held_rows, **structure.grouping)
    post = idata.posterior
    z = mod.latent_score(score_params(post), jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b), cfg.model.order_bias,
                         **model_inputs(arr))
    p = np.asarray(cdf(z, mod.LINK))
    heldout = arr.rows.astype(np.int64)
    idata.add_groups(
        predictions=xr.Dataset(
            {"p_a": (("chain", "draw", "heldout"), p)},
            coords={"chain": post.chain.values, "draw": post.draw.values, "heldout": heldout},
        ),
        predictions_constant_data=xr.Dataset(
            {
                "idx_a": ("heldout", arr.idx_a),
                "idx_b": ("heldout", arr.idx_b),
                "k_a": ("heldout", arr.k_a),
                "n": ("heldout", arr.n),
                **({} if arr.respondent is None else {"respondent_idx": ("heldout", arr.respondent)}),
            },
            coords={"heldout": heldout},
        ),
    )
    return excl
