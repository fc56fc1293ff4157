"""Benchmark: Thurstonian NUTS at paper scale, with PyMC (and nutpie) side by side.

Simulates 510 outcomes, ceil(2 N log2 N) pairs, K answers per order (20 per pair by
default), fits the Thurstonian model with NumPyro NUTS (4 chains) and prints wall time
(warm-up including compilation, and sampling), min bulk and tail ESS over every
utility and noise scale, max R-hat, divergences, and min bulk-ESS per second of
wall time. Then fits the same model, same priors, in PyMC (and nutpie if installed)
on the same data and prints the ratios. Not a test: figures only.

    python benchmarks/bench_thurstonian.py                 # full comparison
    python benchmarks/bench_thurstonian.py --no-pymc       # NumPyro only
"""
from __future__ import annotations

import argparse
import os
import time


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", type=int, default=510)
    ap.add_argument("--k", type=int, default=10, help="answers per order (2k per pair)")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--draws", type=int, default=700)
    ap.add_argument("--chain-method", default="parallel", choices=["parallel", "sequential", "vectorized"])
    ap.add_argument("--devices", type=int, default=None, help="host CPU devices (default: chains)")
    ap.add_argument("--target-accept", type=float, default=0.65, help="0.65: near-optimal for HMC in high dimension; the library default is 0.8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="NumPyro fits (median reported)")
    ap.add_argument("--no-pymc", action="store_true")
    ap.add_argument("--pymc-draws", type=int, default=500)
    ap.add_argument("--pymc-tune", type=int, default=500)
    ap.add_argument("--x64", action="store_true", help="float64 instead of float32")
    return ap.parse_args()


def main():
    args = parse()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import numpyro

    numpyro.set_host_device_count(args.devices or args.chains)
    if args.x64:
        numpyro.enable_x64()
    import arviz as az
    import numpy as np

    import bayes_utility as bu
    from bayes_utility.config import RunConfig
    from bayes_utility.inference import fit_run

    rng = np.random.default_rng(args.seed)
    truth = bu.random_truth(args.outcomes, rng, utility_sd=1.5, log_noise_sd=0.3)
    data = bu.simulate_dataset(truth, rng, k_per_order=args.k)
    print(f"data: {data}")
    inf = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws, "progress_bar": False,
           "chain_method": args.chain_method, "seed": args.seed,
           "target_accept": args.target_accept}
    cfg = RunConfig(data={"path": "simulated", "unparseable": "exclude"}, inference=inf)

    def measure(idata, wall):
        post = idata.posterior[["utility", "sigma"]]
        ess_b = az.ess(post, method="bulk")
        ess_t = az.ess(post, method="tail")
        rhat = az.rhat(post)
        mb = min(float(ess_b[v].min()) for v in ess_b.data_vars)
        mt = min(float(ess_t[v].min()) for v in ess_t.data_vars)
        mr = max(float(rhat[v].max()) for v in rhat.data_vars)
        div = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else -1
        return {"min_bulk_ess": mb, "min_tail_ess": mt, "max_rhat": mr, "divergences": div,
                "wall_s": wall, "min_bulk_ess_per_s": mb / wall}

    # Compilation alone: the same shapes with one warm-up and one draw.
    t0 = time.perf_counter()
    fit_run(data, cfg.with_overrides(inference={"warmup": 1, "draws": 1}))
    compile_s = time.perf_counter() - t0
    print(f"compile (+ 2 iterations and post-processing): {compile_s:.2f} s")
    rows = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        out = fit_run(data, cfg.with_overrides(inference={"seed": args.seed + r}))
        wall = time.perf_counter() - t0
        m = measure(out.idata, wall)
        m.update(out.timing)
        m["sampling_s_est"] = out.timing["mcmc_s"] - compile_s
        rows.append(m)
        print(f"numpyro run {r}: " + ", ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in m.items()))
    med = {k: float(np.median([row[k] for row in rows])) for k in rows[0]}
    print("\n== NumPyro NUTS (median over runs) ==")
    for k, v in med.items():
        print(f"  {k:22s} {v:.5g}")
    print(f"  target: min bulk ESS >= 400 and max R-hat <= 1.01 within 20 s wall: "
          f"{'MET' if med['min_bulk_ess'] >= 400 and med['max_rhat'] <= 1.01 and med['wall_s'] <= 20 else 'not met'}")

    if args.no_pymc:
        return
    from bayes_utility.crosscheck import fit_pymc

    arr, _ = data.arrays("exclude")
    for sampler in ("pymc", "nutpie"):
        try:
            t0 = time.perf_counter()
            idata = fit_pymc(arr, draws=args.pymc_draws, tune=args.pymc_tune, chains=args.chains,
                             seed=args.seed, sampler=sampler)
            wall = time.perf_counter() - t0
        except ImportError as exc:
            print(f"\n{sampler}: not available ({exc})")
            continue
        m = measure(idata, wall)
        print(f"\n== {sampler} ({args.pymc_tune} tune + {args.pymc_draws} draws x {args.chains} chains) ==")
        for k, v in m.items():
            print(f"  {k:22s} {v:.5g}")
        print(f"  NumPyro / {sampler} min-bulk-ESS per second: {med['min_bulk_ess_per_s'] / m['min_bulk_ess_per_s']:.1f}x")


if __name__ == "__main__":
    main()
