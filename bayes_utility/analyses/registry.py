"""Every analysis, and what it contributes to a run folder, the report and the console.

The run-folder writer (:mod:`bayes_utility.reporting.runfolder`), the report
(:mod:`bayes_utility.reporting.report`) and ``bayes-utility summary`` go through
:data:`ANALYSES` and never name an analysis themselves. An entry says

* ``write(idata, cfg, run_dir) -> {role: path}``: files written with every run folder of a
  model that lists the analysis in its ``ARTEFACTS`` (e.g. the hierarchical model's
  respondents table);
* ``read(run_dir)``: its result in a run folder (default: ``<name>.json``), or None;
* ``section(doc, content, result, assets, level)``: its part of the report, shown with the
  others of its ``group`` (``respondents``: right after the utilities; ``coherence`` and
  ``values``: each group under one heading, ``values`` with a sub-heading per analysis);
* ``images``: the figures it leaves in the run folder, with their captions;
* ``text(result) -> str``: what ``fit`` and ``summary`` print about it, if anything.

Adding an analysis: its module (computations, ``run_*`` taking a
:class:`~bayes_utility.analyses.context.RunContext`, ``report_section``), an entry here,
and a command in :mod:`bayes_utility.cli.analyses` if it is run on demand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from . import expected_utility, hierarchy, instrumental, maximization, transitivity
from .common import fmt_interval

GROUPS = ("respondents", "coherence", "values")
GROUP_TITLES = {"coherence": "Coherence", "values": "Value analyses"}


@dataclass(frozen=True)
class Analysis:
    """One analysis's place in run folders, the report and the console (see the module)."""

    name: str
    group: str
    images: tuple[tuple[str, str], ...] = ()
    write: Callable | None = None
    load: Callable | None = None
    section: Callable | None = None
    text: Callable | None = None

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").capitalize()

    def read(self, run_dir: str | Path):
        """The analysis's result in a run folder, or None when it has not been run there."""
        run_dir = Path(run_dir)
        if self.load is not None:
            return self.load(run_dir)
        path = run_dir / f"{self.name}.json"
        return json.loads(path.read_text()) if path.exists() else None


def interval_section(doc, c, res, assets: str, level: int, name: str = "") -> None:
    """A table of every ``{mean, interval}`` summary in a nested result, and its figure."""
    rows = _interval_rows(res)
    if rows:
        doc.table(pd.DataFrame(rows))
    img = next((i for i in c.images if i.name == f"{name}.png"), None)
    if img is not None:
        doc.image(img, assets)


def _interval_rows(obj, prefix: str = "") -> list[dict]:
    rows = []
    if isinstance(obj, dict):
        if "mean" in obj and "interval" in obj:
            return [{"quantity": prefix.strip(" /"), "posterior mean [interval]": fmt_interval(
                obj["mean"], *obj["interval"])}]
        for k, v in obj.items():
            rows += _interval_rows(v, f"{prefix}{k} / ")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            rows += _interval_rows(v, f"{prefix}{i + 1} / ")
    return rows


def _value_analysis(name: str, caption: str | None = None) -> Analysis:
    return Analysis(name, "values", images=((f"{name}.png", caption),) if caption else (),
                    section=lambda doc, c, res, assets, level: interval_section(doc, c, res, assets, level, name))


ANALYSES: tuple[Analysis, ...] = (
    Analysis("respondents", "respondents",
             images=(("agreement.png", "Agreement between respondents' utility vectors."),),
             write=hierarchy.write_files, load=hierarchy.read_table, section=hierarchy.report_section,
             text=hierarchy.format_respondents),
    Analysis("expected_utility", "coherence", write=expected_utility.write_files,
             section=expected_utility.report_section, text=expected_utility.format_expected_utility),
    Analysis("transitivity", "coherence", images=(("transitivity.png", "Cycle probability in triads."),),
             section=transitivity.report_section, text=transitivity.format_transitivity),
    Analysis("maximization", "coherence",
             images=(("maximization.png", "Free-form answers against the argmax of the utilities."),),
             section=maximization.report_section),
    Analysis("instrumental", "coherence",
             images=(("instrumental.png", "Start states' utilities against those of where they lead."),),
             section=instrumental.report_section),
    _value_analysis("discounting", "Discount function of each form, with its interval band."),
    _value_analysis("exchange_rates", "Exchange rates between entities."),
    _value_analysis("corrigibility", "Acceptance of value changes against their size."),
    _value_analysis("power_seeking"),
    _value_analysis("utility_control"),
    _value_analysis("political", "Positions on the main axes of the utility vectors."),
)

_BY_NAME = {a.name: a for a in ANALYSES}


def get(name: str) -> Analysis:
    """The analysis called ``name``."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown analysis {name!r}; known: {', '.join(_BY_NAME)}")
    return _BY_NAME[name]


def offered_by(model) -> list[Analysis]:
    """The analyses whose files every run folder of ``model`` (a models/ module) gets."""
    return [get(name) for name in getattr(model, "ARTEFACTS", ())]


def console_text(run_dir: str | Path) -> str:
    """What ``fit`` and ``summary`` print about the analyses a run folder holds."""
    parts = []
    for a in ANALYSES:
        if a.text is not None:
            res = a.read(run_dir)
            if res is not None:
                parts.append(a.text(res))
    return "\n\n".join(p for p in parts if p)
