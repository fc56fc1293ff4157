"""Time discounting: the discount function of each form with its interval, and the two forms compared
by PSIS-LOO on the same answers.
"""
from __future__ import annotations

import json

import numpy as np

from .common import _draws, _iv, _plt, _summ, finish_figure
from .context import RunContext

# ------------------------------------------------------------------ time discounting
DISCOUNT_MODELS = ("time_discounting_exponential", "time_discounting_hyperbolic")


def discounting_summary(idata, prob: float = 0.94) -> dict:
    """The discount parameters of one fit, each with its interval."""
    out = {"model": idata.posterior.attrs.get("model", "")}
    for v in ("discount_rate", "sensitivity", "discount_factor_12m", "delay_for_half", "order_bias"):
        if v in idata.posterior:
            out[v] = _summ(_draws(idata, v).ravel(), prob)
    if "delay_for_half" in out:
        # 1/k-like: its posterior mean need not exist (heavy right tail as the rate nears 0), so
        # the centre reported is the median; "mean" keeps the key readers expect, named for what it is
        d = _draws(idata, "delay_for_half").ravel()
        out["delay_for_half"]["mean"] = float(np.median(d))
        out["delay_for_half"]["center"] = "median"
    return out


def discounting_figure(fits: dict, months: np.ndarray, path=None, prob: float = 0.94):
    """D(t) of each fitted form with its interval band."""
    from ..models._time_discounting import log_discount

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    t = np.linspace(0, max(float(np.max(months)), 1.0), 200)
    for i, (name, idata) in enumerate(fits.items()):
        rate = _draws(idata, "discount_rate").ravel()[:, None]
        form = name.rsplit("_", 1)[-1]
        d = np.exp(np.asarray(log_discount(rate, t[None, :], form)))
        lo, hi = np.quantile(d, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        ax.fill_between(t, lo, hi, color=f"C{i}", alpha=0.3)
        ax.plot(t, d.mean(0), color=f"C{i}", label=form)
    ax.set_xlabel("delay (months)")
    ax.set_ylabel("D(t): value now of $1 then")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.set_title(f"discount function ({prob:.0%} intervals)")
    return finish_figure(fig, path)


def run_discounting(run: RunContext) -> dict:
    """Fit the other discount form on the same answers, compare the two by PSIS-LOO, and
    write discounting.json, discounting_comparison.csv and discounting.png."""
    from ..inference.compare import compare_idata

    run_dir = run.run_dir
    idata, cfg, data = run.idata, run.cfg, run.data
    if cfg.model.name not in DISCOUNT_MODELS:
        raise ValueError(f"{run_dir.name}: not a time-discounting fit (model.name: one of {', '.join(DISCOUNT_MODELS)})")
    other = next(m for m in DISCOUNT_MODELS if m != cfg.model.name)
    other_run = run_dir.parent / f"{run_dir.name}-{other.rsplit('_', 1)[-1]}"
    if (other_run / "posterior.nc").exists():
        other_idata = run.open_sibling(other_run)
    else:
        ocfg = cfg.with_overrides(model={"name": other}, output={"run_name": other_run.name, "report": False})
        other_idata = run.fit_sibling(ocfg, data)[1]
    fits = {cfg.model.name: idata, other: other_idata}
    table = compare_idata(fits)
    table.to_csv(run_dir / "discounting_comparison.csv")
    best = str(table.index[0])
    prob = cfg.output.hdi_prob
    res = {"fits": {m: discounting_summary(d, prob) for m, d in fits.items()}, "other_run": other_run.name,
           "loo": {m: {"elpd": float(table.loc[m, "elpd_loo"]), "se": float(table.loc[m, "se"]),
                       "pareto_k_gt_0.7": int(table.loc[m, "pareto_k_gt_0.7"])} for m in table.index},
           "preferred": best, "elpd_difference": float(table["elpd_diff"].iloc[1]),
           "elpd_difference_se": float(table["dse"].iloc[1])}
    (run_dir / "discounting.json").write_text(json.dumps(res, indent=2))
    months = np.array([a.get("months", 0) for a in data.outcomes["attributes"]], dtype=float)
    discounting_figure(fits, months, run_dir / "discounting.png", prob)
    return res


def format_discounting(res: dict) -> str:
    lines = ["time discounting (per month; D(12): value now of $1 in a year):"]
    for m, s in res["fits"].items():
        form = m.rsplit("_", 1)[-1]
        loo = res["loo"][m]
        lines.append(f"  {form:12s} rate {_iv(s['discount_rate'])}  D(12) {_iv(s['discount_factor_12m'])}  "
                     f"half-value delay (median) {_iv(s['delay_for_half'])} months  elpd {loo['elpd']:.1f} +- {loo['se']:.1f}")
    lines.append(f"  PSIS-LOO prefers {res['preferred'].rsplit('_', 1)[-1]} by {res['elpd_difference']:.1f} +- "
                 f"{res['elpd_difference_se']:.1f} (a difference within about 2 se is no clear preference)")
    return "\n".join(lines)
