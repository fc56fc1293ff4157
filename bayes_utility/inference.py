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
from functools import partial

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import pandas as pd
import xarray as xr
from numpyro.infer import MCMC, NUTS, SVI, Predictive, Trace_ELBO, autoguide, init_to_median, init_to_uniform

from .config import InferenceConfig, ModelConfig, RunConfig
from .data import DEFAULT_TEMPLATE, ComparisonArrays, Exclusion, PreferenceData
from .heldout import split_pairs
from .likelihood import cdf
from .models import get_model
from .pointwise import (STORE_PREDICTIVE_MAX, add_log_likelihood, add_posterior_predictive,  # noqa: F401
                        pointwise_log_likelihood, score_params)

logger = logging.getLogger(__name__)

NUTS_EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "potential_energy", "adapt_state.step_size")


@dataclass
class FitOutput:
    """What :func:`fit_run` returns: the InferenceData plus bookkeeping."""

    idata: az.InferenceData
    exclusions: list[Exclusion]
    timing: dict[str, float]
    train_rows: np.ndarray
    heldout_rows: np.ndarray
    notes: list[str] = field(default_factory=list)


def _model_fn(model_cfg: ModelConfig, n_outcomes: int, priors: dict | None = None, structure: dict | None = None,
              parameterisation: str | None = None):
    """The model module and its model function with the config's settings bound
    (``structure``: what the model is told about the data besides the comparisons, e.g.
    a hierarchical model's sizes and covariate, or which outcomes are lotteries;
    ``parameterisation``: a hierarchical model's respondent utilities, if not the config's)."""
    mod = get_model(model_cfg.name)
    extra = {}
    if model_cfg.hierarchical:
        extra = {"respondent_spreads": model_cfg.respondent_spreads,
                 "respondent_utilities": parameterisation or model_cfg.respondent_utilities}
    fn = partial(mod.model, n_outcomes=n_outcomes, order_bias=model_cfg.order_bias,
                 centered=model_cfg.centered, **extra, **{**model_cfg.priors, **(priors or {})}, **(structure or {}))
    return mod, fn


def _model_args(arr: ComparisonArrays):
    return (jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b), jnp.asarray(arr.n, dtype=jnp.float32))


def _inputs(arr: ComparisonArrays) -> dict:
    return {k: jnp.asarray(v) for k, v in arr.inputs().items()}


@dataclass(frozen=True, eq=False)
class Structure:
    """What a hierarchical model is told about the data besides the comparisons."""

    respondents: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    covariate: np.ndarray | None = None  # raw values, one per respondent
    group_by: tuple[str, ...] = ()
    category_index: np.ndarray | None = None  # each outcome's category

    @property
    def kwargs(self) -> dict:
        if not self.respondents:
            return {}
        out: dict = {"n_respondents": len(self.respondents)}
        if self.categories:
            out["n_categories"] = len(self.categories)
            out["category"] = jnp.asarray(self.category_index)
        if self.covariate is not None:
            out["covariate"] = jnp.asarray(self.standardised_covariate, dtype=jnp.float32)
        return out

    @property
    def standardised_covariate(self) -> np.ndarray:
        x = np.asarray(self.covariate, float)
        sd = x.std()
        return (x - x.mean()) / sd if sd > 0 else x - x.mean()

    @classmethod
    def of(cls, model_cfg: ModelConfig, data: PreferenceData) -> "Structure":
        if not model_cfg.hierarchical:
            return cls()
        group_by = tuple(model_cfg.group_by)
        respondents = tuple(data.respondent_labels(group_by))
        cats, cat_index = (), None
        if model_cfg.categories:
            labels = [c if c else "(none)" for c in data.outcomes["category"]]
            cats = tuple(sorted(set(labels)))
            lookup = {c: i for i, c in enumerate(cats)}
            cat_index = np.array([lookup[c] for c in labels], dtype=np.int32)
            if len(cats) < 2:
                raise ValueError(f"{data.source}: model.categories needs outcomes in at least two categories")
        covariate = None
        if model_cfg.covariate is not None:
            covariate = read_covariate(model_cfg.covariate, respondents, group_by)
        return cls(respondents=respondents, categories=cats, covariate=covariate, group_by=group_by,
                   category_index=cat_index)


