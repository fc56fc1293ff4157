"""bayes_utility: Bayesian utilities of AI systems from forced-choice preferences.

Public API::

    import bayes_utility as bu
    data = bu.load_dataset("bayes_utility/datasets/llama2_7b_sim")
    idata = bu.fit(data, model="thurstonian")          # ArviZ InferenceData
    verdict = bu.diagnose(idata)

Importing the package has no side effects (no JAX device set-up, no logging config).
"""
from ._version import __version__
from .calibration import run_calibration
from .config import CalibrationConfig, RunConfig, load_calibration_config, load_config
from .data import DataValidationError, DisconnectedGraphWarning, PreferenceData, load_dataset, read_outcomes
from .diagnostics import Verdict, diagnose
from .inference import fit, fit_run
from .io_paper import import_paper_results
from .mle import maximum_likelihood
from .reference import load_reference
from .results import load_run, summary_table
from .simulate import SimulationTruth, pair_design, paper_pair_count, random_truth, simulate_dataset
from .workflow import run_fit

__all__ = [
    "__version__",
    "CalibrationConfig",
    "DataValidationError",
    "DisconnectedGraphWarning",
    "PreferenceData",
    "RunConfig",
    "SimulationTruth",
    "Verdict",
    "diagnose",
    "fit",
    "fit_run",
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
