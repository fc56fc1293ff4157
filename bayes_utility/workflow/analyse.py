"""A run folder opened for an analysis: its posterior, config and data, and sibling fits
written beside it (what :class:`~bayes_utility.analyses.context.RunContext` promises)."""
from __future__ import annotations

from pathlib import Path

from ..analyses.context import RunContext
from ..config import load_config
from ..reporting.runfolder import load_run
from .fit import load_data_for, run_fit


def open_run(run_dir: str | Path) -> RunContext:
    """The run folder ``run_dir`` with its data read again as its config says."""
    run_dir = Path(run_dir)
    idata = load_run(run_dir).idata
    cfg = load_config(run_dir / "config.yaml")

    def fit_sibling(sibling_cfg, data):
        res = run_fit(sibling_cfg, data=data, out=run_dir.parent)
        return res.run_dir, load_run(res.run_dir).idata

    return RunContext(run_dir=run_dir, idata=idata, cfg=cfg, data=load_data_for(cfg), fit_sibling=fit_sibling,
                      open_sibling=lambda path: load_run(path).idata)
