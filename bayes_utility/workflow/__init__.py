"""Jobs that span the stages: a fit from config to run folder and report
(:func:`~bayes_utility.workflow.fit.run_fit`), many fits (:mod:`~bayes_utility.workflow.sweep`),
and an analysis of a run folder (:func:`~bayes_utility.workflow.analyse.open_run`).

The top stage below the command line: it may import every stage (data, models, config,
inference, elicit, analyses, reporting) and nothing imports it but :mod:`bayes_utility.cli`.
"""
from .._lazy import lazy_attributes

__getattr__ = lazy_attributes(__name__, {"run_fit": "fit", "load_data_for": "fit", "RunResult": "fit",
                                            "open_run": "analyse"})
