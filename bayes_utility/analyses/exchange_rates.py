"""Exchange rates between entities: how many of one are worth one of another, with intervals."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .common import _draws, _iv, _plt, _summ, finish_figure
from .context import RunContext


# ------------------------------------------------------------------ exchange rates
def exchange_rates(idata, n0: float = 1.0, prob: float = 0.94) -> dict:
    """Exchange rates between the entities of an ``exchange_rates`` fit, per draw.

    The worth of ``n0`` units of X in units of Y solves ``a_Y log N + b_Y = a_X log n0 +
    b_X``; the rate is ``N / n0`` (Y per X), summarised by its median and equal-tailed
    interval (its mean need not exist). An entity whose slope's interval reaches 0 or
    below is not *clearly positive*: more of it is not clearly better, so nothing is
    priced in its units (its own worth in other units is still given)."""
    post = idata.posterior
    if "slope" not in post or "entity" not in post.coords:
        raise ValueError("not an exchange-rate fit (model.name: exchange_rates)")
    names = [str(e) for e in post["entity"].values]
    a, b = _draws(idata, "slope"), _draws(idata, "intercept")
    qlo, qhi = (1 - prob) / 2, (1 + prob) / 2
    ent = []
    positive = []
    for j, e in enumerate(names):
        lo = float(np.quantile(a[:, j], qlo))
        positive.append(lo > 0)
        ent.append({"entity": e, "slope": _summ(a[:, j], prob), "intercept": _summ(b[:, j], prob),
                    "p_slope_positive": float((a[:, j] > 0).mean()), "clearly_positive": lo > 0})
    rows = []
    log_n0 = np.log(n0)
    for i, x in enumerate(names):
        value = a[:, i] * log_n0 + b[:, i]
        for j, y in enumerate(names):
            if i == j:
                continue
            row = {"entity": x, "in_units_of": y}
            if not positive[j]:
                row.update(median=np.nan, lo=np.nan, hi=np.nan, log10_median=np.nan,
                           note=f"{y}: slope not clearly positive")
            else:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    log_rate = np.where(a[:, j] > 0, (value - b[:, j]) / a[:, j] - log_n0, np.nan)
                ok = np.isfinite(log_rate)
                q = np.quantile(log_rate[ok], [0.5, qlo, qhi])
                row.update(median=float(np.exp(q[0])), lo=float(np.exp(q[1])), hi=float(np.exp(q[2])),
                           log10_median=float(q[0] / np.log(10)),
                           note="" if ok.all() else f"{(~ok).mean():.1%} of draws with slope <= 0 left out")
            rows.append(row)
    return {"n0": n0, "interval_prob": prob, "reference": names[0], "entities": ent, "rates": pd.DataFrame(rows)}


def exchange_figure(res: dict, unit: str, path=None):
    """Each entity's worth in units of ``unit`` (log scale), with intervals."""
    plt = _plt()
    r = res["rates"]
    r = r[r["in_units_of"] == unit].sort_values("log10_median", na_position="first")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(r) + 1.2), layout="constrained")
    for y, (_, row) in enumerate(r.iterrows()):
        if np.isfinite(row["median"]):
            ax.plot([row["lo"], row["hi"]], [y, y], lw=4, color="C0")
            ax.plot(row["median"], y, "o", color="k")
    ax.set_xscale("log")
    ax.set_yticks(range(len(r)), list(r["entity"]))
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(f"{unit} per unit of the entity (median, {res['interval_prob']:.0%} interval)")
    ax.set_title(f"exchange rates in units of {unit}")
    return finish_figure(fig, path)


def run_exchange(run: RunContext, unit: str | None = None, n0: float = 1.0) -> dict:

    run_dir = run.run_dir
    idata, cfg = run.idata, run.cfg
    res = exchange_rates(idata, n0, cfg.output.hdi_prob)
    names = [e["entity"] for e in res["entities"]]
    unit = unit or res["reference"]
    if unit not in names:
        raise ValueError(f"unknown entity {unit!r}; the fit has {', '.join(names)}")
    if not next(e for e in res["entities"] if e["entity"] == unit)["clearly_positive"]:
        raise ValueError(f"{unit!r} has a slope that is not clearly positive: choose another unit (--unit)")
    res["unit"] = unit
    rates = res.pop("rates")
    rates.to_csv(run_dir / "exchange_rates.csv", index=False, float_format="%.6g")
    (run_dir / "exchange_rates.json").write_text(json.dumps(res, indent=2))
    res["rates"] = rates
    exchange_figure(res, unit, run_dir / "exchange_rates.png")
    return res


def format_exchange(res: dict) -> str:
    unit = res.get("unit", res["reference"])
    lines = [f"exchange rates (worth of {res['n0']:g} unit in units of {unit}; median [{res['interval_prob']:.0%} "
             "interval]):"]
    r = res["rates"]
    for e in res["entities"]:
        flag = "" if e["clearly_positive"] else "   slope NOT clearly positive: nothing priced in its units"
        lines.append(f"  {e['entity']:32s} slope {_iv(e['slope'])}  P(slope > 0) {e['p_slope_positive']:.3f}{flag}")
    lines.append("")
    for _, row in r[r["in_units_of"] == unit].iterrows():
        lines.append(f"  1 x {row['entity']:30s} = {row['median']:.4g} [{row['lo']:.4g}, {row['hi']:.4g}] {unit}"
                     + (f"  ({row['note']})" if row["note"] else ""))
    return "\n".join(lines)
