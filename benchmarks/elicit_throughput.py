"""Elicitation throughput against a simulated endpoint with a fixed latency, on 127.0.0.1.

    python benchmarks/elicit_throughput.py [--levels 1 4 16 64] [--latency 0.5] [--seconds 10] [--repeats 3]

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
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bayes_utility.config import ElicitConfig
from bayes_utility.elicitation.runner import run_elicitation

_SERVER = """
import sys, time, numpy as np
from bayes_utility.data import load_dataset
from bayes_utility.elicitation.simserver import SimulatedServer
from bayes_utility.data.simulate import random_truth
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
        with sqlite3.connect(res.store) as db:  # the asking phase: first request sent to last answer in
            first, last = db.execute("SELECT min(julianday(started)), max(julianday(started) * 86400 + seconds) "
                                     "FROM requests").fetchone()
        asking = res.answered / (last - first * 86400) if last is not None else float("nan")  # batch: no timing
        return res.answered / seconds, asking, seconds


async def _raw_client(url: str, concurrency: int, n: int) -> float:
    """Answers/s of a minimal client (raw HTTP/1.1 over keep-alive asyncio streams, no parsing
    beyond Content-Length): what the endpoint itself can give at this concurrency."""
    import asyncio
    import json
    from urllib.parse import urlsplit

    from bayes_utility.data.loading import load_dataset
    from bayes_utility.elicitation.prompts import TEMPLATES

    parts = urlsplit(url)
    texts = load_dataset("builtin:llama2_7b_sim").outcomes["text"].tolist()
    bodies = [json.dumps({"model": "sim", "max_tokens": 4, "messages": [{"role": "user", "content": TEMPLATES[
        "forced_choice"].format(option_A=texts[i % 50], option_B=texts[50 + i % 50])}]}).encode() for i in range(n)]
    queue = list(range(n))

    async def worker():
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while queue:
            body = bodies[queue.pop()]
            writer.write(f"POST {parts.path}/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         f"application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            await reader.readexactly(length)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--latency", type=float, default=0.5, help="seconds per request at the simulated endpoint")
    ap.add_argument("--seconds", type=float, default=10.0, help="each run asks this long's worth at the maximum")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-delay", type=float, default=2.0)
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, str(args.latency), str(args.batch_delay)],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}/models", timeout=10).read()
        print(f"simulated endpoint, {args.latency * 1000:.0f} ms per request, parallel; median of {args.repeats}")
        print("whole run: from the call to the dataset written (preflight, store, ledger included);\n"
              "asking: from the first request sent to the last answer stored")
        print("maximum: concurrency / latency; endpoint: what a minimal raw-HTTP client gets from this server\n"
              "(the simulated server's own overhead included); shares of the endpoint's figure in brackets")
        print(f"{'concurrency':>11} {'answers':>8} {'maximum/s':>10} {'endpoint/s':>11} {'whole run/s':>12} "
              f"{'share':>14} {'asking/s':>9} {'share':>14}")
        for c in args.levels:
            top = c / args.latency
            n = max(2 * c, int(top * args.seconds)) // 2 * 2
            import asyncio

            raw = statistics.median(asyncio.run(_raw_client(url, c, n)) for _ in range(args.repeats))
            runs = [measure(url, n, c, seed=r) for r in range(args.repeats)]
            whole, asking = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            print(f"{c:>11} {n:>8} {top:>10.1f} {raw:>11.1f} {whole:>12.1f} {whole / top:>6.1%} "
                  f"({whole / raw:>5.1%}) {asking:>9.1f} {asking / top:>6.1%} ({asking / raw:>5.1%})", flush=True)
        n = int(args.levels[-1] / args.latency * args.seconds) // 2 * 2
        rate, _, seconds = measure(url, n, 1, seed=99, batch=True)
        print(f"\nbatch mode: {n} answers in {seconds:.2f} s round trip "
              f"(the simulated batch itself takes {args.batch_delay:.1f} s): {rate:.1f} answers/s")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
