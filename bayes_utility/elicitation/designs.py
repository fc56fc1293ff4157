"""What an experiment asks, and of whom: its outcomes, the pairs of its design, the prompt of each pair,
and the request that carries each prompt to each model (checked before the first request is sent)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..config import ElicitConfig, ServerConfig, resolve_models
from ..data.loading import load_dataset
from ..data.optionsets import random_regular_pairs
from ..data.schema import DataValidationError
from ..data.simulate import pair_design, paper_pair_count
from ..data.tables import read_outcomes
from ..data.validation import validate_outcomes
from ..redact import public_url
from .client import Item
from .prompts import TEMPLATES
from .store import digest

logger = logging.getLogger(__name__)


class ElicitationError(RuntimeError):
    """An elicitation cannot start or go on (bad recipe, missing key, locked store, stopped model)."""


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


LEGACY_LOG = "requests.jsonl"


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
