"""Benchmark the hierarchical Thurstonian model: NUTS at scale, and SVI against NUTS.

Simulates R respondents x N outcomes answering the paper's design (ceil(2 N log2 N)
pairs, both orders, K answers each), fits NUTS and prints wall time, minimum bulk ESS,
ESS per second and peak memory; then fits SVI (low-rank multivariate normal guide) to
the same data and reports its calibration against NUTS: per parameter, the SVI mean's
error in NUTS posterior sds, the ratio of SVI to NUTS sds, and the share of NUTS means
inside SVI's 90% intervals.

The paper-scale run (20 respondents x 510 outcomes) is

    python benchmarks/bench_hierarchical.py --respondents 20 --outcomes 510

and runs unchanged on a GPU (JAX picks it up; install jax[cuda12]); chains in parallel
over several devices with --chain-method parallel. Without --svi-only, NUTS runs first.
A memory estimate for other sizes: --estimate 100 2000.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np

REPORTED_SITES = ("utility", "noise_sd", "respondent_utility", "decisiveness", "order_bias",
                  "respondent_deviation_spread", "utility_spread", "deviation_spread", "log_noise_spread",
                  "order_bias_mean")


def estimate(respondents: int, outcomes: int, chains: int, draws: int, k_orders: int = 2) -> dict:
    """Rough memory needs (bytes, float32) of a hierarchical NUTS fit."""
    from bayes_utility.data.simulate import paper_pair_count

    rows = respondents * paper_pair_count(outcomes) * k_orders
    params = respondents * outcomes + 2 * outcomes + 6 * respondents + 8
    stored_per_draw = 3 * respondents * outcomes + 4 * outcomes  # deviation_raw, mu_resp, respondent_utility, ...
    return {
        "rows": rows,
        "parameters": params,
        "data_and_gradient_bytes": rows * 4 * 16,  # inputs + per-row intermediates of one gradient
        "posterior_bytes": chains * draws * stored_per_draw * 4,
        "loglik_bytes": chains * draws * rows * 4,  # the pointwise log-likelihood group (for LOO)
    }


def time_gradient(data, seed: int) -> None:
    """Median time of one gradient of the log density (compiled), with order bias."""
    import jax
    import jax.numpy as jnp
    from bayes_utility.models import get_model, structure_of
    from numpyro.infer.util import initialize_model

    from bayes_utility.config import ModelConfig
    from bayes_utility.inference.sampling import bind_model, model_args, model_inputs

    mcfg = ModelConfig(name="thurstonian_hierarchical", order_bias=True)
    structure = structure_of(get_model(mcfg.name), data, mcfg)
    _, fn = bind_model(mcfg, data.n_outcomes, structure=structure.keywords)
    arr, _ = data.arrays("exclude", **structure.grouping)
    kwargs = {"k_a": jnp.asarray(arr.k_a, jnp.float32), **model_inputs(arr)}
    info = initialize_model(jax.random.PRNGKey(seed), fn, model_args=model_args(arr), model_kwargs=kwargs)
    grad = jax.jit(jax.grad(info.potential_fn))
    z = info.param_info.z
    jax.block_until_ready(grad(z))
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        jax.block_until_ready(grad(z))
        times.append(time.perf_counter() - t0)
    n_par = sum(int(np.size(v)) for v in jax.tree.leaves(z))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"gradient: {len(arr.n):,} rows, {n_par:,} unconstrained parameters: median {np.median(times) * 1e3:.1f} ms "
          f"per gradient; peak RSS {peak:.2f} GiB")


def simulate(args):
    """The benchmark's data: respondents' utilities around a population mean (sd 0.4),
    decisiveness and order bias per respondent, K answers per pair and order."""
    from bayes_utility.data.simulate import HierarchicalTruth, simulate_respondents

    rng = np.random.default_rng(args.seed)
    r, o = args.respondents, args.outcomes
    mu = rng.normal(0, 1.5, o)
    dev = rng.normal(0, 0.4, (r, o))
    truth = HierarchicalTruth(mu=mu - mu.mean(), deviations=dev - dev.mean(1, keepdims=True),
                              decisiveness=np.exp(rng.normal(0, 0.3, r)), sigma=np.exp(rng.normal(0, 0.2, o)),
                              order_bias=rng.normal(0.2, 0.2, r), respondents=tuple(f"r{i}" for i in range(r)))
    return simulate_respondents(truth, rng, k_per_order=args.k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--respondents", type=int, default=5)
    ap.add_argument("--outcomes", type=int, default=60)
    ap.add_argument("--k", type=int, default=5, help="answers per pair and order")
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chain-method", default="auto", choices=["auto", "parallel", "sequential", "vectorized"])
    ap.add_argument("--platform", default="cpu", choices=["cpu", "gpu"],
                    help="gpu: JAX's accelerator (chains vectorised on one device)")
    ap.add_argument("--no-log-likelihood", action="store_true",
                    help="skip the pointwise log-likelihood (draws x rows: 84 GB in float64 at 100 x 2,000)")
    ap.add_argument("--target-accept", type=float, default=0.9)
    ap.add_argument("--max-tree-depth", type=int, default=10)
    ap.add_argument("--init", default="auto", choices=["auto", "uniform", "warm"])
    ap.add_argument("--respondent-utilities", default="centred", choices=["centred", "non_centred"])
    ap.add_argument("--svi-steps", type=int, default=20000)
    ap.add_argument("--svi-only", action="store_true")
    ap.add_argument("--no-svi", action="store_true", help="NUTS figures only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-cache", help="folder: read the simulated data from it when there (same sizes and seed), "
                                         "else simulate and write it (Parquet); keeps simulation out of a timed step")
    ap.add_argument("--simulate-only", action="store_true", help="with --data-cache: write the data and stop")
    ap.add_argument("--estimate", type=int, nargs=2, metavar=("RESPONDENTS", "OUTCOMES"))
    ap.add_argument("--gradient-only", action="store_true",
                    help="time one log-density gradient (median of 20) at this size: NUTS costs about "
                         "(leapfrog steps per draw) x this per iteration")
    args = ap.parse_args()
    if args.platform == "cpu":
        import os

        import numpyro

        os.environ["JAX_PLATFORMS"] = "cpu"
        numpyro.set_host_device_count(args.chains)
    import arviz as az
    import jax

    from bayes_utility.config import RunConfig
    from bayes_utility.inference.pipeline import fit_run
    if args.estimate:
        r, o = args.estimate
        est = estimate(r, o, args.chains, args.draws)
        print(f"estimate for {r} respondents x {o} outcomes, {args.chains} chains x {args.draws} draws:")
        for k, v in est.items():
            print(f"  {k}: {v / 2**30:.2f} GiB" if k.endswith("bytes") else f"  {k}: {v:,}")
        return
    cache = None
    if args.data_cache:
        from pathlib import Path

        cache = Path(args.data_cache) / f"r{args.respondents}_o{args.outcomes}_k{args.k}_s{args.seed}"
    if cache is not None and (cache / "counts.parquet").exists():
        from bayes_utility.data.loading import load_dataset

        t0 = time.perf_counter()
        data = load_dataset(cache)
        print(f"data read from {cache} in {time.perf_counter() - t0:.1f} s")
    else:
        t0 = time.perf_counter()
        data = simulate(args)
        print(f"simulated in {time.perf_counter() - t0:.1f} s")
        if cache is not None:
            data.write(cache, fmt="parquet")
            print(f"data written to {cache}")
    if args.simulate_only:
        print(data)
        return
    print(f"{data}; JAX devices: {jax.devices()}")
    if args.gradient_only:
        time_gradient(data, args.seed)
        return
    base = {"name": "bench", "data": {"path": "simulated", "unparseable": "exclude"},
            "model": {"name": "thurstonian_hierarchical", "order_bias": True,
                      "respondent_utilities": args.respondent_utilities}, "heldout": {"fraction": 0.0},
            "output": {"log_likelihood": not args.no_log_likelihood}}
    nuts_post = None
    if not args.svi_only:
        cfg = RunConfig.model_validate({**base, "inference": {
            "chains": args.chains, "warmup": args.warmup, "draws": args.draws, "target_accept": args.target_accept,
            "max_tree_depth": args.max_tree_depth, "init": args.init,
            "chain_method": args.chain_method, "progress_bar": True, "seed": args.seed}})
        t0 = time.perf_counter()
        out = fit_run(data, cfg)
        wall = time.perf_counter() - t0
        idata = out.idata
        # what is reported, whatever the parameterisation
        post = idata.posterior[[v for v in REPORTED_SITES if v in idata.posterior]]
        ess = az.ess(post, method="bulk")
        min_ess = min(float(ess[v].min()) for v in ess.data_vars)
        rhat = az.rhat(post)
        max_rhat = max(float(rhat[v].max()) for v in rhat.data_vars)
        div = int(idata.sample_stats["diverging"].sum())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        steps = idata.sample_stats["n_steps"]
        print("timing: " + ", ".join(f"{k} {v:.1f} s" for k, v in out.timing.items() if k.endswith("_s")))
        print(f"respondent utilities {idata.posterior.attrs.get('respondent_utilities')}; leapfrog steps per draw: "
              f"median {float(steps.median()):.0f}, max {int(steps.max())}")
        print(f"NUTS: {args.chains} chains x ({args.warmup} + {args.draws}), {out.timing['mcmc_s']:.1f} s sampling "
              f"(incl. compilation), {wall:.1f} s in all; min bulk ESS {min_ess:.0f} "
              f"-> {min_ess / out.timing['mcmc_s']:.2f} ESS/s; max R-hat {max_rhat:.3f}; {div} divergences; "
              f"peak RSS {peak:.2f} GiB")
        nuts_post = idata.posterior
    if args.no_svi:
        return
    cfg = RunConfig.model_validate({**base, "inference": {
        "method": "svi", "svi_guide": "lowrank", "svi_steps": args.svi_steps, "svi_learning_rate": 0.01,
        "svi_draws": 2000, "progress_bar": True, "seed": args.seed}})
    t0 = time.perf_counter()
    svi = fit_run(data, cfg).idata.posterior
    print(f"SVI (low-rank MVN guide, {args.svi_steps} steps): {time.perf_counter() - t0:.1f} s")
    if nuts_post is None:
        return
    for site in ("utility", "respondent_utility", "order_bias", "decisiveness"):
        a = nuts_post[site].stack(s=("chain", "draw")).values.reshape(-1, nuts_post.sizes["chain"]
                                                                      * nuts_post.sizes["draw"])
        b = svi[site].stack(s=("chain", "draw")).values.reshape(a.shape[0], -1)
        z = (b.mean(1) - a.mean(1)) / a.std(1)
        ratio = b.std(1) / a.std(1)
        lo, hi = np.quantile(b, [0.05, 0.95], axis=1)
        inside = np.mean((a.mean(1) >= lo) & (a.mean(1) <= hi))
        print(f"  {site:20s} mean error {np.median(np.abs(z)):.2f} NUTS sd (median |z|, max {np.abs(z).max():.2f}); "
              f"sd ratio SVI/NUTS median {np.median(ratio):.2f} [{ratio.min():.2f}, {ratio.max():.2f}]; "
              f"NUTS mean in SVI 90% interval {inside:.0%}")


if __name__ == "__main__":
    main()
