"""Plots written to run folders (matplotlib's object API: no global pyplot state)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..figures import new_figure


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
    fig = new_figure((11, max(3.0, 0.17 * n + 1.2)))
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
