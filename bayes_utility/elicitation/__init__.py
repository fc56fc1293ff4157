"""Stage 5, elicitation: asking LLMs forced-choice questions and keeping every answer.
May import data, models, config and inference (active learning refits between rounds).

* :mod:`.runner`: :func:`run_elicitation` / :func:`elicit` / :func:`dry_run`;
* :mod:`.designs`: outcomes, pair designs, prompts and the request to each model;
  :mod:`.prompts`: templates and answer parsing;
* :mod:`.client`: the request loop (retries, rate limits, circuit breaker, Batch API);
* :mod:`.store`: the SQLite answer store; :mod:`.legacy`: older request logs;
* :mod:`.active`, :mod:`.rounds`: active learning (which pairs next, round by round);
* :mod:`.servers`, :mod:`.simserver`: OpenAI-compatible servers for tests (simulated models,
  a real local LLM).
"""
from .._lazy import lazy_attributes

# names kept importable from the package itself (``from bayes_utility.elicitation import X``)
__getattr__ = lazy_attributes(__name__, {
    "elicit": "runner", "run_elicitation": "runner", "dry_run": "runner",
    "ElicitationResult": "runner", "ElicitationError": "designs", "plan": "designs",
    "design_pairs": "designs", "prompts_for": "designs", "import_request_log": "legacy",
    "Item": "client", "ModelAsker": "client"
})
