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

Answers live in the answer store (:mod:`bayes_utility.store`, SQLite, by default
``output.dir/answers.sqlite``), keyed by model identity, the exact request and the
sample index. Rerunning after an interrupt (Ctrl-C, ``kill -9``, the server going
away) asks only what the store lacks; so does a changed design or an added outcome,
and switching a model under the same run name asks that model anew. Request logs of
earlier versions (``requests.jsonl``) in the run folder are imported on the first run.

Everything is checked before the first request: the recipe, the outcomes (ids, texts,
duplicates), the template, the design, the models and their keys. Requests: see
:mod:`bayes_utility.asking` (retries, deadlines, circuit breaker, preflight, rate
limits, the Batch API).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .asking import Item, ModelAsker, Progress, first_token_preference, retry_after  # noqa: F401 (re-exports)
from .config import ElicitConfig, ServerConfig, dump_config, resolve_models
from .data import DEFAULT_TEMPLATE, DataValidationError, PreferenceData, load_dataset, read_outcomes, validate_outcomes
from .optionsets import random_regular_pairs
from .prompts import REASONING_TEMPLATES, TEMPLATES
from .redact import public_url
from .simulate import pair_design, paper_pair_count
from .store import AnswerStore, StoreError, digest

logger = logging.getLogger(__name__)

LEGACY_LOG = "requests.jsonl"
_retry_after = retry_after  # the name earlier versions exported


class ElicitationError(RuntimeError):
    """An elicitation cannot start or go on (bad recipe, missing key, locked store, stopped model)."""


@dataclass(frozen=True)
class Prompt:
    """One prompt (a pair in one order) and its answer slots."""

    outcome_a: str
    outcome_b: str
    text: str
    samples: tuple[int, ...]


