"""Make the reference posteriors in bayes_utility/reference_posteriors/ by long, checked runs.

    python scripts/make_reference_posteriors.py            # all
    python scripts/make_reference_posteriors.py NAME ...   # some

For each reference: the data (simulated with a fixed seed, or a bundled dataset), the
recipe the tests refit with (config.yaml), and a long NUTS run (8 chains x 12,500
draws after 2,000 warm-up) whose summaries with MCSEs go to reference.csv. A run
with R-hat >= 1.01 or any divergence is refused.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpyro  # noqa: E402

numpyro.set_host_device_count(8)

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bayes_utility import __version__  # noqa: E402
from bayes_utility.config import RunConfig  # noqa: E402
from bayes_utility.data.simulate import random_truth, simulate_dataset  # noqa: E402
from bayes_utility.inference.pipeline import fit_run  # noqa: E402
from bayes_utility.inference.reference import REFERENCE_DIR, summarize  # noqa: E402

REFIT = {"chains": 4, "warmup": 1000, "draws": 1000, "chain_method": "parallel", "progress_bar": False}
LONG = {"chains": 8, "warmup": 2000, "draws": 12500, "chain_method": "parallel", "progress_bar": False}


def _thurstonian_sim12():
    rng = np.random.default_rng(20261127)
    data = simulate_dataset(random_truth(12, rng), rng, k_per_order=5, unparseable_rate=0.05,
                            respondent="simulated-12")
    # target_accept 0.99: at 0.8-0.95 a few of 100,000 draws diverge on data this thin (outcomes with a
    # large noise scale have weakly identified utilities: a funnel between mu_o and log sigma_o)
    cfg = {"model": {"name": "thurstonian"}, "data": {"path": "data", "unparseable": "half"},
           "inference": {"target_accept": 0.99}}
    return data, cfg, ["utility", "noise_sd", "utility_spread", "log_noise_spread"], \
        "12 outcomes, all 66 pairs (the paper budget caps there), 5 answers per order, 5% unparseable (half-votes); Thurstonian"


def _thurstonian_order_bias_sim8():
    rng = np.random.default_rng(8)
    data = simulate_dataset(random_truth(8, rng, order_bias=0.4), rng, k_per_order=10, unparseable_rate=0.02,
                            respondent="simulated-8")
    cfg = {"model": {"name": "thurstonian", "order_bias": True}, "data": {"path": "data", "unparseable": "exclude"},
           "inference": {"target_accept": 0.99}}
    return data, cfg, ["utility", "noise_sd", "utility_spread", "log_noise_spread", "order_bias"], \
        "8 outcomes, all 28 pairs, 10 answers per order, order bias 0.4; Thurstonian with order bias"


def _bradley_terry_smollm2():
    cfg = {"model": {"name": "bradley_terry", "order_bias": True, "centered": False},
           "data": {"path": "builtin:smollm2_135m_real", "unparseable": "exclude"},
           "inference": {"target_accept": 0.95}}
    return None, cfg, ["utility", "u", "utility_spread", "order_bias"], \
        "real SmolLM2-135M answers (16 outcomes, nearly all 'A'); Bradley-Terry with order bias, non-centred"


REFERENCES = {
    "thurstonian_sim12": _thurstonian_sim12,
    "thurstonian_order_bias_sim8": _thurstonian_order_bias_sim8,
    "bradley_terry_smollm2": _bradley_terry_smollm2,
}


def make(name: str) -> None:
    from bayes_utility.data.loading import load_dataset

    data, cfg_raw, var_names, description = REFERENCES[name]()
    folder = REFERENCE_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    if data is not None:
        data.write(folder / "data", fmt="csv")
    cfg_raw = {"name": name, **cfg_raw}
    cfg_raw["inference"] = {**REFIT, **cfg_raw.get("inference", {}), "seed": 1}
    refit = RunConfig.model_validate(cfg_raw)
    (folder / "config.yaml").write_text(
        f"# Reference posterior {name}: {description}.\n"
        "# The recipe the tests refit with; reference.csv comes from a long run of the same model.\n"
        + yaml.safe_dump(refit.model_dump(mode="json", exclude_unset=True), sort_keys=False))
    path = cfg_raw["data"]["path"]
    data = load_dataset(path if path.startswith("builtin:") else folder / path)
    long_cfg = refit.with_overrides(inference={**LONG, "seed": 20261127})
    t0 = time.perf_counter()
    out = fit_run(data, long_cfg)
    seconds = time.perf_counter() - t0
    table = summarize(out.idata, var_names)
    divergences = int(out.idata.sample_stats["diverging"].sum())
    max_rhat = float(table["r_hat"].max())
    print(f"{name}: {seconds:.0f} s, max R-hat {max_rhat:.4f}, min bulk ESS {table['ess_bulk'].min():.0f}, "
          f"divergences {divergences}")
    if max_rhat >= 1.01 or divergences:
        sys.exit(f"{name}: the long run is not clean enough to be a reference")
    table.to_csv(folder / "reference.csv", float_format="%.6g")
    import arviz
    import jax

    meta = {
        "name": name, "description": description, "var_names": var_names,
        "inference": long_cfg.inference.model_dump(mode="json"), "max_rhat": max_rhat,
        "min_ess_bulk": float(table["ess_bulk"].min()), "min_ess_tail": float(table["ess_tail"].min()),
        "divergences": divergences, "seconds": round(seconds, 1), "bayes_utility": __version__,
        "numpyro": numpyro.__version__, "jax": jax.__version__, "arviz": arviz.__version__,
        "made": datetime.date.today().isoformat(),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"some of: {', '.join(REFERENCES)} (default: all)")
    args = ap.parse_args()
    unknown = sorted(set(args.names) - set(REFERENCES))
    if unknown:
        ap.error(f"unknown reference(s) {unknown}; known: {', '.join(REFERENCES)}")
    for name in args.names or REFERENCES:
        make(name)


if __name__ == "__main__":
    main()
