r"""Transitivity of preferences in triads, from the answers and under the fit.

For a triad of outcomes :math:`\{a, b, c\}` whose three pairs were all asked (of the same
respondent), with :math:`p_{xy}` the probability that the respondent prefers :math:`x`
to :math:`y` (both presentation orders pooled, so a position bias cancels to first
order), the **cycle probability** is the chance that one answer drawn per pair forms a
cycle,

.. math::

    P_\circlearrowleft = p_{ab}\,p_{bc}\,p_{ca} + p_{ba}\,p_{cb}\,p_{ac},

averaged over triads. It is computed three ways, each with an interval where it has one:

* **empirical**: :math:`p_{xy}` the observed share of answers, which makes the estimate
  unbiased (the pairs of a triad are answered independently); its interval from a
  parametric bootstrap of the answers (Binomial(n, k/n) per pair): the uncertainty of
  having finitely many answers;
* **model** (posterior predictive): :math:`p_{xy}` from the fitted model, per posterior
  draw. A Thurstonian or Bradley-Terry respondent has utilities, so its cycles come from
  noise only; an empirical rate clearly above the model's says the answers are less
  transitive than any utility function explains;
* **magnitude-only null**: a responder that prefers the option whose text states the
  larger number, ignoring meaning (a coin flip when a text has no number or both are
  equal); a fixed responder, so a single number.

The **majority-cycle share** (the share of triads whose majority preferences, :math:`p >
1/2`, form a cycle) is reported beside it, empirical and model, each per draw. A utility
model never has one (:math:`p_{xy} > 1/2` iff :math:`U(x) > U(y)`); with finitely many
answers the data have a few even from a transitive respondent (the majority of a near-tie
flips), so compare the empirical share with that of data simulated from the fit, not
with zero.

Per triad (``transitivity_triads.csv``), the empirical and model cycle probabilities with
their intervals, and their difference: a triad whose empirical interval lies above the
model's is less transitive than the fitted utilities allow (tested on planted cycles).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import _summ, finish_figure, fmt_interval
from .context import RunContext

_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion|trillion)?", re.I)


_SCALE = {None: 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def first_number(text: str) -> float | None:
    """The first number a text states ("$1,000" -> 1000.0, "2 million" -> 2e6), or None."""
    m = _NUMBER.search(str(text))
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return value * _SCALE[(m.group(2) or "").lower() or None]


@dataclass(frozen=True)
class Triads:
    """Triads of one dataset: per triad, its respondent index and three pair indices
    into the pair table, and whether each pair is stored in the triad's orientation."""

    pairs: pd.DataFrame  # respondent, lo, hi (outcome indices), k_lo, n
    index: np.ndarray  # (T, 3): rows of ``pairs`` for (a, b), (b, c), (a, c) with a < b < c
    respondent: np.ndarray  # (T,)


def pair_table(data, unparseable: str = "exclude", group_by=("respondent",)) -> pd.DataFrame:
    """Answers per unordered pair and respondent, both orders (and templates) pooled: the
    data's own pooled arrays (``lo`` < ``hi``, ``k_lo`` answers for ``lo``) as a table."""
    arr, _ = data.arrays(unparseable, pool_orders=True, group_by=list(group_by))
    out = pd.DataFrame({"respondent": arr.respondent, "lo": arr.idx_a, "hi": arr.idx_b, "k_lo": arr.k_a, "n": arr.n})
    out.attrs["respondents"] = arr.respondents
    return out


def find_triads(pairs: pd.DataFrame, max_triads: int | None = 5000,
                rng: np.random.Generator | None = None) -> Triads:
    """Every triad whose three pairs are in ``pairs`` (per respondent); a random subset of
    ``max_triads`` when there are more."""
    rng = rng or np.random.default_rng(0)
    found, resp = [], []
    for r, sub in pairs.groupby("respondent", sort=True):
        pos = {(int(a), int(b)): int(i) for i, a, b in zip(sub.index, sub["lo"], sub["hi"])}
        nbrs: dict[int, set[int]] = {}
        for a, b in pos:
            nbrs.setdefault(a, set()).add(b)
            nbrs.setdefault(b, set()).add(a)
        for (a, b), i_ab in pos.items():
            for c in nbrs[a] & nbrs[b]:
                if c > b:
                    found.append((i_ab, pos[(b, c)], pos[(a, c)]))
                    resp.append(r)
    index = np.array(found, dtype=np.int64).reshape(-1, 3)
    resp = np.array(resp, dtype=np.int64)
    if max_triads is not None and len(index) > max_triads:
        keep = np.sort(rng.choice(len(index), size=max_triads, replace=False))
        index, resp = index[keep], resp[keep]
    return Triads(pairs=pairs, index=index, respondent=resp)


