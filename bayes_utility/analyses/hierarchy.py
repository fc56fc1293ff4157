"""Quantities of a hierarchical fit across respondents, each with its credible interval.

* :func:`agreement`: the posterior of the correlation between the utility vectors of
  every pair of respondents, and of each respondent with the population (the paper's
  "convergence" of values across models). Utilities are zero-sum, so the Pearson
  correlation equals the cosine similarity of the utility vectors; Spearman's rank
  correlation is given too. One value per posterior draw, summarised by its mean and
  highest-density interval.
* :func:`respondent_table`: per respondent, decisiveness (inverse noise), order bias,
  deviation spread and agreement with the population.
* :func:`agreement_figure`: the correlation matrix as a heat map, each cell annotated
  with its posterior mean and interval.
"""
from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from .common import fmt_interval

POPULATION = "population"


def is_hierarchical(idata) -> bool:
    return "respondent_utility" in idata.posterior


def _vectors(idata, max_draws: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Standardised utility vectors ``(draws, respondents + 1, outcomes)``, population last."""
    post = idata.posterior
    resp = post["respondent_utility"].transpose("chain", "draw", "respondent", "outcome").values
    pop = post["utility"].transpose("chain", "draw", "outcome").values
    vec = np.concatenate([resp, pop[:, :, None, :]], axis=2)
    vec = vec.reshape(-1, *vec.shape[2:])
    if max_draws is not None and len(vec) > max_draws:
        vec = vec[np.linspace(0, len(vec) - 1, max_draws).astype(int)]
    names = [str(r) for r in post["respondent"].values] + [POPULATION]
    return vec, names


def _corr(vec: np.ndarray) -> np.ndarray:
    """Pearson correlation between the rows of every draw: ``(draws, m, m)``."""
    v = vec - vec.mean(axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return np.einsum("dio,djo->dij", v, v)


def _ranks(vec: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(vec, axis=-1), axis=-1).astype(float)


def _interval(x: np.ndarray, prob: float) -> tuple[float, float]:
    lo, hi = az.hdi(np.asarray(x, float), hdi_prob=prob)
    return float(lo), float(hi)


def correlation_draws(idata, method: str = "pearson", max_draws: int | None = None) -> xr.DataArray:
    """Per-draw correlation matrix of respondents and the population (``draw, row, col``)."""
    vec, names = _vectors(idata, max_draws)
    if method == "spearman":
        vec = _ranks(vec)
    elif method != "pearson":
        raise ValueError("method is 'pearson' or 'spearman'")
    return xr.DataArray(_corr(vec), dims=("draw", "row", "col"), coords={"row": names, "col": names})


def agreement(idata, prob: float = 0.94, max_draws: int | None = 2000) -> pd.DataFrame:
    """Correlation of every pair of respondents and of each with the population.

    Columns: ``a, b, pearson_mean, pearson_lo, pearson_hi, spearman_mean, spearman_lo,
    spearman_hi`` (one row per unordered pair; ``b`` is ``population`` for the rows
    against the population).
    """
    if not is_hierarchical(idata):
        raise ValueError("agreement needs a hierarchical fit (respondent_utility in the posterior)")
    pear = correlation_draws(idata, "pearson", max_draws)
    spear = correlation_draws(idata, "spearman", max_draws)
    names = list(pear["row"].values)
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            rec = {"a": names[i], "b": names[j]}
            for label, mat in (("pearson", pear), ("spearman", spear)):
                x = mat.values[:, i, j]
                lo, hi = _interval(x, prob)
                rec.update({f"{label}_mean": float(x.mean()), f"{label}_lo": lo, f"{label}_hi": hi})
            rows.append(rec)
    table = pd.DataFrame(rows)
    table.attrs["interval_prob"] = prob
    return table


def respondent_table(idata, prob: float = 0.94) -> pd.DataFrame:
    """Per respondent: decisiveness, noise scale, order bias (when modelled), deviation
    spread and correlation with the population, each as mean and interval."""
    post = idata.posterior
    names = [str(r) for r in post["respondent"].values]
    out = pd.DataFrame({"respondent": names})
    if "covariate_value" in post.coords:
        out["covariate"] = post["covariate_value"].values
    for site in ("decisiveness", "noise_scale", "order_bias", "respondent_deviation_spread"):
        if site not in post:
            continue
        x = post[site].transpose("chain", "draw", "respondent").values.reshape(-1, len(names))
        out[f"{site}_mean"] = x.mean(axis=0)
        ivs = [_interval(x[:, r], prob) for r in range(len(names))]
        out[f"{site}_lo"] = [a for a, _ in ivs]
        out[f"{site}_hi"] = [b for _, b in ivs]
    corr = correlation_draws(idata, "pearson", 2000)
    x = corr.values[:, :-1, -1]
    out["corr_population_mean"] = x.mean(axis=0)
    ivs = [_interval(x[:, r], prob) for r in range(len(names))]
    out["corr_population_lo"] = [a for a, _ in ivs]
    out["corr_population_hi"] = [b for _, b in ivs]
    out.attrs["interval_prob"] = prob
    return out


def agreement_figure(idata, prob: float = 0.94, path=None, max_draws: int = 2000):
    """Heat map of posterior-mean correlations, cells annotated with mean and interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    corr = correlation_draws(idata, "pearson", max_draws)
    names = list(corr["row"].values)
    mean = corr.values.mean(axis=0)
    m = len(names)
    off = mean[~np.eye(m, dtype=bool)]
    vmin = max(-1.0, np.floor(off.min() * 10) / 10) if m > 1 else 0.0  # contrast where the values are
    shown = np.where(np.eye(m, dtype=bool), np.nan, mean)
    size = max(4.0, 0.9 * m + 2.0)
    fig, ax = plt.subplots(figsize=(size + 2.2, size + 0.8), layout="constrained")
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#dddddd")
    im = ax.imshow(shown, vmin=vmin, vmax=1.0, cmap=cmap)
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            lo, hi = _interval(corr.values[:, i, j], prob)
            light = (mean[i, j] - vmin) / (1.0 - vmin + 1e-12) > 0.6
            ax.text(j, i, f"{mean[i, j]:.2f}\n[{lo:.2f}, {hi:.2f}]", ha="center", va="center",
                    fontsize=max(5, 9 - m // 4), color="black" if light else "white")
    labels = [n if len(n) <= 28 else n[:26] + "…" for n in names]
    ax.set_xticks(range(m), labels, rotation=45, ha="right")
    ax.set_yticks(range(m), labels)
    ax.set_title(f"Agreement of utility vectors: posterior mean [{prob:.0%} HDI]")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="Pearson r (= cosine similarity: utilities are zero-sum)")
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path
    return fig


# ------------------------------------------------------------------ run folder, report, console
def report_section(doc, c, t: pd.DataFrame, assets: str, level: int) -> None:
    """The report's respondents section: ``t`` is respondents.csv; ``c`` the run's report content."""
    prob = c.hdi_prob
    doc.heading("Respondents", level)
    doc.para(f"{len(t)} respondents share the population utilities above; each has its own deviations, "
             "decisiveness (how sharply it separates outcomes, relative to a typical respondent: 1) and "
             "presentation-order bias (probit scale; 0 is none, positive favours the option shown first). "
             f"Intervals are {prob:.0%} highest-density intervals.")
    held = (c.heldout or {}).get("by_respondent", {})
    rows = []
    for d in t.to_dict("records"):
        row = {"respondent": d["respondent"]}
        if "covariate" in d:
            row["covariate"] = f"{d['covariate']:.4g}"
        row["agreement with population (r)"] = fmt_interval(
            d["corr_population_mean"], d["corr_population_lo"], d["corr_population_hi"])
        row["decisiveness"] = fmt_interval(d["decisiveness_mean"], d["decisiveness_lo"], d["decisiveness_hi"])
        if "order_bias_mean" in d:
            row["order bias"] = fmt_interval(d["order_bias_mean"], d["order_bias_lo"], d["order_bias_hi"])
        h = held.get(str(d["respondent"]))
        if h is not None:
            row["held-out accuracy"] = fmt_interval(h["accuracy"]["mean"], *h["accuracy"]["interval"])
        rows.append(row)
    doc.table(pd.DataFrame(rows))
    img = next((i for i in c.images if i.name == "agreement.png"), None)
    if img is not None:
        doc.para("Convergence across respondents: the posterior correlation of every pair of utility vectors "
                 "(and of each with the population), with its interval. agreement.csv in the run folder has "
                 "Spearman rank correlations too.")
        doc.image(img, assets)


def write_files(idata, cfg, run_dir: Path) -> dict[str, Path]:
    """respondents.csv, agreement.csv and agreement.png of a hierarchical fit (not for MAP)."""
    if not is_hierarchical(idata) or cfg.inference.method == "map":
        return {}
    prob = cfg.output.hdi_prob
    paths = {"respondents": run_dir / "respondents.csv", "agreement": run_dir / "agreement.csv"}
    respondent_table(idata, prob).to_csv(paths["respondents"], index=False, float_format="%.6g")
    agreement(idata, prob).to_csv(paths["agreement"], index=False, float_format="%.6g")
    paths["agreement_plot"] = agreement_figure(idata, prob, run_dir / "agreement.png")
    return paths


def read_table(run_dir: Path) -> pd.DataFrame | None:
    """A run folder's respondents.csv, or None."""
    path = Path(run_dir) / "respondents.csv"
    return pd.read_csv(path) if path.exists() else None


def format_respondents(t: pd.DataFrame) -> str:
    """The per-respondent table (respondents.csv) for the console, with intervals."""
    cols = [("corr_population", "r with population"), ("decisiveness", "decisiveness"),
            ("order_bias", "order bias")]
    cols = [(k, label) for k, label in cols if f"{k}_mean" in t]
    width = max(12, int(t["respondent"].astype(str).str.len().max()))
    lines = [f"  {'respondent':{width}s} " + " ".join(f"{label:>24s}" for _, label in cols)]
    for d in t.to_dict("records"):
        cells = [f"{d[k + '_mean']:.3g} [{d[k + '_lo']:.3g}, {d[k + '_hi']:.3g}]" for k, _ in cols]
        lines.append(f"  {str(d['respondent']):{width}s} " + " ".join(f"{c:>24s}" for c in cells))
    return "respondents (posterior mean [HDI]; agreement matrix in agreement.csv / agreement.png):\n" + "\n".join(lines)
