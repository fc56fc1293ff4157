"""bayes_utility: Bayesian utilities of AI systems from forced-choice preferences.

Public API::

    import bayes_utility as bu
    data = bu.load_dataset("bayes_utility/datasets/llama2_7b_sim")
    idata = bu.fit(data, model="thurstonian")          # ArviZ InferenceData
    verdict = bu.diagnose(idata)
    data = bu.from_pairs([("cats", "dogs"), ("dogs", "fish"), ...])   # (winner, loser), no files
    run = bu.load_run("outputs/default-...")         # idata, summary, verdict, config, files

Importing the package has no side effects (no JAX device set-up, no logging config).
"""
import sys as _sys
import types as _types
import warnings as _warnings
from importlib import abc as _abc
from importlib import import_module as _import_module
from importlib import util as _util

from ._lazy import lazy_attributes as _lazy_attributes
from ._version import __version__

# name -> module: imported on first use (PEP 562), so that light commands (elicit, validate,
# --help) and ``import bayes_utility`` do not load JAX
_LAZY = {
    "run_calibration": "inference.calibration",
    "CalibrationConfig": "config", "RunConfig": "config", "load_calibration_config": "config",
    "load_config": "config",
    "DataValidationError": "data.schema", "DisconnectedGraphWarning": "data.schema",
    "PreferenceData": "data.dataset", "load_dataset": "data.loading", "from_pairs": "data.loading",
    "read_outcomes": "data.tables",
    "Verdict": "inference.diagnostics", "diagnose": "inference.diagnostics",
    "elicit": "elicitation.runner",
    "fit": "inference.pipeline", "fit_run": "inference.pipeline",
    "import_paper_results": "data.paper",
    "maximum_likelihood": "inference.mle",
    "load_reference": "inference.reference",
    "load_run": "reporting.runfolder", "Run": "reporting.runfolder", "summary_table": "reporting.tables",
    "add_log_likelihood": "inference.pointwise", "add_posterior_predictive": "inference.pointwise",
    "SimulationTruth": "data.simulate", "pair_design": "data.simulate", "paper_pair_count": "data.simulate",
    "random_truth": "data.simulate", "simulate_dataset": "data.simulate",
    "run_fit": "workflow.fit",
}

# Modules of the flat layout of 0.x and where their contents live now: the old import paths
# (``from bayes_utility.simulate import ...``) keep working for one release, with a
# DeprecationWarning, through :class:`_MovedModules`.
_MOVED = {
    "active": ("elicitation.active",), "active_elicitation": ("elicitation.rounds",), "asking": ("elicitation.client",),
    "calibration": ("inference.calibration", "inference.sbc_checks"),
    "coherence": ("analyses.transitivity", "analyses.expected_utility", "analyses.coherence", "analyses.common"),
    "compare": ("inference.compare",), "crosscheck": ("inference.crosscheck",), "devices": ("inference.devices",),
    "diagnostics": ("inference.diagnostics",), "executors": ("inference.executors",), "heldout": ("inference.heldout",), "hierarchy": ("analyses.hierarchy",),
    "instrumental": ("analyses.instrumental",), "io_paper": ("data.paper",), "jsonl": ("data.jsonl",),
    "likelihood": ("models.likelihood",), "maximization": ("analyses.maximization",), "mle": ("inference.mle",),
    "optionsets": ("data.optionsets",), "plots": ("reporting.plots", "inference.sbc_checks"),
    "pointwise": ("inference.pointwise",), "prompts": ("elicitation.prompts", "data.texts"),
    "reference": ("inference.reference",), "repeated": ("inference.repeated",), "report": ("reporting.report",),
    "reportdoc": ("reporting.doc",), "results": ("reporting.runfolder", "reporting.tables", "inference.heldout"),
    "runs": ("reporting.runs",), "servers": ("elicitation.servers",), "simserver": ("elicitation.simserver",),
    "simulate": ("data.simulate", "inference.simulate"), "store": ("elicitation.store",), "sweep": ("workflow.sweep",),
    "value_analyses": ("analyses.discounting", "analyses.exchange_rates", "analyses.corrigibility",
                       "analyses.values", "analyses.common"),
    "warmstart": ("inference.warmstart",),
}


class _MovedModules(_abc.MetaPathFinder, _abc.Loader):
    """Import ``bayes_utility.<old>`` as a stand-in whose attributes are read from the modules
    that hold them now (a DeprecationWarning names them)."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, old = fullname.rpartition(".")
        if head == __name__ and old in _MOVED:
            return _util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        old = spec.name.rpartition(".")[2]
        homes = [f"{__name__}.{m}" for m in _MOVED[old]]
        _warnings.warn(f"{spec.name} is deprecated: import from {' / '.join(homes)}", DeprecationWarning,
                       stacklevel=2)
        module = _types.ModuleType(spec.name, f"Moved: see {', '.join(homes)}.")

        def __getattr__(name: str):
            for home in homes:
                value = getattr(_import_module(home), name, _MISSING)
                if value is not _MISSING:
                    return value
            raise AttributeError(f"module {spec.name!r} has no attribute {name!r} (moved to {', '.join(homes)})")

        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module):
        pass


_MISSING = object()
if not any(isinstance(f, _MovedModules) for f in _sys.meta_path):
    _sys.meta_path.append(_MovedModules())


__getattr__ = _lazy_attributes(__name__, _LAZY, globals())


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "add_log_likelihood",
    "add_posterior_predictive",
    "CalibrationConfig",
    "DataValidationError",
    "DisconnectedGraphWarning",
    "PreferenceData",
    "Run",
    "RunConfig",
    "SimulationTruth",
    "Verdict",
    "diagnose",
    "elicit",
    "fit",
    "fit_run",
    "from_pairs",
    "import_paper_results",
    "load_calibration_config",
    "load_config",
    "load_dataset",
    "load_reference",
    "load_run",
    "maximum_likelihood",
    "pair_design",
    "paper_pair_count",
    "random_truth",
    "read_outcomes",
    "run_calibration",
    "run_fit",
    "simulate_dataset",
    "summary_table",
]
