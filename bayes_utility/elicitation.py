"""Eliciting forced-choice answers from an LLM behind an OpenAI-compatible API.

``bayes-utility elicit CONFIG`` asks every question of an experiment (each pair of
outcomes in both presentation orders, K answers each) and writes
``output.dir/NAME/``:

=====================  ========================================================
``requests.jsonl``     the durable log: one line per answer or final failure,
                       appended and fsync'ed as it arrives (prompt hash, model,
                       parameters, timestamps, token counts, raw text, parsed
                       answer; errors with their type and attempts)
``dataset/``           outcomes and raw responses as a dataset folder, ready for
                       ``bayes-utility fit --data output.dir/NAME/dataset``
``ledger.json``        requests, answers, failures, tokens and cost
``config.yaml``        the resolved recipe (the API key's variable name, never
                       the key)
=====================  ========================================================

Never losing an answer
    The log is the record. Rerunning the same command after an interrupt (Ctrl-C,
    ``kill -9``, the server going away) reads it, skips every answer already
    there and asks only for the missing ones: no question is asked twice once it
    has its answer, and no answer in the log is lost. Requests that failed for
    good (after retries) are asked again on the next run; their failures stay in
    the log.

Requests
    The official ``openai`` async client, at most ``server.concurrency`` in flight,
    a per-request timeout, and retries with exponential backoff and jitter on rate
    limits (429), server errors (5xx), timeouts and dropped connections. Other
    errors (e.g. 400) are final at once. One failing request never stops the run.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import json
import logging
import os
import random
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ElicitConfig, dump_config
from .data import DEFAULT_TEMPLATE, PreferenceData, load_dataset, read_outcomes
from .jsonl import append_jsonl, read_jsonl
from .prompts import REASONING_TEMPLATES, TEMPLATES, parse_answer
from .optionsets import random_regular_pairs
from .simulate import pair_design, paper_pair_count

logger = logging.getLogger(__name__)

LOG_FILE = "requests.jsonl"


class ElicitationError(RuntimeError):
    """An elicitation cannot start (bad recipe, missing key, changed experiment)."""


@dataclass(frozen=True)
class Prompt:
    """One prompt (a pair in one order) and the answer slots it still needs."""

    outcome_a: str
    outcome_b: str
    text: str
    samples: tuple[int, ...]

    def key(self, sample: int) -> str:
        return answer_key(self.outcome_a, self.outcome_b, sample)


def answer_key(outcome_a: str, outcome_b: str, sample: int) -> str:
    return f"{outcome_a}|{outcome_b}|{sample}"


# ------------------------------------------------------------------ the experiment
def load_outcomes(cfg: ElicitConfig) -> pd.DataFrame:
    src = cfg.experiment.outcomes
    path = Path(src)
    if src.startswith("builtin:") or path.is_dir():
        outcomes = load_dataset(src).outcomes
    else:
        outcomes = read_outcomes(path)
    if cfg.experiment.max_outcomes:
        outcomes = outcomes.head(cfg.experiment.max_outcomes).reset_index(drop=True)
    return outcomes


def template_text(cfg: ElicitConfig) -> str:
    exp = cfg.experiment
    if exp.template_file:
        text = Path(exp.template_file).read_text()
        if "{option_A}" not in text or "{option_B}" not in text:
            raise ElicitationError(f"{exp.template_file}: a template needs both {{option_A}} and {{option_B}}")
        return text
    if exp.template not in TEMPLATES:
        raise ElicitationError(f"unknown template {exp.template!r}; have {sorted(TEMPLATES)} or set template_file")
    return TEMPLATES[exp.template]


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
    return [Prompt(ids[a], ids[b], tmpl.format(option_A=texts[a], option_B=texts[b]), k)
            for i, j in pairs for a, b in ((int(i), int(j)), (int(j), int(i)))]


def plan(cfg: ElicitConfig) -> tuple[pd.DataFrame, list[Prompt]]:
    """Outcomes and every prompt of the experiment (of its first round, when active)."""
    outcomes = load_outcomes(cfg)
    return outcomes, prompts_for(cfg, outcomes, design_pairs(cfg, len(outcomes)))


# ------------------------------------------------------------------ the durable log
class RequestLog:
    """Append-only JSON Lines log; every record is flushed and fsync'ed when written."""

    def __init__(self, path: Path):
        self.path = path
        self.answers: dict[str, dict] = {}
        self.failures: dict[str, dict] = {}
        self.records = 0
        for rec in read_jsonl(path):
            self._index(rec)
        self._fh = open(path, "a", encoding="utf-8")

    def _index(self, rec: dict) -> None:
        self.records += 1
        if rec["type"] == "answer":
            self.answers.setdefault(rec["key"], rec)  # the first answer of a slot is the answer
        elif rec["type"] == "failure":
            self.failures[rec["key"]] = rec

    def append(self, rec: dict) -> None:
        append_jsonl(self._fh, rec)
        self._index(rec)

    def close(self) -> None:
        self._fh.close()


