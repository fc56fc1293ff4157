"""The fit workflow behind ``bayes-utility fit``: load, fit, diagnose, write."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import RunConfig
from .data import PreferenceData, load_dataset
from .diagnostics import Verdict, diagnose
from .inference import FitOutput, fit_run
from .results import heldout_summary, new_run_dir, write_run

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_dir: Path
    fit: FitOutput
    verdict: Verdict
    heldout: dict | None
    data: PreferenceData
    summary: pd.DataFrame


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
    held = heldout_summary(fit_out.idata, data, cfg.data.unparseable, cfg.output.hdi_prob)
    run_dir = new_run_dir(cfg, out)
    _, summary = write_run(run_dir, cfg, data, fit_out, verdict, held)
    if cfg.output.report:
        from .report import write_report

        write_report([run_dir])
    if cfg.inference.method == "nuts" and not verdict.ok:
        logger.warning("diagnostics FAIL for %s: %s", run_dir, "; ".join(verdict.problems))
    elif cfg.inference.method != "nuts":
        logger.warning("%s is an APPROXIMATE %s fit: no convergence diagnostics", run_dir, cfg.inference.method.upper())
    return RunResult(run_dir=run_dir, fit=fit_out, verdict=verdict, heldout=held, data=data,
                     summary=summary)