def cycle_probability(p_ab, p_bc, p_ac):
    """P(one answer per pair forms a cycle), with p_xy = P(x over y), x < y (broadcasts)."""
    p_ca = 1.0 - p_ac
    return p_ab * p_bc * p_ca + (1.0 - p_ab) * (1.0 - p_bc) * (1.0 - p_ca)


def majority_cycle(p_ab, p_bc, p_ac):
    """1 where the majority preferences of a triad form a cycle (ties count as no cycle)."""
    return (((p_ab > 0.5) & (p_bc > 0.5) & (p_ac < 0.5)) | ((p_ab < 0.5) & (p_bc < 0.5) & (p_ac > 0.5))
            ).astype(float)


def _triad_stats(p: np.ndarray, tri: Triads) -> tuple[np.ndarray, np.ndarray]:
    """Mean cycle probability and majority-cycle share over triads; ``p`` is (draws, pairs)."""
    ab, bc, ac = (p[..., tri.index[:, j]] for j in range(3))
    return cycle_probability(ab, bc, ac).mean(axis=-1), majority_cycle(ab, bc, ac).mean(axis=-1)


def empirical_pair_draws(pairs: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, pairs) of the share of answers preferring the lower-index outcome, answers
    resampled per pair (parametric bootstrap: Binomial(n, k/n) / n). The observed shares
    are unbiased for each pair's preference probability, and the three pairs of a triad
    are answered independently, so the cycle probability computed from them is unbiased
    too (a per-pair Beta posterior would pull near-certain pairs towards 1/2 and inflate
    it)."""
    k, n = pairs["k_lo"].to_numpy(float), pairs["n"].to_numpy(float)
    n_int = np.maximum(np.round(n).astype(np.int64), 1)
    return rng.binomial(n_int, np.clip(k / np.maximum(n, 1e-12), 0.0, 1.0), size=(draws, len(k))) / n_int


def model_pair_draws(idata, pairs: pd.DataFrame, max_draws: int = 1000) -> np.ndarray:
    """(draws, pairs) of P(lower-index outcome preferred) under the fitted model: the mean
    of the two presentation orders, so a modelled order bias cancels to first order."""
    import jax.numpy as jnp

    from ..inference.pointwise import SCORE_PARAMS
    from ..inference.pointwise import score_params as _score_params
    from ..models import get_model
    from ..models.likelihood import cdf

    post = idata.posterior
    mod = get_model(post.attrs["model"])
    flat = post.stack(sample=("chain", "draw"))
    n_s = flat.sizes["sample"]
    take = np.linspace(0, n_s - 1, min(max_draws, n_s)).astype(int)
    params = _score_params({k: np.moveaxis(np.asarray(flat[k].values), -1, 0)[take]
                            for k in SCORE_PARAMS if k in flat})
    lo, hi = jnp.asarray(pairs["lo"].to_numpy()), jnp.asarray(pairs["hi"].to_numpy())
    inputs = {"respondent": jnp.asarray(pairs["respondent"].to_numpy())} if "mu_resp" in params else {}
    bias = bool(post.attrs.get("order_bias", 0))
    first = cdf(mod.latent_score(params, lo, hi, bias, **inputs), mod.LINK)
    second = cdf(mod.latent_score(params, hi, lo, bias, **inputs), mod.LINK)
    return np.asarray(0.5 * (first + 1.0 - second), dtype=float)


def magnitude_null(pairs: pd.DataFrame, texts: list[str]) -> np.ndarray:
    """P(lower-index outcome preferred) for the magnitude-only responder, per pair."""
    nums = [first_number(t) for t in texts]
    out = np.full(len(pairs), 0.5)
    for j, (a, b) in enumerate(zip(pairs["lo"].to_numpy(), pairs["hi"].to_numpy())):
        x, y = nums[a], nums[b]
        if x is not None and y is not None and x != y:
            out[j] = 1.0 if x > y else 0.0
    return out


def _per_triad(p: np.ndarray, tri: Triads, data, prob: float, table: pd.DataFrame | None = None,
               label: str = "empirical") -> pd.DataFrame:
    """Cycle probability of every triad (mean and equal-tailed interval over draws); with the
    model's too, ``excess`` = empirical minus model mean (the least transitive triads first)."""
    cyc = cycle_probability(*(p[:, tri.index[:, j]] for j in range(3)))  # (draws, triads)
    q = np.quantile(cyc, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    if table is None:
        ids = np.asarray(data.outcome_ids, dtype=str)
        pr = tri.pairs
        a = pr["lo"].to_numpy()[tri.index[:, 0]]
        b = pr["hi"].to_numpy()[tri.index[:, 0]]
        c = pr["hi"].to_numpy()[tri.index[:, 1]]
        names = list(pr.attrs.get("respondents", ())) or ["respondent"]
        table = pd.DataFrame({"respondent": [names[r] for r in tri.respondent], "a": ids[a], "b": ids[b], "c": ids[c]})
    table = table.copy()
    table[f"{label}_mean"], table[f"{label}_lo"], table[f"{label}_hi"] = cyc.mean(axis=0), q[0], q[1]
    if label == "model":
        table["excess"] = table["empirical_mean"] - table["model_mean"]
    return table


def transitivity(data, idata=None, *, unparseable: str = "exclude", max_triads: int | None = 5000,
                 draws: int = 2000, prob: float = 0.94, seed: int = 0) -> dict:
    """Cycle probability and majority-cycle share: empirical, model (if ``idata``), null."""
    rng = np.random.default_rng(seed)
    group_by = ("respondent",)
    if idata is not None and "respondent" in idata.posterior.coords:
        group_by = tuple(str(idata.posterior.attrs.get("group_by", "respondent")).split(" + "))
    pairs = pair_table(data, unparseable, group_by)
    tri = find_triads(pairs, max_triads, rng)
    if len(tri.index) == 0:
        raise ValueError(f"{data.source}: no triad has all three of its pairs asked; elicit triads "
                         "(bayes_utility.data.optionsets.triads) to measure transitivity")
    emp_p = empirical_pair_draws(pairs, draws, rng)
    emp_cycle, emp_major = _triad_stats(emp_p, tri)
    k, n = pairs["k_lo"].to_numpy(float), pairs["n"].to_numpy(float)
    observed_cycle, observed_major = _triad_stats((k / np.maximum(n, 1e-12))[None, :], tri)
    null_cycle, null_major = _triad_stats(magnitude_null(pairs, data.outcomes["text"].tolist())[None, :], tri)
    n_numbers = sum(first_number(t) is not None for t in data.outcomes["text"])
    out = {
        "n_triads": int(len(tri.index)),
        "n_pairs": int(len(pairs)),
        "answers_per_pair_median": float(np.median(pairs["n"])),
        "unparseable_policy": unparseable,
        "cycle_probability": {"empirical": {**_summ(emp_cycle, prob), "observed": float(observed_cycle[0])},
                              "magnitude_only_null": float(null_cycle[0])},
        "majority_cycle_share": {"empirical": {**_summ(emp_major, prob), "observed": float(observed_major[0])},
                                 "magnitude_only_null": float(null_major[0])},
        "outcomes_stating_a_number": int(n_numbers),
    }
    per_triad = _per_triad(emp_p, tri, data, prob)
    if idata is not None:
        model_p = model_pair_draws(idata, pairs)
        m_cycle, m_major = _triad_stats(model_p, tri)
        per_triad = _per_triad(model_p, tri, data, prob, per_triad, "model")
        out["cycle_probability"]["model"] = _summ(m_cycle, prob)
        out["majority_cycle_share"]["model"] = _summ(m_major, prob)
        out["model"] = idata.posterior.attrs.get("model", "")
    out["triads"] = per_triad.sort_values(
        "excess" if "excess" in per_triad else "empirical_mean", ascending=False).reset_index(drop=True)
    out["draws"] = {"empirical_cycle": emp_cycle}
    if idata is not None:
        out["draws"]["model_cycle"] = m_cycle
    return out


def transitivity_figure(res: dict, path=None):
    """Cycle probability: empirical and model intervals, the magnitude-only null as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for ax, key, title in ((axes[0], "cycle_probability", "P(cycle) of one answer per pair"),
                           (axes[1], "majority_cycle_share", "share of triads with a majority cycle")):
        r = res[key]
        rows = [(k, r[k]) for k in ("empirical", "model") if k in r]
        for y, (k, s) in enumerate(rows):
            ax.plot(s["interval"], [y, y], lw=4, color="C0" if k == "empirical" else "C1")
            ax.plot(s["mean"], y, "o", color="k")
        ax.axvline(r["magnitude_only_null"], color="C3", ls="--", label="magnitude-only responder")
        ax.set_yticks(range(len(rows)), [k for k, _ in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlim(left=0)
        ax.set_title(title)
        ax.set_xlabel(f"mean over {res['n_triads']} triads, {rows[0][1]['interval_prob']:.0%} interval")
        ax.legend(loc="lower right", fontsize=8)
    return finish_figure(fig, path)


def format_transitivity(res: dict) -> str:
    lines = [f"transitivity over {res['n_triads']} triads ({res['n_pairs']} pairs, median "
             f"{res['answers_per_pair_median']:.0f} answers per pair):"]
    for key, label in (("cycle_probability", "P(cycle), one answer per pair"),
                       ("majority_cycle_share", "majority-cycle share")):
        r = res[key]
        parts = []
        for k in ("empirical", "model"):
            if k in r:
                s = r[k]
                parts.append(f"{k} {s['mean']:.3f} [{s['interval'][0]:.3f}, {s['interval'][1]:.3f}]")
        parts.append(f"magnitude-only responder {r['magnitude_only_null']:.3f}")
        lines.append(f"  {label:32s} " + "; ".join(parts))
    lines.append(f"  ({res['outcomes_stating_a_number']} outcomes state a number; intervals "
                 f"{res['cycle_probability']['empirical']['interval_prob']:.0%})")
    return "\n".join(lines)


def run_transitivity(run: RunContext, max_triads: int | None = 5000, seed: int = 0) -> dict:
    """Transitivity of a run folder's data and fit; writes transitivity.json and .png there."""
    import json

    run_dir = run.run_dir
    idata, cfg, data = run.idata, run.cfg, run.data
    # empirical cycle probabilities always on excluded answers: half-votes for lost answers
    # would pull every pair towards 1/2 and inflate the cycles of a transitive respondent
    res = transitivity(data, idata, unparseable="exclude", max_triads=max_triads,
                       prob=cfg.output.hdi_prob, seed=seed)
    draws, triads = res.pop("draws"), res.pop("triads")
    (run_dir / "transitivity.json").write_text(json.dumps(res, indent=2))
    triads.to_csv(run_dir / "transitivity_triads.csv", index=False, float_format="%.6g")
    transitivity_figure(res, run_dir / "transitivity.png")
    res["draws"], res["triads"] = draws, triads
    return res


def report_section(doc, c, tr: dict, assets: str, level: int) -> None:
    """The report's transitivity paragraph, table and figure (``tr``: transitivity.json)."""
    cp, mc = tr["cycle_probability"], tr["majority_cycle_share"]
    doc.para(f"Transitivity over {tr['n_triads']} triads whose three pairs were asked: the probability that "
             "one answer per pair forms a cycle, from the answers (bootstrap interval) and under the fitted "
             "model (posterior predictive), beside a responder that only compares the numbers in the texts.")
    rows = []
    for label, r in (("P(cycle)", cp), ("share of triads with a majority cycle", mc)):
        rows.append({"metric": label,
                     "empirical": fmt_interval(r["empirical"]["mean"], *r["empirical"]["interval"]),
                     "model": fmt_interval(r["model"]["mean"], *r["model"]["interval"]) if "model" in r else "",
                     "magnitude-only responder": f"{r['magnitude_only_null']:.3f}"})
    doc.table(pd.DataFrame(rows))
    img = next((i for i in c.images if i.name == "transitivity.png"), None)
    if img is not None:
        doc.image(img, assets)
