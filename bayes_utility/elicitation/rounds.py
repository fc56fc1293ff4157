"""Active learning inside ``bayes-utility elicit`` (``experiment.design: active``).

Round 0 is a random cycle over the outcomes. After each round's answers are all in,
the model is refitted by NUTS on everything asked so far and the next
``active.round_pairs`` pairs are chosen by ``active.strategy``
(:mod:`bayes_utility.elicitation.active`). The run stops at ``active.budget_pairs`` pairs (default
the paper's ceil(2 N log2 N)), once the mean 90% interval width of the standardised
utilities is at most ``active.target_width``, or once the 94% interval of held-out
accuracy (a share ``active.heldout_fraction`` of the pairs held out of each round's
fit) is at most ``active.target_accuracy_width`` wide.

``rounds.jsonl`` in the run folder records every round's pairs, every fit (pairs,
answers, interval width) and the stop, each appended and fsync'ed; a rerun replays
it and carries on where the interrupted run stopped.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ElicitConfig, RunConfig
from ..data.jsonl import append_jsonl, read_jsonl

logger = logging.getLogger(__name__)


ROUNDS_FILE = "rounds.jsonl"


def _append(path: Path, rec: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        append_jsonl(fh, rec)


def run_rounds(cfg: ElicitConfig, outcomes: pd.DataFrame, run_dir: Path, ask, dataset_of) -> np.ndarray:
    """Run (or resume) the rounds; ``ask(prompts)`` asks what is missing and returns how much still is;
    ``dataset_of(prompts)`` is the stored answers to those prompts."""
    from ..data.simulate import paper_pair_count
    from ..inference.heldout import heldout_summary
    from ..inference.pipeline import fit_run
    from .active import _release_compiled, choose_pairs
    from .designs import design_pairs, prompts_for

    act = cfg.experiment.active
    n = len(outcomes)
    ids = outcomes["id"].astype(str).tolist()
    index = {o: i for i, o in enumerate(ids)}
    budget = min(act.budget_pairs or paper_pair_count(n), n * (n - 1) // 2)
    path = run_dir / ROUNDS_FILE
    records = read_jsonl(path)
    if not records:
        first = design_pairs(cfg, n)
        _append(path, {"type": "round", "round": 0, "strategy": "cycle",
                       "pairs": [[ids[a], ids[b]] for a, b in first]})
        records = read_jsonl(path)
    heldout = {"fraction": act.heldout_fraction, "seed": cfg.experiment.seed} if act.target_accuracy_width else {}
    fit_cfg = RunConfig(name=f"{cfg.name}-round", data={"path": str(run_dir), "unparseable": "exclude"},
                        model={"name": act.model}, heldout=heldout,
                        inference={"chains": act.chains, "warmup": act.warmup, "draws": act.draws,
                                   "seed": cfg.experiment.seed, "progress_bar": False}, output={"report": False})
    while True:
        rounds = [r for r in records if r["type"] == "round"]
        pairs = np.array([[index[a], index[b]] for r in rounds for a, b in r["pairs"]], dtype=np.int64)
        if any(r["type"] == "stop" for r in records):
            return pairs
        prompts = prompts_for(cfg, outcomes, pairs)
        missing = ask(prompts)
        if missing:
            logger.warning("round %d: %d answers still missing; rerun to ask them and continue",
                           len(rounds) - 1, missing)
            return pairs
        if len(pairs) >= budget:
            _append(path, {"type": "stop", "reason": f"pair budget {budget} reached", "pairs": len(pairs)})
            return pairs
        data = dataset_of(prompts)
        idata = fit_run(data, fit_cfg).idata
        post = idata.posterior
        _release_compiled()
        u = post["utility"].stack(s=("chain", "draw")).transpose("s", "outcome").to_numpy()
        lo, hi = np.quantile(u, [0.05, 0.95], axis=0)
        width = float(np.mean(hi - lo))
        fit_rec = {"type": "fit", "round": len(rounds) - 1, "pairs": len(pairs), "answers": data.n_answers,
                   "width90": width}
        if act.target_accuracy_width:
            held = heldout_summary(idata, data, "exclude")
            if held is not None:
                fit_rec["heldout_accuracy"] = held["accuracy"]
        _append(path, fit_rec)
        logger.info("round %d: %d pairs, mean 90%% width %.3f", len(rounds) - 1, len(pairs), width)
        if act.target_width is not None and width <= act.target_width:
            _append(path, {"type": "stop", "reason": f"mean 90% width {width:.3f} <= {act.target_width}",
                           "pairs": len(pairs)})
            return pairs
        acc = fit_rec.get("heldout_accuracy")
        if acc is not None and acc["interval"][1] - acc["interval"][0] <= act.target_accuracy_width:
            _append(path, {"type": "stop", "pairs": len(pairs),
                           "reason": f"held-out accuracy interval width "
                                     f"{acc['interval'][1] - acc['interval'][0]:.3f} <= {act.target_accuracy_width}"})
            return pairs
        rng = np.random.default_rng([cfg.experiment.seed, len(rounds)])
        new = choose_pairs(act.strategy, post, pairs, min(act.round_pairs, budget - len(pairs)), rng)
        _append(path, {"type": "round", "round": len(rounds), "strategy": act.strategy,
                       "pairs": [[ids[a], ids[b]] for a, b in new]})
        records = read_jsonl(path)
