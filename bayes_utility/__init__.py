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
from importlib import import_module as _import_module

from ._version import __version__

# name -> module: imported on first use (PEP 562), so that light commands (elicit, validate,
# --help) and ``import bayes_utility`` do not load JAX
_LAZY = {
    "run_calibration": "calibration",
    "CalibrationConfig": "config", "RunConfig": "config", "load_calibration_config": "config",
    "load_config": "config",
    "DataValidationError": "data", "DisconnectedGraphWarning": "data", "PreferenceData": "data",
    "load_dataset": "data", "read_outcomes": "data", "from_pairs": "data",
    "Verdict": "diagnostics", "diagnose": "diagnostics",
    "elicit": "elicitation",
    "fit": "inference", "fit_run": "inference",
    "import_paper_results": "io_paper",
    "maximum_likelihood": "mle",
    "load_reference": "reference",
    "load_run": "results", "Run": "results", "summary_table": "results",
    "add_log_likelihood": "pointwise", "add_posterior_predictive": "pointwise",
    "SimulationTruth": "simulate", "pair_design": "simulate", "paper_pair_count": "simulate",
    "random_truth": "simulate", "simulate_dataset": "simulate",
    "run_fit": "workflow",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(_import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
