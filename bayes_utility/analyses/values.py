"""Comparisons of utility profiles: power seeking, utility control, political positions
(time discounting, exchange rates and corrigibility have modules of their own).

Each ``run_*`` function takes a :class:`~bayes_utility.analyses.context.RunContext` (the CLI
opens a run folder, or fits a config first), writes ``<analysis>.json`` (every figure with its interval), a table and a figure into
the run folder, and returns the results; ``format_*`` prints them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import standardised
from .common import _iv, _plt, _summ, _write, finish_figure
from .context import RunContext


# ------------------------------------------------------------------ comparing utility profiles
def _profiles(idata, max_draws: int | None = 4000) -> tuple[np.ndarray, list[str], list[str]]:
    """Standardised utility vectors (draws, respondents, outcomes) of a hierarchical fit."""
    from .hierarchy import POPULATION, _vectors, is_hierarchical

    if not is_hierarchical(idata):
        raise ValueError("comparing utility profiles needs a hierarchical fit (model.name: "
                         "thurstonian_hierarchical) with one respondent per profile (model.group_by)")
    vec, names = _vectors(idata, max_draws)
    keep = [i for i, n in enumerate(names) if n != POPULATION]
    return vec[:, keep], [names[i] for i in keep], [str(o) for o in idata.posterior["outcome"].values]


def _pick(names: list[str], label: str, what: str) -> int:
    if label in names:
        return names.index(label)
    hits = [i for i, n in enumerate(names) if label in n.split(" | ")]
    if len(hits) == 1:
        return hits[0]
    raise ValueError(f"{what}: no single respondent {label!r} in the fit; have {', '.join(names)}")


def _r(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = x - x.mean(-1, keepdims=True)
    y = y - y.mean(-1, keepdims=True)
    return (x * y).sum(-1) / np.sqrt((x * x).sum(-1) * (y * y).sum(-1))


def _rmse(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.sqrt(((x - y) ** 2).mean(-1))


def power_seeking(idata, ordinary: str, power: str, prob: float = 0.94) -> dict:
    """Correlation (and RMS distance, standardised utilities) between a respondent's
    ordinary utilities and its utilities under the "more power" prompt, per draw."""
    vec, names, _ = _profiles(idata)
    i, j = _pick(names, ordinary, "ordinary"), _pick(names, power, "power")
    r = _r(vec[:, i], vec[:, j])
    return {"ordinary": names[i], "power": names[j], "pearson_r": _summ(r, prob),
            "p_r_positive": float((r > 0).mean()), "rms_distance": _summ(_rmse(vec[:, i], vec[:, j]), prob)}


def read_target(path, outcome_ids: list[str]) -> np.ndarray:
    """A target utility profile: a table with columns ``id`` and ``utility`` covering
    every outcome of the fit; returned standardised (zero mean, unit sample sd)."""
    from ..data.tables import read_table

    t = read_table(path)
    if not {"id", "utility"} <= set(t.columns):
        raise ValueError(f"{path}: a target profile needs columns id and utility")
    t = t.set_index(t["id"].astype(str))
    missing = [o for o in outcome_ids if o not in t.index]
    if missing:
        raise ValueError(f"{path}: no target utility for {len(missing)} outcomes, e.g. {missing[:3]}")
    u = t.loc[outcome_ids, "utility"].astype(float).to_numpy()
    return standardised(u)


def utility_control(idata, before: str, after: str, target, prob: float = 0.94) -> dict:
    """Distance and correlation of the utilities before and after an intervention to a
    target profile, and their changes, per draw. ``target`` is a respondent of the fit
    (its uncertainty carried along) or a file of fixed target utilities."""
    vec, names, ids = _profiles(idata)
    b, a = vec[:, _pick(names, before, "before")], vec[:, _pick(names, after, "after")]
    if isinstance(target, str) and (target in names or any(target in n.split(" | ") for n in names)):
        t = vec[:, _pick(names, target, "target")]
        label = names[_pick(names, target, "target")]
    else:
        t = np.broadcast_to(read_target(target, ids), b.shape)
        label = str(target)
    rb, ra = _r(b, t), _r(a, t)
    db, da = _rmse(b, t), _rmse(a, t)
    return {"before": before, "after": after, "target": label,
            "r_before": _summ(rb, prob), "r_after": _summ(ra, prob), "r_change": _summ(ra - rb, prob),
            "p_r_increased": float((ra > rb).mean()),
            "distance_before": _summ(db, prob), "distance_after": _summ(da, prob),
            "distance_change": _summ(da - db, prob), "p_distance_decreased": float((da < db).mean())}


def political_positions(idata, n_components: int = 2, prob: float = 0.94) -> dict:
    """Positions of every respondent (a model, stated entities) on the main axes of
    variation of their utility vectors, with intervals.

    The axes are the principal components of the posterior-mean utility vectors
    (centred across respondents); every draw's vectors are projected onto them, so a
    position's interval is its uncertainty along a fixed axis (no sign or rotation
    ambiguity between draws). Also the share of the between-respondent variance each
    axis explains, per draw."""
    vec, names, ids = _profiles(idata)
    if len(names) < 3:
        raise ValueError("political positions need at least three respondents")
    mean = vec.mean(0)
    centre = mean.mean(0)
    _, sv, vt = np.linalg.svd(mean - centre, full_matrices=False)
    k = min(n_components, len(names) - 1)
    axes = vt[:k]  # (k, outcomes)
    for c in range(k):  # orient each axis so that the first respondent sits on its negative side
        if (mean[0] - centre) @ axes[c] > 0:
            axes[c] = -axes[c]
    cen = vec - vec.mean(1, keepdims=True)
    pos = np.einsum("dro,ko->drk", cen, axes)  # (draws, respondents, k)
    total = (cen ** 2).sum((1, 2))
    explained = (pos ** 2).sum(1) / total[:, None]
    qlo, qhi = (1 - prob) / 2, (1 + prob) / 2
    rows = []
    for r, n in enumerate(names):
        row = {"respondent": n}
        for c in range(k):
            x = pos[:, r, c]
            row[f"pc{c + 1}_mean"], row[f"pc{c + 1}_lo"], row[f"pc{c + 1}_hi"] = (
                float(x.mean()), float(np.quantile(x, qlo)), float(np.quantile(x, qhi)))
        rows.append(row)
    load = pd.DataFrame({"outcome": ids, **{f"pc{c + 1}": axes[c] for c in range(k)}})
    return {"n_respondents": len(names), "interval_prob": prob,
            "explained": [_summ(explained[:, c], prob) for c in range(k)],
            "positions": pd.DataFrame(rows), "loadings": load}


def political_figure(res: dict, texts: dict | None = None, path=None):
    plt = _plt()
    p = res["positions"]
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    has2 = "pc2_mean" in p
    y = p["pc2_mean"] if has2 else np.zeros(len(p))
    ax.errorbar(p["pc1_mean"], y, xerr=[p["pc1_mean"] - p["pc1_lo"], p["pc1_hi"] - p["pc1_mean"]],
                yerr=[y - p["pc2_lo"], p["pc2_hi"] - y] if has2 else None, fmt="o", ms=4, alpha=0.8)
    for _, row in p.iterrows():
        ax.annotate(row["respondent"], (row["pc1_mean"], row["pc2_mean"] if has2 else 0.0), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ev = res["explained"]
    ax.set_xlabel(f"axis 1 ({ev[0]['mean']:.0%} of the variance between respondents)")
    if has2:
        ax.set_ylabel(f"axis 2 ({ev[1]['mean']:.0%})")
    ax.set_title(f"positions from utilities over policies ({res['interval_prob']:.0%} intervals)")
    return finish_figure(fig, path)


def run_power_seeking(run: RunContext, ordinary: str, power: str) -> dict:

    run_dir = run.run_dir
    idata, cfg = run.idata, run.cfg
    res = power_seeking(idata, ordinary, power, cfg.output.hdi_prob)
    _write(run_dir, "power_seeking", res)
    return res


def run_utility_control(run: RunContext, before: str, after: str, target: str) -> dict:

    run_dir = run.run_dir
    idata, cfg = run.idata, run.cfg
    res = utility_control(idata, before, after, target, cfg.output.hdi_prob)
    _write(run_dir, "utility_control", res)
    return res


def run_political(run: RunContext, n_components: int = 2) -> dict:

    run_dir = run.run_dir
    idata, cfg = run.idata, run.cfg
    res = political_positions(idata, n_components, cfg.output.hdi_prob)
    _write(run_dir, "political", res, ("positions", "loadings"))
    political_figure(res, path=run_dir / "political.png")
    return res


def format_power_seeking(res: dict) -> str:
    return (f"power seeking: utilities under the power prompt ({res['power']}) against ordinary ones "
            f"({res['ordinary']}):\n  Pearson r {_iv(res['pearson_r'])}   P(r > 0) {res['p_r_positive']:.3f}\n"
            f"  RMS distance (standardised) {_iv(res['rms_distance'])}")


def format_utility_control(res: dict) -> str:
    return "\n".join([
        f"utility control towards {res['target']} ({res['before']} -> {res['after']}):",
        f"  correlation with the target   before {_iv(res['r_before'])}   after {_iv(res['r_after'])}",
        f"    change {_iv(res['r_change'])}   P(increased) {res['p_r_increased']:.3f}",
        f"  RMS distance to the target    before {_iv(res['distance_before'])}   after {_iv(res['distance_after'])}",
        f"    change {_iv(res['distance_change'])}   P(decreased) {res['p_distance_decreased']:.3f}"])


def format_political(res: dict) -> str:
    p = res["positions"]
    ev = ", ".join(f"axis {i + 1} {_iv(e, '.2f')}" for i, e in enumerate(res["explained"]))
    lines = [f"positions of {res['n_respondents']} respondents (share of variance: {ev}):"]
    for _, r in p.sort_values("pc1_mean").iterrows():
        line = f"  {r['respondent']:36s} axis 1 {r['pc1_mean']:+.2f} [{r['pc1_lo']:+.2f}, {r['pc1_hi']:+.2f}]"
        if "pc2_mean" in r:
            line += f"   axis 2 {r['pc2_mean']:+.2f} [{r['pc2_lo']:+.2f}, {r['pc2_hi']:+.2f}]"
        lines.append(line)
    return "\n".join(lines)