def read_covariate(cov, respondents, group_by=("respondent",)) -> np.ndarray:
    """One covariate value per respondent from ``cov.path`` (a CSV), in ``respondents``' order.

    With ``group_by`` respondent and template, a respondent "LLM | template" takes the
    value of the LLM. Missing respondents and non-numeric values are errors that name them.
    """
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


def _resolve_chain_method(inf: InferenceConfig) -> str:
    if inf.chains == 1:
        return "sequential"
    if inf.chain_method not in ("auto", "parallel"):
        return inf.chain_method
    if jax.local_device_count() >= inf.chains:  # one chain per device
        return "parallel"
    if jax.default_backend() != "cpu":  # fewer accelerators than chains: one program for all chains
        return "vectorized"
    if inf.chain_method == "parallel":
        logger.info(
            "chain_method 'parallel' needs %d devices but JAX sees %d; running chains 'sequential' "
            "(the CLI exposes one CPU device per chain; from Python call "
            "numpyro.set_host_device_count(n) before importing jax)",
            inf.chains, jax.local_device_count(),
        )
    return "sequential"


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


def make_mcmc(model_fn, inf: InferenceConfig, inverse_mass_matrix=None) -> MCMC:
    """The NUTS sampler every fit uses, as the inference config says (see also :class:`bayes_utility.repeated.RepeatedNUTS`)."""
    kernel = NUTS(
        model_fn,
        target_accept_prob=inf.target_accept,
        max_tree_depth=inf.max_tree_depth,
        dense_mass=inf.dense_mass,
        init_strategy=init_to_uniform(radius=1.0),
        inverse_mass_matrix=inverse_mass_matrix,
    )
    return MCMC(
        kernel,
        num_warmup=inf.warmup,
        num_samples=inf.draws,
        num_chains=inf.chains,
        chain_method=_resolve_chain_method(inf),
        progress_bar=inf.progress_bar,
    )


def _grouping(structure: Structure) -> dict:
    if not structure.respondents:
        return {}
    return {"group_by": structure.group_by, "respondents": structure.respondents}


# from this many unconstrained parameters ``init: auto`` starts NUTS warm (bayes_utility.warmstart)
WARM_START_MIN_PARAMETERS = 2000


def _n_latent(model_fn, args, kwargs) -> int:
    """Values of the model's latent sample sites, from one eager run of the model (no
    compilation): decides whether ``init: auto`` starts warm."""
    # every latent value at zero in the unconstrained space: valid for every support, and
    # improper sites (which cannot be drawn) get one too
    h = numpyro.handlers
    tr = h.trace(h.substitute(h.seed(model_fn, 0), substitute_fn=init_to_uniform(radius=0.0))).get_trace(
        *args, **kwargs)
    return sum(int(np.size(site["value"])) for site in tr.values()
               if site["type"] == "sample" and not site["is_observed"])


def _run_nuts(model_fn, args, k_a, inf: InferenceConfig, timing: dict, inputs: dict | None = None, notes=None):
    from numpyro.infer.util import initialize_model

    key = jax.random.PRNGKey(inf.seed)
    t0 = time.perf_counter()
    init_params, inverse_mass = None, None
    kwargs = {"k_a": k_a, **(inputs or {})}
    warm = inf.init == "warm" or (inf.init == "auto" and _n_latent(model_fn, args, kwargs) >= WARM_START_MIN_PARAMETERS)
    if warm and not inf.dense_mass:  # (the warm start fits a diagonal mass matrix)
        from .warmstart import warm_start

        k_init, k_warm = jax.random.split(jax.random.fold_in(key, 1))
        info = initialize_model(k_init, model_fn, model_args=args, model_kwargs=kwargs, dynamic_args=True,
                                init_strategy=init_to_uniform(radius=1.0))
        ws = warm_start(info.potential_fn, args, kwargs, info.param_info.z, inf.chains, k_warm,
                        steps=inf.warm_start_steps)
        init_params = ws.init_params if inf.chains > 1 else {k: v[0] for k, v in ws.init_params.items()}
        inverse_mass = jnp.asarray(ws.inverse_mass_matrix)
        timing["warm_start_s"] = time.perf_counter() - t0
        if notes is not None:
            notes.append(f"warm start: {ws.describe()}")
        logger.info("warm start in %.1f s: %s", timing["warm_start_s"], ws.describe())
    mcmc = make_mcmc(model_fn, inf, inverse_mass)
    # One call for warm-up and sampling: one compilation instead of two.
    mcmc.run(key, *args, extra_fields=NUTS_EXTRA_FIELDS, init_params=init_params, **kwargs)
    jax.block_until_ready(mcmc.get_samples())
    timing["mcmc_s"] = time.perf_counter() - t0  # compilation + warm-up + sampling
    return mcmc


