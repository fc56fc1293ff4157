"""Parameter recovery of the Thurstonian model over experiment sizes.

    python benchmarks/recovery_study.py [--seeds 2] [--out outputs/recovery_study]
        [--executor local|ray] [--address HOST:PORT] [--workers N]

The fits are independent jobs (bayes_utility.inference.executors): in this process by default,
in N worker processes (--workers N), or as Ray tasks (--executor ray, on the cluster
at --address or on a local one started for the study).

One factor at a time around a base experiment (100 outcomes, the paper's
ceil(2 N log2 N) pairs, 10 answers per order, no order bias, no unparseable answers):
outcomes 20..510, answers per order 2..20, sparse (N log2 N pairs) and dense graphs
(all pairs at N = 100), order bias 0.5 on the probit scale (fitted with the order-bias
term), 10% / 20% unparseable answers (library default policy: half-votes), and 20%
unparseable answers excluded instead (``policy: exclude``).
Truth: utilities N(0, 1.5), log noise N(0, 0.3) (the simulator's defaults).

For each fit (NUTS, 4 chains x 500 + 500) it reports, for the standardised utilities:
coverage of the central 50% and 90% posterior intervals, mean 90% width, Spearman
rank correlation and RMSE of the posterior mean against the truth; coverage of the
90% intervals of the noise scales; max R-hat, divergences, wall time. Writes
recovery.csv, recovery.md and recovery.png to the output folder.
"""
from __future__ import annotations

import argparse
import math
import os
import time
import zlib
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpyro  # noqa: E402

numpyro.set_host_device_count(4)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from bayes_utility.config import RunConfig  # noqa: E402
from bayes_utility.data.simulate import paper_pair_count, random_truth, simulate_dataset  # noqa: E402
from bayes_utility.inference.pipeline import fit_run  # noqa: E402

BASE = {"outcomes": 100, "answers": 10, "graph": "paper", "order_bias": 0.0, "unparseable": 0.0, "policy": "half"}
VARIATIONS = {
    "outcomes": [20, 50, 200, 510],
    "answers": [2, 5, 20],
    "graph": ["sparse", "dense"],
    "order_bias": [0.5],
    "unparseable": [0.1, 0.2],
}
# the unparseable-answer policy matters only when answers are lost: compared at 20%
EXTRA = [("policy", {**BASE, "unparseable": 0.2, "policy": "exclude"})]


def n_pairs(n: int, graph: str) -> int:
    full = n * (n - 1) // 2
    if graph == "sparse":
        return min(full, math.ceil(n * math.log2(n)))
    if graph == "dense":
        return full if n <= 100 else min(full, 4 * paper_pair_count(n))
    return paper_pair_count(n)


def settings():
    yield "base", BASE
    for factor, levels in VARIATIONS.items():
        for level in levels:
            yield factor, {**BASE, factor: level}
    yield from EXTRA


