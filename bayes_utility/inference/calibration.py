r"""Simulation-based calibration (SBC) of the models in ``models/``.

If a model's prior is the distribution that generated the parameters, the rank of
the true value among :math:`L` independent posterior draws is uniform on
:math:`\{0, \dots, L\}` for every quantity, whatever the data (Talts et al. 2018,
"Validating Bayesian inference algorithms with simulation-based calibration";
Modrák et al. 2023, "Simulation-based calibration checking for Bayesian
computation: the choice of test quantities shapes sensitivity"). A sampler, model
or likelihood bug, or a fit whose prior differs from the generator, breaks the
uniformity.

One replication
    1. a fresh pair design (``design`` section: outcomes, pairs, answers per order,
       both orders, a share of lost answers);
    2. parameters and answers drawn from the model's own prior predictive
       (:class:`numpyro.infer.Predictive` on the model with ``k_a=None``), under the
       generator's prior hyper-parameters (``simulate.priors``; by default the
       model's own);
    3. a NUTS fit with the run's inference settings (chains vectorised), compiled
       once per process and reused for every replication
       (:class:`bayes_utility.inference.repeated.RepeatedNUTS`);
    4. posterior draws thinned evenly to ``sbc.draws_kept`` (:math:`L`) draws; the
       rank of the truth among them for every element of the sites the model lists
       in ``CALIBRATED`` and for the data log-likelihood, a data-dependent test
       quantity that Modrák et al. show catches errors the parameters alone miss.
       A replication whose smallest bulk ESS is below :math:`L` is flagged: its
       thinned draws are not near-independent.

The check (stated test)
    For each quantity the ranks are binned into ``sbc.bins`` equal bins and compared
    with the uniform by Pearson's chi-square test (``bins - 1`` degrees of freedom),
    and the randomised PIT ``(rank + U(0, 1)) / (L + 1)`` (exactly uniform under the
    null) by the Kolmogorov-Smirnov test, which is the more sensitive to a posterior
    shifted one way. Quantities form families, one per parameter (its elements) or
    summary (the sd and the largest element of each vector, the log-likelihood);
    elements are combined by Bonferroni within their family and families by Holm's
    step-down at ``sbc.alpha``, so a correct model fails with probability at most
    ``sbc.alpha`` while a 30-element vector costs one hypothesis, not 30. A
    replication whose fit did not converge (R-hat above 1.05, or divergences in more
    than 1% of draws) is no evidence: the study fails when more than
    ``sbc.max_unconverged`` of them did not converge.

Generators
    ``simulate.generator: model`` draws from the fitted model's own prior predictive;
    ``numpy`` (Thurstonian, Bradley-Terry) from an independent numpy/scipy simulator
    of the same prior and likelihood (:func:`numpy_prior_draw`), so a formula error
    in the model's code shows. ``simulate.order_bias_sign: -1`` and
    ``simulate.priors`` make negative controls that a working check must fail. ECDF-difference plots with 95% simultaneous bands (Säilynoja et al.
    2022, via ArviZ) and rank histograms are written beside the numbers.

Seeding and resuming
    Replication :math:`i` draws everything from the seed ``(sbc.seed, i)``, so
    results do not depend on the order or the process in which replications run.
    Each finished replication is appended to ``replications.jsonl`` as it arrives;
    rerunning the same recipe resumes and fits only the missing replications
    (raising ``sbc.replications`` extends a finished study).
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..config import CalibrationConfig, dump_config
from ..data.jsonl import append_jsonl, read_jsonl
from .executors import ExecutorError, ray_session, worker_environment
from .sbc_checks import CalibrationResult, analyse

logger = logging.getLogger(__name__)


LOG_FILE = "replications.jsonl"


LOGLIK = "log_lik"


# settings that change how many replications run or how they are analysed, not what
# a replication computes: a study may be resumed under different values
_RESUMABLE_FIELDS = {"sbc": ("replications", "workers", "alpha", "bins", "executor", "ray_address", "batch"),
                     "inference": ("progress_bar",)}


class CalibrationError(RuntimeError):
    """A calibration study cannot be run or resumed as asked."""


# ------------------------------------------------------------------ one replication
class Replicator:
    """Simulates and refits replications of one calibration recipe.

    Builds the NUTS sampler once; every call ``replicator(i)`` runs replication ``i``
    and returns its record (ranks, diagnostics, time).
    """

    def __init__(self, cfg: CalibrationConfig):
        from .sampling import bind_model

        self.cfg = cfg
        n = cfg.design.n_items()
        structure = cfg.design.structure() if cfg.model.hierarchical else {}
        if cfg.design.lotteries:
            structure = cfg.design.lottery_structure()
        from ..models import get_model

        if hasattr(get_model(cfg.model.name), "sbc_structure"):  # parametric models: item covariates
            structure = get_model(cfg.model.name).sbc_structure(cfg.design)
        self.n_pairs = cfg.design.n_pairs()
        # the generator draws from the prior, which only the non-centred form can (the same
        # model); the fit uses the recipe's parameterisation
        gen_param = "non_centred" if cfg.model.hierarchical else None
        self.mod, self.fit_fn = bind_model(cfg.model, n, structure=structure)
        _, self.gen_fn = bind_model(cfg.model, n, cfg.simulate.priors, structure=structure, parameterisation=gen_param)
        self.sampler = None  # compiled on the first replication (needs example data)
        self.sites = list(self.mod.CALIBRATED)  # those the model samples under this recipe (see __call__)

    def design(self, rng: np.random.Generator):
        """Rows (``idx_a``, ``idx_b``), answers per row ``n`` and each row's respondent
        (``None`` for flat models) of one replication."""
        from ..data.simulate import pair_design

        d = self.cfg.design
        pairs = pair_design(d.n_items(), self.n_pairs, rng)
        if d.both_orders:
            idx_a = np.concatenate([pairs[:, 0], pairs[:, 1]])
            idx_b = np.concatenate([pairs[:, 1], pairs[:, 0]])
        else:
            flip = rng.random(len(pairs)) < 0.5
            idx_a = np.where(flip, pairs[:, 1], pairs[:, 0])
            idx_b = np.where(flip, pairs[:, 0], pairs[:, 1])
        respondent = None
        if self.cfg.model.hierarchical:
            respondent = np.repeat(np.arange(d.respondents), len(idx_a))
            idx_a, idx_b = np.tile(idx_a, d.respondents), np.tile(idx_b, d.respondents)
        n = np.full(len(idx_a), d.answers_per_order)
        if d.unparseable_rate > 0:
            n = rng.binomial(d.answers_per_order, 1.0 - d.unparseable_rate, size=len(idx_a))
        return idx_a, idx_b, n, respondent

    def _simulate(self, index: int) -> dict:
        """Replication ``index``'s design, true parameters and answers (reproducible from
        ``sbc.seed`` and the index alone)."""
        import jax
        import jax.numpy as jnp
        from numpyro.infer import Predictive

        from .repeated import RepeatedNUTS

        seed = self.cfg.sbc.seed
        rng = np.random.default_rng([seed, index])
        k_prior, k_fit = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(seed), index))
        idx_a, idx_b, n, respondent = self.design(rng)
        args = (jnp.asarray(idx_a), jnp.asarray(idx_b), jnp.asarray(n, dtype=jnp.float32))
        inputs = {} if respondent is None else {"respondent": jnp.asarray(respondent)}
        if self.cfg.simulate.generator == "numpy":
            truth, k_a = numpy_prior_draw(self.cfg, idx_a, idx_b, n, np.random.default_rng([seed, index, 1]))
        else:
            prior = Predictive(self.gen_fn, num_samples=1)(k_prior, *args, **inputs)
            truth = {k: np.asarray(v[0]) for k, v in prior.items()}
            k_a = truth.pop("y")
        kwargs = {"k_a": jnp.asarray(k_a, dtype=jnp.float32), **inputs}
        if self.sampler is None:
            self.sampler = RepeatedNUTS(self.fit_fn, self.cfg.inference, args, kwargs)
        return {"index": int(index), "rng": rng, "key": k_fit, "args": args, "kwargs": kwargs, "truth": truth,
                "k_a": k_a, "inputs": inputs, "n": n}

    def __call__(self, index: int) -> dict:
        """The record of replication ``index``, fitted on its own."""
        t0 = time.perf_counter()
        sim = self._simulate(index)
        grouped, diverging = self.sampler.run(sim["key"], sim["args"], sim["kwargs"])
        return self._record(sim, grouped, diverging, time.perf_counter() - t0)

    def batch(self, indices: list[int]) -> list[dict]:
        """Records of several replications fitted in one vectorised run (``sbc.batch``): all
        their chains advance together, each with its own data, step size and mass matrix.
        Each record's ``seconds`` is its share of the batch's wall time."""
        if len(indices) == 1:
            return [self(indices[0])]
        import jax

        t0 = time.perf_counter()
        sims = [self._simulate(i) for i in indices]
        stack = lambda *xs: jax.numpy.stack(xs)  # noqa: E731
        grouped, diverging = self.sampler.run_batch(
            stack(*[s["key"] for s in sims]), jax.tree.map(stack, *[s["args"] for s in sims]),
            jax.tree.map(stack, *[s["kwargs"] for s in sims]))
        share = (time.perf_counter() - t0) / len(sims)
        return [self._record(s, {k: v[b] for k, v in grouped.items()}, diverging[b], share)
                for b, s in enumerate(sims)]

    def _record(self, sim: dict, grouped: dict, diverging: np.ndarray, seconds: float) -> dict:
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

        rng, truth, args, k_a, inputs = sim["rng"], sim["truth"], sim["args"], sim["k_a"], sim["inputs"]
        divergences = int(diverging.sum())
        chains, draws = next(iter(grouped.values())).shape[:2]
        total, kept = chains * draws, self.cfg.sbc.draws_kept
        pick = np.arange(kept) * (total // kept) + (total // kept - 1)  # evenly spaced over all chains
        ranks: dict[str, int] = {}
        ess, rhat = [], []
        for site in self.sites:
            if site not in truth or site not in grouped:  # not sampled under this recipe (e.g. no order bias)
                continue
            draws_ = grouped[site].reshape(total, -1)
            true = np.asarray(truth[site]).reshape(-1)
            ess.append(np.min(effective_sample_size(grouped[site].reshape(chains, draws, -1))))
            rhat.append(np.max(split_gelman_rubin(grouped[site].reshape(chains, draws, -1))))
            for j, r in enumerate(_ranks(draws_[pick], true, rng)):
                ranks[f"{site}[{j}]" if true.size > 1 else site] = int(r)
            if true.size > 2:  # targeted summaries of a vector: its spread and its largest element
                for name, f in (("sd", np.std), ("max", np.max)):
                    ranks[f"{name}({site})"] = int(_ranks(f(draws_[pick], axis=1)[:, None],
                                                          np.atleast_1d(f(true)), rng)[0])
        ll_draws = self._loglik({k: v.reshape(total, *v.shape[2:])[pick] for k, v in grouped.items()},
                                args, k_a, inputs)
        ll_true = self._loglik(truth, args, k_a, inputs)
        ranks[LOGLIK] = int(_ranks(ll_draws[:, None], np.atleast_1d(ll_true), rng)[0])
        return {
            "index": sim["index"],
            "ranks": ranks,
            "divergences": divergences,
            "max_rhat": float(np.nanmax(rhat)),  # a constant site (e.g. a fixed status quo) has none
            "min_ess_bulk": float(np.min(ess)),
            "n_answers": int(sim["n"].sum()),
            "seconds": round(seconds, 3),
        }

    def _loglik(self, params: dict, args, k_a, inputs: dict) -> np.ndarray:
        import jax.numpy as jnp

        from ..models.likelihood import pair_log_likelihood
        from .pointwise import score_params as _score_params

        z = self.mod.latent_score(_score_params(params), args[0], args[1], self.cfg.model.order_bias, **inputs)
        return np.asarray(pair_log_likelihood(jnp.asarray(k_a, dtype=jnp.float32), args[2], z, self.mod.LINK).sum(-1))


def _ranks(draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank of each ``truth[j]`` among ``draws[:, j]``; ties broken at random."""
    below = (draws < truth).sum(axis=0)
    ties = (draws == truth).sum(axis=0)
    return below + rng.integers(0, ties + 1)