# Spreads of partially pooled parameters, and the prior scale each is fixed at for MAP.
# The joint mode of a hierarchical posterior lies where a spread goes to zero (or, for
# the noise spread, where noise runs off to infinity and utilities shrink to nothing):
# a MAP estimate that optimises them is degenerate, so MAP holds them at their prior scales.
MAP_FIXED_SPREADS = {
    "log_noise_spread": "log_noise_scale",
    "deviation_spread": "deviation_scale",
    "deviation_spread_sd": "deviation_sd_scale",
    "decisiveness_spread": "decisiveness_scale",
    "order_bias_spread": "order_bias_spread_scale",
    "category_spread": "category_scale",
}


def map_fixed_values(model_cfg: ModelConfig) -> dict[str, float]:
    """The spreads a MAP fit of this model holds fixed, at their prior scales."""
    priors = {**get_model(model_cfg.name).PRIORS, **model_cfg.priors}
    return {site: float(priors[hp]) for site, hp in MAP_FIXED_SPREADS.items() if hp in priors}


def _run_svi(model_fn, args, k_a, inf: InferenceConfig, timing: dict, inputs: dict | None = None,
             fixed: dict | None = None):
    inputs = inputs or {}
    if fixed:
        model_fn = numpyro.handlers.condition(model_fn, data={k: jnp.asarray(v) for k, v in fixed.items()})
    if inf.method == "map":
        guide = autoguide.AutoDelta(model_fn, init_loc_fn=init_to_median(num_samples=15))
    elif inf.svi_guide == "lowrank":
        guide = autoguide.AutoLowRankMultivariateNormal(model_fn, init_loc_fn=init_to_median(num_samples=15))
    else:
        guide = autoguide.AutoNormal(model_fn, init_loc_fn=init_to_median(num_samples=15))
    svi = SVI(model_fn, guide, numpyro.optim.Adam(inf.svi_learning_rate), Trace_ELBO())
    key, pkey = jax.random.split(jax.random.PRNGKey(inf.seed))
    t0 = time.perf_counter()
    res = svi.run(key, inf.svi_steps, *args, k_a=k_a, progress_bar=inf.progress_bar, **inputs)
    t1 = time.perf_counter()
    n = 1 if inf.method == "map" else inf.svi_draws
    gkey, mkey = jax.random.split(pkey)
    # with the answers given, the observed site is not simulated: no binomial sampler to
    # compile (jax.random.binomial compiles slowly), and nothing below uses simulated answers
    latent = guide.sample_posterior(gkey, res.params, *args, k_a=k_a, sample_shape=(n,), **inputs)
    samples = Predictive(model_fn, posterior_samples=latent)(mkey, *args, k_a=k_a, **inputs)
    samples = {**latent, **samples}
    samples.pop("y", None)
    for k, v in (fixed or {}).items():  # held fixed: reported as the constants they were
        if k not in samples:
            samples[k] = jnp.full((n,), v)
    timing["optimisation_s"] = t1 - t0
    timing["final_loss"] = float(res.losses[-1])
    return samples, res.losses


