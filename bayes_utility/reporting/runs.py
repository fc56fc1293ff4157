"""One long table across run folders, for pandas: run x respondent x outcome, with the
posterior mean, sd and HDI of the utility (``bayes-utility runs RUN... --out FILE``).

Flat fits give one block per run (respondent: the respondent the config selected, or
``all``); hierarchical fits give the population (``population``) and every respondent.
Approximate fits (MAP) have a mean and no interval. Each row carries its run's model,
method and verdict, so a failed fit cannot pass unnoticed into a pooled analysis.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .runfolder import read_posterior, read_run_file

COLUMNS = ["run", "model", "method", "verdict", "respondent", "outcome_id", "text", "category", "mean", "sd",
           "hdi_lo", "hdi_hi", "hdi_prob", "run_dir"]


def _verdict(run_dir: Path) -> tuple[str, str]:
    diag = read_run_file(run_dir / "diagnostics.json", lambda p: json.loads(p.read_text()))
    method = str(diag.get("method", "nuts"))
    return method, ("PASS" if diag.get("ok") else "FAIL") if method == "nuts" else "APPROXIMATE"


def _block(da, prob: float) -> dict[str, np.ndarray]:
    """Mean, sd and HDI over (chain, draw) of a (chain, draw, ..., outcome) array."""
    import arviz as az

    x = da.values
    flat = x.reshape(-1, *x.shape[2:])
    out = {"mean": flat.mean(axis=0)}
    if flat.shape[0] > 1:
        hdi = az.hdi(da, hdi_prob=prob)[da.name].values  # (..., outcome, 2)
        out.update(sd=flat.std(axis=0, ddof=1), hdi_lo=hdi[..., 0], hdi_hi=hdi[..., 1])
    else:
        nan = np.full(flat.shape[1:], np.nan)
        out.update(sd=nan, hdi_lo=nan, hdi_hi=nan)
    return out


def runs_table(runs, prob: float = 0.94) -> pd.DataFrame:
    """The long table of the utilities of every run folder in ``runs`` (see the module)."""

    frames = []
    for run in runs:
        run_dir = Path(run)
        if not (run_dir / "posterior.nc").exists() or not (run_dir / "diagnostics.json").exists():
            raise FileNotFoundError(f"{run_dir}: not a run folder (no posterior.nc or diagnostics.json)")
        method, verdict = _verdict(run_dir)
        post = read_posterior(run_dir).posterior
        if "utility" not in post:
            raise ValueError(f"{run_dir}: the model {post.attrs.get('model')!r} reports no utilities")
        ids = post["outcome"].values.astype(str)
        texts = post["outcome_text"].values.astype(str) if "outcome_text" in post.coords else ids
        cats = post["outcome_category"].values.astype(str) if "outcome_category" in post.coords else [""] * len(ids)
        blocks = []
        if "respondent_utility" in post:
            blocks.append(("population", _block(post["utility"], prob)))
            per = _block(post["respondent_utility"].transpose("chain", "draw", "respondent", "outcome"), prob)
            for j, r in enumerate(post["respondent"].values.astype(str)):
                blocks.append((r, {k: v[j] for k, v in per.items()}))
        else:
            who = "all"
            cfg_path = run_dir / "config.yaml"
            if cfg_path.exists():
                import yaml

                who = str((yaml.safe_load(cfg_path.read_text()) or {}).get("data", {}).get("respondent") or "all")
            blocks.append((who, _block(post["utility"], prob)))
        for respondent, stats in blocks:
            frames.append(pd.DataFrame({
                "run": run_dir.name, "model": post.attrs.get("model", ""), "method": method, "verdict": verdict,
                "respondent": respondent, "outcome_id": ids, "text": texts, "category": cats, **stats,
                "hdi_prob": prob, "run_dir": str(run_dir)}))
    if not frames:
        raise ValueError("no run folders given")
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """CSV or Parquet by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        df.to_csv(path, index=False, float_format="%.6g")
    else:
        raise ValueError(f"{path}: the table is written as .csv or .parquet")
    return path
