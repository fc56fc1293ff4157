"""Benchmark: SBC replications fitted one at a time against several per vectorised run.

    python benchmarks/bench_sbc_batch.py [--recipe inference_configs/sbc_thurstonian.yaml]
        [--replications 32] [--batches 1 4 16] [--platform cpu|gpu]

In one process (one XLA thread on the CPU, as a calibration worker), for each batch
size B: the replications 0..R-1 of the recipe through ``Replicator.batch`` in chunks of
B, timed after a first chunk that compiles (not counted), and printed as replications
per second with the ratio to B = 1, with the median of the replications' worst R-hat
and smallest bulk ESS (a batch must not fit worse). Not a test: figures only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="inference_configs/sbc_thurstonian.yaml")
    ap.add_argument("--replications", type=int, default=32)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--platform", choices=["cpu", "gpu"], default="cpu")
    args = ap.parse_args()
    if args.platform == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
        os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
    import jax
    import numpy as np

    from bayes_utility.config import load_calibration_config
    from bayes_utility.inference.calibration import Replicator

    cfg = load_calibration_config(args.recipe)
    print(f"{cfg.name}: {cfg.design.n_items()} items, {cfg.inference.chains} chains x "
          f"({cfg.inference.warmup} + {cfg.inference.draws}); JAX {jax.__version__} on {jax.devices()}", flush=True)
    base = None
    for b in args.batches:
        rep = Replicator(cfg)
        rep.batch(list(range(b)))  # compiles this batch shape
        todo = list(range(b, b + args.replications))
        t0 = time.perf_counter()
        records = [r for i in range(0, len(todo), b) for r in rep.batch(todo[i:i + b])]
        wall = time.perf_counter() - t0
        rate = len(records) / wall
        base = base or rate
        print(f"batch {b:3d}: {wall:7.2f} s for {len(records)} replications, {rate:6.2f} per s ({rate / base:.2f}x); "
              f"median max R-hat {np.median([r['max_rhat'] for r in records]):.4f}, "
              f"median min bulk ESS {np.median([r['min_ess_bulk'] for r in records]):.0f}", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