def fit_run(data: PreferenceData, cfg: RunConfig) -> FitOutput:
    """Fit ``data`` as the config says (split, policy, model, inference)."""
    if not cfg.model.hierarchical and not cfg.model.pool_respondents and len(data.respondents) > 1:
        raise ValueError(
            f"{data.source}: answers of {len(data.respondents)} respondents {data.respondents}; "
            f"the flat model {cfg.model.name!r} fits one respondent: set data.respondent, or fit them together "
            "with model.name: thurstonian_hierarchical (or as one: model.pool_respondents: true)"
        )
    structure = Structure.of(cfg.model, data)
    structural, extra_coords = dict(structure.kwargs), {}
    if hasattr(get_model(cfg.model.name), "data_structure"):  # e.g. which outcomes are lotteries
        more, extra_coords = get_model(cfg.model.name).data_structure(data)
        structural.update(more)
    timing: dict[str, float] = {}
    rng = np.random.default_rng(cfg.heldout.seed)
    # hold a pair out wherever the model cannot tell its answers apart (all templates of a flat fit)
    train_rows, held_rows = split_pairs(data.counts, cfg.heldout.fraction, cfg.heldout.max_pairs, rng,
                                        told_apart=structure.group_by)
    # Without order bias both presentation orders carry the same information: pool them.
    arr, excl = data.arrays(cfg.data.unparseable, rows=train_rows,
                            pool_orders=cfg.data.pool_orders and not cfg.model.order_bias, **_grouping(structure))
    if len(arr.n) == 0:
        raise ValueError(f"{data.source}: no comparison rows with answers are left to fit")
    if cfg.model.order_bias is False and _all_same_side(data, train_rows):
        logger.warning("every answer is 'A' (or every answer 'B'): this is order bias, not preference; "
                       "set model.order_bias: true")
    mod, model_fn = _model_fn(cfg.model, data.n_outcomes, structure=structural)
    args = _model_args(arr)
    inputs = _inputs(arr)
    k_a = jnp.asarray(arr.k_a, dtype=jnp.float32)
    inf = cfg.inference
    coords = _coords(data, arr)
    ids = np.asarray(data.outcome_ids, dtype=str)
    constant = {
        "outcome_a": ids[arr.idx_a], "outcome_b": ids[arr.idx_b], "n": np.asarray(arr.n),
        "idx_a": np.asarray(arr.idx_a), "idx_b": np.asarray(arr.idx_b), "first_row": arr.rows.astype(np.int64),
    }
    coords.update(extra_coords)
    if arr.respondent is not None:
        constant["respondent_idx"] = np.asarray(arr.respondent)
        coords["respondent"] = list(structure.respondents)
        if structure.categories:
            coords["category"] = list(structure.categories)
    dims = {**mod.DIMS, **{k: ["comparison"] for k in constant}}
    t_start = time.perf_counter()
    run_notes: list[str] = []
    if inf.method == "nuts":
        mcmc = _run_nuts(model_fn, args, k_a, inf, timing, inputs, run_notes)
        samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
        sample_stats = _nuts_sample_stats(mcmc)
    else:
        fixed = None
        if inf.method == "map":
            tr = numpyro.handlers.trace(numpyro.handlers.seed(model_fn, 0)).get_trace(*args, k_a=k_a, **inputs)
            fixed = {k: v for k, v in map_fixed_values(cfg.model).items()
                     if k in tr and tr[k]["type"] == "sample" and not tr[k]["is_observed"]}
        flat, _ = _run_svi(model_fn, args, k_a, inf, timing, inputs, fixed)
        samples = {k: np.asarray(v)[None] for k, v in flat.items()}
        sample_stats = None
    t_post = time.perf_counter()
    ll = pointwise_log_likelihood(mod, samples, arr, cfg.model.order_bias) if cfg.output.log_likelihood else None
    prior, prior_predictive = None, None
    if cfg.output.prior:  # draws from the prior and its predictive answers (one chain of inference.draws)
        from numpyro.infer import Predictive

        drawn = Predictive(model_fn, num_samples=inf.draws)(jax.random.PRNGKey(inf.seed + 1), *args, **inputs)
        drawn = {k: np.asarray(v)[None] for k, v in drawn.items()}
        prior_predictive = {"y": drawn.pop("y")}
        prior = {k: v for k, v in drawn.items() if k in samples}
    idata = az.from_dict(
        posterior=samples,
        prior=prior,
        prior_predictive=prior_predictive,
        sample_stats=sample_stats,
        log_likelihood=None if ll is None else {"y": ll},
        observed_data={"y": np.asarray(arr.k_a)},
        constant_data=constant,
        coords=coords,
        dims=dims,
    )
    if "lottery_weights" in structural:  # which lottery is which mix of base outcomes (EU metrics need it)
        rows, cols = getattr(mod, "WEIGHT_DIMS", ("lottery", "base_outcome"))
        idata.constant_data["lottery_weights"] = xr.DataArray(
            np.asarray(structural["lottery_weights"]), dims=(rows, cols),
            coords={rows: extra_coords[rows], cols: extra_coords[cols]})
    timing["to_inferencedata_s"] = time.perf_counter() - t_post
    timing["total_s"] = time.perf_counter() - t_start
    if len(held_rows):
        excl = excl + _add_heldout_predictions(idata, data, mod, cfg, held_rows, structure)
    idata = _label_outcomes(idata, data)
    attrs = idata.posterior.attrs
    attrs["inference_method"] = inf.method
    attrs["approximate"] = int(inf.method != "nuts")
    attrs["model"] = cfg.model.name
    attrs["order_bias"] = int(cfg.model.order_bias)
    attrs["link"] = mod.LINK
    attrs["unparseable_policy"] = cfg.data.unparseable
    attrs["scale"] = mod.SCALE_NOTE
    attrs["seed"] = inf.seed
    if inf.method == "nuts":
        attrs["target_accept"] = inf.target_accept
        attrs["max_tree_depth"] = inf.max_tree_depth
        attrs["init"] = run_notes[0] if run_notes else "uniform(-1, 1) in the unconstrained space"
    attrs["n_heldout_rows"] = int(len(held_rows))
    attrs["n_fitted_rows"] = arr.n_rows
    attrs["comparison_unit"] = "unordered pair, both orders pooled" if arr.pooled else "ordered pair (row)"
    if structure.respondents:
        attrs["hierarchical"] = 1
        attrs["respondent_utilities"] = cfg.model.respondent_utilities
        attrs["group_by"] = " + ".join(structure.group_by)
        if structure.covariate is not None:
            cov = cfg.model.covariate
            attrs["covariate"] = f"{cov.column} from {cov.path}"
            attrs["covariate_mean"] = float(np.mean(structure.covariate))
            attrs["covariate_sd"] = float(np.std(structure.covariate))
            idata.posterior.coords["covariate_value"] = ("respondent", structure.covariate)
    pp = cfg.output.posterior_predictive
    if inf.method == "nuts" and (pp == "store" or (
            pp == "auto" and inf.chains * inf.draws * len(arr.n) <= STORE_PREDICTIVE_MAX)):
        add_posterior_predictive(idata, seed=inf.seed)
    notes = []
    if inf.method != "nuts":
        notes.append(
            f"fitted by {inf.method.upper()}, not MCMC: "
            + ("a single point estimate, no uncertainty" if inf.method == "map"
               else "variational intervals are typically too narrow")
        )
        if inf.method == "map" and fixed:
            notes.append("MAP holds the spreads of pooled parameters at their prior scales (their joint mode "
                         "is degenerate): " + ", ".join(f"{k} = {v:g}" for k, v in fixed.items()))
    return FitOutput(idata=idata, exclusions=excl, timing=timing, train_rows=train_rows,
                     heldout_rows=held_rows, notes=notes)


