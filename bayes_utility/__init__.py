"""bayes_utility: Bayesian utilities of AI systems from forced-choice preferences.

Public API::

    import bayes_utility as bu
    data = bu.load_dataset("bayes_utility/datasets/llama2_7b_sim")
    idata = bu.fit(data, model="thurstonian")          # ArviZ InferenceData
    verdict = bu.diagnose(idata)

Importing the package has no side effects (no JAX device set-up, no logging config).
"""
from ._version import __version__
from .config import RunConfig, load_config
from .data import DataValidationError, DisconnectedGraphWarning, PreferenceData, load_dataset, read_outcomes
from .diagnostics import Verdict, diagnose
from .inference import fit, fit_run
from .io_paper import import_paper_results
from .results import load_run, summary_table
from .simulate import SimulationTruth, pair_design, paper_pair_count, random_truth, simulate_dataset
from .workflow import run_fit

__all__ = [
    "__version__",
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
    "load_config",
    "load_dataset",
    "load_run",
    "pair_design",
    "paper_pair_count",
    "random_truth",
    "read_outcomes",
    "run_fit",
    "simulate_dataset",
    "summary_table",
]
