"""Plots written to run folders (matplotlib's object API: no global pyplot state)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def forest_plot(summ: pd.DataFrame, path: str | Path, quantity: str = "utility", title: str = "") -> Path:
    """Posterior means and HDIs of every outcome, sorted, coloured by category."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    s = summ[summ["quantity"] == quantity].sort_values("mean").reset_index(drop=True)
    hdi = [c for c in s.columns if c.startswith("hdi_")]
    n = len(s)
    fig = Figure(figsize=(11, max(3.0, 0.17 * n + 1.2)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(n)
    cats = s["category"].fillna("").astype(str)
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
    ax.axvline(0.0, color="0.7", lw=0.8, zorder=0)
    ax.set_xlabel(f"{quantity} (zero mean, unit sd across outcomes); {label}")
    ax.set_title(title or f"{quantity} by outcome, best at the top")
    if len(style) > 1:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=col, marker=mk, ls="", label=_shorten(k, 40)) for k, (col, mk) in style.items()]
        ax.legend(handles=handles, fontsize=6, loc="lower right", ncol=1 if len(handles) < 16 else 2,
                  title="category", title_fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    return path
