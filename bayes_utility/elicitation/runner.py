"""Eliciting forced-choice answers from LLMs behind OpenAI-compatible APIs.

``bayes-utility elicit CONFIG [--models a,b,c]`` asks every question of an experiment
(each pair of outcomes in both presentation orders, K answers each) of every model
named, and writes ``output.dir/NAME/``:

=====================  ========================================================
``dataset/``           outcomes and raw responses of every model (``respondent``
                       is the model's label), ready for ``bayes-utility fit``
                       (``thurstonian_hierarchical`` fits many models at once)
``ledger.json``        per model: requests (answered, retried, failed), answers,
                       tokens and cost, this run and all runs
``config.yaml``        the resolved recipe (no key, no credentials in URLs)
``experiment.json``    the experiment and models of the latest launch
=====================  ========================================================

Answers live in the answer store (:mod:`bayes_utility.elicitation.store`, SQLite, by default
``output.dir/answers.sqlite``), keyed by model identity, the exact request and the
sample index. Rerunning after an interrupt (Ctrl-C, ``kill -9``, the server going
away) asks only what the store lacks; so does a changed design or an added outcome,
and switching a model under the same run name asks that model anew. Request logs of
earlier versions (``requests.jsonl``) in the run folder are imported on the first run.

Everything is checked before the first request: the recipe, the outcomes (ids, texts,
duplicates), the template, the design, the models and their keys. Requests: see
:mod:`bayes_utility.elicitation.client` (retries, deadlines, circuit breaker, preflight, rate
limits, the Batch API).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import ElicitConfig, ServerConfig, dump_config
from ..data.dataset import PreferenceData
from ..data.schema import DEFAULT_TEMPLATE
from ..data.simulate import paper_pair_count
from ..redact import public_url
from .client import Item, ModelAsker, Progress, retry_after
from .designs import (
    LEGACY_LOG,
    ElicitationError,
    Prompt,
    items_for,
    model_identity,
    pending,
    prepare,
    prompts_for,
)
from .legacy import import_request_log
from .prompts import REASONING_TEMPLATES
from .store import AnswerStore, StoreError, digest

logger = logging.getLogger(__name__)


_retry_after = retry_after  # the name earlier versions exported


# ------------------------------------------------------------------ the run
@dataclass
class ElicitationResult:
    run_dir: Path
    store: Path
    data: PreferenceData | None
    total: int
    answered: int
    missing: int
    progress: Progress
    ledger: dict
    stopped: dict = field(default_factory=dict)  # model label -> why it stopped


def dry_run(cfg: ElicitConfig, out: str | Path | None = None, models: list[str] | None = None,
            models_file: str | None = None) -> str:
    """What a run would ask, without asking or writing anything."""
    prep = prepare(cfg, models, models_file, check_keys=False)
    store_path = cfg.store_path(out)
    k = cfg.experiment.answers_per_order
    n, n_pairs = len(prep.outcomes), len(prep.prompts) // 2
    head = f"{n} outcomes, {n_pairs} pairs, both orders, {k} answers each"
    if cfg.experiment.design == "active":
        n_pairs = min(cfg.experiment.active.budget_pairs or paper_pair_count(n), n * (n - 1) // 2)
        head = (f"{n} outcomes, active learning ({cfg.experiment.active.strategy}): up to {n_pairs} "
                f"pairs in rounds of {cfg.experiment.active.round_pairs}, both orders, {k} answers each")
    total = n_pairs * 2 * k
    lines = [f"{head}: {total} answers per model; store {store_path}"]
    store = None
    if store_path.exists():
        try:
            store = AnswerStore(store_path, write=False)
        except StoreError as exc:
            raise ElicitationError(str(exc)) from None
    try:
        for spec in prep.specs:
            ident = model_identity(spec)
            items = items_for(cfg, spec, prep.prompts)
            done = store.answered(ident["key"]) if store else set()
            todo = sum(len(it.samples) for it in pending(items, done))
            have = total - todo if cfg.experiment.design != "active" else len(done)
            requests = (todo + k - 1) // k if spec.supports_n else todo
            mode = "in batches" if spec.batch else "in about"
            lines.append(f"  {spec.label}: {have} already in the store; {todo} to ask {mode} {requests} requests "
                         f"to {spec.model} at {public_url(spec.base_url)} ({spec.api})")
    finally:
        if store:
            store.close()
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def elicit(config, out: str | Path | None = None, *, models: str | list[str] | None = None,
           models_file: str | None = None, dry_run: bool = False, wait: bool = False, batch: bool | None = None,
           progress_bar: bool = True):
    """The Python twin of ``bayes-utility elicit``: ``config`` a recipe path or an
    :class:`~bayes_utility.config.ElicitConfig`; ``models`` labels (a list or ``"a,b"``).
    Returns the :class:`ElicitationResult` (answers in the store, dataset, ledger), or with
    ``dry_run=True`` the text describing what would be asked (nothing asked or written).
    Interrupted or failed requests lose nothing: rerun to ask what is missing."""
    from ..config import load_elicit_config

    cfg = config if isinstance(config, ElicitConfig) else load_elicit_config(config)
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    if dry_run:
        return _describe(cfg, out=out, models=models, models_file=models_file)
    return run_elicitation(cfg, out=out, progress_bar=progress_bar, models=models, models_file=models_file,
                           wait=wait, batch=batch)


def run_elicitation(cfg: ElicitConfig, out: str | Path | None = None, *, progress_bar: bool = True,
                    models: list[str] | None = None, models_file: str | None = None, wait: bool = False,
                    batch: bool | None = None) -> ElicitationResult:
    """Ask every missing answer of the experiment of every model; write the dataset and the ledger.

    ``models`` picks models by label (from the recipe and its models file); ``batch``
    overrides each model's ``batch`` setting; ``wait`` waits for another writer of the
    store instead of refusing. With ``design: active`` it runs rounds (ask, refit, choose
    the next pairs) until the pair budget or the target interval width is reached.
    """
    prep = prepare(cfg, models, models_file)
    if batch is not None:
        prep.specs = [s.model_copy(update={"batch": batch}) for s in prep.specs]
    run_dir = Path(out or cfg.output.dir) / cfg.name
    store_path = cfg.store_path(out)
    try:
        store = AnswerStore(store_path, wait=wait)
    except StoreError as exc:
        raise ElicitationError(str(exc)) from None
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        if (run_dir / LEGACY_LOG).exists():
            import_request_log(store, run_dir / LEGACY_LOG, cfg, prep)
        _write_atomic(run_dir / "experiment.json", json.dumps(
            {"experiment": cfg.experiment.model_dump(mode="json"),
             "models": [{k: v for k, v in model_identity(s).items()} for s in prep.specs]}, indent=2) + "\n")
        _write_atomic(run_dir / "config.yaml", dump_config(cfg))
        run_id = uuid.uuid4().hex[:16]
        experiment = digest(cfg.experiment.model_dump(mode="json"))[:16]
        askers = {s.label: ModelAsker(s, model_identity(s), store, api_key=prep.keys[s.label], run_id=run_id,
                                      experiment=experiment,
                                      reasoning=cfg.experiment.reasoning
                                      or cfg.experiment.template in REASONING_TEMPLATES,
                                      logprobs=cfg.experiment.logprobs) for s in prep.specs}
        if cfg.experiment.design == "active":
            from .rounds import run_rounds

            asker = next(iter(askers.values()))
            spec = prep.specs[0]

            def ask(prompts):
                _ask_all(cfg, store, {spec.label: asker}, {spec.label: items_for(cfg, spec, prompts)}, progress_bar)
                return sum(len(it.samples) for it in pending(items_for(cfg, spec, prompts),
                                                             store.answered(asker.ident["key"])))

            pairs = run_rounds(cfg, prep.outcomes, run_dir, ask,
                               lambda prompts: _dataset(cfg, prep.outcomes, store, prep.specs, prompts))
            prompts = prompts_for(cfg, prep.outcomes, pairs)
        else:
            prompts = prep.prompts
            _ask_all(cfg, store, askers, {s.label: items_for(cfg, s, prompts) for s in prep.specs}, progress_bar)
        return _finish(cfg, store, store_path, run_dir, prep, prompts, askers, run_id)
    finally:
        store.close()


def _ask_all(cfg, store: AnswerStore, askers: dict[str, ModelAsker], items: dict[str, list[Item]],
             progress_bar: bool) -> None:
    """Ask every model its pending items at once (each model with its own limits)."""
    from tqdm.auto import tqdm

    todo = {label: pending(its, store.answered(askers[label].ident["key"])) for label, its in items.items()}
    total = sum(len(it.samples) for its in items.values() for it in its)
    left = sum(len(it.samples) for its in todo.values() for it in its)
    if not left:
        return
    with tqdm(total=total, initial=total - left, desc="answers", unit="ans", disable=not progress_bar) as bar:
        started = time.perf_counter()

        def on_done(n: int) -> None:
            done = sum(a.progress.answers for a in askers.values())
            bar.set_postfix(failures=sum(a.progress.failures for a in askers.values()),
                            retries=sum(a.progress.retries for a in askers.values()),
                            rate=f"{done / max(time.perf_counter() - started, 1e-9):.1f}/s", refresh=False)
            bar.update(n)

        for a in askers.values():
            a.on_done = on_done

        async def everything():
            await asyncio.gather(*(askers[label].run_batch(its) if askers[label].spec.batch
                                   else askers[label].run(its) for label, its in todo.items() if its))

        asyncio.run(everything())


def _dataset(cfg: ElicitConfig, outcomes: pd.DataFrame, store: AnswerStore, specs: list[ServerConfig],
             prompts: list[Prompt], logprobs: list | None = None) -> PreferenceData | None:
    """The stored answers to ``prompts`` of every model as :class:`PreferenceData` (raw responses kept)."""
    template_id = Path(cfg.experiment.template_file).stem if cfg.experiment.template_file else cfg.experiment.template
    rows = []
    for spec in specs:
        ident = model_identity(spec)
        have = store.answers(ident["key"])
        for it in items_for(cfg, spec, prompts):
            for s in it.samples:
                rec = have.get((it.request_key, s))
                if rec is None:
                    continue
                rows.append({"respondent": spec.label, "outcome_a": it.outcome_a, "outcome_b": it.outcome_b,
                             "answer": rec["answer"], "sample_index": s,
                             "prompt_template": template_id or DEFAULT_TEMPLATE,
                             "raw_text": rec["raw"] if rec["raw"] is not None else ""})
                if logprobs is not None:
                    logprobs.append({"respondent": spec.label, "outcome_a": it.outcome_a,
                                     "outcome_b": it.outcome_b, "sample_index": s, "p_a": rec["logprob_p_a"],
                                     "mass": rec["logprob_mass"]})
    if not rows:
        return None
    return PreferenceData.from_tables(outcomes, responses=pd.DataFrame(rows), source=f"elicited:{cfg.name}",
                                      check_connected=False)


def _finish(cfg, store, store_path, run_dir, prep, prompts, askers, run_id) -> ElicitationResult:
    logprobs = [] if cfg.experiment.logprobs else None
    data = _dataset(cfg, prep.outcomes, store, prep.specs, prompts, logprobs)
    if data is not None:  # written beside, then swapped in: a kill never leaves a half-written dataset
        import shutil

        folder, fresh, old = run_dir / "dataset", run_dir / f".dataset.{os.getpid()}", run_dir / ".dataset.old"
        for leftover in run_dir.glob(".dataset.*"):  # from a run killed while swapping
            shutil.rmtree(leftover, ignore_errors=True)
        data.write(fresh, fmt="csv")
        if logprobs is not None:  # beside the sampled answers: P("A") per answer slot from logprobs
            pd.DataFrame(logprobs).to_csv(fresh / "logprobs.csv", index=False)
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        fresh.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    per_model = []
    answered_total = wanted_total = 0
    for spec in prep.specs:
        ident = model_identity(spec)
        its = items_for(cfg, spec, prompts)
        slots = {(it.request_key, s) for it in its for s in it.samples}
        have = store.answered(ident["key"])
        answered = len(slots & have)
        answered_total += answered
        wanted_total += len(slots)
        asker = askers[spec.label]
        per_model.append({"label": spec.label, "model": spec.model, "provider": ident["provider"],
                          "endpoint": ident["endpoint"], "api": spec.api, "mode": "batch" if spec.batch else "live",
                          "answers_wanted": len(slots), "answers_in_store": answered,
                          "missing": len(slots) - answered, "stopped": asker.stopped,
                          "this_run": store.ledger(ident["key"], run_id), "all_runs": store.ledger(ident["key"])})
    progress = Progress()
    for a in askers.values():
        for f in ("answers", "failures", "retries", "requests"):
            setattr(progress, f, getattr(progress, f) + getattr(a.progress, f))
    ledger = {"store": str(store_path), "run_id": run_id, "models": per_model,
              "total": {"answers_wanted": wanted_total, "answers_in_store": answered_total,
                        "missing": wanted_total - answered_total,
                        "cost_all_runs": round(sum(m["all_runs"]["cost"] for m in per_model), 6)}}
    _write_atomic(run_dir / "ledger.json", json.dumps(ledger, indent=2) + "\n")
    return ElicitationResult(run_dir=run_dir, store=store_path, data=data, total=wanted_total,
                             answered=answered_total, missing=wanted_total - answered_total, progress=progress,
                             ledger=ledger, stopped={a.spec.label: a.stopped for a in askers.values() if a.stopped})


_describe = dry_run  # (elicit's dry_run flag shadows the function's name there)
