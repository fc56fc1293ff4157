r"""Reference posteriors: small named problems with stored posterior summaries.

In the manner of posteriordb: each reference under
``bayes_utility/reference_posteriors/NAME/`` holds the data (or names a bundled
dataset), the recipe (``config.yaml``) and a table of posterior summaries
(``reference.csv``: mean, sd and the 5%, 50% and 95% quantiles, each with its Monte
Carlo standard error) made by a long, checked run (``meta.json``: chains, draws,
R-hat, divergences, versions, date). ``scripts/make_reference_posteriors.py``
remakes them.

:func:`compare_to_reference` refits and compares each statistic with
:math:`|\hat\theta_{new} - \hat\theta_{ref}| \le z \sqrt{\mathrm{mcse}_{new}^2 + \mathrm{mcse}_{ref}^2}`,
:math:`z` the two-sided Bonferroni bound for a family-wise false-alarm rate
(0.001 by default) over every statistic compared. A change to a model, a prior, the
likelihood or the sampler that moves the posterior by more than Monte Carlo error
fails it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..config import RunConfig, load_config

REFERENCE_DIR = Path(__file__).parents[1] / "reference_posteriors"


QUANTILES = (0.05, 0.5, 0.95)


STATISTICS = ("mean", "sd") + tuple(f"q{int(q * 100):02d}" for q in QUANTILES)


@dataclass(frozen=True)
class Reference:
    name: str
    folder: Path
    config: RunConfig
    table: pd.DataFrame  # index: parameter; columns: each statistic and mcse_<statistic>
    meta: dict

    def load_data(self):
        from ..data.loading import load_dataset

        return load_dataset(self.data_path, outcomes=self.config.data.outcomes)

    @property
    def data_path(self) -> str:
        path = self.config.data.path
        return path if path.startswith("builtin:") else str(self.folder / path)


def list_references() -> list[str]:
    return sorted(p.name for p in REFERENCE_DIR.iterdir() if (p / "reference.csv").exists())


def load_reference(name: str) -> Reference:
    folder = REFERENCE_DIR / name
    if not (folder / "config.yaml").exists():
        raise ValueError(f"no reference posterior {name!r}; available: {', '.join(list_references())}")
    table_path = folder / "reference.csv"
    table = pd.read_csv(table_path, index_col="parameter") if table_path.exists() else pd.DataFrame()
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return Reference(name=name, folder=folder, config=load_config(folder / "config.yaml"), table=table, meta=meta)


def summarize(idata, var_names) -> pd.DataFrame:
    """Posterior statistics with their MCSE, one row per scalar parameter."""
    import arviz as az

    summ = az.summary(idata, var_names=list(var_names), kind="all", round_to="none")
    out = pd.DataFrame({"mean": summ["mean"], "mcse_mean": summ["mcse_mean"], "sd": summ["sd"],
                        "mcse_sd": summ["mcse_sd"]})
    post = az.extract(idata, var_names=list(var_names), combined=True)
    for q, col in zip(QUANTILES, STATISTICS[2:]):
        mcse = az.mcse(idata, var_names=list(var_names), method="quantile", prob=q)
        out[col] = _flatten(post.quantile(q, dim="sample"), out.index)
        out[f"mcse_{col}"] = _flatten(mcse, out.index)
    out["ess_bulk"], out["ess_tail"], out["r_hat"] = summ["ess_bulk"], summ["ess_tail"], summ["r_hat"]
    out.index.name = "parameter"
    return out


def _flatten(ds, index) -> np.ndarray:
    """Values of a Dataset in ArviZ summary order (variable, then elements in C order)."""
    values = []
    for var in ds.data_vars:
        values.append(np.asarray(ds[var]).reshape(-1))
    flat = np.concatenate(values)
    if len(flat) != len(index):
        raise ValueError("summary and quantile tables do not line up")
    return flat


def compare_to_reference(new: pd.DataFrame, ref: pd.DataFrame, family_level: float = 0.001) -> pd.DataFrame:
    """Each statistic of ``new`` against ``ref`` in units of the combined MCSE."""
    missing = sorted(set(ref.index) - set(new.index))
    if missing:
        raise ValueError(f"parameters missing from the new fit: {missing[:5]}")
    rows = []
    for stat in STATISTICS:
        se = np.sqrt(new.loc[ref.index, f"mcse_{stat}"] ** 2 + ref[f"mcse_{stat}"] ** 2)
        diff = new.loc[ref.index, stat] - ref[stat]
        rows.append(pd.DataFrame({"parameter": ref.index, "statistic": stat, "reference": ref[stat],
                                  "new": new.loc[ref.index, stat], "difference": diff, "combined_mcse": se,
                                  "z": diff / se}))
    out = pd.concat(rows, ignore_index=True)
    out["bound"] = stats.norm.isf(family_level / (2 * len(out)))
    out["ok"] = out["z"].abs() <= out["bound"]
    return out