# ------------------------------------------------------------------ the experiment
def load_outcomes(cfg: ElicitConfig) -> pd.DataFrame:
    """The outcomes asked about, checked (ids present and unique, texts present)."""
    src = cfg.experiment.outcomes
    path = Path(src)
    try:
        if src.startswith("builtin:") or path.is_dir():
            outcomes = load_dataset(src).outcomes
        else:
            if not path.exists():
                raise ElicitationError(f"experiment.outcomes: {src}: no such file")
            outcomes = validate_outcomes(read_outcomes(path))
    except DataValidationError as exc:
        raise ElicitationError(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise ElicitationError(f"experiment.outcomes: {src}: {exc}") from None
    if cfg.experiment.max_outcomes:
        outcomes = outcomes.head(cfg.experiment.max_outcomes).reset_index(drop=True)
    if len(outcomes) < 2:
        raise ElicitationError(f"experiment.outcomes: {src}: at least two outcomes are needed")
    return outcomes


def template_text(cfg: ElicitConfig) -> str:
    exp = cfg.experiment
    if exp.template_file:
        try:
            text = Path(exp.template_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ElicitationError(f"experiment.template_file: {exp.template_file}: {exc}") from None
        if "{option_A}" not in text or "{option_B}" not in text:
            raise ElicitationError(f"{exp.template_file}: a template needs both {{option_A}} and {{option_B}}")
        return text
    if exp.template not in TEMPLATES:
        raise ElicitationError(f"unknown template {exp.template!r}; have {sorted(TEMPLATES)} or set template_file")
    return TEMPLATES[exp.template]


def fill(template: str, option_a: str, option_b: str) -> str:
    """The template with its two placeholders filled; any other braces are left as they are."""
    marker = "\x00B\x00"
    return template.replace("{option_B}", marker).replace("{option_A}", option_a).replace(marker, option_b)


def design_pairs(cfg: ElicitConfig, n: int) -> np.ndarray:
    """Unordered pairs (indices) of a fixed design; the first round of an active one."""
    exp = cfg.experiment
    rng = np.random.default_rng(exp.seed)
    full = n * (n - 1) // 2
    if exp.design == "active":  # the reference method's start: a random cycle (every outcome twice)
        perm = rng.permutation(n)
        return np.unique(np.sort(np.stack([perm, np.roll(perm, -1)], axis=1), axis=1), axis=0)
    if exp.design == "regular":
        try:
            return random_regular_pairs(n, exp.degree, rng)
        except ValueError as exc:
            raise ElicitationError(f"design 'regular' with {n} outcomes: {exc}") from None
    n_pairs = {"all": full, "paper": paper_pair_count(n)}.get(exp.design, exp.pairs)
    if n_pairs > full:
        raise ElicitationError(f"{n_pairs} pairs asked for but {n} outcomes have only {full}")
    return pair_design(n, n_pairs, rng)


def prompts_for(cfg: ElicitConfig, outcomes: pd.DataFrame, pairs: np.ndarray) -> list[Prompt]:
    """Both presentation orders of each pair, all K samples."""
    ids, texts = outcomes["id"].astype(str).tolist(), outcomes["text"].astype(str).tolist()
    tmpl = template_text(cfg)
    k = tuple(range(cfg.experiment.answers_per_order))
    return [Prompt(ids[a], ids[b], fill(tmpl, texts[a], texts[b]), k)
            for i, j in pairs for a, b in ((int(i), int(j)), (int(j), int(i)))]


def plan(cfg: ElicitConfig) -> tuple[pd.DataFrame, list[Prompt]]:
    """Outcomes and every prompt of the experiment (of its first round, when active)."""
    outcomes = load_outcomes(cfg)
    return outcomes, prompts_for(cfg, outcomes, design_pairs(cfg, len(outcomes)))


# ------------------------------------------------------------------ models and requests
def model_identity(spec: ServerConfig) -> dict:
    """What identifies a model in the store: provider, model, API kind, endpoint (no credentials)."""
    endpoint = public_url(spec.base_url).rstrip("/")
    provider = spec.provider or (urlsplit(spec.base_url).hostname or "")
    core = {"provider": provider, "model": spec.model, "api": spec.api, "endpoint": endpoint}
    return {**core, "key": digest(core)[:32], "label": spec.label}


def request_body(cfg: ElicitConfig, spec: ServerConfig, text: str) -> tuple[str, dict]:
    """The request (without model, n and seed) for one prompt, and its key."""
    exp = cfg.experiment
    params: dict = {"temperature": exp.temperature, spec.token_param: exp.max_tokens, **spec.extra_body}
    if spec.api == "chat":
        if exp.logprobs:
            params.update(logprobs=True, top_logprobs=exp.top_logprobs)
        system = [{"role": "system", "content": exp.system_message}] if exp.system_message and spec.system_message \
            else []
        body = {"api": "chat", "messages": system + [{"role": "user", "content": text}], "params": params}
    else:
        if exp.logprobs:
            params["logprobs"] = min(exp.top_logprobs, 5)
        body = {"api": "completions", "prompt": spec.prompt_format.replace("{prompt}", text), "params": params}
    return digest(body)[:32], body


def items_for(cfg: ElicitConfig, spec: ServerConfig, prompts: list[Prompt]) -> list[Item]:
    out = []
    for p in prompts:
        key, body = request_body(cfg, spec, p.text)
        out.append(Item(p.outcome_a, p.outcome_b, key, body, p.samples))
    return out


def pending(items: list[Item], answered: set[tuple[str, int]]) -> list[Item]:
    """The items with their samples that have no answer yet (each slot once, whatever asked it)."""
    out, seen = [], set()
    for it in items:
        missing = tuple(s for s in it.samples if (it.request_key, s) not in answered
                        and (it.request_key, s) not in seen)
        seen.update((it.request_key, s) for s in missing)
        if missing:
            out.append(Item(it.outcome_a, it.outcome_b, it.request_key, it.body, missing))
    return out


def api_key(spec: ServerConfig) -> str:
    name = spec.api_key_env
    if name is None:
        return "not-needed"
    key = os.environ.get(name)
    if not key:
        raise ElicitationError(f"model {spec.label}: the environment variable {name} (api_key_env) is not set")
    return key


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


@dataclass
class _Prepared:
    outcomes: pd.DataFrame
    pairs: np.ndarray
    prompts: list[Prompt]
    specs: list[ServerConfig]
    keys: dict[str, str]


def prepare(cfg: ElicitConfig, models: list[str] | None = None, models_file: str | None = None,
            check_keys: bool = True) -> _Prepared:
    """Everything checked before the first request: models, keys, outcomes, template, design."""
    specs = resolve_models(cfg, models, models_file)
    seen: dict[str, str] = {}
    for s in specs:
        other = seen.setdefault(model_identity(s)["key"], s.label)
        if other != s.label:
            raise ElicitationError(f"models {other!r} and {s.label!r} are the same model (provider, model, API and "
                                   "endpoint): their answers would be one respondent's")
    keys = {s.label: api_key(s) for s in specs} if check_keys else {}
    if cfg.experiment.design == "active" and (len(specs) > 1 or specs[0].batch):
        raise ElicitationError("design 'active' asks one model at a time, live (not in batch mode)")
    outcomes = load_outcomes(cfg)
    pairs = design_pairs(cfg, len(outcomes))
    prompts = prompts_for(cfg, outcomes, pairs)
    return _Prepared(outcomes, pairs, prompts, specs, keys)


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
    from .config import load_elicit_config

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
            from .active_elicitation import run_rounds

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


# ------------------------------------------------------------------ earlier request logs
def _legacy_sha(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest()[:16]


def import_request_log(store: AnswerStore, path: Path, cfg: ElicitConfig, prep: _Prepared | None = None) -> dict:
    """Import a ``requests.jsonl`` of an earlier version into the store (idempotent).

    Each answer is matched to this recipe's request by its pair, its prompt hash and its
    sampling parameters, and keyed by the model and endpoint it was asked of (from the
    run folder's ``config.yaml`` of that version, else this recipe's endpoint). Answers
    that match no request of this recipe are still imported, under a key of their own, so
    that nothing is stranded (``bayes-utility store export`` shows them).
    """
    from .jsonl import read_jsonl

    stamp = f"imported:{path.resolve()}:{path.stat().st_size}"
    if store.db.execute("SELECT 1 FROM meta WHERE key=?", (stamp,)).fetchone():
        return {"imported": 0, "matched": 0, "unmatched": 0, "skipped": "already imported"}
    prep = prep or prepare(cfg, check_keys=False)
    old_url = None
    old_cfg = path.parent / "config.yaml"
    if old_cfg.exists():
        import yaml

        try:
            old_url = ((yaml.safe_load(old_cfg.read_text()) or {}).get("server") or {}).get("base_url")
        except yaml.YAMLError:
            old_url = None
    exp = cfg.experiment
    system = [{"role": "system", "content": exp.system_message}] if exp.system_message else []
    by_pair = {}
    for p in prep.prompts:
        by_pair[(p.outcome_a, p.outcome_b, _legacy_sha(system + [{"role": "user", "content": p.text}]))] = p
    counts = {"imported": 0, "matched": 0, "unmatched": 0}
    for rec in read_jsonl(path, repair=False):
        if rec.get("type") != "answer" or "answer" not in rec:
            continue
        spec = next((s for s in prep.specs if s.model == rec.get("model")), None)
        base = old_url or (spec.base_url if spec else "http://unknown/v1")
        model_spec = ServerConfig(base_url=base, model=str(rec.get("model")),
                                  name=spec.label if spec else str(rec.get("model")))
        ident = model_identity(model_spec)
        params = {k: v for k, v in (rec.get("params") or {}).items() if k not in ("n", "seed")}
        prompt = by_pair.get((str(rec.get("outcome_a")), str(rec.get("outcome_b")), rec.get("prompt_sha256")))
        key = body = None
        if prompt is not None:
            key, body = request_body(cfg, model_spec, prompt.text)
            if body["params"] != params:
                key = None
        if key is None:
            body = {"api": "chat", "legacy_prompt_sha256": rec.get("prompt_sha256"), "params": params,
                    "outcome_a": rec.get("outcome_a"), "outcome_b": rec.get("outcome_b")}
            key = "legacy-" + digest(body)[:25]
            counts["unmatched"] += 1
        else:
            counts["matched"] += 1
        usage = rec.get("usage") or {}
        counts["imported"] += store.record(
            model=ident, request_key=key, body=body, samples=[int(rec.get("sample", 0))], outcome="import",
            mode="import", started=rec.get("time"), seconds=rec.get("seconds"),
            outcome_ids=(str(rec.get("outcome_a")), str(rec.get("outcome_b"))),
            answers=[{"sample": int(rec.get("sample", 0)), "raw": rec.get("raw"), "answer": rec["answer"],
                      "finish_reason": rec.get("finish_reason"), "returned_model": rec.get("returned_model"),
                      "logprob_p_a": rec.get("logprob_p_a"), "logprob_mass": rec.get("logprob_mass")}],
            prompt_tokens=int(usage.get("prompt_tokens") or 0) // max(int(usage.get("choices") or 1), 1),
            completion_tokens=int(usage.get("completion_tokens") or 0) // max(int(usage.get("choices") or 1), 1))
    store.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (stamp, json.dumps(counts)))
    logger.info("%s: imported %d answers (%d matched to this recipe)", path, counts["imported"], counts["matched"])
    return counts


_describe = dry_run  # (elicit's dry_run flag shadows the function's name there)
