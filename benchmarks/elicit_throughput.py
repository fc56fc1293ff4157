"""Elicitation throughput against a simulated endpoint with a fixed latency, on 127.0.0.1.

    python benchmarks/elicit_throughput.py [--levels 1 4 16 64] [--latency 0.5] [--seconds 4] [--repeats 3]

The simulated respondent runs in a separate process (so that its threads do not share
the client's interpreter) and answers every request after ``--latency`` seconds, in
parallel. Such an endpoint's maximum at concurrency c is c / latency requests per
second; the benchmark prints answers per second (median of ``--repeats`` runs, each
asking about ``--seconds`` worth of answers at that maximum) and the share of the
maximum, everything included: the answer store (one SQLite transaction per response),
the ledger, the dataset written at the end. Then the Batch API mode's round trip
(build the JSONL, upload, create, poll, download, record) for the same number of
answers, with the simulated batch taking ``--batch-delay`` seconds to run.
"""
from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bayes_utility.config import ElicitConfig
from bayes_utility.elicitation import run_elicitation

_SERVER = """
import sys, time, numpy as np
from bayes_utility.data import load_dataset
from bayes_utility.simserver import SimulatedServer
from bayes_utility.simulate import random_truth
texts = load_dataset("builtin:llama2_7b_sim").outcomes["text"].tolist()
srv = SimulatedServer(random_truth(len(texts), np.random.default_rng(0)), texts, model="sim",
                      delay_s=float(sys.argv[1]), batch_delay_s=float(sys.argv[2]))
print(srv.start(), flush=True)
while True:
    time.sleep(3600)
"""


def measure(url: str, answers: int, concurrency: int, seed: int, batch: bool = False) -> tuple[float, float]:
    n_out = max(4, math.ceil((1 + math.sqrt(1 + 4 * answers)) / 2))  # all pairs, both orders, K = 1
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ElicitConfig.model_validate({
            "name": "bench", "output": {"dir": tmp},
            "server": {"base_url": url, "model": "sim", "concurrency": concurrency, "timeout_s": 120,
                       "batch": batch, "batch_poll_s": 0.1},
            "experiment": {"outcomes": "builtin:llama2_7b_sim", "max_outcomes": n_out, "design": "random",
                           "pairs": answers // 2, "answers_per_order": 1, "max_tokens": 4, "seed": seed},
        })
        t0 = time.perf_counter()
        res = run_elicitation(cfg, progress_bar=False)
        seconds = time.perf_counter() - t0
        assert res.missing == 0, res.ledger
        return res.answered / seconds, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--latency", type=float, default=0.5, help="seconds per request at the simulated endpoint")
    ap.add_argument("--seconds", type=float, default=4.0, help="each run asks this long's worth at the maximum")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-delay", type=float, default=2.0)
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(args.latency), str(args.batch_delay)],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}/models", timeout=10).read()
        print(f"simulated endpoint, {args.latency * 1000:.0f} ms per request, parallel; median of {args.repeats}")
        print(f"{'concurrency':>11} {'answers':>8} {'answers/s':>10} {'maximum':>8} {'share':>6}")
        for c in args.levels:
            top = c / args.latency
            n = max(2 * c, int(top * args.seconds)) // 2 * 2
            rate = statistics.median(measure(url, n, c, seed=r)[0] for r in range(args.repeats))
            print(f"{c:>11} {n:>8} {rate:>10.1f} {top:>8.1f} {rate / top:>6.1%}", flush=True)
        n = int(args.levels[-1] / args.latency * args.seconds) // 2 * 2
        rate, seconds = measure(url, n, 1, seed=99, batch=True)
        print(f"\nbatch mode: {n} answers in {seconds:.2f} s round trip "
              f"(the simulated batch itself takes {args.batch_delay:.1f} s): {rate:.1f} answers/s")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
