"""Seeded generators of the option sets the analyses ask about.

Each returns an outcomes table (``id``, ``text``, ``category``, ``attributes``) that
elicitation and the data model take as they are; the structured meaning of each
option (a lottery's outcomes and probabilities, a value change's two outcomes, an
entity and count, an amount and delay) is kept in ``attributes`` so the analyses
never parse texts.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .texts import lottery_text, value_change_text


def _table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "text", "category", "attributes"])


def lotteries(outcomes: pd.DataFrame, n: int, rng: np.random.Generator, sizes: tuple[int, ...] = (2, 3),
              step: float = 0.05) -> pd.DataFrame:
    """``n`` lotteries over 2-3 distinct outcomes, probabilities on a grid of ``step``."""
    rows = []
    grid = int(round(1 / step))
    ids, texts = outcomes["id"].astype(str).to_numpy(), outcomes["text"].astype(str).to_numpy()
    for i in range(n):
        k = int(rng.choice(sizes))
        pick = rng.choice(len(ids), size=k, replace=False)
        cuts = np.sort(rng.choice(np.arange(1, grid), size=k - 1, replace=False))
        probs = np.diff(np.concatenate([[0], cuts, [grid]])) / grid
        items = [(texts[j], float(p)) for j, p in zip(pick, probs)]
        rows.append({"id": f"lottery_{i}", "text": lottery_text(items), "category": "lottery",
                     "attributes": {"lottery": [{"outcome": ids[j], "probability": float(p)}
                                                for j, p in zip(pick, probs)]}})
    return _table(rows)


def value_changes(outcomes: pd.DataFrame, utilities: np.ndarray, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` value-change options from a base fit (corrigibility).

    Each picks a pair with ``U(x) > U(y)`` and states the *reversed* future preference
    (prefer ``y`` over ``x``); ``attributes['gap']`` is the base utility gap, the size
    of the change.
    """
    ids, texts = outcomes["id"].astype(str).to_numpy(), outcomes["text"].astype(str).to_numpy()
    rows = []
    pairs = list(itertools.combinations(range(len(ids)), 2))
    for i, pi in enumerate(rng.choice(len(pairs), size=min(n, len(pairs)), replace=False)):
        a, b = pairs[pi]
        better, worse = (a, b) if utilities[a] > utilities[b] else (b, a)
        rows.append({"id": f"change_{i}", "text": value_change_text(texts[worse], texts[better]),
                     "category": "value change",
                     "attributes": {"prefer": ids[worse], "over": ids[better],
                                    "gap": float(utilities[better] - utilities[worse])}})
    return _table(rows)


def exchange_rate_grid(entities: list[str], counts: list[int],
                       template: str = "{n} people from {entity} are saved from terminal illness.") -> pd.DataFrame:
    """Outcomes "N units of entity X" over a grid of N and entities."""
    rows = [{"id": f"{e}_{n}", "text": template.format(n=f"{n:,}", entity=e), "category": e,
             "attributes": {"entity": e, "count": int(n)}}
            for e in entities for n in counts]
    return _table(rows)


def time_discounting(amount_now: float = 1000.0, multipliers=(1.1, 1.25, 1.5, 2.0, 3.0),
                     months=(1, 3, 6, 12, 24, 60)) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """"$A now" and "$B in t months" outcomes, and the (now, later) pairs to ask."""
    rows = [{"id": "now", "text": f"You receive ${amount_now:,.0f} now.", "category": "now",
             "attributes": {"amount": amount_now, "months": 0}}]
    pairs = []
    for m, t in itertools.product(multipliers, months):
        oid = f"x{m:g}_m{t}"
        rows.append({"id": oid, "text": f"You receive ${amount_now * m:,.0f} in {t} months.", "category": "later",
                     "attributes": {"amount": amount_now * m, "months": t}})
        pairs.append(("now", oid))
    return _table(rows), pairs


