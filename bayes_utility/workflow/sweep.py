"""Config sweeps: many fits (configs x settings) as one list of jobs, run in local worker
processes or on Ray (:mod:`bayes_utility.inference.executors`).

    bayes-utility sweep inference_configs/default.yaml inference_configs/bradley_terry.yaml \
        --grid inference.target_accept=0.8,0.9 --set inference.draws=500 --executor ray

Every job is one config with a set of dotted settings (``section.field[.key]=value``,
values read as YAML) applied on top, fitted as ``bayes-utility fit`` would into its
own run folder. Every config and setting is checked before the first fit starts. The
sweep table (one row per job: settings, run folder, verdict, max R-hat, min bulk ESS,
divergences, seconds, or the error of a job that failed) is written row by row as jobs
finish, so an interrupted sweep keeps what it finished.
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..config import RunConfig, load_config

COLUMNS = ["job", "config", "settings", "run_dir", "method", "verdict", "max_rhat", "min_ess_bulk", "divergences",
           "seconds", "error"]


class SweepError(ValueError):
    """A sweep cannot start: a config or setting is invalid (nothing was fitted)."""


def parse_setting(text: str) -> tuple[str, Any]:
    """``"inference.target_accept=0.9"`` -> ``("inference.target_accept", 0.9)`` (value as YAML)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", key):
        raise SweepError(f"setting {text!r}: expected section.field=value, e.g. inference.draws=500")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise SweepError(f"setting {text!r}: the value is not valid YAML ({exc})") from exc


def parse_grid(text: str) -> tuple[str, list]:
    """``"inference.seed=1,2,3"`` -> ``("inference.seed", [1, 2, 3])``; a YAML list also works
    (``"model.name=[thurstonian, bradley_terry]"``)."""
    key, value = parse_setting(text)
    values = value if isinstance(value, list) else [yaml.safe_load(v) for v in str(text.partition("=")[2]).split(",")]
    if not values:
        raise SweepError(f"grid {text!r}: no values")
    return key, values


def apply_settings(cfg: RunConfig, settings: dict[str, Any]) -> RunConfig:
    """A copy of ``cfg`` with dotted settings applied (nested keys merge, others replace)."""
    raw = cfg.model_dump()
    for key, value in settings.items():
        node = raw
        *parents, last = key.split(".")
        for i, part in enumerate(parents):
            child = node.get(part) if isinstance(node, dict) else None
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise SweepError(f"setting {key}: {'.'.join(parents[:i + 1])} is a value, not a section")
            node = child
        node[last] = value
    try:
        return RunConfig.model_validate(raw)
    except ValueError as exc:
        raise SweepError(f"settings {settings}: {exc}") from exc


@dataclass(frozen=True)
class SweepJob:
    """One fit of a sweep: a config file, the settings on top, its run folder's name."""

    index: int
    config: str
    settings: dict = field(default_factory=dict)
    run_name: str = ""
    out: str | None = None


def _label(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", str(value)).strip("-") or "x"


def plan(configs: list[str], settings: dict[str, Any] | None = None, grid: dict[str, list] | None = None,
         out: str | None = None) -> list[SweepJob]:
    """Jobs for every config x every combination of the grid's values, checked: a config
    or setting that does not validate raises :class:`SweepError` before anything runs."""
    settings, grid = dict(settings or {}), dict(grid or {})
    if not configs:
        raise SweepError("a sweep needs at least one config")
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())] if grid else [{}]
    jobs = []
    for path in configs:
        try:
            base = load_config(path)
        except Exception as exc:  # config errors carry the file and field already
            raise SweepError(str(exc)) from exc
        for combo in combos:
            merged = {**settings, **combo}
            cfg = apply_settings(base, merged)
            suffix = "_".join(f"{k.rsplit('.', 1)[-1]}-{_label(v)}" for k, v in combo.items())
            name = cfg.output.run_name or cfg.name
            jobs.append(SweepJob(index=len(jobs), config=str(path), settings=merged,
                                 run_name=f"{name}_{suffix}" if suffix else name, out=out))
    names = [j.run_name for j in jobs]
    if len(set(names)) < len(names):  # two configs with one name: number them
        jobs = [SweepJob(j.index, j.config, j.settings, f"{j.run_name}_{j.index:03d}", j.out) for j in jobs]
    return jobs


def fit_job(job: SweepJob) -> dict:
    """Fit one job (in whichever process runs it) and return its sweep-table row."""
    from ..inference.devices import setup_devices

    t0 = time.perf_counter()
    cfg = apply_settings(load_config(job.config), {**job.settings, "output.run_name": job.run_name})
    if cfg.inference.method == "nuts":
        setup_devices(cfg.inference.chains)
    from .fit import run_fit

    res = run_fit(cfg, out=job.out)
    v = res.verdict
    verdict = ("PASS" if v.ok else "FAIL") if v.method == "nuts" else "APPROXIMATE"
    return {"run_dir": str(res.run_dir), "method": v.method, "verdict": verdict, "max_rhat": v.max_rhat,
            "min_ess_bulk": v.min_ess_bulk, "divergences": v.n_divergent, "seconds": round(time.perf_counter() - t0, 1)}


def run_sweep(jobs: list[SweepJob], table: str | Path, *, executor: str = "local", workers: int = 1,
              address: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Run the jobs; write and return the sweep table (rows in job order)."""
    from tqdm.auto import tqdm

    from ..inference.executors import JobFailed, map_jobs

    table = Path(table)
    table.parent.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict] = {}
    pd.DataFrame(columns=COLUMNS).to_csv(table, index=False)
    with tqdm(total=len(jobs), disable=not progress, desc="sweep", unit="fit") as bar:
        for i, result in map_jobs(fit_job, jobs, executor=executor, workers=workers, address=address):
            job = jobs[i]
            row = {"job": job.index, "config": job.config, "settings": yaml.safe_dump(job.settings, default_flow_style=True,
                                                                                      width=10_000).strip()}
            if isinstance(result, JobFailed):
                row.update(verdict="ERROR", error=str(result))
            else:
                row.update(result)
            rows[i] = row
            pd.DataFrame([row], columns=COLUMNS).to_csv(table, mode="a", header=False, index=False)
            bar.update()
    df = pd.DataFrame([rows[i] for i in sorted(rows)], columns=COLUMNS)
    df.to_csv(table, index=False)  # the finished table in job order
    return df


def format_sweep(df: pd.DataFrame) -> str:
    """The sweep table for the console."""
    cols = ["job", "config", "settings", "verdict", "max_rhat", "min_ess_bulk", "divergences", "seconds"]
    text = df[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}")
    errors = df.loc[df["verdict"] == "ERROR", ["job", "error"]]
    for _, r in errors.iterrows():
        text += f"\njob {r['job']} failed: {r['error']}"
    return text