def numpy_prior_draw(cfg: CalibrationConfig, idx_a, idx_b, n, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Parameters from the prior and answers from the likelihood, written with numpy and
    scipy only (:func:`bayes_utility.data.simulate.answer_probability`), independently of the
    model code: a formula error in a model's likelihood (a missing square root, a flipped
    order-bias sign) then shows up as non-uniform ranks instead of cancelling out.

    Zero-sum normals are iid normals minus their mean (numpyro's ``ZeroSumNormal``: each
    element has variance ``scale**2 (n - 1) / n``).
    """
    from ..data.simulate import SimulationTruth, answer_probability
    from ..models import get_model

    name = cfg.model.name
    hp = {**get_model(name).PRIORS, **cfg.model.priors, **cfg.simulate.priors}
    n_items = cfg.design.n_items()

    def zero_sum(scale):
        z = rng.normal(0.0, 1.0, n_items)
        return scale * (z - z.mean())

    truth: dict = {}
    tau = abs(rng.normal(0.0, hp["utility_scale"]))
    truth["utility_spread"] = np.float32(tau)
    mu = zero_sum(tau)
    if name == "thurstonian":
        tau_s = abs(rng.normal(0.0, hp["log_noise_scale"]))
        sigma = np.exp(zero_sum(tau_s))
        truth.update(mu=mu, sigma=sigma, log_noise_spread=np.float32(tau_s))
        link = "probit"
    else:  # bradley_terry
        sigma, link = None, "logit"
        truth["u"] = mu
    beta = 0.0
    if cfg.model.order_bias:
        beta = rng.normal(0.0, hp["order_bias_scale"])
        truth["order_bias"] = np.float32(beta)
    answer_beta = cfg.simulate.order_bias_sign * beta  # -1: the negative control's wrong sign
    p = answer_probability(SimulationTruth(mu=mu, sigma=sigma, order_bias=answer_beta, link=link),
                           np.asarray(idx_a), np.asarray(idx_b))
    k_a = rng.binomial(np.asarray(n, dtype=np.int64), p)
    return {k: np.asarray(v, dtype=np.float32) for k, v in truth.items()}, k_a.astype(np.float32)


# ------------------------------------------------------------------ parallel workers
_WORKER: Replicator | None = None


def _init_worker(cfg_json: str) -> None:
    global _WORKER
    _WORKER = Replicator(CalibrationConfig.model_validate_json(cfg_json))


def _work(indices: list[int]) -> list[dict]:
    return _WORKER.batch(indices)


def _ray_records(cfg: CalibrationConfig, todo: list[int], workers: int):
    """Replications as Ray tasks on ``workers`` actors (each compiles the sampler once),
    yielded as they finish; on the cluster at ``sbc.ray_address``, else a local one."""
    try:
        with ray_session(cfg.sbc.ray_address, workers) as ray:
            from ray.util import ActorPool

            actor = ray.remote(num_cpus=1)(_RayReplicator)
            cfg_json = cfg.model_dump_json()
            pool = ActorPool([actor.remote(cfg_json) for _ in range(workers)])
            for records in pool.map_unordered(lambda a, chunk: a.run.remote(chunk), _chunks(todo, cfg.sbc.batch)):
                yield from records
    except ExecutorError as exc:
        raise CalibrationError(f"sbc.executor: {exc}") from exc


class _RayReplicator:
    """A Ray actor holding one :class:`Replicator`."""

    def __init__(self, cfg_json: str):
        self.rep = Replicator(CalibrationConfig.model_validate_json(cfg_json))

    def run(self, indices: list[int]) -> list[dict]:
        return self.rep.batch(indices)


def _chunks(todo: list[int], size: int) -> list[list[int]]:
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _records(cfg: CalibrationConfig, todo: list[int]):
    """Yield replication records as they finish, in one process or several."""
    chunks = _chunks(todo, cfg.sbc.batch)
    workers = min(cfg.sbc.workers, len(chunks))
    if cfg.sbc.executor == "ray":
        yield from _ray_records(cfg, todo, max(workers, 1))
        return
    if workers <= 1:
        rep = Replicator(cfg)
        for chunk in chunks:
            yield from rep.batch(chunk)
        return
    with worker_environment():
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(cfg.model_dump_json(),)) as pool:
            for records in pool.map(_work, chunks):
                yield from records


def run_calibration(cfg: CalibrationConfig, out: str | Path | None = None, *, restart: bool = False,
                    progress: bool = True) -> CalibrationResult:
    """Run (or resume) the calibration study ``cfg``; write and return its results."""
    run_dir = Path(out or cfg.output.dir) / (cfg.output.run_name or cfg.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_path, log_path = run_dir / "config.yaml", run_dir / LOG_FILE
    if restart:
        log_path.unlink(missing_ok=True)
    elif cfg_path.exists() and log_path.exists():
        import yaml

        old = CalibrationConfig.model_validate(yaml.safe_load(cfg_path.read_text()))
        if _fingerprint(old) != _fingerprint(cfg):
            raise CalibrationError(
                f"{run_dir} holds a study made with a different recipe; rerun with --restart to discard it, "
                "or set output.run_name to keep both")
    cfg_path.write_text(dump_config(cfg))
    done = _read_log(log_path)
    todo = [i for i in range(cfg.sbc.replications) if i not in done]
    if todo:
        from tqdm.auto import tqdm

        logger.info("%d of %d replications to run (%d done)", len(todo), cfg.sbc.replications, len(done))
        with open(log_path, "a") as fh, tqdm(total=cfg.sbc.replications, initial=len(done), disable=not progress,
                                             desc="SBC replications", unit="fit") as bar:
            for rec in _records(cfg, todo):
                append_jsonl(fh, rec)
                done[rec["index"]] = rec
                bar.update()
    records = [done[i] for i in range(cfg.sbc.replications)]
    return analyse(records, cfg, run_dir)


def _fingerprint(cfg: CalibrationConfig) -> dict:
    raw = cfg.model_dump(mode="json")
    for section, fields in _RESUMABLE_FIELDS.items():
        for f in fields:
            raw[section].pop(f, None)
    raw.pop("output", None)
    return raw


def _read_log(path: Path) -> dict[int, dict]:
    """Finished replications by index."""
    return {int(rec["index"]): rec for rec in read_jsonl(path)}
