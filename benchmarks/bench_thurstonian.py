"""Benchmark: Thurstonian NUTS at paper scale and beyond, with PyMC and nutpie side by side.

For each size N (510, the paper's, by default; ``--outcomes 510 2000`` for more)
simulates N outcomes, ceil(2 N log2 N) pairs, K answers per order (20 per pair by
default), fits the Thurstonian model with NumPyro NUTS (4 chains) and prints wall time,
min bulk and tail ESS over every utility and noise scale, max R-hat, divergences and
min bulk-ESS per second. The first fit in the process is cold: its "process wall" adds
the imports (JAX, NumPyro, ArviZ) and the compilation, which is what a user waits for.
Then fits the same model, same priors, in PyMC and nutpie on the same data and prints
the ratios; ``--x64`` adds a float64 NumPyro run (in a second process: precision is
process-wide in JAX). Not a test: figures only.

    python benchmarks/bench_thurstonian.py                         # N = 510, full comparison
    python benchmarks/bench_thurstonian.py --outcomes 510 2000 --x64
    python benchmarks/bench_thurstonian.py --no-pymc --platform gpu
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

T_START = time.perf_counter()


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", type=int, nargs="+", default=[510])
    ap.add_argument("--k", type=int, default=10, help="answers per order (2k per pair)")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--draws", type=int, default=700)
    ap.add_argument("--chain-method", default="auto", choices=["auto", "parallel", "sequential", "vectorized"])
    ap.add_argument("--platform", default="cpu", choices=["cpu", "gpu"],
                    help="gpu: JAX's accelerator (chains vectorised on one device)")
    ap.add_argument("--init", default="auto", choices=["auto", "uniform", "warm"])
    ap.add_argument("--devices", type=int, default=None, help="host CPU devices (default: chains)")
    ap.add_argument("--target-accept", type=float, default=0.65,
                    help="0.65: near-optimal for HMC in high dimension; the library default is 0.8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="NumPyro fits per size (median reported)")
    ap.add_argument("--no-pymc", action="store_true")
    ap.add_argument("--no-nutpie", action="store_true")
    ap.add_argument("--pymc-draws", type=int, default=500)
    ap.add_argument("--pymc-tune", type=int, default=500)
    ap.add_argument("--x64", action="store_true", help="also a float64 NumPyro run per size (second process)")
    ap.add_argument("--precision", default="float32", choices=["float32", "float64"], help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def fmt(v):
    return f"{v:.5g}" if isinstance(v, float) else str(v)


def main(argv=None):
    args = parse(argv)
    import numpyro

    if args.platform == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
        numpyro.set_host_device_count(args.devices or args.chains)
    if args.precision == "float64":
        numpyro.enable_x64()
    import arviz as az
    import jax
    import numpy as np

    import bayes_utility as bu
    from bayes_utility.config import RunConfig
    from bayes_utility.inference.pipeline import fit_run
    from bayes_utility.inference.pointwise import add_log_likelihood

    import_s = time.perf_counter() - T_START
    print(f"imports: {import_s:.2f} s; JAX {jax.__version__} on {jax.devices()}; {args.precision}", flush=True)

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

    results = {}
    for n_out in args.outcomes:
        rng = np.random.default_rng(args.seed)
        truth = bu.random_truth(n_out, rng, utility_sd=1.5, log_noise_sd=0.3)
        data = bu.simulate_dataset(truth, rng, k_per_order=args.k)
        print(f"\n#### N = {n_out}: {data}", flush=True)
        inf = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws, "progress_bar": False,
               "chain_method": args.chain_method, "seed": args.seed,
               "target_accept": args.target_accept, "init": args.init}
        # the pointwise log-likelihood (for LOO) is timed apart: it is not part of the posterior
        cfg = RunConfig(data={"path": "simulated", "unparseable": "exclude"}, inference=inf,
                        output={"log_likelihood": False})
        rows = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            out = fit_run(data, cfg.with_overrides(inference={"seed": args.seed + r}))
            wall = time.perf_counter() - t0
            m = measure(out.idata, wall)
            m.update(out.timing)
            m["steps_per_draw"] = float(out.idata.sample_stats["n_steps"].mean())
            if not results and r == 0:  # the first fit of the process: imports and compilation included
                m["process_wall_s"] = time.perf_counter() - T_START
            t0 = time.perf_counter()
            add_log_likelihood(out.idata)
            m["log_likelihood_s"] = time.perf_counter() - t0
            rows.append(m)
            print(f"numpyro run {r}: " + ", ".join(f"{k}={fmt(v)}" for k, v in m.items()), flush=True)
        med = {k: float(np.median([row[k] for row in rows if k in row])) for k in rows[-1]}
        if "process_wall_s" in rows[0]:
            med["process_wall_s_cold"] = rows[0]["process_wall_s"]
        print(f"\n== NumPyro NUTS, N = {n_out}, {args.precision} (median over {len(rows)} runs) ==")
        for k, v in med.items():
            print(f"  {k:22s} {v:.5g}")
        ok = med["min_bulk_ess"] >= 400 and med["max_rhat"] <= 1.01
        print(f"  converged (min bulk ESS >= 400, max R-hat <= 1.01): {'yes' if ok else 'NO'}")
        results[n_out] = med
        if args.x64 and args.precision == "float32":
            argv2 = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--x64"]
            cmd = [sys.executable, __file__, *argv2, "--outcomes", str(n_out), "--no-pymc", "--no-nutpie",
                   "--precision", "float64", "--repeats", "1"]
            print(f"\n== float64 (second process: {' '.join(cmd[2:])}) ==", flush=True)
            subprocess.run(cmd, check=False)
        if args.no_pymc and args.no_nutpie:
            continue
        from bayes_utility.inference.crosscheck import fit_pymc

        arr, _ = data.arrays("exclude")
        for sampler in ("pymc", "nutpie"):
            if (sampler == "pymc" and args.no_pymc) or (sampler == "nutpie" and args.no_nutpie):
                continue
            try:
                t0 = time.perf_counter()
                idata = fit_pymc(arr, draws=args.pymc_draws, tune=args.pymc_tune, chains=args.chains,
                                 seed=args.seed, sampler=sampler)
                wall = time.perf_counter() - t0
            except ImportError as exc:
                print(f"\n{sampler}: not available ({exc})")
                continue
            m = measure(idata, wall)
            print(f"\n== {sampler}, N = {n_out} ({args.pymc_tune} tune + {args.pymc_draws} draws x {args.chains} chains) ==")
            for k, v in m.items():
                print(f"  {k:22s} {v:.5g}")
            print(f"  NumPyro / {sampler} min-bulk-ESS per second: "
                  f"{med['min_bulk_ess_per_s'] / m['min_bulk_ess_per_s']:.1f}x", flush=True)
    if len(results) > 1:
        sizes = sorted(results)
        a, b = results[sizes[0]], results[sizes[-1]]
        print(f"\nscaling {sizes[0]} -> {sizes[-1]} outcomes: MCMC time x{b['mcmc_s'] / a['mcmc_s']:.2f}, "
              f"steps per draw {a['steps_per_draw']:.1f} -> {b['steps_per_draw']:.1f}")


if __name__ == "__main__":
    main()
