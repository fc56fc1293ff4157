"""Make the bundled simulated datasets of the coherence analyses, from the paper's own
option sets (bayes_utility/datasets/emergent_values, MIT licence):

* ``maximization_sim``: the first 6 candidate answers of each of the 30 free-form
  questions, all 15 pairs of each question, both orders, K answers; and the
  respondent's free-form answers (``free_form.csv``): the highest-utility candidate
  with probability 0.8, another one at random otherwise, some worded as sentences,
  one that names no candidate.
* ``markov_sim``: the 126 histories of the 21 Markov processes; a respondent whose
  start-state utilities are 0.99 x the expected utility of their histories (natural
  transitions) plus N(0, 0.25) noise units.
* ``implicit_lotteries_sim``: the first 8 uncertain events and their resolutions; the
  event's utility is its expected utility (probabilities never shown) plus N(0, 0.3).

Utilities are N(0, 1.5^2) noise units, noise scales exp(N(0, 0.2^2)); truth beside the data.

    python scripts/make_coherence_data.py --k 5 --seed 2026
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_utility.data.dataset import PreferenceData
from bayes_utility.data.optionsets import (
    block_pairs,
    implicit_lotteries,
    markov_histories,
    maximization_options,
)
from bayes_utility.data.schema import SCALE_DDOF
from bayes_utility.data.simulate import (
    SimulationTruth,
    lottery_truth,
    pair_design,
    paper_pair_count,
    simulate_counts,
)
from bayes_utility.datasets import paper_file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bayes_utility" / "datasets"
SPREAD, LOG_NOISE = 1.5, 0.2


def write(name: str, outcomes: pd.DataFrame, truth: SimulationTruth, pairs: np.ndarray, k: int,
          rng: np.random.Generator, respondent: str, template: str, readme: str) -> Path:
    sim = simulate_counts(truth, pairs, k, rng, 0.01)
    ids = outcomes["id"].astype(str).to_numpy()
    counts = pd.DataFrame({"respondent": respondent, "outcome_a": ids[sim["idx_a"]], "outcome_b": ids[sim["idx_b"]],
                           "n_a": sim["n_a"], "n_b": sim["n_b"], "n_unparseable": sim["n_unparseable"],
                           "prompt_template": template})
    data = PreferenceData.from_tables(outcomes, counts=counts, source=f"simulated:{name}", check_connected=False)
    out = OUT / name
    if out.exists():
        shutil.rmtree(out)
    data.write(out, fmt="csv")
    shutil.copy(paper_file("markov_processes.json").parent / "LICENSE", out / "LICENSE")
    u = (truth.mu - truth.mu.mean()) / truth.mu.std(ddof=SCALE_DDOF)
    pd.DataFrame({"id": ids, "utility_noise_units": truth.mu, "noise_sd": truth.sigma,
                  "utility_standardised": u}).to_csv(out / "truth.csv", index=False, float_format="%.6g")
    (out / "README.md").write_text(readme + f"\n\n- {len(pairs)} pairs, both orders, K={k}, 1% unparseable; "
                                   "truth.csv: every outcome's utility and noise (noise units) and its "
                                   "standardised utility (zero mean, unit sample sd (ddof 1) over all outcomes)\n"
                                   "- option set from the Utility Engineering paper's files (MIT licence: LICENSE)\n")
    print(name, data)
    return out


def maximization(k: int, rng: np.random.Generator, n_answers: int = 6, p_max: float = 0.8) -> None:
    qs = json.loads(paper_file("utility_maximization_questions.json").read_text())
    outcomes, questions = maximization_options(qs, max_answers=n_answers)
    n = len(outcomes)
    truth = SimulationTruth(mu=rng.normal(0, SPREAD, n), sigma=np.exp(rng.normal(0, LOG_NOISE, n)),
                            order_bias=0.0, link="probit")
    pairs = block_pairs(outcomes["category"].to_numpy(), rng)
    readme = ("# maximization_sim\n\nSimulated answers of a respondent to forced choices between the candidate "
              f"answers of the paper's {len(questions)} free-form questions (the first {n_answers} of each; "
              "utilities compared within a question), and its free-form answers (free_form.csv): the "
              f"highest-utility candidate with probability {p_max}, another at random otherwise; some worded as "
              "a sentence, one naming no candidate. truth_answers.csv: the true argmax and whether the answer "
              "is it. Made by `python scripts/make_coherence_data.py`.")
    out = write("maximization_sim", outcomes, truth, pairs, k, rng, "simulated-maximiser", "forced_choice", readme)
    rows, truth_rows = [], []
    qid = outcomes["category"].to_numpy()
    for i, q in questions.iterrows():
        idx = np.flatnonzero(qid == q["question"])
        best = idx[np.argmax(truth.mu[idx])]
        pick = best if rng.random() < p_max else rng.choice(idx[idx != best])
        ans = outcomes["text"].iloc[pick]
        if i == len(questions) - 1:
            ans, pick = "I would rather not choose.", -1
        elif i % 3 == 1:
            ans = f"I would choose {ans}."
        rows.append({"question": q["question"], "answer": ans})
        truth_rows.append({"question": q["question"], "answer": ans, "true_argmax": outcomes["text"].iloc[best],
                           "is_argmax": bool(pick == best)})
    pd.DataFrame(rows).to_csv(out / "free_form.csv", index=False)
    pd.DataFrame(truth_rows).to_csv(out / "truth_answers.csv", index=False)
    questions.to_csv(out / "questions.csv", index=False)


def markov(k: int, rng: np.random.Generator, gamma: float = 0.99, dev: float = 0.25) -> None:
    outcomes = markov_histories(json.loads(paper_file("markov_processes.json").read_text()))
    ids = outcomes["id"].tolist()
    pos = {o: i for i, o in enumerate(ids)}
    mu = rng.normal(0, SPREAD, len(ids))
    for i, a in enumerate(outcomes["attributes"]):
        if "successors" in a:
            mu[i] = gamma * sum(s["probability"] * mu[pos[s["outcome"]]] for s in a["successors"]) \
                + dev * rng.normal()
    truth = SimulationTruth(mu=mu, sigma=np.exp(rng.normal(0, LOG_NOISE, len(ids))), order_bias=0.0, link="probit")
    pairs = pair_design(len(ids), paper_pair_count(len(ids)), rng)
    readme = ("# markov_sim\n\nSimulated answers of a respondent that values the start states of the paper's 21 "
              "two-step Markov processes instrumentally: a start state's utility is 0.99 x the expected utility of "
              f"the histories it leads to (the natural transitions) plus N(0, {dev}) noise units; histories' "
              "utilities N(0, 1.5^2). Made by `python scripts/make_coherence_data.py`.")
    write("markov_sim", outcomes, truth, pairs, k, rng, "simulated-instrumental", "forced_choice", readme)


def implicit(k: int, rng: np.random.Generator, n_events: int = 8, violation: float = 0.3) -> None:
    outcomes = implicit_lotteries(json.loads(paper_file("implicit_lotteries.json").read_text()), max_events=n_events)
    is_lot = np.array(["lottery" in a for a in outcomes["attributes"]])
    base, lots = outcomes[~is_lot].reset_index(drop=True), outcomes[is_lot].reset_index(drop=True)
    pos = {o: i for i, o in enumerate(base["id"])}
    w = np.zeros((len(lots), len(base)))
    for r, a in enumerate(lots["attributes"]):
        for item in a["lottery"]:
            w[r, pos[item["outcome"]]] += item["probability"]
    mu_base = rng.normal(0, SPREAD, len(base))
    truth = lottery_truth(mu_base, w, violation, rng)
    ordered = pd.concat([base, lots], ignore_index=True)
    pairs = pair_design(len(ordered), paper_pair_count(len(ordered)), rng)
    readme = ("# implicit_lotteries_sim\n\nSimulated answers of a respondent choosing between the resolutions of "
              f"the paper's first {n_events} uncertain events ('A U.S. skater wins gold ...') and the events "
              "themselves ('A U.S. athlete wins a medal ...'), whose probabilities over resolutions are in "
              "outcomes.csv (attributes.lottery) but never shown: implicit lotteries. An event's utility is its "
              f"expected utility plus N(0, {violation}) noise units. Fit with `inference_configs/"
              "implicit_lotteries.yaml` (the expected-utility model). Made by `python scripts/make_coherence_data.py`.")
    write("implicit_lotteries_sim", ordered, truth, pairs, k, rng, "simulated-eu", "forced_choice", readme)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    maximization(args.k, np.random.default_rng([args.seed, 1]))
    markov(args.k, np.random.default_rng([args.seed, 2]))
    implicit(args.k, np.random.default_rng([args.seed, 3]))


if __name__ == "__main__":
    main()