# ------------------------------------------------------------------ requests
@dataclass
class Progress:
    answers: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    started: float = field(default_factory=time.perf_counter)


def _api_key(cfg: ElicitConfig) -> str:
    name = cfg.server.api_key_env
    if name is None:
        return "not-needed"
    key = os.environ.get(name)
    if not key:
        raise ElicitationError(f"the environment variable {name} (server.api_key_env) is not set")
    return key


def _seed(cfg: ElicitConfig, key: str) -> int:
    return zlib.crc32(f"{cfg.experiment.seed}|{key}".encode()) & 0x7FFFFFFF


def _retryable(exc: Exception) -> bool:
    import openai

    if isinstance(exc, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError,
                        openai.InternalServerError)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def _retry_after(exc: Exception) -> float:
    """Seconds a server asked us to wait (``Retry-After`` in seconds), else 0."""
    response = getattr(exc, "response", None)
    try:
        return max(0.0, float(response.headers.get("retry-after", 0))) if response is not None else 0.0
    except (TypeError, ValueError):  # an HTTP date or garbage: fall back to the backoff
        return 0.0


async def _ask(client, cfg: ElicitConfig, prompt: Prompt, log: RequestLog, sem: asyncio.Semaphore,
               progress: Progress, on_done) -> None:
    """Ask one prompt for its missing samples (one request with n=, or one per sample)."""
    srv, exp = cfg.server, cfg.experiment
    groups = [prompt.samples] if srv.supports_n else [(s,) for s in prompt.samples]
    messages = ([{"role": "system", "content": exp.system_message}] if exp.system_message else []) + [
        {"role": "user", "content": prompt.text}]
    prompt_sha = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest()[:16]
    for samples in groups:
        while samples:
            params = {"temperature": exp.temperature, "max_tokens": exp.max_tokens}
            if exp.logprobs:
                params.update(logprobs=True, top_logprobs=exp.top_logprobs)
            if len(samples) > 1:
                params["n"] = len(samples)
            if srv.send_seed:
                params["seed"] = _seed(cfg, prompt.key(samples[0]))
            got = await _request(client, cfg, prompt, samples, messages, params, prompt_sha, log, sem, progress)
            on_done(len(got))
            samples = tuple(s for s in samples if s not in got) if got else ()


async def _request(client, cfg, prompt, samples, messages, params, prompt_sha, log, sem, progress) -> set[int]:
    """One request with retries; logs each answer (or the final failure); returns the samples answered."""
    srv = cfg.server
    for attempt in range(srv.max_retries + 1):
        started = _dt.datetime.now(_dt.timezone.utc)
        t0 = time.perf_counter()
        try:
            async with sem:
                progress.requests += 1
                resp = await client.chat.completions.create(model=srv.model, messages=messages, **params)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none stops the run
            if _retryable(exc) and attempt < srv.max_retries:
                progress.retries += 1
                delay = min(srv.max_backoff_s, srv.backoff_s * 2 ** attempt) * random.uniform(0.5, 1.5)
                await asyncio.sleep(max(delay, min(_retry_after(exc), srv.max_backoff_s)))
                continue
            for s in samples:
                log.append({"type": "failure", "key": prompt.key(s), "outcome_a": prompt.outcome_a,
                            "outcome_b": prompt.outcome_b, "sample": s, "model": srv.model,
                            "error": f"{type(exc).__name__}: {exc}"[:500], "attempts": attempt + 1,
                            "retryable": _retryable(exc), "time": started.isoformat()})
            progress.failures += len(samples)
            return set()
        seconds = time.perf_counter() - t0
        usage = getattr(resp, "usage", None)
        p_tok = int(getattr(usage, "prompt_tokens", 0) or 0)
        c_tok = int(getattr(usage, "completion_tokens", 0) or 0)
        progress.prompt_tokens += p_tok
        progress.completion_tokens += c_tok
        got = set()
        for s, choice in zip(samples, resp.choices or []):
            raw = choice.message.content if choice.message else None
            extra = first_token_preference(choice) if cfg.experiment.logprobs else {}
            log.append({**extra,
                "type": "answer", "key": prompt.key(s), "outcome_a": prompt.outcome_a,
                "outcome_b": prompt.outcome_b, "sample": s, "model": srv.model,
                "returned_model": getattr(resp, "model", None), "prompt_sha256": prompt_sha, "params": params,
                "time": started.isoformat(), "seconds": round(seconds, 4), "raw": raw,
                "answer": parse_answer(raw, reasoning=cfg.experiment.reasoning
                                       or cfg.experiment.template in REASONING_TEMPLATES),
                "finish_reason": getattr(choice, "finish_reason", None),
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok, "choices": len(resp.choices or [])},
            })
            got.add(s)
        progress.answers += len(got)
        return got
    return set()


