"""Tables on disk: CSV, JSON, JSON Lines and Parquet read and written with errors that name the file,
line and column.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .jsonl import parse_lines
from .schema import OUTCOME_COLUMNS, DataValidationError

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- io
def _format_of(path: Path) -> str:
    suffixes = "".join(path.suffixes[-2:]).lower()
    for fmt, ends in (
        ("csv", (".csv", ".csv.gz")),
        ("jsonl", (".jsonl", ".ndjson", ".jsonl.gz")),
        ("parquet", (".parquet", ".pq")),
        ("json", (".json",)),
    ):
        if any(suffixes.endswith(e) for e in ends):
            return fmt
    raise ValueError(
        f"{path}: unknown file format {path.suffix!r}; use .csv, .jsonl or .parquet"
    )


def read_json_file(path: str | Path):
    """A JSON file's content; a file that is not JSON (or nests too deeply to read) raises
    :class:`DataValidationError` naming the file, line and column."""
    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataValidationError([f"{src}: not UTF-8 text ({exc.reason} at byte {exc.start})"], src) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataValidationError([f"{src}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"],
                                  src) from None
    except RecursionError:
        raise DataValidationError([f"{src}: JSON nested too deeply to read"], src) from None


MAX_JSONL_PROBLEMS = 20  # bad lines listed before the rest are counted


def _read_jsonl_table(path: Path) -> pd.DataFrame:
    """JSON Lines, a record per line (:func:`bayes_utility.data.jsonl.parse_lines`); every bad
    line named with its number."""
    import gzip

    src = str(path)
    data = gzip.decompress(path.read_bytes()) if path.suffix.lower() == ".gz" else path.read_bytes()
    records, problems, bad = [], [], 0
    for number, rec, why in parse_lines(data):
        if why is None:
            records.append(rec)
            continue
        bad += 1
        if len(problems) < MAX_JSONL_PROBLEMS:
            problems.append(f"{src}, line {number}: {why}")
    if bad > len(problems):
        problems.append(f"{src}: {bad - len(problems)} more bad lines")
    if problems:
        raise DataValidationError(problems, src)
    return pd.DataFrame.from_records(records)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, JSON Lines or Parquet table; the format is taken from the suffix. A file
    that cannot be read as its format raises :class:`DataValidationError` naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    fmt = _format_of(path)
    src = str(path)
    try:
        if fmt == "csv":
            # keep_default_na=False: an empty raw text is an empty string, not NaN.
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
        elif fmt == "jsonl":
            df = _read_jsonl_table(path)
        elif fmt == "parquet":
            df = pd.read_parquet(path)
        else:
            raise ValueError(f"{path}: plain .json is not a table format; use .jsonl")
    except UnicodeDecodeError as exc:
        raise DataValidationError([f"{src}: not UTF-8 text ({exc.reason} at byte {exc.start})"], src) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError([f"{src}: the file is empty (a header row is needed)"], src) from None
    except pd.errors.ParserError as exc:
        raise DataValidationError([f"{src}: not a readable CSV table ({str(exc).strip()})"], src) from None
    except (OSError, TypeError, ImportError) as exc:  # pyarrow: ArrowInvalid is an OSError/ValueError subclass
        raise DataValidationError([f"{src}: cannot read it as {fmt} ({str(exc).splitlines()[0]})"], src) from None
    except ValueError as exc:
        if fmt != "parquet":
            raise
        raise DataValidationError([f"{src}: cannot read it as parquet ({str(exc).splitlines()[0]})"], src) from None
    df.attrs["source"] = str(path)
    df.attrs["format"] = fmt
    return df


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV, JSON Lines or Parquet (format from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = _format_of(path)
    out = df.copy()
    if "attributes" in out.columns and fmt in ("csv", "parquet"):
        out["attributes"] = [
            "" if a is None or (isinstance(a, float) and np.isnan(a)) else json.dumps(a, sort_keys=True)
            for a in out["attributes"]
        ]
    if fmt == "csv":
        out.to_csv(path, index=False)
    elif fmt == "jsonl":
        out.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "parquet":
        out.to_parquet(path, index=False)
    else:
        raise ValueError(f"{path}: cannot write plain .json tables; use .jsonl")
    return path


def _find(directory: Path, stem: str) -> Path | None:
    for ext in ("csv", "jsonl", "parquet", "csv.gz", "jsonl.gz"):
        p = directory / f"{stem}.{ext}"
        if p.exists():
            return p
    return None


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """Read outcomes from a table, or from the paper's JSON formats.

    Accepts ``{category: [text, ...]}`` (options_hierarchical.json), a list of texts,
    or ``{"options": [{"id": ..., "description": ...}]}`` (the reference code's results).
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        return outcomes_from_json(read_json_file(path), source=str(path))
    df = read_table(path)
    return df


def outcomes_from_json(obj, source: str = "outcomes.json") -> pd.DataFrame:
    """Outcomes from the paper's JSON shapes; ids are the flattened positions."""
    if isinstance(obj, dict) and "options" in obj:
        options = obj["options"]
        if not isinstance(options, list):
            raise DataValidationError([f"{source}, field 'options': a list of {{id, description}} objects is "
                                       f"needed, got {type(options).__name__}"], source)
        rows, problems = [], []
        for i, o in enumerate(options):
            if not isinstance(o, dict) or "id" not in o or "description" not in o:
                problems.append(f"{source}, options[{i}]: an object with 'id' and 'description' is needed, got "
                                f"{str(o)[:60]!r}")
            elif isinstance(o["id"], (dict, list)) or not isinstance(o["description"], str):
                problems.append(f"{source}, options[{i}]: 'id' must be a number or string and 'description' a "
                                "string")
            else:
                rows.append({"id": str(o["id"]), "text": o["description"], "category": o.get("category"),
                             "attributes": None})
        if problems:
            raise DataValidationError(problems, source)
    elif isinstance(obj, dict):
        rows = []
        for cat, texts in obj.items():
            if not isinstance(texts, list):
                raise DataValidationError(
                    [f"{source}: category {cat!r} should map to a list of outcome texts, got {type(texts).__name__}"],
                    source,
                )
            for t in texts:
                rows.append({"id": str(len(rows)), "text": t, "category": cat, "attributes": None})
    elif isinstance(obj, list):
        rows = [{"id": str(i), "text": t, "category": None, "attributes": None} for i, t in enumerate(obj)]
    else:
        raise DataValidationError([f"{source}: expected a JSON object or list of outcomes"], source)
    df = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    df.attrs["source"] = source
    return df
