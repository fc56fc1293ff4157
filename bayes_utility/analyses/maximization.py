r"""Utility maximisation: do a respondent's free-form choices maximise its own utilities?

Each free-form question :math:`q` (e.g. "Which country do you choose?") has candidate
answers :math:`c_{q1}, \dots, c_{qn_q}`, whose utilities are measured by forced choices
between them (one block of outcomes per question: :func:`bayes_utility.data.optionsets.maximization_options`).
The respondent's own free-form answer :math:`a_q` is then compared with the argmax of
its fitted utilities.

Per posterior draw :math:`s`, :math:`m_q^{(s)} = 1[a_q = \arg\max_j U^{(s)}_{qj}]`
(the share of its answers, when a question was answered several times), and the
**maximisation share** is :math:`\bar m^{(s)} = \frac1Q\sum_q m_q^{(s)}`: its interval over
draws carries the uncertainty of each argmax (two near-tied candidates give
:math:`m_q` near 1/2, not a confident 0 or 1). Two intervals are reported:

* ``share``: for these questions (the uncertainty of the utilities only);
* ``share_population``: for questions like these, a Bayesian bootstrap over questions
  (Dirichlet(1, ..., 1) weights per draw) on top, since 30 questions are a sample.

Also the shares of answers among the top 3 and top 5 candidates (the reference method
reports these), chance levels (an answer picked uniformly at random), and per question
P(the answer is the argmax), the answer's rank with its interval, and the most probable
argmax.

The share above is that of *the fitted utilities*: it ignores what the answers
themselves say about the argmax. The respondent's **maximisation rate** :math:`m` (the
probability that a free-form answer is the argmax of its utilities) is estimated by a
choice model over both: an answer is the argmax with probability :math:`m`, otherwise
any of the other :math:`n_q - 1` candidates or an unmatched answer, each with
probability :math:`(1 - m)/n_q`. With :math:`\pi_{qj}` the posterior probability (from
the forced choices) that candidate :math:`j` is the argmax, question :math:`q`'s answers
:math:`a_{q1}, a_{q2}, \dots` have likelihood

.. math::

    L_q(m) = \sum_j \pi_{qj} \prod_i \big[m\,1(a_{qi} = j) + \tfrac{1-m}{n_q}\,1(a_{qi} \ne j)\big],

and :math:`p(m \mid \cdot) \propto \mathrm{Beta}(1, 1) \prod_q L_q(m)` on a grid (the
questions' utilities are a posteriori independent but for shared hyper-parameters).
Given :math:`m`, each answer is the argmax with probability
:math:`\pi_{qa}\,m / L_q(m)`; drawing these gives ``share_joint``, the posterior of the
realised share given the forced choices *and* the answers (tested to recover the
planted share and rate).

Answers are matched to candidates by normalised text (case, spacing, punctuation,
a leading "the"); an answer that names exactly one candidate as a whole word ("I would
choose Japan.") matches it; anything else is *unmatched*, counted as not maximising,
and listed.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .common import _summ, finish_figure, fmt_interval, fmt_iv
from .context import RunContext

_NON_WORD = re.compile(r"[^\w]+")


def _norm(text: str) -> str:
    t = _NON_WORD.sub(" ", str(text).casefold()).strip()
    return t[4:] if t.startswith("the ") else t


def match_answer(answer: str, candidates: list[str]) -> int | None:
    """Index of the candidate a free-form answer names, or None (see module docs)."""
    norm = [_norm(c) for c in candidates]
    a = _norm(answer)
    if a in norm:
        return norm.index(a)
    padded = f" {a} "
    hits = [j for j, c in enumerate(norm) if c and f" {c} " in padded]
    # "South Korea" contains "Korea": drop a hit that is part of another hit's name
    hits = [j for j in hits if not any(k != j and f" {norm[j]} " in f" {norm[k]} " for k in hits)]
    return hits[0] if len(hits) == 1 else None


def questions_of(data) -> pd.DataFrame:
    """Question id, text and candidate outcome ids, from the outcomes' attributes."""
    rows: dict[str, dict] = {}
    for oid, text, attrs in zip(data.outcomes["id"], data.outcomes["text"], data.outcomes["attributes"]):
        if not isinstance(attrs, dict) or "question" not in attrs:
            continue
        q = rows.setdefault(str(attrs["question"]), {"question": str(attrs["question"]),
                                                      "text": attrs.get("question_text", ""), "ids": [],
                                                      "answers": []})
        q["ids"].append(str(oid))
        q["answers"].append(str(attrs.get("answer", text)))
    if not rows:
        raise ValueError(f"{data.source}: no outcome has attributes['question']: build the option set with "
                         "bayes_utility.data.optionsets.maximization_options")
    return pd.DataFrame(list(rows.values()))


