"""The preference data model.

Everything in bayes_utility speaks one data model, made of three tables.

``outcomes``
    One row per outcome (a state of the world the respondent chooses between).

    ========== ======= ==========================================================
    column     type    meaning
    ========== ======= ==========================================================
    id         str     unique identifier
    text       str     the text shown to the respondent
    category   str     optional grouping (the paper's 30 categories)
    attributes dict    optional free-form attributes (JSON object)
    ========== ======= ==========================================================

``responses`` (raw answers, one row per answer)
    ============== ===== ======================================================
    column         type  meaning
    ============== ===== ======================================================
    respondent     str   who answered (e.g. the LLM's name)
    outcome_a      str   outcome shown as option "A" (first)
    outcome_b      str   outcome shown as option "B" (second)
    answer         str   parsed answer: ``"A"``, ``"B"`` or ``"unparseable"``
    sample_index   int   index of this answer among the K samples of the prompt
    prompt_template str  identifier of the prompt template
    raw_text       str   the respondent's raw text
    ============== ===== ======================================================

``counts`` (answers aggregated per ordered pair, per respondent and template)
    ============== ===== ======================================================
    respondent     str   who answered
    outcome_a      str   outcome shown as "A"
    outcome_b      str   outcome shown as "B"
    n_a            int   answers choosing A
    n_b            int   answers choosing B
    n_unparseable  int   answers that could not be parsed
    prompt_template str  identifier of the prompt template
    ============== ===== ======================================================

Order matters: the row ``(outcome_a=x, outcome_b=y)`` holds the answers to the
prompt that showed ``x`` first. Both presentation orders of a pair are two rows.
Responses convert to counts exactly (:meth:`PreferenceData.to_counts`); counts
convert back to responses without the raw texts (:func:`counts_to_responses`).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from .jsonl import parse_lines

logger = logging.getLogger(__name__)

ANSWERS = ("A", "B", "unparseable")
OUTCOME_COLUMNS = ("id", "text", "category", "attributes")
RESPONSE_COLUMNS = (
    "respondent",
    "outcome_a",
    "outcome_b",
    "answer",
    "sample_index",
    "prompt_template",
    "raw_text",
)
COUNT_COLUMNS = (
    "respondent",
    "outcome_a",
    "outcome_b",
    "n_a",
    "n_b",
    "n_unparseable",
    "prompt_template",
)
COUNT_FIELDS = ("n_a", "n_b", "n_unparseable")
DEFAULT_RESPONDENT = "respondent"
DEFAULT_TEMPLATE = "default"
# Reported utilities have zero mean and unit *sample* sd (ddof = 1) across outcomes, as
# the reference code re-standardises its utilities (torch's unbiased std).
SCALE_DDOF = 1


def standardised(x) -> np.ndarray:
    """``x`` on the reported scale: zero mean, unit sample sd (ddof :data:`SCALE_DDOF`)."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean()
    return x / x.std(ddof=SCALE_DDOF)
UnparseablePolicy = Literal["half", "exclude"]
MAX_REPORTED_PROBLEMS = 50


class DataValidationError(ValueError):
    """Raised when preference data is malformed; lists every problem found.

    Attributes
    ----------
    problems : list of str
        One message per problem, each naming the file, row and field.
    """

    def __init__(self, problems: list[str], source: str = "data"):
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        text = f"{len(self.problems)} problem(s) in {source}:\n  - " + "\n  - ".join(shown)
        if more:
            text += f"\n  ... and {more} more"
        super().__init__(text)


class DisconnectedGraphWarning(UserWarning):
    """The comparison graph has several components: utilities in different
    components are not comparable with each other."""


