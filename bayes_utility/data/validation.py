"""Validation of outcome, response and count tables: every problem found, each naming its row."""
from __future__ import annotations

import json
import logging
from typing import Iterable

import numpy as np
import pandas as pd

from .schema import (
    ANSWERS,
    COUNT_COLUMNS,
    COUNT_FIELDS,
    DEFAULT_RESPONDENT,
    DEFAULT_TEMPLATE,
    OUTCOME_COLUMNS,
    RESPONSE_COLUMNS,
    DataValidationError,
)

logger = logging.getLogger(__name__)


def _row_label(df: pd.DataFrame, i: int) -> str:
    """Human row reference: 1-based data row, plus the line number for text files."""
    fmt = df.attrs.get("format")
    if fmt == "csv":
        return f"row {i + 1} (line {i + 2})"
    if fmt == "jsonl":
        return f"row {i + 1} (line {i + 1})"
    return f"row {i + 1}"


def _source(df: pd.DataFrame, default: str) -> str:
    return df.attrs.get("source", default)


# ------------------------------------------------------------------ validation
def _as_int_counts(df: pd.DataFrame, col: str, problems: list[str], src: str) -> np.ndarray:
    out = np.zeros(len(df), dtype=np.int64)
    for i, raw in enumerate(df[col].tolist()):
        label = f"{src}, {_row_label(df, i)}, field '{col}'"
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            problems.append(f"{label}: missing value")
            continue
        try:
            val = float(raw)
        except (TypeError, ValueError):
            problems.append(f"{label}: not a number: {raw!r}")
            continue
        if np.isnan(val):
            problems.append(f"{label}: NaN")
        elif np.isinf(val):
            problems.append(f"{label}: infinite value")
        elif val < 0:
            problems.append(f"{label}: negative count {raw!r}")
        elif val != int(val):
            problems.append(f"{label}: non-integer count {raw!r}")
        else:
            out[i] = int(val)
    return out


