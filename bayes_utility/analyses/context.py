"""What an analysis is handed: a fitted run (its folder, posterior, config and data) and two
ways to reach sibling runs, so that no analysis imports the run-folder code or the fit
workflow above it (:func:`bayes_utility.workflow.analyse.open_run` builds one)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..config import RunConfig
from ..data.dataset import PreferenceData


@dataclass
class RunContext:
    """A run folder opened for an analysis.

    ``fit_sibling(cfg, data)`` fits ``data`` as ``cfg`` says into a new run folder beside
    this one (named by ``cfg.output.run_name``) and returns ``(run_dir, idata)``;
    ``open_sibling(run_dir)`` reads another run folder's posterior.
    """

    run_dir: Path
    idata: Any
    cfg: RunConfig
    data: PreferenceData
    fit_sibling: Callable[[RunConfig, PreferenceData], tuple[Path, Any]]
    open_sibling: Callable[[Path], Any]
