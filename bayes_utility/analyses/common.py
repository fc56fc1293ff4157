"""Helpers shared by the analyses: interval summaries of draws, their formatting, figures."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def finish_figure(fig, path=None):
    """Save a figure to ``path`` and close it (returns the path), or return the figure."""
    if path is None:
        return fig
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def fmt_iv(s: dict, fmt: str = ".3f") -> str:
    """A summary ``{mean, interval}`` as "mean [lo, hi]"."""
    return f"{s['mean']:{fmt}} [{s['interval'][0]:{fmt}}, {s['interval'][1]:{fmt}}]"


def _summ(x: np.ndarray, prob: float) -> dict:
    import arviz as az

    lo, hi = az.hdi(np.asarray(x, float), hdi_prob=prob) if np.ptp(x) > 0 else (float(x[0]), float(x[0]))
    return {"mean": float(np.mean(x)), "interval": [float(lo), float(hi)], "interval_prob": prob}


def _iv(s: dict, fmt: str = ".3g") -> str:
    return fmt_iv(s, fmt)


def _draws(idata, var: str) -> np.ndarray:
    """(draws, ...) of a posterior variable, chains stacked."""
    x = idata.posterior[var]
    return x.values.reshape(-1, *x.shape[2:])


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _write(run_dir: Path, name: str, res: dict, tables: tuple[str, ...] = ()) -> None:
    """``name.json`` with every result but the tables, each table as ``name_<table>.csv``."""
    out = {k: v for k, v in res.items() if k not in tables}
    (run_dir / f"{name}.json").write_text(json.dumps(out, indent=2))
    for t in tables:
        res[t].to_csv(run_dir / f"{name}_{t}.csv", index=False, float_format="%.6g")


# ------------------------------------------------------------------ number formatting
def decimals_for(width: float) -> int:
    """Decimals that show an interval of this width with two significant digits."""
    if not math.isfinite(width) or width <= 0:
        return 3
    return int(min(6, max(0, 1 - math.floor(math.log10(width)))))


def fmt_interval(mean: float, lo: float, hi: float, prob: float | None = None, decimals: int | None = None) -> str:
    """``0.80 [0.73, 0.85]`` (with ``94%`` appended when ``prob`` is given)."""
    d = decimals_for(hi - lo) if decimals is None else decimals
    text = f"{mean:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"
    return text + (f" ({prob:.0%} interval)" if prob is not None else "")
