"""A run folder opened for an analysis: its posterior, config and data, and sibling fits
written beside it (what :class:`~bayes_utility.analyses.context.RunContext` promises)."""
from __future__ import annotations

from pathlib import Path

from ..analyses.context import RunContext
from ..config import load_config
from ..reporting.runfolder import load_run
from .fit import RunResult, load_data_for, run_fit


def open_run(run_dir: str | Path) -> RunContext:
    """The run folder ``run_dir``, with its data read again as its config says."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    # load_config names what is wrong with a config.yaml that load_run could not read
    cfg = run.config if run.config is not None else load_config(run_dir / "config.yaml")
    return _context(run_dir, run.idata, cfg, load_data_for(cfg))


def context_of(result: RunResult) -> RunContext:
    """A run just fitted by :func:`run_fit`, as it is in memory (nothing read back)."""
    return _context(result.run_dir, result.fit.idata, result.config, result.data)


def _context(run_dir: Path, idata, cfg, data) -> RunContext:
    def fit_sibling(sibling_cfg, sibling_data):
        res = run_fit(sibling_cfg, data=sibling_data, out=run_dir.parent)
        return res.run_dir, res.fit.idata

    return RunContext(run_dir=run_dir, idata=idata, cfg=cfg, data=data, fit_sibling=fit_sibling,
                      open_sibling=lambda path: load_run(path).idata)
