"""Samplers behind a fit: NUTS (with the warm start for large models), and MAP / SVI for quick looks."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.infer import (
    MCMC,
    NUTS,
    SVI,
    Predictive,
    Trace_ELBO,
    autoguide,
    init_to_median,
    init_to_uniform,
)

from ..config import InferenceConfig, ModelConfig
from ..data.dataset import ComparisonArrays
from ..models import get_model

logger = logging.getLogger(__name__)


NUTS_EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "potential_energy", "adapt_state.step_size")


def bind_model(model_cfg: ModelConfig, n_outcomes: int, priors: dict | None = None, structure: dict | None = None,
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


def model_args(arr: ComparisonArrays):
    """The positional arguments every model takes: ``idx_a, idx_b, n``."""
    return (jnp.asarray(arr.idx_a), jnp.asarray(arr.idx_b), jnp.asarray(arr.n, dtype=jnp.float32))


def model_inputs(arr: ComparisonArrays) -> dict:
    """The per-comparison inputs a model declares besides those (``INPUTS``, e.g. ``respondent``)."""
    return {k: jnp.asarray(v) for k, v in arr.inputs().items()}


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


def make_mcmc(model_fn, inf: InferenceConfig, inverse_mass_matrix=None) -> MCMC:
    """The NUTS sampler every fit uses, as the inference config says (see also :class:`bayes_utility.inference.repeated.RepeatedNUTS`)."""
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


# from this many unconstrained parameters ``init: auto`` starts NUTS warm (bayes_utility.inference.warmstart)
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


@dataclass
class Draws:
    """What a sampler returns: draws per site as (chain, draw, ...) arrays, NUTS statistics
    (None for MAP/SVI), the spreads a MAP fit held fixed, and notes on how it started."""

    samples: dict
    sample_stats: dict | None
    fixed: dict | None = None
    notes: list = field(default_factory=list)


def sample(model_fn, arr: ComparisonArrays, cfg, timing: dict) -> Draws:
    """Draw from the posterior of ``model_fn`` given the comparisons ``arr``, by the config's
    inference method (NUTS; MAP or SVI as quick, approximate looks)."""
    inf = cfg.inference
    args, inputs = model_args(arr), model_inputs(arr)
    k_a = jnp.asarray(arr.k_a, dtype=jnp.float32)
    if inf.method == "nuts":
        notes: list[str] = []
        mcmc = _run_nuts(model_fn, args, k_a, inf, timing, inputs, notes)
        samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
        return Draws(samples, _nuts_sample_stats(mcmc), notes=notes)
    fixed = None
    if inf.method == "map":
        tr = numpyro.handlers.trace(numpyro.handlers.seed(model_fn, 0)).get_trace(*args, k_a=k_a, **inputs)
        fixed = {k: v for k, v in map_fixed_values(cfg.model).items()
                 if k in tr and tr[k]["type"] == "sample" and not tr[k]["is_observed"]}
    flat, _ = _run_svi(model_fn, args, k_a, inf, timing, inputs, fixed)
    return Draws({k: np.asarray(v)[None] for k, v in flat.items()}, None, fixed)


def prior_draws(model_fn, arr: ComparisonArrays, inf: InferenceConfig, names) -> tuple[dict, dict]:
    """Draws from the prior (the sites in ``names``) and its predictive answers: one chain of
    ``inf.draws``."""
    drawn = Predictive(model_fn, num_samples=inf.draws)(jax.random.PRNGKey(inf.seed + 1), *model_args(arr),
                                                        **model_inputs(arr))
    drawn = {k: np.asarray(v)[None] for k, v in drawn.items()}
    y = drawn.pop("y")
    return {k: v for k, v in drawn.items() if k in names}, {"y": y}


def method_notes(inf: InferenceConfig, fixed: dict | None) -> list[str]:
    """What the verdict says about an approximate (MAP/SVI) fit."""
    if inf.method == "nuts":
        return []
    notes = [f"fitted by {inf.method.upper()}, not MCMC: "
             + ("a single point estimate, no uncertainty" if inf.method == "map"
                else "variational intervals are typically too narrow")]
    if inf.method == "map" and fixed:
        notes.append("MAP holds the spreads of pooled parameters at their prior scales (their joint mode "
                     "is degenerate): " + ", ".join(f"{k} = {v:g}" for k, v in fixed.items()))
    return notes
