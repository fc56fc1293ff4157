"""Preference data from a dataset folder, or from (winner, loser) pairs in memory."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .dataset import PreferenceData
from .schema import DEFAULT_RESPONDENT, DataValidationError
from .tables import _find, read_outcomes, read_table
from .validation import validate_counts, validate_outcomes, validate_responses

logger = logging.getLogger(__name__)


def from_pairs(
    pairs,
    outcomes: pd.DataFrame | dict | None = None,
    respondent: str = DEFAULT_RESPONDENT,
    source: str = "pairs",
    check_connected: bool = True,
) -> PreferenceData:
    """Preference data from comparisons without files, as choix and similar tools take them.

    ``pairs`` is either a sequence of ``(winner, loser)`` pairs (any ids; they become
    strings) or a DataFrame: a counts table (``outcome_a, outcome_b, n_a, n_b`` and
    optionally ``n_unparseable, respondent, prompt_template``) or ``winner, loser``
    columns. ``outcomes`` gives texts: a mapping id -> text, or an outcomes table; by
    default each id is its own text.

    Winner/loser pairs carry no presentation order: each unordered pair is stored once,
    in sorted orientation, with its wins on either side, and a presentation-order bias
    cannot be estimated from them (fit with ``order_bias=False``, the default of
    :func:`bayes_utility.fit`). Counts tables keep their orientation.
    """
    src = source
    if isinstance(pairs, pd.DataFrame):
        df = pairs
        if {"winner", "loser"} <= set(df.columns):
            pairs = list(zip(df["winner"], df["loser"]))
        elif not {"outcome_a", "outcome_b"} <= set(df.columns):
            raise DataValidationError(
                [f"{src}: a pairs table needs columns winner, loser or a counts table outcome_a, outcome_b, "
                 f"n_a, n_b; it has {', '.join(map(str, df.columns))}"], src)
    if isinstance(pairs, pd.DataFrame):
        counts = pairs.copy()
        for col in ("outcome_a", "outcome_b"):
            counts[col] = counts[col].astype(str)
    else:
        rows = []
        for i, pair in enumerate(pairs):
            if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
                raise DataValidationError([f"{src}: pair {i}: expected (winner, loser), got {pair!r}"], src)
            w, loser = str(pair[0]), str(pair[1])
            if w == loser:
                raise DataValidationError([f"{src}: pair {i}: {w!r} compared with itself"], src)
            a, b = sorted((w, loser))
            rows.append((a, b, int(w == a), int(w == b)))
        if not rows:
            raise DataValidationError([f"{src}: no pairs"], src)
        counts = (pd.DataFrame(rows, columns=["outcome_a", "outcome_b", "n_a", "n_b"])
                  .groupby(["outcome_a", "outcome_b"], as_index=False, sort=True)[["n_a", "n_b"]].sum())
    counts["respondent"] = counts["respondent"] if "respondent" in counts.columns else respondent
    ids = sorted(set(counts["outcome_a"]) | set(counts["outcome_b"]))
    if outcomes is None:
        table = pd.DataFrame({"id": ids, "text": ids})
    elif isinstance(outcomes, pd.DataFrame):
        table = outcomes
    else:
        texts = {str(k): str(v) for k, v in dict(outcomes).items()}
        missing = [i for i in ids if i not in texts]
        if missing:
            raise DataValidationError([f"{src}: outcomes has no text for {', '.join(missing[:10])}"], src)
        table = pd.DataFrame({"id": list(texts), "text": list(texts.values())})
    return PreferenceData.from_tables(table, counts=counts, source=src, check_connected=check_connected)


def load_dataset(
    path: str | Path,
    outcomes: str | Path | None = None,
    check_connected: bool = True,
) -> PreferenceData:
    """Load a dataset.

    ``path`` is either a directory holding ``outcomes.*`` and ``counts.*`` or
    ``responses.*`` (CSV, JSONL or Parquet), or a single counts/responses table
    (then ``outcomes`` names the outcomes file), or a results JSON of the reference
    code (see :func:`bayes_utility.data.paper.import_paper_results`).
    """
    if str(path).startswith("builtin:"):
        from ..datasets import path as builtin_path

        path = builtin_path(str(path)[len("builtin:"):])
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_file() and path.suffix.lower() == ".json":
        from .paper import import_paper_results

        return import_paper_results(path)
    if path.is_dir():
        out_path = Path(outcomes) if outcomes else _find(path, "outcomes")
        if out_path is None:
            out_path = path / "outcomes.json" if (path / "outcomes.json").exists() else None
        if out_path is None:
            raise FileNotFoundError(f"{path}: no outcomes.csv/.jsonl/.parquet/.json in this folder")
        resp, cnt = _find(path, "responses"), _find(path, "counts")
        if resp is None and cnt is None:
            raise FileNotFoundError(f"{path}: neither responses.* nor counts.* in this folder")
        table_path = resp or cnt
        kind = "responses" if resp is not None else "counts"
    else:
        if outcomes is None:
            raise ValueError(f"{path}: a single comparisons file needs outcomes=PATH")
        out_path, table_path = Path(outcomes), path
        df_head = read_table(path)
        kind = "responses" if "answer" in df_head.columns else "counts"
    try:
        outs = read_outcomes(out_path)
        validate_outcomes(outs)
    except DataValidationError as exc:  # report the comparisons' own problems too, not only the first file's
        raise DataValidationError(exc.problems + _table_problems(table_path, kind), str(path)) from None
    table = read_table(table_path)
    kwargs = {kind: table}
    return PreferenceData.from_tables(outs, source=str(path), check_connected=check_connected, **kwargs)


def _table_problems(path: Path, kind: str) -> list[str]:
    """Problems of a comparisons table that do not need the outcomes (reading, columns,
    values), for a report that goes on after a bad outcomes file."""
    try:
        table = read_table(path)
        ids = set()
        for col in ("outcome_a", "outcome_b"):
            if col in table.columns:
                ids |= set(table[col].astype(str))
        (validate_responses if kind == "responses" else validate_counts)(table, ids)
    except DataValidationError as exc:
        return exc.problems
    return []