def _nuts_sample_stats(mcmc) -> dict:
    """NUTS statistics under ArviZ's names."""
    extra = {k: np.asarray(v) for k, v in mcmc.get_extra_fields(group_by_chain=True).items()}
    steps = extra["num_steps"]
    return {
        "diverging": extra["diverging"],
        "energy": extra["energy"],
        "lp": -extra["potential_energy"],
        "n_steps": steps,
        "tree_depth": np.floor(np.log2(np.maximum(steps, 1))).astype(np.int64) + 1,
        "acceptance_rate": extra["accept_prob"],
        "step_size": extra["adapt_state.step_size"],
    }


def _all_same_side(data: PreferenceData, rows) -> bool:
    c = data.counts.iloc[rows]
    return bool(c["n_b"].sum() == 0 or c["n_a"].sum() == 0)


def _add_heldout_predictions(idata, data, mod, cfg: RunConfig, held_rows,
                             structure: Structure | None = None) -> list[Exclusion]:
    """Add P("A") per held-out row and draw; returns the held-out rows left out."""
    arr, excl = data.arrays(cfg.data.unparseable, rows=held_rows, **_grouping(structure or Structure()))
    post = idata.posterior
    z = mod.latent_score(score_params(post), jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b), cfg.model.order_bias,
                         **_inputs(arr))
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


__all__ = ["fit", "fit_run", "FitOutput", "add_log_likelihood", "pointwise_log_likelihood"]
