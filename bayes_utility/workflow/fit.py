"""The fit workflow behind ``bayes-utility fit``: load, fit, diagnose, write."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import RunConfig
from ..data.dataset import PreferenceData
from ..data.loading import load_dataset
from ..inference.diagnostics import Verdict, diagnose
from ..inference.heldout import heldout_summary
from ..inference.pipeline import FitOutput, fit_run
from ..reporting.runfolder import new_run_dir, write_run

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """A fit written to its run folder: the folder, the fit, its verdict and held-out metrics,
    the data, the summary table, and the config the reported fit was made with."""

    run_dir: Path
    fit: FitOutput
    verdict: Verdict
    heldout: dict | None
    data: PreferenceData
    summary: pd.DataFrame
    config: RunConfig | None = None


def load_data_for(cfg: RunConfig) -> PreferenceData:
    """Load and select the data a config names."""
    data = load_dataset(cfg.data.path, outcomes=cfg.data.outcomes)
    if cfg.data.respondent or cfg.data.prompt_template:
        data = data.select(cfg.data.respondent, cfg.data.prompt_template)
    return data


def run_fit(cfg: RunConfig, data: PreferenceData | None = None, out: str | Path | None = None) -> RunResult:
    """Fit as configured and write a run folder; returns where and what."""
    data = data if data is not None else load_data_for(cfg)
    logger.info("data: %s", data)
    fit_out = fit_run(data, cfg)
    verdict = diagnose(fit_out.idata)
    cfg, fit_out, verdict = _retry_divergent(data, cfg, fit_out, verdict)
    held = heldout_summary(fit_out.idata, data, cfg.data.unparseable, cfg.output.hdi_prob)
    run_dir = new_run_dir(cfg, out)
    _, summary = write_run(run_dir, cfg, data, fit_out, verdict, held)
    if cfg.output.report:
        from ..reporting.report import write_report

        write_report([run_dir])
    if cfg.inference.method == "nuts" and not verdict.ok:
        logger.warning("diagnostics FAIL for %s: %s", run_dir, "; ".join(verdict.problems))
    elif cfg.inference.method != "nuts":
        # (the verdict says so in its first line: not repeated as a warning on the console)
        logger.info("%s is an APPROXIMATE %s fit: no convergence diagnostics", run_dir, cfg.inference.method.upper())
    return RunResult(run_dir=run_dir, fit=fit_out, verdict=verdict, heldout=held, data=data,
                     summary=summary, config=cfg)


def _retry_divergent(data: PreferenceData, cfg: RunConfig, fit_out: FitOutput, verdict: Verdict):
    """Refit once at ``inference.retry_target_accept`` when a NUTS fit ended with
    divergent transitions (smaller steps resolve the curvature that caused most of them).

    Never silent: the retry is logged, written into the verdict, and the run's config is
    the one that produced the reported fit (with the raised target acceptance)."""
    inf = cfg.inference
    target = inf.retry_target_accept
    if inf.method != "nuts" or not verdict.n_divergent or target is None or target <= inf.target_accept:
        return cfg, fit_out, verdict
    first = (f"{verdict.n_divergent} divergent transitions at target_accept {inf.target_accept:g}; "
             f"refitted at {target:g}")
    logger.warning("%s: %s", cfg.name, first)
    retry_cfg = cfg.with_overrides(inference={"target_accept": target})
    fit2 = fit_run(data, retry_cfg)
    verdict2 = diagnose(fit2.idata)
    verdict2.retry = first + (f" (now {verdict2.n_divergent})" if verdict2.n_divergent else " (now none)")
    return retry_cfg, fit2, verdict2
