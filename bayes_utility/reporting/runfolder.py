"""Run folders: everything needed to read and reproduce a fit.

A run folder (``outputs/<name>-<UTC time>/``) holds

=========================  =====================================================
``posterior.nc``           ArviZ InferenceData (netCDF groups), outcome ids and
                           texts as coordinates
``summary.csv``            one row per outcome and reported quantity: mean, sd,
                           HDI, MCSE, bulk/tail ESS, R-hat, with outcome texts
``summary_scalars.csv``    the same for scalar parameters (spreads, order bias)
``utilities.png``          forest plot of the utilities with their HDIs
``diagnostics.json``       the verdict and its figures; ``verdict.txt`` in words
``heldout.json``           held-out accuracy and log-loss with intervals (if asked)
``exclusions.csv``         comparison rows not used, and why (if any)
``config.yaml``            the resolved config, every default spelled out
``provenance.json``        data hash, package versions, seed, timing, git SHA
``report.html``, ``.md``   the report (:mod:`bayes_utility.reporting.report`), images in
                           ``report_assets/``
=========================  =====================================================
"""
from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import logging
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from ..analyses.registry import offered_by
from ..config import RunConfig, dump_config
from ..data.dataset import PreferenceData
from ..inference.diagnostics import Verdict
from ..models import get_model
from .plots import forest_plot, forest_title
from .tables import all_rank_tables, scalar_summary, summary_table

logger = logging.getLogger(__name__)


PACKAGES = ("bayes_utility", "numpyro", "jax", "jaxlib", "arviz", "xarray", "numpy", "scipy", "pandas")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_sha(path: Path | None = None) -> str | None:
    try:
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path or Path(__file__).parent,
            capture_output=True, text=True, timeout=5,
        )
        return res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def new_run_dir(cfg: RunConfig, out: str | Path | None = None) -> Path:
    """A fresh folder ``<out>/<name>-<YYYYmmddTHHMMSSZ>`` (suffixed if it exists)."""
    base = Path(out or cfg.output.dir)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = cfg.output.run_name or f"{cfg.name}-{stamp}"
    run = base / name
    k = 1
    while run.exists():
        k += 1
        run = base / f"{name}-{k}"
    run.mkdir(parents=True)
    return run


def write_run(
    run_dir: Path,
    cfg: RunConfig,
    data: PreferenceData,
    fit_out,
    verdict: Verdict,
    heldout: dict | None,
) -> tuple[dict[str, Path], pd.DataFrame]:
    """Write every file of a run folder; returns their paths by role and the summary table."""
    idata = fit_out.idata
    paths = {}
    paths["posterior"] = run_dir / "posterior.nc"
    write_posterior(idata, paths["posterior"], cfg.output.store_log_likelihood)
    summ = summary_table(idata, cfg.output.hdi_prob)
    paths["summary"] = run_dir / "summary.csv"
    summ.to_csv(paths["summary"], index=False, float_format="%.6g")
    paths["forest_plot"] = forest_plot(summ, run_dir / "utilities.png",
                                       title=forest_title(run_dir.name, cfg.model.name, cfg.inference.method))
    if cfg.inference.method != "map":
        paths["ranks"] = run_dir / "ranks.csv"
        all_rank_tables(idata, cfg.output.hdi_prob).to_csv(paths["ranks"], index=False, float_format="%.6g")
    scal = scalar_summary(idata, cfg.output.hdi_prob)
    if len(scal):
        paths["summary_scalars"] = run_dir / "summary_scalars.csv"
        scal.to_csv(paths["summary_scalars"], index=False, float_format="%.6g")
    for analysis in offered_by(get_model(cfg.model.name)):  # the model's derived files (e.g. respondents.csv)
        paths.update(analysis.write(idata, cfg, run_dir))
    paths["diagnostics"] = run_dir / "diagnostics.json"
    paths["diagnostics"].write_text(json.dumps(verdict.to_dict(), indent=2))
    paths["verdict"] = run_dir / "verdict.txt"
    notes = "\n".join(fit_out.notes)
    paths["verdict"].write_text(verdict.text() + ("\n" + notes if notes else "") + "\n")
    if heldout is not None:
        paths["heldout"] = run_dir / "heldout.json"
        paths["heldout"].write_text(json.dumps(heldout, indent=2))
    if fit_out.exclusions:
        paths["exclusions"] = run_dir / "exclusions.csv"
        pd.DataFrame([asdict(e) for e in fit_out.exclusions]).to_csv(paths["exclusions"], index=False)
    paths["config"] = run_dir / "config.yaml"
    paths["config"].write_text(dump_config(cfg))
    prov = {
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "data_source": data.source,
        "data_sha256": data.content_hash(),
        "n_outcomes": data.n_outcomes,
        "n_comparison_rows": int(len(data.counts)),
        "n_rows_fitted": int(idata.posterior.attrs["n_fitted_rows"]),
        "comparison_unit": idata.posterior.attrs["comparison_unit"],
        "n_rows_heldout": int(len(fit_out.heldout_rows)),
        "n_rows_excluded": len(fit_out.exclusions),
        "respondents": data.respondents,
        "prompt_templates": sorted(map(str, data.counts["prompt_template"].unique())),
        "model": cfg.model.name,
        "inference_method": cfg.inference.method,
        "seed": cfg.inference.seed,
        "timing_s": fit_out.timing,
        "versions": package_versions(),
        "git_sha": git_sha(),
        "jax_devices": _devices(),
    }
    paths["provenance"] = run_dir / "provenance.json"
    paths["provenance"].write_text(json.dumps(prov, indent=2, default=str))
    return paths, summ