def one_fit(s: dict, seed: int) -> dict:
    # a stable seed per setting (str hashes change between Python processes)
    rng = np.random.default_rng([seed, s["outcomes"], s["answers"], int(100 * s["order_bias"]),
                                 int(100 * s["unparseable"]), zlib.crc32(s["graph"].encode())])
    truth = random_truth(s["outcomes"], rng, order_bias=s["order_bias"])
    data = simulate_dataset(truth, rng, n_pairs=n_pairs(s["outcomes"], s["graph"]), k_per_order=s["answers"],
                            unparseable_rate=s["unparseable"])
    cfg = RunConfig(data={"path": "-", "unparseable": s["policy"]},
                    model={"name": "thurstonian", "order_bias": s["order_bias"] > 0},
                    inference={"chains": 4, "warmup": 500, "draws": 500, "seed": seed, "progress_bar": False})
    t0 = time.perf_counter()
    out = fit_run(data, cfg)
    seconds = time.perf_counter() - t0
    post = out.idata.posterior
    u = post["utility"].stack(s=("chain", "draw")).transpose("outcome", "s").to_numpy()
    true_u = truth.standardized_utility()
    mu_n, sigma_n = truth.noise_units()
    true_noise = sigma_n / mu_n.std()
    noise = post["noise_sd"].stack(s=("chain", "draw")).transpose("outcome", "s").to_numpy()

    def cover(draws, true, level):
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=1)
        return float(np.mean((true >= lo) & (true <= hi))), float(np.mean(hi - lo))

    c50, _ = cover(u, true_u, 0.5)
    c90, w90 = cover(u, true_u, 0.9)
    n90, _ = cover(noise, true_noise, 0.9)
    from bayes_utility.inference.diagnostics import diagnose

    verdict = diagnose(out.idata)
    return {
        "pairs": int(data.counts.shape[0] // 2), "answers_total": int(data.counts[["n_a", "n_b"]].to_numpy().sum()),
        "cover50": c50, "cover90": c90, "width90": w90,
        "spearman": float(stats.spearmanr(u.mean(axis=1), true_u).statistic),
        "rmse": float(np.sqrt(np.mean((u.mean(axis=1) - true_u) ** 2))),
        "noise_cover90": n90, "max_rhat": verdict.max_rhat, "divergences": verdict.n_divergent,
        "seconds": seconds,
    }


def cell(job: tuple) -> dict:
    """One row of the study: a setting, a seed and the recovery figures of its fit."""
    factor, s, seed = job
    return {"factor": factor, **s, "seed": seed, **one_fit(s, seed)}


def plot(df: pd.DataFrame, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 3.4))
    FigureCanvasAgg(fig)
    for k, factor in enumerate(VARIATIONS):
        ax = fig.add_subplot(1, len(VARIATIONS), k + 1)
        rows = df[(df["factor"] == factor) | (df["factor"] == "base")]
        g = rows.groupby(factor, sort=True)[["cover50", "cover90", "spearman"]].mean()
        x = np.arange(len(g))
        ax.plot(x, g["cover90"], "o-", label="90% coverage")
        ax.plot(x, g["cover50"], "s-", label="50% coverage")
        ax.plot(x, g["spearman"], "^-", label="Spearman")
        ax.axhline(0.9, color="C0", ls=":", lw=0.8)
        ax.axhline(0.5, color="C1", ls=":", lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in g.index])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(factor)
        if k == 0:
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Thurstonian recovery of standardised utilities (mean over seeds); dotted: nominal coverage")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", default="outputs/recovery_study")
    ap.add_argument("--only", nargs="*", help="run only these factors (base, outcomes, answers, graph, ...)")
    ap.add_argument("--executor", choices=["local", "ray"], default="local")
    ap.add_argument("--address", help="with --executor ray: a running Ray cluster (host:port or 'auto')")
    ap.add_argument("--workers", type=int, default=1, help="fits at once (processes, or CPUs of a local Ray)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from bayes_utility.inference.executors import JobFailed, map_jobs

    jobs = [(factor, s, seed) for factor, s in settings() if not args.only or factor in args.only
            for seed in range(args.seeds)]
    rows = {}
    for i, res in map_jobs(cell, jobs, executor=args.executor, workers=args.workers, address=args.address):
        factor, s, seed = jobs[i]
        if isinstance(res, JobFailed):
            print(f"{factor:>12} {s} seed {seed}: FAILED {res}", flush=True)
            continue
        rows[i] = res
        print(f"{factor:>12} {s} seed {seed}: cover90 {res['cover90']:.2f} cover50 {res['cover50']:.2f} "
              f"rho {res['spearman']:.3f} rmse {res['rmse']:.3f} R-hat {res['max_rhat']:.3f} "
              f"div {res['divergences']} {res['seconds']:.1f} s", flush=True)
    rows = [rows[i] for i in sorted(rows)]
    df = pd.DataFrame(rows)
    df.to_csv(out / "recovery.csv", index=False)
    cols = ["cover50", "cover90", "width90", "spearman", "rmse", "noise_cover90", "max_rhat", "divergences",
            "seconds"]
    table = df.groupby(["factor", *BASE], sort=False)[cols].mean().reset_index()
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
                   for row in table.itertuples(index=False))
    (out / "recovery.md").write_text(header + body)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    plot(df, out / "recovery.png")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
