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
``report.html``, ``.md``   the report (:mod:`bayes_utility.report`), images in
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

from .config import RunConfig, dump_config
from .data import PreferenceData
from .diagnostics import Verdict
from .coherence import expected_utility_metrics
from .heldout import heldout_metrics, pair_level
from .hierarchy import agreement, agreement_figure, is_hierarchical, respondent_table
from .models import get_model
from .plots import forest_plot, forest_title

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


def heldout_summary(idata, data: PreferenceData, unparseable: str, hdi_prob: float = 0.94) -> dict | None:
    """Held-out accuracy and log-loss (see :mod:`bayes_utility.heldout`)."""
    if "predictions" not in idata.groups():
        return None
    pc = idata.predictions_constant_data
    rows = pc["heldout"].values
    p = idata.predictions["p_a"].values
    draws = p.reshape(-1, p.shape[-1])
    emp, pred = pair_level(data.counts, rows, pc["k_a"].values, pc["n"].values, draws)
    res = heldout_metrics(emp, pred, prob=hdi_prob)
    res["unparseable_policy"] = unparseable
    if "respondent_idx" in pc and "respondent" in idata.posterior.coords:  # per respondent (hierarchical fits)
        names = idata.posterior["respondent"].values.astype(str)
        ridx = pc["respondent_idx"].values
        res["by_respondent"] = {}
        for r, name in enumerate(names):
            m = ridx == r
            if m.any():
                e, p_ = pair_level(data.counts, rows[m], pc["k_a"].values[m], pc["n"].values[m], draws[:, m])
                res["by_respondent"][str(name)] = heldout_metrics(e, p_, prob=hdi_prob)
    return res


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
    if (cfg.model.name == "expected_utility" and "constant_data" in idata.groups()
            and "lottery_weights" in idata.constant_data):
        paths["expected_utility"] = run_dir / "expected_utility.json"
        paths["expected_utility"].write_text(json.dumps(expected_utility_metrics(idata, cfg.output.hdi_prob),
                                                        indent=2))
    scal = scalar_summary(idata, cfg.output.hdi_prob)
    if len(scal):
        paths["summary_scalars"] = run_dir / "summary_scalars.csv"
        scal.to_csv(paths["summary_scalars"], index=False, float_format="%.6g")
    if is_hierarchical(idata) and cfg.inference.method != "map":
        paths["respondents"] = run_dir / "respondents.csv"
        respondent_table(idata, cfg.output.hdi_prob).to_csv(paths["respondents"], index=False, float_format="%.6g")
        paths["agreement"] = run_dir / "agreement.csv"
        agreement(idata, cfg.output.hdi_prob).to_csv(paths["agreement"], index=False, float_format="%.6g")
        paths["agreement_plot"] = agreement_figure(idata, cfg.output.hdi_prob, run_dir / "agreement.png")
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
        from .pointwise import add_log_likelihood

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


def format_analyses(run_dir: str | Path) -> str:
    """The analyses a run folder holds (respondents, expected utility, transitivity), formatted."""
    from .coherence import format_expected_utility, format_transitivity

    run_dir = Path(run_dir)
    parts = [format_respondents(run_dir)]
    if (run_dir / "expected_utility.json").exists():
        parts.append(format_expected_utility(json.loads((run_dir / "expected_utility.json").read_text())))
    if (run_dir / "transitivity.json").exists():
        parts.append(format_transitivity(json.loads((run_dir / "transitivity.json").read_text())))
    return "\n\n".join(p for p in parts if p)


def format_respondents(run_dir: str | Path) -> str:
    """Per-respondent table of a hierarchical run (respondents.csv), with intervals."""
    path = Path(run_dir) / "respondents.csv"
    if not path.exists():
        return ""
    t = pd.read_csv(path)
    cols = [("corr_population", "r with population"), ("decisiveness", "decisiveness"),
            ("order_bias", "order bias")]
    cols = [(k, label) for k, label in cols if f"{k}_mean" in t]
    width = max(12, int(t["respondent"].astype(str).str.len().max()))
    lines = [f"  {'respondent':{width}s} " + " ".join(f"{label:>24s}" for _, label in cols)]
    for d in t.to_dict("records"):
        cells = [f"{d[k + '_mean']:.3g} [{d[k + '_lo']:.3g}, {d[k + '_hi']:.3g}]" for k, _ in cols]
        lines.append(f"  {str(d['respondent']):{width}s} " + " ".join(f"{c:>24s}" for c in cells))
    return "respondents (posterior mean [HDI]; agreement matrix in agreement.csv / agreement.png):\n" + "\n".join(lines)


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
