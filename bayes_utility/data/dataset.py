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
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from .schema import COUNT_FIELDS, DisconnectedGraphWarning, Exclusion
from .tables import write_table
from .validation import (
    counts_to_responses,
    responses_to_counts,
    validate_counts,
    validate_outcomes,
    validate_responses,
)

logger = logging.getLogger(__name__)


UnparseablePolicy = Literal["half", "exclude"]


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
        are exactly the questions (see :func:`bayes_utility.data.optionsets.maximization_options`)."""
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
