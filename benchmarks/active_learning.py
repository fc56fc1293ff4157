"""Active-learning efficiency on a simulated respondent: random pairs vs the paper's scheme vs BALD.

    python benchmarks/active_learning.py [--outcomes 60] [--seeds 3] [--round 60] [--k 5]

Each run starts from a random cycle over the outcomes and asks rounds of new pairs
(both orders, K answers each), refitting the Thurstonian model by NUTS (2 chains x
200 + 200) after each round, up to the paper's ceil(2 N log2 N) pairs. Prints, per
strategy (median over seeds): answers needed until the posterior-mean utilities reach
Spearman 0.95 with the truth, and the Spearman and mean 90% interval width at the end;
writes active_learning.csv to --out.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpyro  # noqa: E402

numpyro.set_host_device_count(2)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bayes_utility.data.simulate import random_truth  # noqa: E402
from bayes_utility.elicitation.active import STRATEGIES, simulate_active_learning  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outcomes", type=int, default=60)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--round", type=int, default=60, help="pairs per round")
    ap.add_argument("--k", type=int, default=5, help="answers per order")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--out", default="outputs/active_learning")
    args = ap.parse_args()
    rows = []
    for seed in range(args.seeds):
        truth = random_truth(args.outcomes, np.random.default_rng(1000 + seed))
        for strategy in STRATEGIES:
            df = simulate_active_learning(truth, strategy, k_per_order=args.k, round_pairs=args.round, seed=seed,
                                          warmup=200, draws=200)
            rows.append(df)
            reached = df[df["spearman"] >= args.target]
            print(f"seed {seed} {strategy:>6}: answers to rho >= {args.target}: "
                  f"{int(reached['answers'].iloc[0]) if len(reached) else 'not reached'}; final rho "
                  f"{df['spearman'].iloc[-1]:.3f}, width {df['width90'].iloc[-1]:.3f}", flush=True)
    hist = pd.concat(rows, ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hist.to_csv(out / "active_learning.csv", index=False)

    def first_reach(g):
        hit = g[g["spearman"] >= args.target]
        return float(hit["answers"].iloc[0]) if len(hit) else np.nan

    per_run = hist.groupby(["strategy", "seed"]).apply(
        lambda g: pd.Series({"answers_to_target": first_reach(g), "final_spearman": g["spearman"].iloc[-1],
                             "final_width90": g["width90"].iloc[-1], "answers": g["answers"].iloc[-1]}),
        include_groups=False)
    table = per_run.groupby("strategy").median().reindex(list(STRATEGIES))
    print(f"\nN = {args.outcomes} outcomes, K = {args.k} per order, rounds of {args.round} pairs, "
          f"{args.seeds} seeds (medians):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}" if v < 10 else f"{v:.0f}"))


if __name__ == "__main__":
    main()
