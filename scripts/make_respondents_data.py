"""Make the bundled multi-respondent dataset ``respondents_sim`` (hierarchical example).

Six simulated respondents named after models in the paper's capability table answer
the same design (the paper's pair count, both orders, K answers) over a stratified
subset of the paper's outcomes. They share population utilities (the Thurstonian
profile the reference code fitted to Llama-2-7B-chat, standardised) and differ as the
paper reports models differ with capability: the more capable (higher MMLU), the
closer its utilities to the population's (smaller deviations) and the more decisive;
each has its own presentation-order bias. The truth is written beside the data, and
the capability scores (MIT, with the paper's LICENSE) for the covariate.

    python scripts/make_respondents_data.py --outcomes 30 --k 5 --seed 2026
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_utility.data.simulate import HierarchicalTruth, simulate_respondents

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "emergent-values"
RESPONDENTS = ("llama-2-7b-instruct", "llama-32-3b-instruct", "qwen25-7b-instruct", "gpt-35-turbo",
               "llama-31-70b-instruct", "gpt-4o")
ORDER_BIAS = (0.8, 0.5, 0.3, 0.2, 0.1, 0.0)


def main() -> None:
    from make_default_data import (
        paper_subset,  # the same outcome subset rule as the other bundled data
    )

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", type=int, default=30)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--src", default=str(SRC))
    args = ap.parse_args()
    src = Path(args.src)
    rng = np.random.default_rng(args.seed)
    sub, mu = paper_subset(src, args.outcomes, rng)  # population utilities: spread 1.5 noise units
    scores = pd.read_csv(src / "capability_scores.csv")
    mmlu = scores.set_index("Model Name").loc[list(RESPONDENTS), "MMLU"].to_numpy(float)
    x = (mmlu - mmlu.mean()) / mmlu.std()
    n = len(sub)
    dev = rng.normal(0.0, 1.0, (len(RESPONDENTS), n)) * (0.5 * np.exp(-0.5 * x))[:, None]
    truth = HierarchicalTruth(
        mu=mu, deviations=dev - dev.mean(axis=1, keepdims=True), decisiveness=np.exp(0.4 * x),
        sigma=np.exp(rng.normal(0.0, 0.2, n)), order_bias=np.array(ORDER_BIAS), respondents=RESPONDENTS)
    data = simulate_respondents(truth, rng, k_per_order=args.k, unparseable_rate=0.01,
                                outcome_ids=sub["id"].tolist(), outcome_texts=sub["text"].tolist(),
                                categories=sub["category"].tolist())
    out = ROOT / "bayes_utility" / "datasets" / "respondents_sim"
    if out.exists():
        shutil.rmtree(out)
    data.write(out, fmt="csv")
    pd.DataFrame({"id": sub["id"], "population_utility": mu,
                  **{f"utility[{r}]": truth.mu_resp[i] for i, r in enumerate(RESPONDENTS)}}).to_csv(
        out / "truth.csv", index=False, float_format="%.6g")
    pd.DataFrame({"respondent": RESPONDENTS, "MMLU": mmlu, "decisiveness": truth.decisiveness,
                  "deviation_sd": 0.5 * np.exp(-0.5 * x), "order_bias": truth.order_bias,
                  "corr_population": truth.correlation_with_population()}).to_csv(
        out / "respondents_truth.csv", index=False, float_format="%.6g")
    scores.to_csv(out / "capability_scores.csv", index=False)
    shutil.copy(src / "LICENSE", out / "LICENSE")
    (out / "README.md").write_text(
        "# respondents_sim\n\nSimulated answers of six respondents sharing population utilities (the "
        "Thurstonian profile the Utility Engineering reference code fitted to Llama-2-7B-chat, standardised to "
        "spread 1.5), for the hierarchical model. Respondents are named after models in the paper's "
        "capability table (capability_scores.csv, MIT licence: LICENSE) and differ with capability (MMLU, "
        "standardised to x): deviations from the population with sd 0.5 exp(-0.5 x), decisiveness exp(0.4 x), "
        "order biases from 0.8 (least capable) to 0.\n\n"
        f"- {args.outcomes} of the paper's 510 outcomes, stratified over categories\n"
        f"- {len(data.counts) // (2 * len(RESPONDENTS))} pairs per respondent (ceil(2 N log2 N)), both orders, "
        f"K={args.k} answers each, 1% unparseable\n"
        "- truth.csv: population and per-respondent utilities (noise units); respondents_truth.csv: each "
        "respondent's MMLU, decisiveness, deviation sd, order bias and correlation with the population\n\n"
        f"Made by `python scripts/make_respondents_data.py --outcomes {args.outcomes} --k {args.k} "
        f"--seed {args.seed}`.\n")
    print(data)


if __name__ == "__main__":
    main()