# ``store_log_likelihood: auto`` keeps the pointwise log-likelihood in posterior.nc up to
# this many values (chains x draws x comparisons; 4 bytes each before compression)
STORE_LOG_LIK_MAX = 10_000_000


def write_posterior(idata, path: Path, store_log_likelihood: str = "auto") -> None:
    """``posterior.nc`` (ArviZ compresses every numeric variable); the pointwise log-likelihood
    (computed in float64: near-certain answers' values are tiny, not zero) stored in float32
    (a relative rounding of 6e-8: LOO moves by far less than its Monte Carlo error) or not
    at all, to be recomputed on load (:func:`load_run`)."""
    groups = {g: getattr(idata, g) for g in idata.groups()}
    ll = groups.get("log_likelihood")
    mode = store_log_likelihood
    if ll is not None and mode == "auto":
        mode = "float32" if sum(v.size for v in ll.data_vars.values()) <= STORE_LOG_LIK_MAX else "none"
    if ll is not None and mode == "none":
        del groups["log_likelihood"]
    elif ll is not None:
        groups["log_likelihood"] = ll.astype(np.float32)
    if "posterior" in groups:  # how load_run finds it: stored, recomputed, or never computed (too large)
        groups["posterior"] = groups["posterior"].copy()
        groups["posterior"].attrs["log_likelihood"] = ("none" if ll is None else
                                                       "recompute" if mode == "none" else "float32")
    az.InferenceData(**groups).to_netcdf(str(path))  # compress=True: zlib for every numeric variable


def _devices() -> list[str]:
    import jax

    return [str(d) for d in jax.devices()]


@dataclass
class Run:
    """A run folder read back by :func:`load_run`.

    ``idata`` (ArviZ InferenceData, log-likelihood in float64), ``summary`` (one row per
    outcome and reported quantity), ``diagnostics`` (the verdict's figures), ``heldout``
    (held-out metrics or None), ``config`` (the resolved config the run was fitted with),
    ``path``; ``passed``, ``verdict`` (its text), ``utilities`` and ``files`` read the rest.
    """

    path: Path
    idata: az.InferenceData
    summary: pd.DataFrame
    diagnostics: dict
    heldout: dict | None
    config: RunConfig | None

    @property
    def method(self) -> str:
        return str(self.diagnostics.get("method", self.idata.posterior.attrs.get("inference_method", "nuts")))

    @property
    def passed(self) -> bool | None:
        """Whether the NUTS verdict passed; None for an approximate (MAP/SVI) fit."""
        return bool(self.diagnostics.get("ok")) if self.method == "nuts" else None

    @property
    def verdict(self) -> str:
        path = self.path / "verdict.txt"
        return path.read_text().rstrip() if path.exists() else ""

    @property
    def utilities(self) -> pd.DataFrame:
        """The utility rows of the summary, best first."""
        return self.summary[self.summary["quantity"] == "utility"].sort_values("mean", ascending=False)

    @property
    def files(self) -> dict[str, Path]:
        """The run folder's files by name."""
        return {p.name: p for p in sorted(self.path.iterdir()) if p.is_file()}

    def _legacy(self) -> tuple:
        import warnings

        warnings.warn("load_run returns a Run (run.idata, run.summary, run.diagnostics, run.heldout); unpacking "
                      "it as a 4-tuple is deprecated", DeprecationWarning, stacklevel=3)
        return self.idata, self.summary, self.diagnostics, self.heldout

    def __iter__(self):
        return iter(self._legacy())

    def __getitem__(self, i: int):
        return self._legacy()[i]


class RunFolderError(ValueError):
    """A run folder's file is missing or cannot be read."""


def read_run_file(path: Path, read):
    """``read(path)`` for one of a run folder's files, or a :class:`RunFolderError` naming it."""
    if not path.exists():
        raise RunFolderError(f"{path}: missing (the run folder is incomplete)")
    try:
        return read(path)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise RunFolderError(f"{path}: unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                             ) from None


def read_posterior(run_dir: Path):
    """The run's posterior.nc, or a :class:`RunFolderError` naming it."""
    return read_run_file(run_dir / "posterior.nc", lambda p: az.from_netcdf(str(p)))


def load_run(run_dir: str | Path) -> Run:
    """Read a run folder back (see :class:`Run`)."""
    run_dir = Path(run_dir)
    if not (run_dir / "posterior.nc").exists():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no posterior.nc)")
    idata = read_posterior(run_dir)
    if "log_likelihood" in idata.groups():  # stored in float32: PSIS needs float64 arithmetic
        idata.log_likelihood = idata.log_likelihood.astype(np.float64)
    elif idata.posterior.attrs.get("log_likelihood") == "recompute":
        from ..inference.pointwise import add_log_likelihood

        idata = add_log_likelihood(idata)
    summ = read_run_file(run_dir / "summary.csv", pd.read_csv)
    diag = read_run_file(run_dir / "diagnostics.json", lambda p: json.loads(p.read_text()))
    held = (read_run_file(run_dir / "heldout.json", lambda p: json.loads(p.read_text()))
            if (run_dir / "heldout.json").exists() else None)
    config = None
    if (run_dir / "config.yaml").exists():
        import yaml

        try:
            config = RunConfig.model_validate(yaml.safe_load((run_dir / "config.yaml").read_text()))
        except ValueError:  # a folder written by another version: the rest still reads
            logger.info("%s: config.yaml does not validate under this version", run_dir)
    return Run(path=run_dir, idata=idata, summary=summ, diagnostics=diag, heldout=held, config=config)