@dataclass(frozen=True)
class Exclusion:
    """A comparison row that the analysis did not use, and why."""

    row: int
    outcome_a: str
    outcome_b: str
    respondent: str
    reason: str


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
    """JSON Lines, a record per line (:func:`bayes_utility.jsonl.parse_lines`); every bad
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


@dataclass(frozen=True)
class ComparisonArrays:
    """Numeric arrays for a model: one entry per comparison.

    A comparison is an ordered pair (a row of ``counts``), or, with
    ``pool_orders=True``, an unordered pair whose answers from both presentation
    orders (and all rows of the pair) are added up: the sufficient statistic when the
    model has no order bias, and half the work per gradient. ``k_a`` may be
    fractional under the ``half`` unparseable policy.
    """

    idx_a: np.ndarray
    idx_b: np.ndarray
    k_a: np.ndarray
    n: np.ndarray
    n_outcomes: int
    rows: np.ndarray  # for each comparison, its (first) row in PreferenceData.counts
    n_rows: int  # rows of counts behind these comparisons
    pooled: bool = False
    respondent: np.ndarray | None = None  # index into ``respondents`` (when grouped)
    respondents: tuple[str, ...] = ()

    def inputs(self) -> dict:
        """Per-comparison model inputs besides ``idx_a``, ``idx_b``, ``n``."""
        return {} if self.respondent is None else {"respondent": self.respondent}


@dataclass(frozen=True)
class PreferenceData:
    """Outcomes plus comparisons, validated.

    Build it with :meth:`from_tables`, :func:`load_dataset` or the readers; never
    mutate it (every method returns a new object).
    """

    outcomes: pd.DataFrame
    counts: pd.DataFrame
    responses: pd.DataFrame | None = None
    source: str = "data"

    # ---------------------------------------------------------------- builders
    @classmethod
    def from_tables(
        cls,
        outcomes: pd.DataFrame,
        counts: pd.DataFrame | None = None,
        responses: pd.DataFrame | None = None,
        source: str = "data",
        check_connected: bool = True,
    ) -> "PreferenceData":
        """Validate the tables and build the data object.

        Exactly one of ``counts`` and ``responses`` must be given.
        """
        if (counts is None) == (responses is None):
            raise ValueError("give exactly one of counts= or responses=")
        outcomes = validate_outcomes(outcomes)
        ids = outcomes["id"].tolist()
        if responses is not None:
            responses = validate_responses(responses, ids)
            counts = responses_to_counts(responses)
        else:
            counts = validate_counts(counts, ids)
        data = cls(outcomes=outcomes, counts=counts, responses=responses, source=source)
        if check_connected:
            data.check_connected()
        return data

    # ------------------------------------------------------------------ views
    @property
    def outcome_ids(self) -> list[str]:
        return self.outcomes["id"].tolist()

    @property
    def n_outcomes(self) -> int:
        return len(self.outcomes)

    @property
    def respondents(self) -> list[str]:
        return sorted(self.counts["respondent"].unique().tolist())

    @property
    def n_answers(self) -> int:
        """All answers, unparseable ones included."""
        return int(self.counts[list(COUNT_FIELDS)].to_numpy().sum())

    def __repr__(self) -> str:
        return (
            f"PreferenceData({self.n_outcomes} outcomes, {len(self.counts)} ordered pairs, "
            f"{self.n_answers} answers, respondents={self.respondents}, source={self.source!r})"
        )

    def content_hash(self) -> str:
        """SHA-256 of the canonical outcomes and counts tables (provenance)."""
        h = hashlib.sha256()
        h.update(self.outcomes[["id", "text"]].to_csv(index=False).encode())
        canon = self.counts.sort_values(
            ["respondent", "prompt_template", "outcome_a", "outcome_b"]
        ).reset_index(drop=True)
        h.update(canon.to_csv(index=False).encode())
        return h.hexdigest()

    def select(self, respondent: str | None = None, prompt_template: str | None = None) -> "PreferenceData":
        """Keep the comparisons of one respondent and/or template."""
        mask = np.ones(len(self.counts), dtype=bool)
        for col, val in (("respondent", respondent), ("prompt_template", prompt_template)):
            if val is not None:
                have = self.counts[col].unique().tolist()
                if val not in have:
                    raise ValueError(f"{self.source}: no {col} {val!r}; have {sorted(have)}")
                mask &= (self.counts[col] == val).to_numpy()
        resp = self.responses
        if resp is not None:
            rmask = np.ones(len(resp), dtype=bool)
            if respondent is not None:
                rmask &= (resp["respondent"] == respondent).to_numpy()
            if prompt_template is not None:
                rmask &= (resp["prompt_template"] == prompt_template).to_numpy()
            resp = resp[rmask].reset_index(drop=True)
        return replace(self, counts=self.counts[mask].reset_index(drop=True), responses=resp)

    def check_connected(self) -> list[list[str]]:
        """Warn (naming the components) if the comparison graph is disconnected."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        index = {o: i for i, o in enumerate(self.outcome_ids)}
        a = self.counts["outcome_a"].map(index).to_numpy()
        b = self.counts["outcome_b"].map(index).to_numpy()
        n = self.n_outcomes
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        n_comp, labels = connected_components(graph, directed=False)
        comps = [[self.outcome_ids[i] for i in np.flatnonzero(labels == c)] for c in range(n_comp)]
        if n_comp > 1 and self._components_are_questions(labels):
            return comps  # free-form questions' candidates: compared within a question by design
        if n_comp > 1:
            comps.sort(key=len, reverse=True)
            desc = "; ".join(
                f"component {j + 1} ({len(c)} outcomes): {', '.join(c[:8])}{', ...' if len(c) > 8 else ''}"
                for j, c in enumerate(comps[:10])
            )
            import warnings

            warnings.warn(
                f"{self.source}: the comparison graph has {n_comp} disconnected components; "
                f"utilities are only comparable within a component. {desc}",
                DisconnectedGraphWarning,
                stacklevel=2,
            )
        return comps

    def _components_are_questions(self, labels: np.ndarray) -> bool:
        """True when every outcome names its ``question`` (attributes) and the components
        are exactly the questions (see :func:`bayes_utility.optionsets.maximization_options`)."""
        attrs = self.outcomes["attributes"] if "attributes" in self.outcomes else []
        qs = [a.get("question") if isinstance(a, dict) else None for a in attrs]
        if len(qs) != len(labels) or any(q is None for q in qs):
            return False
        pairs = set(zip(qs, labels.tolist()))
        return len(pairs) == len(set(qs)) == len(set(labels.tolist()))

    def to_counts(self) -> pd.DataFrame:
        return self.counts.copy()

    def to_responses(self) -> pd.DataFrame:
        """Raw responses if the data came with them, else expanded from counts."""
        return self.responses.copy() if self.responses is not None else counts_to_responses(self.counts)

    def arrays(
        self,
        unparseable: UnparseablePolicy = "exclude",
        rows: np.ndarray | None = None,
        pool_orders: bool = False,
        group_by: Sequence[str] | None = None,
        respondents: Sequence[str] | None = None,
    ) -> tuple[ComparisonArrays, list[Exclusion]]:
        """Model-ready arrays, applying the unparseable-answer policy.

        Parameters
        ----------
        unparseable : {"exclude", "half"}
            ``"exclude"`` (default): unparseable answers are dropped, ``k_a = n_a``, ``n = n_a + n_b``.
            ``"half"`` (the reference method): each unparseable answer counts as half
            a vote for each side, so ``k_a = n_a + n_u / 2`` and ``n = n_a + n_b + n_u``.
        rows : array of int, optional
            Restrict to these rows of ``counts`` (e.g. the training split).
        pool_orders : bool
            Add up the answers of each unordered pair (see :class:`ComparisonArrays`).
        group_by : list of {"respondent", "prompt_template"}, optional
            Label every comparison with its respondent (for hierarchical models): the
            named columns joined by " | " (e.g. one LLM under one template). Pooling
            then adds up answers within a respondent only.
        respondents : list of str, optional
            The respondents' order (default: :meth:`respondent_labels` of all rows, so a
            held-out split is indexed like its training split).

        Returns
        -------
        arrays, exclusions
            Rows left with no answers are excluded and reported, never silently dropped.
        """
        if unparseable not in ("half", "exclude"):
            raise ValueError(f"unparseable policy must be 'half' or 'exclude', not {unparseable!r}")
        c = self.counts if rows is None else self.counts.iloc[rows]
        pos = np.arange(len(self.counts)) if rows is None else np.asarray(rows)
        n_a = c["n_a"].to_numpy(float)
        n_b = c["n_b"].to_numpy(float)
        n_u = c["n_unparseable"].to_numpy(float)
        if unparseable == "half":
            k, n = n_a + 0.5 * n_u, n_a + n_b + n_u
        else:
            k, n = n_a, n_a + n_b
        keep = n > 0
        exclusions = [
            Exclusion(
                row=int(p),
                outcome_a=rec.outcome_a,
                outcome_b=rec.outcome_b,
                respondent=rec.respondent,
                reason="no answers" if rec.n_unparseable == 0 else "only unparseable answers (policy 'exclude')",
            )
            for p, rec, kept in zip(pos, c.itertuples(index=False), keep)
            if not kept
        ]
        for e in exclusions[:20]:
            logger.warning(
                "excluded comparison row %d (%s vs %s, %s): %s",
                e.row, e.outcome_a, e.outcome_b, e.respondent, e.reason,
            )
        if len(exclusions) > 20:
            logger.warning("... %d more comparison rows excluded", len(exclusions) - 20)
        index = {o: i for i, o in enumerate(self.outcome_ids)}
        ia = c["outcome_a"].map(index).to_numpy(np.int32)[keep]
        ib = c["outcome_b"].map(index).to_numpy(np.int32)[keep]
        k, n, pos = k[keep], n[keep], pos[keep]
        group, names = None, ()
        if group_by:
            names = tuple(respondents) if respondents is not None else tuple(self.respondent_labels(group_by))
            labels = _group_labels(c, group_by)[keep]
            lookup = {r: i for i, r in enumerate(names)}
            unknown = sorted(set(labels) - set(lookup))
            if unknown:
                raise ValueError(f"{self.source}: respondents {unknown} are not among {list(names)}")
            group = np.array([lookup[r] for r in labels], dtype=np.int32)
        if pool_orders and len(ia):
            lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
            key = lo.astype(np.int64) * self.n_outcomes + hi
            if group is not None:
                key = key + group.astype(np.int64) * self.n_outcomes**2
            uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
            k_lo = np.where(ia == lo, k, n - k)  # answers for the lower-index outcome
            arr = ComparisonArrays(
                idx_a=lo[first], idx_b=hi[first],
                k_a=np.bincount(inv, weights=k_lo), n=np.bincount(inv, weights=n),
                n_outcomes=self.n_outcomes, rows=pos[first], n_rows=int(len(pos)), pooled=True,
                respondent=None if group is None else group[first], respondents=names,
            )
        else:
            arr = ComparisonArrays(idx_a=ia, idx_b=ib, k_a=k, n=n, n_outcomes=self.n_outcomes,
                                   rows=pos, n_rows=int(len(pos)), respondent=group, respondents=names)
        return arr, exclusions

    def respondent_labels(self, group_by: Sequence[str] = ("respondent",)) -> list[str]:
        """The distinct respondents (sorted) when respondents are told apart by ``group_by``."""
        return sorted(set(_group_labels(self.counts, group_by)))

    # --------------------------------------------------------------------- io
    def write(self, directory: str | Path, fmt: str = "csv") -> Path:
        """Write ``outcomes.<fmt>`` and ``counts.<fmt>`` (and ``responses.<fmt>``)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_table(self.outcomes, directory / f"outcomes.{fmt}")
        write_table(self.counts, directory / f"counts.{fmt}")
        if self.responses is not None:
            write_table(self.responses, directory / f"responses.{fmt}")
        return directory


def _group_labels(counts: pd.DataFrame, group_by: Sequence[str]) -> np.ndarray:
    bad = [g for g in group_by if g not in ("respondent", "prompt_template")]
    if bad:
        raise ValueError(f"group_by takes 'respondent' and/or 'prompt_template', not {bad}")
    cols = [counts[g].astype(str).to_numpy() for g in group_by]
    out = cols[0]
    for col in cols[1:]:
        out = np.char.add(np.char.add(out.astype(str), " | "), col.astype(str))
    return np.asarray(out, dtype=object)


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
    code (see :func:`bayes_utility.io_paper.import_paper_results`).
    """
    if str(path).startswith("builtin:"):
        from .datasets import path as builtin_path

        path = builtin_path(str(path)[len("builtin:"):])
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.is_file() and path.suffix.lower() == ".json":
        from .io_paper import import_paper_results

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
