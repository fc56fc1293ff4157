"""Make the bundled simulated datasets from the reference fits' utility profiles.

The reference code fitted Thurstonian means and variances to real answers of
Llama-2-7B-chat and Qwen2.5-VL-7B-Instruct over the paper's 510 outcomes
(shared/data/emergent-values/fitted_utilities, MIT). Here a stratified subset of
outcomes (every category represented) is drawn, the paper's design is laid
(ceil(2 N log2 N) pairs, both orders, K answers each) and answers are simulated
from those profiles, with a small share of unparseable answers. The truth is
written beside the data. Deterministic given --seed.

    python scripts/make_default_data.py --outcomes 100 --k 10 --seed 2026
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_utility.data.simulate import SimulationTruth, simulate_dataset
from bayes_utility.data.tables import outcomes_from_json

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "emergent-values"
PROFILES = {
    "llama2_7b_sim": ("llama-2-7b-chat.json", "Llama-2-7B-chat"),
    "qwen25_vl_7b_sim": ("qwen2.5-vl-7b-instruct.json", "Qwen2.5-VL-7B-Instruct"),
}


def stratified(outcomes: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` outcomes, as even over categories as possible."""
    by_cat = {c: rng.permutation(np.flatnonzero(outcomes["category"].to_numpy() == c))
              for c in outcomes["category"].unique()}
    picks, r = [], 0
    while len(picks) < n:
        for c, idx in by_cat.items():
            if r < len(idx) and len(picks) < n:
                picks.append(idx[r])
        r += 1
    return np.sort(np.array(picks))


def paper_subset(src: Path, n: int, rng: np.random.Generator,
                 profile: str = "llama-2-7b-chat.json") -> tuple[pd.DataFrame, np.ndarray]:
    """A stratified subset of ``n`` of the paper's outcomes and the profile's utility means
    on it, standardised to spread 1.5 noise units (the other bundled datasets' scale)."""
    allo = outcomes_from_json(json.loads((src / "options_hierarchical.json").read_text()))
    pick = stratified(allo, n, rng)
    prof = json.loads((src / "fitted_utilities" / profile).read_text())["utilities"]
    mean = np.array([prof[str(i)]["mean"] for i in range(len(allo))])[pick]
    return allo.iloc[pick].reset_index(drop=True), 1.5 * (mean - mean.mean()) / mean.std()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", type=int, default=100)
    ap.add_argument("--k", type=int, default=10, help="answers per prompt and order (the paper: 10)")
    ap.add_argument("--unparseable", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--src", default=str(SRC))
    args = ap.parse_args()
    src = Path(args.src)
    allo = outcomes_from_json(json.loads((src / "options_hierarchical.json").read_text()))
    rng = np.random.default_rng(args.seed)
    pick = stratified(allo, args.outcomes, rng)
    for name, (fname, label) in PROFILES.items():
        prof = json.loads((src / "fitted_utilities" / fname).read_text())
        util = prof["utilities"]
        mean = np.array([util[str(i)]["mean"] for i in range(len(allo))])[pick]
        var = np.array([util[str(i)]["variance"] for i in range(len(allo))])[pick]
        truth = SimulationTruth(mu=mean, sigma=np.sqrt(var), order_bias=0.0, link="probit")
        sub = allo.iloc[pick].reset_index(drop=True)
        data = simulate_dataset(
            truth, np.random.default_rng([args.seed, len(name)]), k_per_order=args.k,
            unparseable_rate=args.unparseable, outcome_ids=sub["id"].tolist(),
            outcome_texts=sub["text"].tolist(), categories=sub["category"].tolist(),
            respondent=f"simulated-{label}",
        )
        out = ROOT / "bayes_utility" / "datasets" / name
        if out.exists():
            shutil.rmtree(out)
        data.write(out, fmt="csv")
        pd.DataFrame({"id": sub["id"], "reference_mean": mean, "reference_variance": var,
                      "utility_standardized": truth.standardized_utility()}).to_csv(
            out / "truth.csv", index=False, float_format="%.6g")
        shutil.copy(src / "LICENSE", out / "LICENSE")
        (out / "README.md").write_text(
            f"# {name}\n\nSimulated forced-choice answers of a respondent whose utilities are the "
            f"Thurstonian profile that the Utility Engineering reference code fitted to {label} "
            f"(file fitted_utilities/{fname} of the paper's data, MIT licence: LICENSE).\n\n"
            f"- {args.outcomes} of the paper's 510 outcomes, stratified over the 30 categories "
            "(ids are positions in options_hierarchical.json)\n"
            f"- {len(data.counts) // 2} pairs (ceil(2 N log2 N)), both presentation orders, "
            f"K={args.k} answers each, {args.unparseable:.0%} unparseable answers\n"
            "- truth.csv: the profile's mean and variance per outcome, and the mean standardised "
            "to zero mean and unit sample sd, ddof 1 (the scale of bayes_utility's `utility`)\n\n"
            f"Made by `python scripts/make_default_data.py --outcomes {args.outcomes} --k {args.k} "
            f"--unparseable {args.unparseable} --seed {args.seed}`.\n"
        )
        print(f"{name}: {data}")


if __name__ == "__main__":
    main()