def first_token_preference(choice) -> dict:
    """P("A") from the first generated token's top logprobs, renormalised over "A" and "B".

    Tokens are matched after stripping spaces, quotes and periods (" A", "A." count
    as "A"). ``logprob_mass`` is the probability the top list puts on "A" or "B" at
    all; with little mass the renormalised P("A") says little. Empty when the server
    returned no logprobs.
    """
    lp = getattr(choice, "logprobs", None)
    content = getattr(lp, "content", None) if lp is not None else None
    if not content:
        return {}
    mass = {"A": 0.0, "B": 0.0}
    for alt in content[0].top_logprobs or []:
        tok = (alt.token or "").strip().strip("\"'`*.").strip()
        if tok in mass:
            mass[tok] += float(np.exp(alt.logprob))
    total = mass["A"] + mass["B"]
    return {"logprob_p_a": mass["A"] / total if total > 0 else None, "logprob_mass": total}


# ------------------------------------------------------------------ the run
@dataclass
class ElicitationResult:
    run_dir: Path
    data: PreferenceData | None
    total: int
    answered: int
    missing: int
    progress: Progress
    ledger: dict


def pending(prompts: list[Prompt], log: RequestLog) -> list[Prompt]:
    """The prompts with their samples that have no answer in the log yet."""
    out = []
    for p in prompts:
        missing = tuple(s for s in p.samples if p.key(s) not in log.answers)
        if missing:
            out.append(Prompt(p.outcome_a, p.outcome_b, p.text, missing))
    return out


