"""Make the bundled dataset ``lotteries_sim`` (expected-utility example).

A simulated respondent chooses between 20 of the paper's outcomes and 20 lotteries
over them (2-3 outcomes each, probabilities on a 5% grid, shown in the text as in the
paper's lottery prompt). Its base utilities are the Thurstonian profile the reference
code fitted to Llama-2-7B-chat (standardised, spread 1.5 noise units); each lottery's
utility is its expected utility plus N(0, 0.3) (a mild expected-utility violation).
The paper's design over all 40 items, both orders, K answers. Truth beside the data.

    python scripts/make_lotteries_data.py --outcomes 20 --lotteries 20 --k 5 --seed 2026
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_utility.data.dataset import PreferenceData
from bayes_utility.data.optionsets import lotteries
from bayes_utility.data.schema import SCALE_DDOF
from bayes_utility.data.simulate import (
    lottery_truth,
    pair_design,
    paper_pair_count,
    simulate_counts,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "emergent-values"
EU_VIOLATION = 0.3


def main() -> None:
    from make_default_data import paper_subset

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", type=int, default=20)
    ap.add_argument("--lotteries", type=int, default=20)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--src", default=str(SRC))
    args = ap.parse_args()
    src = Path(args.src)
    rng = np.random.default_rng(args.seed)
    base, mu_base = paper_subset(src, args.outcomes, rng)
    lots = lotteries(base, args.lotteries, rng)
    pos = {o: i for i, o in enumerate(base["id"].astype(str))}
    w = np.zeros((len(lots), len(base)))
    for r, a in enumerate(lots["attributes"]):
        for item in a["lottery"]:
            w[r, pos[str(item["outcome"])]] += item["probability"]
    truth = lottery_truth(mu_base, w, EU_VIOLATION, rng)
    outcomes = pd.concat([base, lots], ignore_index=True)
    n = len(outcomes)
    sim = simulate_counts(truth, pair_design(n, paper_pair_count(n), rng), args.k, rng, 0.01)
    ids = outcomes["id"].astype(str).to_numpy()
    counts = pd.DataFrame({"respondent": "simulated-eu", "outcome_a": ids[sim["idx_a"]], "outcome_b": ids[sim["idx_b"]],
                           "n_a": sim["n_a"], "n_b": sim["n_b"], "n_unparseable": sim["n_unparseable"],
                           "prompt_template": "lottery"})
    data = PreferenceData.from_tables(outcomes, counts=counts, source="simulated:lotteries")
    out = ROOT / "bayes_utility" / "datasets" / "lotteries_sim"
    if out.exists():
        shutil.rmtree(out)
    data.write(out, fmt="csv")
    u = truth.mu - mu_base.mean()
    pd.DataFrame({"id": ids, "utility_noise_units": truth.mu, "noise_sd": truth.sigma,
                  "utility_standardised": u / mu_base.std(ddof=SCALE_DDOF),
                  "expected_utility_standardised": np.concatenate([mu_base, w @ mu_base]) / mu_base.std(ddof=SCALE_DDOF)}).to_csv(
        out / "truth.csv", index=False, float_format="%.6g")
    shutil.copy(src / "LICENSE", out / "LICENSE")
    (out / "README.md").write_text(
        "# lotteries_sim\n\nSimulated answers of a respondent choosing between "
        f"{args.outcomes} of the paper's outcomes and {args.lotteries} lotteries over them, for the "
        "expected-utility model. Base utilities: the Thurstonian profile the Utility Engineering reference code "
        "fitted to Llama-2-7B-chat (MIT licence: LICENSE), standardised to spread 1.5 noise units; each "
        f"lottery's utility is its expected utility plus N(0, {EU_VIOLATION}) noise units "
        f"(EU-violation scale {EU_VIOLATION / 1.5:.2f} in standardised units). Lotteries' outcome ids and "
        "probabilities are in outcomes.csv (attributes).\n\n"
        f"- {len(counts) // 2} pairs over all {n} items (ceil(2 N log2 N)), both orders, K={args.k}, "
        "1% unparseable\n- truth.csv: every item's utility and noise, standardised utility and expected "
        f"utility\n\nMade by `python scripts/make_lotteries_data.py --outcomes {args.outcomes} --lotteries "
        f"{args.lotteries} --k {args.k} --seed {args.seed}`.\n")
    print(data)


if __name__ == "__main__":
    main()