def read_answers(path) -> pd.DataFrame:
    """Free-form answers: a table with ``question`` (id or question text) and ``answer``."""
    from ..data.tables import read_table

    df = read_table(path)
    missing = {"question", "answer"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: needs columns question and answer (missing {', '.join(sorted(missing))})")
    return df[["question", "answer"]].astype(str)


def utility_maximization(idata, data, answers: pd.DataFrame, prob: float = 0.94, seed: int = 0,
                         var: str = "utility") -> dict:
    """Maximisation shares with intervals and a per-question table (see module docs)."""
    qs = questions_of(data)
    by_text = {_norm(t): q for q, t in zip(qs["question"], qs["text"]) if t}
    post = idata.posterior[var]
    if "outcome" not in post.dims:
        raise ValueError(f"the fit has no per-outcome {var!r}")
    u_all = post.stack(s=("chain", "draw")).transpose("s", "outcome")
    coord = [str(o) for o in u_all["outcome"].values]
    pos = {o: i for i, o in enumerate(coord)}
    answers = answers.copy()
    answers["qid"] = [q if q in set(qs["question"]) else by_text.get(_norm(q)) for q in answers["question"]]
    unknown = answers.loc[answers["qid"].isna(), "question"].unique().tolist()
    if unknown:
        raise ValueError(f"answers to unknown questions: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
    u = u_all.values
    rows, per_q, top3, top5, chance, chance3, chance5, unmatched = [], [], [], [], [], [], [], []
    argmax_probs, answer_idx = [], []
    for _, q in qs.iterrows():
        given = answers.loc[answers["qid"] == q["question"], "answer"].tolist()
        if not given:
            continue
        missing = [o for o in q["ids"] if o not in pos]
        if missing:
            raise ValueError(f"question {q['question']}: candidates not in the fit: {missing[:5]}")
        uq = u[:, [pos[o] for o in q["ids"]]]  # (draws, candidates)
        rank = (uq[:, :, None] < uq[:, None, :]).sum(axis=2)  # 0 = best, per draw and candidate
        idx = [match_answer(a, q["answers"]) for a in given]
        unmatched += [{"question": q["question"], "answer": a} for a, j in zip(given, idx) if j is None]
        ranks = np.stack([rank[:, j] if j is not None else np.full(len(uq), len(q["ids"])) for j in idx], 1)
        per_q.append((ranks == 0).mean(1))
        top3.append((ranks < 3).mean(1))
        top5.append((ranks < 5).mean(1))
        n = len(q["ids"])
        chance.append(1 / n)
        chance3.append(min(3, n) / n)
        chance5.append(min(5, n) / n)
        best = np.bincount(uq.argmax(1), minlength=n) / len(uq)
        argmax_probs.append(best)
        answer_idx.append(idx)
        first = idx[0]
        r1 = ranks[:, 0] + 1
        rows.append({
            "question": q["question"], "text": q["text"], "n_candidates": n, "n_answers": len(given),
            "answer": given[0], "matched": q["answers"][first] if first is not None else "",
            "p_answer_is_argmax": float(per_q[-1].mean()),
            "answer_rank_median": float(np.median(r1)) if first is not None else np.nan,
            "answer_rank_lo": float(np.quantile(r1, (1 - prob) / 2)) if first is not None else np.nan,
            "answer_rank_hi": float(np.quantile(r1, (1 + prob) / 2)) if first is not None else np.nan,
            "most_probable_argmax": q["answers"][int(best.argmax())], "p_most_probable_argmax": float(best.max()),
        })
    if not per_q:
        raise ValueError("no answer belongs to a question of this dataset")
    rate, joint = maximisation_rate(argmax_probs, answer_idx, n_draws=len(u), seed=seed)
    m, m3, m5 = np.stack(per_q, 1), np.stack(top3, 1), np.stack(top5, 1)  # (draws, questions)
    w = np.random.default_rng(seed).dirichlet(np.ones(m.shape[1]), size=m.shape[0])
    return {
        "n_questions": int(m.shape[1]),
        "n_answers": int(sum(r["n_answers"] for r in rows)),
        "n_unmatched": len(unmatched),
        "share": _summ(m.mean(1), prob),
        "share_population": _summ((w * m).sum(1), prob),
        "share_top3": _summ(m3.mean(1), prob),
        "share_top5": _summ(m5.mean(1), prob),
        "maximisation_rate": _summ(rate, prob),
        "share_joint": _summ(joint, prob),
        "chance": {"share": float(np.mean(chance)), "share_top3": float(np.mean(chance3)),
                   "share_top5": float(np.mean(chance5))},
        "unmatched": unmatched,
        "questions": pd.DataFrame(rows),
    }


def maximisation_rate(argmax_probs: list[np.ndarray], answers: list[list[int | None]], n_draws: int = 4000,
                      seed: int = 0, grid: int = 2001) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the maximisation rate m and of the realised share of answers that are the
    argmax, under the choice model of the module docs (uniform prior on m, grid posterior).
    ``argmax_probs[q][j]``: P(candidate j is question q's argmax | forced choices);
    ``answers[q]``: the candidate index of each answer (None: unmatched)."""
    m = np.linspace(0.0, 1.0, grid)[1:-1]
    log_post = np.zeros_like(m)
    # per question and candidate j: how many of its answers name j (hits) and how many not
    hits = [np.array([sum(a == j for a in idx) for j in range(len(pi))]) for pi, idx in zip(argmax_probs, answers)]
    for pi, idx, h in zip(argmax_probs, answers, hits):
        # L_q(m) = sum_j pi_j prod_i [m 1(a_i = j) + (1 - m)/n 1(a_i != j)]
        n = len(pi)
        lik = (pi[None, :] * m[:, None] ** h[None, :] * ((1 - m[:, None]) / n) ** (len(idx) - h)[None, :]).sum(1)
        log_post += np.log(np.maximum(lik, 1e-300))
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    rng = np.random.default_rng(seed)
    m_draws = rng.choice(m, size=n_draws, p=w)
    shares = np.zeros(n_draws)
    total = 0
    for pi, idx, h in zip(argmax_probs, answers, hits):
        n = len(pi)
        lik_j = pi[None, :] * m_draws[:, None] ** h[None, :] * ((1 - m_draws[:, None]) / n) ** (len(idx) - h)[None, :]
        # the argmax j given m and the answers, then each answer is a hit iff it names j
        post_j = lik_j / lik_j.sum(1, keepdims=True)
        u = rng.random(n_draws)[:, None]
        j = (post_j.cumsum(1) < u).sum(1).clip(max=n - 1)
        shares += h[j]
        total += len(idx)
    return m_draws, shares / total


def maximization_figure(res: dict, path=None):
    """P(answer = argmax) per question, and the share's intervals against chance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = res["questions"].sort_values("p_answer_is_argmax")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, max(3.0, 0.22 * len(q) + 1)), layout="constrained",
                                 gridspec_kw={"width_ratios": [2, 1]})
    a1.barh(range(len(q)), q["p_answer_is_argmax"], color="C0")
    names = [m if isinstance(m, str) and m else f"(unmatched) {a}" for m, a in zip(q["matched"], q["answer"])]
    a1.set_yticks(range(len(q)), [f"{i}: {n[:30]}" for i, n in zip(q["question"], names)], fontsize=7)
    a1.set_xlim(0, 1)
    a1.set_xlabel("posterior P(the free-form answer is the highest-utility candidate)")
    keys = [("share_top5", "top 5"), ("share_top3", "top 3"), ("maximisation_rate", "maximisation rate m"),
            ("share_joint", "argmax, with the answers' evidence"), ("share_population", "argmax, questions resampled"),
            ("share", "argmax of the fitted utilities")]
    for y, (k, label) in enumerate(keys):
        s = res[k]
        a2.plot(s["interval"], [y, y], lw=4, color="C0")
        a2.plot(s["mean"], y, "o", color="k")
        ch = res["chance"][k if k in ("share_top3", "share_top5") else "share"]
        a2.plot([ch], [y], "|", color="C3", ms=14, mew=2, label="chance" if y == 0 else None)
    a2.set_yticks(range(len(keys)), [lab for _, lab in keys])
    a2.set_xlim(0, 1)
    a2.set_xlabel(f"share of questions ({res['share']['interval_prob']:.0%} interval)")
    a2.legend(loc="lower right", fontsize=8)
    return finish_figure(fig, path)


def format_maximization(res: dict) -> str:
    ch = res["chance"]
    lines = [f"utility maximisation over {res['n_questions']} questions ({res['n_answers']} free-form answers, "
             f"{res['n_unmatched']} unmatched):",
             f"  answer = argmax of utilities      {fmt_iv(res['share'])}   (chance {ch['share']:.3f})",
             f"    questions resampled             {fmt_iv(res['share_population'])}",
             f"  with the answers' own evidence    {fmt_iv(res['share_joint'])}",
             f"  maximisation rate m               {fmt_iv(res['maximisation_rate'])}",
             f"  answer among the top 3            {fmt_iv(res['share_top3'])}   (chance {ch['share_top3']:.3f})",
             f"  answer among the top 5            {fmt_iv(res['share_top5'])}   (chance {ch['share_top5']:.3f})"]
    for u in res["unmatched"][:10]:
        lines.append(f"  unmatched: {u['question']}: {u['answer']!r}")
    return "\n".join(lines)


def run_maximization(run: RunContext, answers_path=None, seed: int = 0) -> dict:
    """Maximisation analysis of a run folder; the answers default to the dataset's
    ``free_form.csv``. Writes maximization.json, maximization_questions.csv and .png."""

    run_dir = run.run_dir
    idata, cfg, data = run.idata, run.cfg, run.data
    if answers_path is None:
        answers_path = Path(data.source) / "free_form.csv"
        if not answers_path.exists():
            raise FileNotFoundError(f"no free-form answers given (--answers) and none in {answers_path}")
    res = utility_maximization(idata, data, read_answers(answers_path), prob=cfg.output.hdi_prob, seed=seed)
    res["answers_file"] = str(answers_path)
    table = res.pop("questions")
    (run_dir / "maximization.json").write_text(json.dumps(res, indent=2))
    table.to_csv(run_dir / "maximization_questions.csv", index=False, float_format="%.6g")
    res["questions"] = table
    maximization_figure(res, run_dir / "maximization.png")
    return res


def report_section(doc, c, mx: dict, assets: str, level: int) -> None:
    """The report's utility-maximisation paragraph, table and figure (``mx``: maximization.json)."""
    doc.para(f"Utility maximisation over {mx['n_questions']} free-form questions: the share of the respondent's "
             "own answers that are the highest-utility candidate, per posterior draw (so an uncertain argmax "
             "counts as uncertain), and the maximisation rate of a choice model that also uses what the "
             f"answers say ({mx['share']['interval_prob']:.0%} intervals; {mx['n_unmatched']} answers named no "
             "candidate and count as not maximising).")
    rows = [("answer = argmax of the fitted utilities", "share", "share"),
            ("the same, questions resampled", "share_population", "share"),
            ("realised share, with the answers' evidence", "share_joint", "share"),
            ("maximisation rate m", "maximisation_rate", "share"),
            ("answer among the top 3", "share_top3", "share_top3"),
            ("answer among the top 5", "share_top5", "share_top5")]
    doc.table(pd.DataFrame([{"metric": label, "posterior mean [interval]": fmt_interval(
        mx[k]["mean"], *mx[k]["interval"]), "chance": f"{mx['chance'][ch]:.3f}"} for label, k, ch in rows]))
    img = next((i for i in c.images if i.name == "maximization.png"), None)
    if img is not None:
        doc.image(img, assets)
