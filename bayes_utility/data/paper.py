"""Import results files of the Utility Engineering reference code.

The reference code writes ``results_*.json`` with ``options`` (``id``,
``description``) and ``graph_data.edges``: a mapping from ``"(id_A, id_B)"`` to an
edge with ``option_A``, ``option_B``, ``probability_A`` and ``aux_data``. When
``aux_data`` keeps the parsed answers of both presentation orders
(``original_parsed``: A shown first; ``flipped_parsed``: B shown first), they are
imported as two ordered rows with exact counts; the raw texts come along as
responses. Otherwise only ``count_A``/``count_B`` are known, pooled over both orders:
they are imported as one row in the stored orientation (a warning says that the
presentation order is then unknown), and must be whole numbers.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import PreferenceData
from .schema import DEFAULT_TEMPLATE, DataValidationError
from .tables import outcomes_from_json, read_json_file

logger = logging.getLogger(__name__)


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _norm_answer(x) -> str:
    return x if x in ("A", "B") else "unparseable"


def import_paper_results(path: str | Path, respondent: str | None = None) -> PreferenceData:
    """Read a reference-code results JSON into :class:`PreferenceData`.

    Parameters
    ----------
    path : path to ``results_*.json``
    respondent : name to record as respondent; defaults to the file's stem.
    """
    path = Path(path)
    src = str(path)
    obj = read_json_file(path)
    if not isinstance(obj, dict) or "graph_data" not in obj:
        raise DataValidationError([f"{src}: no 'graph_data' key: not a results file of the reference code"], src)
    graph = obj["graph_data"]
    if not isinstance(graph, dict):
        raise DataValidationError([f"{src}, field 'graph_data': an object is needed, got {type(graph).__name__}"],
                                  src)
    options = obj.get("options") or graph.get("options")
    if not options:
        raise DataValidationError([f"{src}: no 'options' list"], src)
    outcomes = outcomes_from_json({"options": options}, source=src)
    respondent = respondent or path.stem.removeprefix("results_")
    edges = graph.get("edges", {})
    if not isinstance(edges, dict):
        raise DataValidationError([f"{src}, field 'graph_data.edges': an object mapping '(id_A, id_B)' to edges "
                                   f"is needed, got {type(edges).__name__}"], src)
    if not edges:
        raise DataValidationError([f"{src}: graph_data.edges is empty"], src)
    responses, counts, problems = [], [], []
    pooled = 0
    for key, edge in edges.items():
        try:
            a = str(edge["option_A"]["id"])
            b = str(edge["option_B"]["id"])
        except (KeyError, TypeError):
            problems.append(f"{src}, edge {key}: missing option_A/option_B ids")
            continue
        p = edge.get("probability_A")
        if not _is_number(p) or not np.isfinite(p) or not 0.0 <= p <= 1.0:
            problems.append(f"{src}, edge {key}, field 'probability_A': {p!r} is not a probability in [0, 1]")
        aux = edge.get("aux_data") or {}
        if not isinstance(aux, dict):
            problems.append(f"{src}, edge {key}, field 'aux_data': an object is needed, got {type(aux).__name__}")
            continue
        orig, flip = aux.get("original_parsed"), aux.get("flipped_parsed")
        if orig is not None or flip is not None:
            shapes = [(f, v) for f, v in (("original_parsed", orig), ("flipped_parsed", flip), ("original_responses",
                      aux.get("original_responses")), ("flipped_responses", aux.get("flipped_responses")))
                      if v is not None and not isinstance(v, list)]
            if shapes:
                problems += [f"{src}, edge {key}, field 'aux_data.{f}': a list is needed, got {type(v).__name__}"
                             for f, v in shapes]
                continue
            orig_raw = aux.get("original_responses") or [""] * len(orig or [])
            flip_raw = aux.get("flipped_responses") or [""] * len(flip or [])
            for shown_a, shown_b, parsed, raw in ((a, b, orig or [], orig_raw), (b, a, flip or [], flip_raw)):
                for k, ans in enumerate(parsed):
                    responses.append(
                        {
                            "respondent": respondent,
                            "outcome_a": shown_a,
                            "outcome_b": shown_b,
                            "answer": _norm_answer(ans),
                            "sample_index": k,
                            "prompt_template": DEFAULT_TEMPLATE,
                            "raw_text": "" if k >= len(raw) or raw[k] is None else str(raw[k]),
                        }
                    )
            continue
        ca, cb = aux.get("count_A"), aux.get("count_B")
        if ca is None or cb is None:
            problems.append(f"{src}, edge {key}, field 'aux_data': neither parsed answers nor count_A/count_B")
            continue
        for name, v in (("count_A", ca), ("count_B", cb)):
            if not _is_number(v) or not np.isfinite(v) or v < 0 or v != int(v):
                problems.append(
                    f"{src}, edge {key}, field 'aux_data.{name}': {v!r} is not a whole, non-negative "
                    "count (fractional counts come from the 'distribution' unparseable mode and "
                    "cannot be split back into answers)"
                )
        pooled += 1
        counts.append(
            {"respondent": respondent, "outcome_a": a, "outcome_b": b, "n_a": ca, "n_b": cb,
             "n_unparseable": 0, "prompt_template": DEFAULT_TEMPLATE}
        )
    if problems:
        raise DataValidationError(problems, src)
    if responses and counts:
        raise DataValidationError(
            [f"{src}: mixes edges with parsed answers and edges with only pooled counts"], src
        )
    if counts:
        warnings.warn(
            f"{src}: {pooled} edges carry only counts pooled over both presentation orders; "
            "they are imported in the stored orientation and order bias cannot be estimated",
            UserWarning,
            stacklevel=2,
        )
        table = pd.DataFrame(counts)
        table.attrs["source"] = src
        return PreferenceData.from_tables(outcomes, counts=table, source=src)
    table = pd.DataFrame(responses)
    table.attrs["source"] = src
    logger.info("imported %d answers over %d edges from %s", len(table), len(edges), src)
    return PreferenceData.from_tables(outcomes, responses=table, source=src)
