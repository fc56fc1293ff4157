"""Plots written to run folders (matplotlib's object API: no global pyplot state)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def forest_title(run: str, model: str, method: str) -> str:
    """The one title of a run's forest plots (the run folder's and the report's grouped one)."""
    return f"{run}: {model} ({method.upper()})"


def forest_plot(summ: pd.DataFrame, path: str | Path, quantity: str = "utility", title: str = "",
                grouped: bool = False) -> Path:
    """Write :func:`forest_figure` to ``path`` (PNG)."""
    path = Path(path)
    forest_figure(summ, quantity, title, grouped).savefig(path, dpi=130)
    return path


def forest_figure(summ: pd.DataFrame, quantity: str = "utility", title: str = "", grouped: bool = False):
    """Posterior means and HDIs of every outcome, sorted, coloured by category.

    ``grouped=True`` keeps each category together (categories ordered by their mean
    utility, outcomes sorted within), with the category names beside the groups.
    """
    s = summ[summ["quantity"] == quantity].copy()
    s["category"] = [c if isinstance(c, str) else "" for c in s["category"]]
    if grouped:
        s["_cat_mean"] = s.groupby("category")["mean"].transform("mean")
        s = s.sort_values(["_cat_mean", "category", "mean"])
    else:
        s = s.sort_values("mean")
    s = s.reset_index(drop=True)
    hdi = [c for c in s.columns if c.startswith("hdi_")]
    n = len(s)
    fig = _new_figure((11, max(3.0, 0.17 * n + 1.2)))
    ax = fig.add_subplot()
    y = np.arange(n)
    cats = s["category"].astype(str)
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    markers = "osD^v"
    style = {c: (cmap(i % 20), markers[(i // 20) % len(markers)]) for i, c in enumerate(sorted(cats.unique()))}
    colors = [style[c][0] for c in cats]
    if len(hdi) == 2:
        ax.hlines(y, s[hdi[0]], s[hdi[1]], colors=colors, lw=1.6)
        prob = float(hdi[1][4:-1]) - float(hdi[0][4:-1])
        label = f"posterior mean and {prob:.0f}% HDI"
    else:
        label = "point estimate (approximate fit: no interval)"
    for c, (color, marker) in style.items():
        m = (cats == c).to_numpy()
        ax.scatter(s["mean"][m], y[m], color=color, marker=marker, s=14, zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels([_shorten(t) for t in s["text"].astype(str)], fontsize=6.5)
    ax.set_ylim(-1, n)
    if grouped:
        starts = np.flatnonzero(cats.ne(cats.shift()).to_numpy())
        for start, end in zip(starts, list(starts[1:]) + [n]):
            if start:
                ax.axhline(start - 0.5, color="0.8", lw=0.6)
            ax.text(1.01, (start + end - 1) / 2, _shorten(cats.iloc[start], 34) or "(no category)",
                    transform=ax.get_yaxis_transform(), fontsize=7, va="center", color="0.25")
    ax.axvline(0.0, color="0.7", lw=0.8, zorder=0)
    ax.set_xlabel(f"{quantity} (zero mean, unit sd across outcomes); {label}")
    ax.set_title((title or f"{quantity} by outcome, best at the top") + (", grouped by category" if grouped else ""))
    if len(style) > 1 and not grouped:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=col, marker=mk, ls="", label=_shorten(k, 40)) for k, (col, mk) in style.items()]
        ax.legend(handles=handles, fontsize=6, loc="lower right", ncol=1 if len(handles) < 16 else 2,
                  title="category", title_fontsize=7)
    fig.tight_layout()
    return fig


def _new_figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def ecdf_band(n: int, x: np.ndarray, prob: float = 0.95, n_sim: int = 4000, seed: int = 0):
    """Simultaneous ``prob`` band for the ECDF of ``n`` uniform draws at the points ``x``.

    By simulation (Säilynoja, Bürkner and Vehtari 2022, "Graphical test for discrete
    uniformity and its applications in goodness-of-fit evaluation and multiple sample
    comparison"): the pointwise binomial band at level ``gamma`` is widened until
    ``prob`` of ``n_sim`` simulated uniform ECDFs stay inside it at every point.
    Returns the band's ``(lower, upper)`` ECDF values at ``x``.
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    counts = np.stack([np.searchsorted(np.sort(rng.random(n)), x, side="right") for _ in range(n_sim)])
    # each simulated ECDF's smallest two-sided pointwise tail probability
    tail = np.minimum(stats.binom.cdf(counts, n, x), stats.binom.sf(counts - 1, n, x))
    gamma = np.quantile(2.0 * tail.min(axis=1), 1.0 - prob)
    return stats.binom.ppf(gamma / 2.0, n, x) / n, stats.binom.ppf(1.0 - gamma / 2.0, n, x) / n


def sbc_plots(res, folder: str | Path) -> list[Path]:
    """ECDF-difference plots (one panel per site) and rank histograms of an SBC study.

    ECDF difference: the empirical CDF of the normalised ranks minus the uniform CDF,
    one line per element of a site, inside the 95% simultaneous band for one
    quantity (:func:`ecdf_band`). Histogram:
    rank counts per bin for the scalar quantities, with the central 99% range of a
    bin's count under uniformity.
    """
    from scipy import stats

    folder = Path(folder)
    ranks, tests, cfg = res.ranks, res.tests, res.cfg
    n_rep, kept, bins = len(ranks), cfg.sbc.draws_kept, cfg.sbc.bins
    site = pd.Series(ranks.columns.str.replace(r"\[\d+\]$", "", regex=True), index=ranks.columns)
    sites = list(dict.fromkeys(site))
    x = np.arange(1, kept + 1) / (kept + 1)  # ECDF of rank/(kept+1) evaluated between ranks
    lower, upper = ecdf_band(n_rep, x, prob=0.95)
    ncol = min(4, len(sites))
    nrow = -(-len(sites) // ncol)
    fig = _new_figure((3.4 * ncol, 2.7 * nrow))
    for k, name in enumerate(sites):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        ax.fill_between(x, lower - x, upper - x, color="0.85", step="mid", label="95% simultaneous band")
        cols = site.index[site == name]
        for col in cols:
            ecdf = (ranks[col].to_numpy()[:, None] < np.arange(1, kept + 1)).mean(axis=0)
            bad = not tests.loc[col, "ok"]
            ax.plot(x, ecdf - x, lw=1.4 if bad else 0.8, color="C3" if bad else "C0",
                    alpha=1.0 if bad or len(cols) == 1 else 0.5)
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(f"{name} ({len(cols)})" if len(cols) > 1 else name, fontsize=9)
        ax.set_xlabel("normalised rank", fontsize=8)
        ax.tick_params(labelsize=7)
        if k % ncol == 0:
            ax.set_ylabel("ECDF - uniform", fontsize=8)
    fig.suptitle(f"SBC of {cfg.model.name}: {n_rep} replications, {'PASSED' if res.passed else 'FAILED'} "
                 f"(red: quantities failing the uniformity check)", fontsize=10)
    fig.tight_layout()
    ecdf_path = folder / "sbc_ecdf.png"
    fig.savefig(ecdf_path, dpi=110)

    scalars = [c for c in ranks.columns if "[" not in c]
    fig = _new_figure((3.2 * len(scalars), 2.6))
    lo, hi = stats.binom.ppf([0.005, 0.995], n_rep, 1.0 / bins)
    for k, col in enumerate(scalars):
        ax = fig.add_subplot(1, len(scalars), k + 1)
        counts = np.bincount(ranks[col].to_numpy() * bins // (kept + 1), minlength=bins)
        ax.axhspan(lo, hi, color="0.88", label="99% range if uniform")
        ax.bar(np.arange(bins), counts, width=0.9, color="C0" if tests.loc[col, "ok"] else "C3")
        ax.axhline(n_rep / bins, color="0.4", lw=0.7)
        ax.set_title(f"{col}  p = {tests.loc[col, 'p_value']:.2g}", fontsize=9)
        ax.set_xlabel(f"rank bin (of {bins})", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    hist_path = folder / "sbc_ranks.png"
    fig.savefig(hist_path, dpi=110)
    return [ecdf_path, hist_path]
