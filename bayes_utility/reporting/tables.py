"""Tables of a fit: per-outcome and scalar summaries with intervals and diagnostics, rank posteriors,
and their console formatting.
"""
from __future__ import annotations

import logging
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from ..analyses.hierarchy import is_hierarchical
from ..models import get_model

logger = logging.getLogger(__name__)


TOP_K = 5


def _ranks_of(u: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of the last axis of ``u`` (draws x outcomes)."""
    order = np.argsort(-u, axis=-1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, u.shape[-1] + 1)[None, :], axis=-1)
    return ranks


def rank_table(idata, var: str = "utility", prob: float = 0.94, top_k: int = TOP_K,
               respondent: str | None = None) -> pd.DataFrame:
    """Posterior of each outcome's rank (1 = highest utility): median, equal-tailed
    interval, P(top k). ``respondent``: that respondent's ranks (``respondent_utility``)."""
    post = idata.posterior
    da = post[var] if respondent is None else post["respondent_utility"].sel(respondent=respondent)
    u = da.stack(sample=("chain", "draw")).transpose("sample", "outcome").to_numpy()
    ranks = _ranks_of(u)
    lo, med, hi = np.quantile(ranks, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    out = pd.DataFrame({
        "outcome_id": post["outcome"].values.astype(str),
        "text": post["outcome_text"].values.astype(str) if "outcome_text" in post.coords else "",
        "rank_median": med, "rank_lo": lo, "rank_hi": hi,
        f"p_top{top_k}": (ranks <= top_k).mean(axis=0),
    })
    return out.sort_values(["rank_median", f"p_top{top_k}"], ascending=[True, False]).reset_index(drop=True)


def all_rank_tables(idata, prob: float = 0.94) -> pd.DataFrame:
    """The population's rank table, and each respondent's for hierarchical fits
    (column ``respondent``: ``population`` or the respondent)."""
    frames = [rank_table(idata, prob=prob).assign(respondent="population")]
    if is_hierarchical(idata):
        frames += [rank_table(idata, prob=prob, respondent=r).assign(respondent=str(r))
                   for r in idata.posterior["respondent"].values]
    table = pd.concat(frames, ignore_index=True)
    return table[["respondent"] + [c for c in table.columns if c != "respondent"]]


def summary_table(idata, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Per-outcome summary of the model's reported quantities, with outcome texts."""
    model = get_model(idata.posterior.attrs.get("model", "thurstonian"))
    names = [v for v in model.REPORTED if v in idata.posterior]
    point_only = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"] == 1
    frames = []
    for v in names:
        if point_only:  # a MAP estimate: no interval, no diagnostics to show (nor to compute)
            s = pd.DataFrame({"mean": idata.posterior[v].values.reshape(-1)})
        else:
            s = az.summary(idata, var_names=[v], hdi_prob=hdi_prob, kind="all", round_to="none")
        s.index = idata.posterior["outcome"].values.astype(str)
        s.insert(0, "quantity", v)
        frames.append(s)
    table = pd.concat(frames).rename_axis("outcome_id").reset_index()
    post = idata.posterior
    texts = dict(zip(post["outcome"].values.astype(str), post["outcome_text"].values.astype(str)))
    cats = dict(zip(post["outcome"].values.astype(str), post["outcome_category"].values.astype(str)))
    table.insert(2, "text", table["outcome_id"].map(texts))
    table.insert(3, "category", table["outcome_id"].map(cats))
    return table


def scalar_summary(idata, hdi_prob: float = 0.94) -> pd.DataFrame:
    post = idata.posterior
    names = [v for v in post.data_vars if post[v].ndim == 2]
    if not names:
        return pd.DataFrame()
    if post.sizes["chain"] * post.sizes["draw"] == 1:  # a point estimate
        s = pd.DataFrame({"mean": [float(post[v].values.reshape(-1)[0]) for v in names]}, index=names)
    else:
        s = az.summary(idata, var_names=names, hdi_prob=hdi_prob, kind="all", round_to="none")
    return s.rename_axis("parameter").reset_index()


def format_summary(summ: pd.DataFrame, quantity: str = "utility", top: int | None = None) -> str:
    """Human-readable utility table, best first, with the HDI."""
    s = summ[summ["quantity"] == quantity].sort_values("mean", ascending=False)
    hdi = [c for c in s.columns if c.startswith("hdi_")]
    lines = []
    width = 60
    rows = s if top is None else pd.concat([s.head(top), s.tail(top)]) if len(s) > 2 * top else s
    for i, d in enumerate(rows.to_dict("records")):
        text = str(d["text"])
        text = text if len(text) <= width else text[: width - 1] + "…"
        ci = f"[{d[hdi[0]]:+.2f}, {d[hdi[1]]:+.2f}]" if len(hdi) == 2 and np.isfinite(d[hdi[0]]) else ""
        rhat = d.get("r_hat", np.nan)
        lines.append(f"{d['mean']:+.2f} {ci:>16}  R̂={rhat:.3f}  {text}" if np.isfinite(rhat)
                     else f"{d['mean']:+.2f} {ci:>16}  {text}")
        if top is not None and len(s) > 2 * top and i == top - 1:
            lines.append(f"   ... {len(s) - 2 * top} more ...")
    if len(hdi) == 2:
        prob = float(hdi[1][4:-1]) - float(hdi[0][4:-1])
        hdr = f"{quantity} (posterior mean [{prob:.0f}% HDI]), best first"
    else:
        hdr = f"{quantity} (point estimate; no interval)"
    return hdr + "\n" + "\n".join(lines)


def format_heldout(held: dict, point_only: bool = False) -> str:
    """One line: held-out accuracy and log-loss with their intervals."""
    a, ll = held["accuracy"], held["log_loss"]
    head = f"held-out ({held['n_pairs']} pairs, {held['n_ties']} ties left out of accuracy)"
    if point_only:
        return f"{head}: accuracy {a['point']:.3f} (± {a['se_pairs']:.3f} over pairs), log-loss {ll['point']:.3f}"
    pct = round(100 * a["interval_prob"])
    return (
        f"{head}: accuracy {a['mean']:.3f} [{a['interval'][0]:.3f}, {a['interval'][1]:.3f}], "
        f"log-loss {ll['mean']:.3f} [{ll['interval'][0]:.3f}, {ll['interval'][1]:.3f}] ({pct}% intervals); "
        f"at the posterior-mean prediction: accuracy {a['point']:.3f} ± {a['se_pairs']:.3f} (s.e. over pairs)"
    )


SCALAR_NOTES = {
    "utility_spread": "sd of utilities in noise units (near 0: no preference signal)",
    "log_noise_spread": "spread of log noise scales across outcomes",
    "order_bias": "presentation-order bias toward option A (link scale; 0 = none)",
    "order_bias_mean": "respondents' mean order bias toward option A (probit scale)",
    "order_bias_spread": "sd of order biases across respondents",
    "deviation_spread": "typical sd of a respondent's deviations from the population utilities",
    "deviation_spread_sd": "how much that sd differs between respondents (log scale)",
    "decisiveness_spread": "sd of log decisiveness across respondents",
    "deviation_slope": "change of log deviation sd per sd of the covariate (< 0: agree more)",
    "decisiveness_slope": "change of log decisiveness per sd of the covariate (> 0: more decisive)",
    "category_spread": "sd of category means (noise units)",
}


def format_scalars(run_dir: str | Path) -> str:
    """The scalar parameters of a run (spreads, order bias) with their intervals."""
    path = Path(run_dir) / "summary_scalars.csv"
    if not path.exists():
        return ""
    s = pd.read_csv(path)
    hdi = [c for c in s.columns if c.startswith("hdi_")]
    lines = []
    for d in s.to_dict("records"):
        ci = f" [{d[hdi[0]]:.3g}, {d[hdi[1]]:.3g}]" if len(hdi) == 2 else ""
        note = SCALAR_NOTES.get(d["parameter"], "")
        lines.append(f"  {d['parameter']:19s} {d['mean']:.3g}{ci}  {note}")
    head = "posterior mean [HDI]" if len(hdi) == 2 else "point estimate; no interval"
    return f"scalar parameters ({head}):\n" + "\n".join(lines)
