r"""A simulated respondent behind a local OpenAI-compatible HTTP server (127.0.0.1 only).

Answers come from known Thurstonian utilities: the server finds the two options in
the prompt (the forced-choice layout ``Option A:\n...\n\nOption B:\n...``), looks up
their outcomes by text, and answers "A" with probability
:math:`\Phi((\mu_a - \mu_b)/\sqrt{\sigma_a^2 + \sigma_b^2} + \beta)`; a share of answers
is garbage text; and it can fail on purpose (HTTP 429 with ``Retry-After``, 500, or
a stall longer than the client's timeout) to exercise a client's retries.

For recovery and fault tests at scale, no GPU or model needed::

    server = SimulatedServer(truth, outcome_texts, failure_rates={"429": 0.1})
    base_url = server.start()          # http://127.0.0.1:PORT/v1
    ...
    server.stop()
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from .simulate import SimulationTruth, answer_probability

_OPTIONS = re.compile(r"Option A:\s*\n(.*?)\n\s*\nOption B:\s*\n(.*?)\n\s*\n", re.S)
GARBAGE = ("I cannot choose between these.", "Both options have merit.", "Option", "")


class SimulatedServer:
    """Thread-served fake LLM with known utilities; counts every request it gets."""

    def __init__(self, truth: SimulationTruth, outcome_texts: list[str], *, model: str = "simulated-respondent",
                 garbage_rate: float = 0.0, failure_rates: dict[str, float] | None = None, delay_s: float = 0.0,
                 stall_s: float = 30.0, seed: int = 0):
        self.truth, self.model = truth, model
        self.index = {t.strip(): i for i, t in enumerate(outcome_texts)}
        self.garbage_rate, self.delay_s, self.stall_s = garbage_rate, delay_s, stall_s
        self.failure_rates = {k: float(v) for k, v in (failure_rates or {}).items()}
        unknown = set(self.failure_rates) - {"429", "500", "timeout"}
        if unknown:
            raise ValueError(f"unknown failure kinds {sorted(unknown)}; use 429, 500, timeout")
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)  # failures only: answers come from _prompt_rng
        self.lock = threading.Lock()
        self._served: dict[str, int] = {}  # answered requests per prompt
        self.requests = 0
        self.failures = 0
        self.in_flight = 0  # chat requests being handled now
        self._httpd: ThreadingHTTPServer | None = None

    # -- behaviour
    def _draw(self):
        with self.lock:
            self.requests += 1
            u = self.rng.random()
            acc = 0.0
            for kind, rate in self.failure_rates.items():
                acc += rate
                if u < acc:
                    self.failures += 1
                    return kind
            return None

    def _prompt_rng(self, prompt: str) -> np.random.Generator:
        """Answers' random stream for the j-th answered request of this prompt: seeded by
        (seed, prompt, j), so the answers do not depend on the order in which concurrent
        requests arrive, and a run is reproducible whatever its concurrency."""
        digest = hashlib.sha256(prompt.encode()).digest()
        with self.lock:
            j = self._served.get(prompt, 0)
            self._served[prompt] = j + 1
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little"), j])

    def answer(self, prompt: str, n: int) -> list[str]:
        m = _OPTIONS.search(prompt)
        rng = self._prompt_rng(prompt)
        if not m or m.group(1).strip() not in self.index or m.group(2).strip() not in self.index:
            return [GARBAGE[int(rng.integers(len(GARBAGE)))] for _ in range(n)]
        a, b = self.index[m.group(1).strip()], self.index[m.group(2).strip()]
        p = float(answer_probability(self.truth, np.array([a]), np.array([b]))[0])
        out = []
        for _ in range(n):
            if rng.random() < self.garbage_rate:
                out.append(GARBAGE[int(rng.integers(len(GARBAGE)))])
            else:
                out.append("A" if rng.random() < p else "B")
        if '"Answer: A"' in prompt:  # a reasoning template: some text, then the final answer line
            out = [f"Weighing both options.\nAnswer: {t}" if t in ("A", "B") else t for t in out]
        return out

    def logprobs(self, prompt: str, mass: float = 0.6) -> dict | None:
        """First-token top logprobs: "A" and " B" carry ``mass`` in the model's ratio, the rest elsewhere."""
        m = _OPTIONS.search(prompt)
        if not m or m.group(1).strip() not in self.index or m.group(2).strip() not in self.index:
            return None
        a, b = self.index[m.group(1).strip()], self.index[m.group(2).strip()]
        p = float(answer_probability(self.truth, np.array([a]), np.array([b]))[0])
        p = min(max(p, 1e-6), 1 - 1e-6)
        top = [("A", mass * p), (" B", mass * (1 - p)), ("I", (1 - mass) * 0.7), ("Option", (1 - mass) * 0.3)]
        top.sort(key=lambda t: -t[1])
        entries = [{"token": t, "logprob": float(np.log(q)), "bytes": None} for t, q in top]
        return {"content": [{"token": top[0][0], "logprob": entries[0]["logprob"], "bytes": None,
                             "top_logprobs": entries}]}

    # -- serving
    def start(self, port: int = 0) -> str:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, code: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": owner.model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                with owner.lock:
                    owner.in_flight += 1
                try:
                    self._chat()
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def _chat(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                failure = owner._draw()
                if failure == "429":
                    self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                               {"Retry-After": "0"})
                    return
                if failure == "500":
                    self._json(500, {"error": {"message": "internal error", "type": "server_error"}})
                    return
                if failure == "timeout":
                    time.sleep(owner.stall_s)
                    return
                prompt = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"),
                              "")
                n = int(body.get("n") or 1)
                texts = owner.answer(prompt, n)
                logprobs = owner.logprobs(prompt) if body.get("logprobs") else None
                self._json(200, {
                    "id": f"sim-{owner.requests}", "object": "chat.completion", "created": int(time.time()),
                    "model": owner.model,
                    "choices": [{"index": i, "message": {"role": "assistant", "content": t},
                                 "logprobs": logprobs, "finish_reason": "stop"} for i, t in enumerate(texts)],
                    "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": n,
                              "total_tokens": len(prompt.split()) + n},
                })

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