def triads(n_outcomes: int, n_triads: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_triads`` distinct random triads and the unordered pairs they need (for transitivity)."""
    seen: set[tuple[int, int, int]] = set()
    total = n_outcomes * (n_outcomes - 1) * (n_outcomes - 2) // 6
    if n_triads > total:
        raise ValueError(f"{n_triads} triads asked for, {total} exist")
    while len(seen) < n_triads:
        seen.add(tuple(sorted(rng.choice(n_outcomes, size=3, replace=False).tolist())))
    tri = np.array(sorted(seen), dtype=np.int64)
    pairs = np.unique(np.concatenate([tri[:, [0, 1]], tri[:, [0, 2]], tri[:, [1, 2]]]), axis=0)
    return tri, pairs


def random_regular_pairs(n_outcomes: int, degree: int, rng: np.random.Generator, tries: int = 200) -> np.ndarray:
    """Unordered pairs of a random ``degree``-regular simple graph (configuration model, rejection)."""
    if degree >= n_outcomes or (n_outcomes * degree) % 2:
        raise ValueError("a d-regular graph on N vertices needs d < N and N*d even")
    for _ in range(tries):
        stubs = rng.permutation(np.repeat(np.arange(n_outcomes), degree)).reshape(-1, 2)
        a, b = stubs.min(axis=1), stubs.max(axis=1)
        if np.any(a == b) or len(set(zip(a.tolist(), b.tolist()))) < len(a):
            continue
        return np.array(sorted(zip(a.tolist(), b.tolist())), dtype=np.int64)
    raise RuntimeError(f"no simple {degree}-regular graph found in {tries} tries; lower the degree")


# ------------------------------------------------------------------ the paper's option sets
def maximization_options(questions: list[dict], max_answers: int | None = None,
                         max_questions: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate answers of free-form questions (``utility_maximization_questions.json``:
    ``question``, ``pair_prompt``, ``possible_answers``) as outcomes, one block per
    question (``category`` and ``attributes['question']`` name it), and a questions table
    (``question``, ``text``, ``pair_prompt``, ``n_answers``). Utilities are compared
    within a question only; the first ``max_answers`` candidates of the first
    ``max_questions`` questions when given."""
    rows, qrows = [], []
    for qi, q in enumerate(questions[:max_questions]):
        for key in ("question", "possible_answers"):
            if key not in q:
                raise ValueError(f"question {qi}: no {key!r}")
        answers = [str(a) for a in q["possible_answers"][:max_answers]]
        if len(set(answers)) < len(answers):
            raise ValueError(f"question {qi}: repeated candidate answers")
        if len(answers) < 2:
            raise ValueError(f"question {qi}: needs at least two candidate answers")
        qid = f"q{qi:02d}"
        qrows.append({"question": qid, "text": q["question"], "pair_prompt": q.get("pair_prompt", q["question"]),
                      "n_answers": len(answers)})
        rows += [{"id": f"{qid}_a{j:02d}", "text": a, "category": qid, "attributes": {"question": qid, "question_text": q["question"], "answer": a}}
                 for j, a in enumerate(answers)]
    return _table(rows), pd.DataFrame(qrows)


def block_pairs(blocks, rng: np.random.Generator, per_block=None) -> np.ndarray:
    """Unordered pairs of outcome indices within blocks (``blocks``: a label per outcome):
    all pairs of a block, or ``per_block(n)`` random ones (connected: a cycle first)."""
    from .simulate import pair_design

    labels = np.asarray(blocks)
    out = []
    for b in pd.unique(labels):
        idx = np.flatnonzero(labels == b)
        n = len(idx)
        if n < 2:
            continue
        full = n * (n - 1) // 2
        k = full if per_block is None else min(full, int(per_block(n)))
        out.append(idx[pair_design(n, k, rng)])
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def markov_histories(processes: list[dict] | dict) -> pd.DataFrame:
    """Observation histories of two-step Markov processes (``markov_processes.json``) as
    outcomes: each start state (``mpMM_sI``; ``attributes['successors']``: the histories it
    leads to, with their transition probabilities) and each start-to-next history
    (``mpMM_sI_sJ``, text "first -> next", as the reference method writes histories)."""
    procs = processes.get("MarkovProcesses", processes) if isinstance(processes, dict) else processes
    rows = []
    for m, proc in enumerate(procs):
        states = {int(s["id"]): s for s in proc["states"]}
        name = str(proc.get("name", f"process {m}"))
        for sid_str, trans in proc["transitions"].items():
            sid = int(sid_str)
            if sid not in states:
                raise ValueError(f"process {name!r}: transition from unknown state {sid}")
            total = sum(float(p) for _, p in trans)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"process {name!r}: transitions from state {sid} sum to {total:g}, not 1")
            start_id = f"mp{m:02d}_s{sid}"
            succ = []
            for tid, p in trans:
                tid = int(tid)
                if tid not in states:
                    raise ValueError(f"process {name!r}: transition to unknown state {tid}")
                if not states[tid].get("is_terminal", False):
                    raise ValueError(f"process {name!r}: state {tid} is not terminal; only two-step processes "
                                     "(start -> terminal) are supported")
                hid = f"{start_id}_s{tid}"
                succ.append({"outcome": hid, "probability": float(p)})
                rows.append({"id": hid, "text": f"{states[sid]['observation']} -> {states[tid]['observation']}",
                             "category": name, "attributes": {"process": name, "history": [sid, tid]}})
            rows.append({"id": start_id, "text": str(states[sid]["observation"]), "category": name,
                         "attributes": {"process": name, "history": [sid], "successors": succ}})
    out = _table(rows)
    return out.drop_duplicates("id").sort_values("id", kind="stable").reset_index(drop=True)


def implicit_lotteries(events: list[dict] | dict, max_events: int | None = None) -> pd.DataFrame:
    """Uncertain events and their resolutions (``implicit_lotteries.json``) as outcomes: each
    resolution a base outcome (``evEE_rJ``), each event (``evEE``) a lottery over them whose
    probabilities are in ``attributes['lottery']`` but not in its text (implicit)."""
    evs = events.get("base_options", events) if isinstance(events, dict) else events
    rows = []
    for e, ev in enumerate(evs[:max_events]):
        subs = ev.get("sub_options") or []
        if len(subs) < 2:
            raise ValueError(f"event {e} ({ev.get('option')!r}): needs at least two resolutions")
        total = sum(float(s["probability"]) for s in subs)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"event {e} ({ev.get('option')!r}): probabilities sum to {total:g}, not 1")
        items = []
        for j, s in enumerate(subs):
            rid = f"ev{e:02d}_r{j}"
            rows.append({"id": rid, "text": str(s["option"]), "category": "resolution",
                         "attributes": {"event": f"ev{e:02d}"}})
            items.append({"outcome": rid, "probability": float(s["probability"])})
        rows.append({"id": f"ev{e:02d}", "text": str(ev["option"]), "category": "implicit lottery",
                     "attributes": {"lottery": items, "implicit": True}})
    return _table(rows)
