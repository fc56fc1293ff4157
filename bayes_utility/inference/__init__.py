"""Stage 4, inference: from preference data to a posterior, and the checks of that posterior.
May import data, models and config; never elicit, analyses, reporting or workflow.

* :mod:`.pipeline`: :func:`fit_run` / :func:`fit`, the one fit path, top to bottom;
* :mod:`.sampling` (NUTS, MAP, SVI), :mod:`.warmstart`, :mod:`.repeated` (one compiled NUTS for
  many datasets), :mod:`.devices`;
* :mod:`.idata`: the InferenceData a fit returns; :mod:`.pointwise`: pointwise log-likelihood and
  posterior predictive answers;
* :mod:`.diagnostics` (the verdict), :mod:`.heldout` (held-out accuracy and log-loss),
  :mod:`.compare` (PSIS-LOO), :mod:`.mle` (maximum likelihood);
* :mod:`.calibration` and :mod:`.sbc_checks`: simulation-based calibration;
  :mod:`.executors`: local processes or Ray for many fits;
* :mod:`.crosscheck` (PyMC), :mod:`.reference` (stored reference posteriors),
  :mod:`.simulate` (answers drawn from a model at fixed parameters).
"""
from .._lazy import lazy_attributes

# names kept importable from the package itself (``from bayes_utility.inference import X``)
__getattr__ = lazy_attributes(__name__, {
    "fit": "pipeline", "fit_run": "pipeline", "FitOutput": "pipeline", "diagnose": "diagnostics",
    "Verdict": "diagnostics", "add_log_likelihood": "pointwise",
    "add_posterior_predictive": "pointwise", "pointwise_log_likelihood": "pointwise",
    "make_mcmc": "sampling", "comparison_labels": "idata"
})