def dry_run(cfg: ElicitConfig, out: str | Path | None = None) -> str:
    """What a run would ask, without asking anything."""
    outcomes, prompts = plan(cfg)
    run_dir = Path(out or cfg.output.dir) / cfg.name
    log_path = run_dir / LOG_FILE
    done = 0
    if log_path.exists():
        log = RequestLog(log_path)
        done = len(log.answers)
        log.close()
    k = cfg.experiment.answers_per_order
    n_pairs = len(prompts) // 2
    head = f"{len(outcomes)} outcomes, {n_pairs} pairs, both orders, {k} answers each"
    if cfg.experiment.design == "active":
        n = len(outcomes)
        n_pairs = min(cfg.experiment.active.budget_pairs or paper_pair_count(n), n * (n - 1) // 2)
        head = (f"{len(outcomes)} outcomes, active learning ({cfg.experiment.active.strategy}): up to {n_pairs} "
                f"pairs in rounds of {cfg.experiment.active.round_pairs}, both orders, {k} answers each")
    total = n_pairs * 2 * k
    todo = total - done
    requests = (todo + k - 1) // k if cfg.server.supports_n else todo
    return (f"{head}: {total} answers; {done} already in {log_path}; {todo} to ask in about {requests} requests "
            f"to {cfg.server.model} at {cfg.server.base_url}")


def run_elicitation(cfg: ElicitConfig, out: str | Path | None = None, *, progress_bar: bool = True
                    ) -> ElicitationResult:
    """Ask every missing answer of the experiment; write the log, the dataset and the ledger.

    With ``design: active`` it runs rounds (ask, refit, choose the next pairs) until the
    pair budget or the target interval width is reached; the pairs chosen in each round
    are appended to ``rounds.jsonl`` so that a rerun resumes in the same round.
    """
    api_key = _api_key(cfg)  # before anything is written
    outcomes = load_outcomes(cfg)
    run_dir = Path(out or cfg.output.dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    experiment_json = cfg.experiment.model_dump_json()
    stamp = run_dir / "experiment.json"
    if stamp.exists() and stamp.read_text() != experiment_json:
        raise ElicitationError(f"{run_dir} holds answers to a different experiment; choose another name")
    stamp.write_text(experiment_json)
    (run_dir / "config.yaml").write_text(dump_config(cfg))
    progress = Progress()
    if cfg.experiment.design == "active":
        from .active_elicitation import run_rounds

        pairs = run_rounds(cfg, outcomes, run_dir, lambda prompts: _ask_missing(cfg, api_key, prompts, run_dir,
                                                                                 progress, progress_bar))
    else:
        pairs = design_pairs(cfg, len(outcomes))
        _ask_missing(cfg, api_key, prompts_for(cfg, outcomes, pairs), run_dir, progress, progress_bar)
    prompts = prompts_for(cfg, outcomes, pairs)
    log = RequestLog(run_dir / LOG_FILE)
    log.close()
    wanted = {p.key(s) for p in prompts for s in p.samples}
    total = len(wanted)
    answered = len(wanted & set(log.answers))
    data = _write_dataset(cfg, outcomes, log, wanted, run_dir / "dataset") if answered else None
    ledger = _ledger(cfg, log, progress, total, answered)
    (run_dir / "ledger.json").write_text(json.dumps(ledger, indent=2) + "\n")
    return ElicitationResult(run_dir=run_dir, data=data, total=total, answered=answered, missing=total - answered,
                             progress=progress, ledger=ledger)


def _ask_missing(cfg: ElicitConfig, api_key: str, prompts: list[Prompt], run_dir: Path, progress: Progress,
                 progress_bar: bool) -> int:
    """Ask the answers of ``prompts`` not yet in the log; returns how many are still missing."""
    import openai

    log = RequestLog(run_dir / LOG_FILE)
    todo = pending(prompts, log)
    total = sum(len(p.samples) for p in prompts)
    try:
        if todo:
            client = openai.AsyncOpenAI(base_url=cfg.server.base_url, api_key=api_key,
                                        timeout=cfg.server.timeout_s, max_retries=0)
            asyncio.run(_run_all(client, cfg, todo, log, progress, total,
                                 total - sum(len(p.samples) for p in todo), progress_bar))
        return sum(len(p.samples) for p in pending(prompts, log))
    finally:
        log.close()


async def _run_all(client, cfg, todo, log, progress, total, done, progress_bar) -> None:
    from tqdm.auto import tqdm

    sem = asyncio.Semaphore(cfg.server.concurrency)
    with tqdm(total=total, initial=done, desc="answers", unit="ans", disable=not progress_bar) as bar:
        def on_done(n: int) -> None:
            elapsed = time.perf_counter() - progress.started
            bar.set_postfix(failures=progress.failures, retries=progress.retries,
                            rate=f"{progress.answers / max(elapsed, 1e-9):.1f}/s", refresh=False)
            bar.update(n)

        try:
            await asyncio.gather(*(_ask(client, cfg, p, log, sem, progress, on_done) for p in todo))
        finally:
            await client.close()


def _dataset(cfg: ElicitConfig, outcomes: pd.DataFrame, log: RequestLog, wanted: set[str]) -> PreferenceData:
    """The logged answers to ``wanted`` as :class:`PreferenceData` (raw responses kept)."""
    template_id = Path(cfg.experiment.template_file).stem if cfg.experiment.template_file else cfg.experiment.template
    rows = [{"respondent": cfg.server.model, "outcome_a": r["outcome_a"], "outcome_b": r["outcome_b"],
             "answer": r["answer"], "sample_index": r["sample"], "prompt_template": template_id or DEFAULT_TEMPLATE,
             "raw_text": r["raw"] if r["raw"] is not None else ""}
            for k, r in log.answers.items() if k in wanted]
    return PreferenceData.from_tables(outcomes, responses=pd.DataFrame(rows), source=f"elicited:{cfg.name}")


def _write_dataset(cfg: ElicitConfig, outcomes: pd.DataFrame, log: RequestLog, wanted: set[str],
                   folder: Path) -> PreferenceData:
    data = _dataset(cfg, outcomes, log, wanted)
    data.write(folder, fmt="csv")
    if cfg.experiment.logprobs:  # beside the sampled answers: P("A") per answer slot from logprobs
        pd.DataFrame([{"outcome_a": r["outcome_a"], "outcome_b": r["outcome_b"], "sample_index": r["sample"],
                       "p_a": r.get("logprob_p_a"), "mass": r.get("logprob_mass")}
                      for k, r in log.answers.items() if k in wanted]).to_csv(folder / "logprobs.csv", index=False)
    return data


def _ledger(cfg: ElicitConfig, log: RequestLog, progress: Progress, total: int, answered: int) -> dict:
    p_tok = sum(r["usage"]["prompt_tokens"] for r in log.answers.values() if r.get("usage"))
    c_tok = sum(r["usage"]["completion_tokens"] for r in log.answers.values() if r.get("usage"))
    srv = cfg.server
    return {
        "model": srv.model, "base_url": srv.base_url, "answers_wanted": total, "answers_in_log": answered,
        "missing": total - answered, "failures_logged": len(log.failures),
        "this_run": {"requests": progress.requests, "answers": progress.answers, "failures": progress.failures,
                     "retries": progress.retries, "prompt_tokens": progress.prompt_tokens,
                     "completion_tokens": progress.completion_tokens,
                     "seconds": round(time.perf_counter() - progress.started, 2)},
        "all_runs": {"prompt_tokens": p_tok, "completion_tokens": c_tok,
                     "cost": p_tok / 1e6 * srv.price_input_per_mtok + c_tok / 1e6 * srv.price_output_per_mtok},
    }