def _clean_str(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    s = str(value)
    return s if s.strip() else None


def validate_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise an outcomes table; raise :class:`DataValidationError`."""
    src = _source(df, "outcomes")
    problems: list[str] = []
    if len(df) == 0:
        raise DataValidationError([f"{src}: no outcomes (empty table)"], src)
    for col in ("id", "text"):
        if col not in df.columns:
            problems.append(f"{src}: missing required column '{col}' (have {list(df.columns)})")
    if problems:
        raise DataValidationError(problems, src)
    unknown = [c for c in df.columns if c not in OUTCOME_COLUMNS]
    if unknown:
        problems.append(
            f"{src}: unknown column(s) {unknown}; allowed: {list(OUTCOME_COLUMNS)} "
            "(put extra fields into 'attributes')"
        )
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(df["id"].tolist()):
        oid = _clean_str(raw)
        if oid is None:
            problems.append(f"{src}, {_row_label(df, i)}, field 'id': missing outcome id")
            ids.append("")
            continue
        if oid in seen:
            problems.append(
                f"{src}, {_row_label(df, i)}, field 'id': duplicate outcome id {oid!r} "
                f"(first at {_row_label(df, seen[oid])})"
            )
        seen.setdefault(oid, i)
        ids.append(oid)
    texts = []
    for i, raw in enumerate(df["text"].tolist()):
        t = _clean_str(raw)
        if t is None:
            problems.append(f"{src}, {_row_label(df, i)}, field 'text': missing outcome text")
        texts.append(t or "")
    cats = [_clean_str(c) for c in df["category"]] if "category" in df.columns else [None] * len(df)
    attrs = []
    if "attributes" in df.columns:
        for i, a in enumerate(df["attributes"].tolist()):
            if isinstance(a, str):
                if not a.strip():
                    attrs.append(None)
                    continue
                try:
                    a = json.loads(a)
                except json.JSONDecodeError as exc:
                    problems.append(
                        f"{src}, {_row_label(df, i)}, field 'attributes': not valid JSON ({exc.msg})"
                    )
                    attrs.append(None)
                    continue
            if a is not None and not isinstance(a, dict) and not (isinstance(a, float) and np.isnan(a)):
                problems.append(
                    f"{src}, {_row_label(df, i)}, field 'attributes': expected a JSON object, got {type(a).__name__}"
                )
                a = None
            attrs.append(a if isinstance(a, dict) else None)
    else:
        attrs = [None] * len(df)
    if problems:
        raise DataValidationError(problems, src)
    out = pd.DataFrame({"id": ids, "text": texts, "category": cats, "attributes": attrs})
    out.attrs["source"] = src
    return out


def _check_header(df: pd.DataFrame, kind: str, required: tuple[str, ...], allowed: tuple[str, ...]):
    """Common start of a comparisons-table check: source name, emptiness, columns."""
    src = _source(df, kind)
    if len(df) == 0:
        raise DataValidationError([f"{src}: no {kind} (empty table)"], src)
    problems: list[str] = []
    missing = [c for c in required if c not in df.columns]
    if missing:
        problems.append(f"{src}: missing required column(s) {missing} (have {list(df.columns)})")
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        problems.append(f"{src}: unknown column(s) {unknown}; allowed: {list(allowed)}")
    return src, problems


def _check_pair_columns(df, src, known_ids, problems):
    for col in ("outcome_a", "outcome_b"):
        if col not in df.columns:
            problems.append(f"{src}: missing required column '{col}' (have {list(df.columns)})")
    if problems:
        return None, None
    a_ids, b_ids = [], []
    for i, (a, b) in enumerate(zip(df["outcome_a"].tolist(), df["outcome_b"].tolist())):
        a, b = _clean_str(a), _clean_str(b)
        label = f"{src}, {_row_label(df, i)}"
        for col, v in (("outcome_a", a), ("outcome_b", b)):
            if v is None:
                problems.append(f"{label}, field '{col}': missing outcome id")
            elif v not in known_ids:
                problems.append(f"{label}, field '{col}': unknown outcome id {v!r}")
        if a is not None and a == b:
            problems.append(f"{label}, fields 'outcome_a'/'outcome_b': self-comparison of outcome {a!r}")
        a_ids.append(a or "")
        b_ids.append(b or "")
    return a_ids, b_ids


def validate_counts(df: pd.DataFrame, outcome_ids: Iterable[str]) -> pd.DataFrame:
    """Check and normalise a counts table against the known outcome ids."""
    src, problems = _check_header(df, "comparisons", ("n_a", "n_b"), COUNT_COLUMNS)
    known = set(outcome_ids)
    a_ids, b_ids = _check_pair_columns(df, src, known, problems)
    if problems and a_ids is None:
        raise DataValidationError(problems, src)
    counts = {}
    for col in COUNT_FIELDS:
        if col in df.columns:
            counts[col] = _as_int_counts(df, col, problems, src)
        else:
            counts[col] = np.zeros(len(df), dtype=np.int64)
    if problems:
        raise DataValidationError(problems, src)
    out = pd.DataFrame(
        {
            "respondent": _str_column(df, "respondent", DEFAULT_RESPONDENT),
            "outcome_a": a_ids,
            "outcome_b": b_ids,
            **counts,
            "prompt_template": _str_column(df, "prompt_template", DEFAULT_TEMPLATE),
        }
    )
    keys = ["respondent", "prompt_template", "outcome_a", "outcome_b"]
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        rows = [f"{_row_label(df, i)}" for i in np.flatnonzero(dup)[:10]]
        raise DataValidationError(
            [
                f"{src}: the same ordered pair appears on several rows for one respondent and "
                f"template ({', '.join(rows)}); aggregate them first or use responses"
            ],
            src,
        )
    out.attrs["source"] = src
    return out


def _str_column(df: pd.DataFrame, col: str, default: str) -> list[str]:
    if col not in df.columns:
        return [default] * len(df)
    return [_clean_str(v) or default for v in df[col].tolist()]


def validate_responses(df: pd.DataFrame, outcome_ids: Iterable[str]) -> pd.DataFrame:
    """Check and normalise a raw responses table."""
    src, problems = _check_header(df, "responses", ("answer",), RESPONSE_COLUMNS)
    known = set(outcome_ids)
    a_ids, b_ids = _check_pair_columns(df, src, known, problems)
    if a_ids is None:
        raise DataValidationError(problems, src)
    answers = []
    for i, raw in enumerate(df["answer"].tolist() if "answer" in df.columns else []):
        a = _clean_str(raw)
        if a not in ANSWERS:
            problems.append(
                f"{src}, {_row_label(df, i)}, field 'answer': {raw!r} is not one of {list(ANSWERS)}"
            )
        answers.append(a)
    if "sample_index" in df.columns:
        sample_index = _as_int_counts(df, "sample_index", problems, src)
    else:
        sample_index = np.zeros(len(df), dtype=np.int64)
    if problems:
        raise DataValidationError(problems, src)
    out = pd.DataFrame(
        {
            "respondent": _str_column(df, "respondent", DEFAULT_RESPONDENT),
            "outcome_a": a_ids,
            "outcome_b": b_ids,
            "answer": answers,
            "sample_index": sample_index,
            "prompt_template": _str_column(df, "prompt_template", DEFAULT_TEMPLATE),
            "raw_text": [
                "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in (df["raw_text"].tolist() if "raw_text" in df.columns else [""] * len(df))
            ],
        }
    )
    out.attrs["source"] = src
    return out


# ---------------------------------------------------------------- conversions
def responses_to_counts(responses: pd.DataFrame) -> pd.DataFrame:
    """Aggregate raw responses into counts per ordered pair (exact, no loss of counts)."""
    keys = ["respondent", "prompt_template", "outcome_a", "outcome_b"]
    onehot = pd.get_dummies(responses["answer"]).reindex(columns=list(ANSWERS), fill_value=0)
    onehot = onehot.astype(np.int64)
    onehot.columns = list(COUNT_FIELDS)
    agg = pd.concat([responses[keys], onehot], axis=1).groupby(keys, sort=False).sum().reset_index()
    return agg[list(COUNT_COLUMNS)]


def counts_to_responses(counts: pd.DataFrame) -> pd.DataFrame:
    """Expand counts into one row per answer (raw texts are not recoverable: empty)."""
    rows = []
    for rec in counts.itertuples(index=False):
        k = 0
        for answer, n in (("A", rec.n_a), ("B", rec.n_b), ("unparseable", rec.n_unparseable)):
            for _ in range(int(n)):
                rows.append(
                    (rec.respondent, rec.outcome_a, rec.outcome_b, answer, k, rec.prompt_template, "")
                )
                k += 1
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))
