r"""Simulated respondents behind a local OpenAI-compatible HTTP server (127.0.0.1 only).

Answers come from known Thurstonian utilities: the server finds the two options in
the prompt (the forced-choice layout ``Option A:\n...\n\nOption B:\n...``), looks up
their outcomes by text, and answers "A" with probability
:math:`\Phi((\mu_a - \mu_b)/\sqrt{\sigma_a^2 + \sigma_b^2} + \beta)`; a share of answers
is garbage text. One server can host several models (``models={name: truth}``), like a
provider; requests for another model name get 404.

It serves ``/chat/completions``, ``/completions`` (base models: plain-text prompts),
``/models``, and the Batch API (``/files``, ``/batches``), and it fails on purpose, at
given rates, to exercise a client: HTTP 429 (with ``Retry-After``), 500, a stall longer
than the client's deadline (``timeout``), a body that dribbles out a byte at a time
(``dribble``), a 200 whose body is not JSON (``malformed``), a 200 with no choices
(``empty``), a connection dropped without an answer (``drop``). With ``api_key`` set,
requests with another key get 401, and the error body echoes the key it got (as some
servers do).

For recovery and fault tests at scale, no GPU or model needed::

    server = SimulatedServer(truth, outcome_texts, failure_rates={"429": 0.1})
    base_url = server.start()          # http://127.0.0.1:PORT/v1
    ...
    server.stop()

or from a shell (several models with random utilities, for demos)::

    python -m bayes_utility.elicitation.simserver --models alpha,beta,gamma --outcomes builtin:llama2_7b_sim --port 8765

Why one module (about 420 lines): the HTTP handler, the fault injection and the Batch API
share one request state (models, rates, batches in flight); apart, neither half is usable.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import socket
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from ..data.simulate import SimulationTruth, answer_probability

logger = logging.getLogger(__name__)


_OPTIONS = re.compile(r"Option A:\s*\n(.*?)\n\s*\nOption B:\s*\n(.*?)\n\s*\n", re.S)


GARBAGE = ("I cannot choose between these.", "Both options have merit.", "Option", "")


FAILURES = ("429", "500", "timeout", "dribble", "malformed", "empty", "drop")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen backlog: many clients connect at once

    def handle_error(self, request, client_address):  # clients that hang up are part of the test
        pass


class SimulatedServer:
    """Thread-served fake LLM provider with known utilities; counts every request it gets."""

    def __init__(self, truth: SimulationTruth | None, outcome_texts: list[str], *,
                 model: str = "simulated-respondent", models: dict[str, SimulationTruth] | None = None,
                 garbage_rate: float = 0.0, failure_rates: dict[str, float] | None = None, delay_s: float = 0.0,
                 stall_s: float = 30.0, seed: int = 0, api_key: str | None = None, answer_suffix: str = "",
                 batch_delay_s: float = 0.2):
        self.truths = dict(models or {})
        if truth is not None:
            self.truths.setdefault(model, truth)
        if not self.truths:
            raise ValueError("give a truth (one model) or models={name: truth}")
        self.truth, self.model = next(iter(self.truths.values())), next(iter(self.truths))
        self.index = {t.strip(): i for i, t in enumerate(outcome_texts)}
        self.garbage_rate, self.delay_s, self.stall_s = garbage_rate, delay_s, stall_s
        self.failure_rates = {k: float(v) for k, v in (failure_rates or {}).items()}
        unknown = set(self.failure_rates) - set(FAILURES)
        if unknown:
            raise ValueError(f"unknown failure kinds {sorted(unknown)}; use {', '.join(FAILURES)}")
        self.api_key, self.answer_suffix, self.batch_delay_s = api_key, answer_suffix, batch_delay_s
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)  # failures only: answers come from _prompt_rng
        self.lock = threading.Lock()
        self._served: dict[tuple[str, str], int] = {}  # answered requests per (model, prompt)
        self.requests = 0
        self.failures = 0
        self.in_flight = 0  # completion requests being handled now
        self.by_model: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
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

    def _prompt_rng(self, model: str, prompt: str) -> np.random.Generator:
        """Answers' random stream for the j-th answered request of this prompt: seeded by
        (seed, model, prompt, j), so the answers do not depend on the order in which
        concurrent requests arrive, and a run is reproducible whatever its concurrency."""
        digest = hashlib.sha256(f"{model}\x00{prompt}".encode()).digest()
        with self.lock:
            j = self._served.get((model, prompt), 0)
            self._served[(model, prompt)] = j + 1
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little"), j])

    def _pair(self, prompt: str):
        m = _OPTIONS.search(prompt)
        if not m or m.group(1).strip() not in self.index or m.group(2).strip() not in self.index:
            return None
        return self.index[m.group(1).strip()], self.index[m.group(2).strip()]

    def answer(self, prompt: str, n: int, model: str | None = None) -> list[str]:
        model = model or self.model
        truth = self.truths[model]
        rng = self._prompt_rng(model, prompt)
        pair = self._pair(prompt)
        if pair is None:
            return [GARBAGE[int(rng.integers(len(GARBAGE)))] for _ in range(n)]
        p = float(answer_probability(truth, np.array([pair[0]]), np.array([pair[1]]))[0])
        out = []
        for _ in range(n):
            if rng.random() < self.garbage_rate:
                out.append(GARBAGE[int(rng.integers(len(GARBAGE)))])
            else:
                out.append("A" if rng.random() < p else "B")
        if '"Answer: A"' in prompt:  # a reasoning template: some text, then the final answer line
            out = [f"Weighing both options.\nAnswer: {t}" if t in ("A", "B") else t for t in out]
        return [t + self.answer_suffix for t in out]

    def logprobs(self, prompt: str, mass: float = 0.6, model: str | None = None) -> dict | None:
        """First-token top logprobs: "A" and " B" carry ``mass`` in the model's ratio, the rest elsewhere."""
        pair = self._pair(prompt)
        if pair is None:
            return None
        p = float(answer_probability(self.truths[model or self.model], np.array([pair[0]]), np.array([pair[1]]))[0])
        p = min(max(p, 1e-6), 1 - 1e-6)
        top = [("A", mass * p), (" B", mass * (1 - p)), ("I", (1 - mass) * 0.7), ("Option", (1 - mass) * 0.3)]
        top.sort(key=lambda t: -t[1])
        entries = [{"token": t, "logprob": float(np.log(q)), "bytes": None} for t, q in top]
        return {"content": [{"token": top[0][0], "logprob": entries[0]["logprob"], "bytes": None,
                             "top_logprobs": entries}]}

    def completion(self, body: dict, chat: bool) -> tuple[int, dict]:
        """The response (status, JSON) to one completion request body."""
        model = body.get("model")
        if model not in self.truths:
            return 404, {"error": {"message": f"The model '{model}' does not exist", "type": "invalid_request_error",
                                   "code": "model_not_found"}}
        if chat:
            prompt = next((m.get("content") for m in reversed(body.get("messages") or [])
                           if isinstance(m, dict) and m.get("role") == "user"), "") or ""
        else:
            prompt = body.get("prompt") or ""
        n = int(body.get("n") or 1)
        with self.lock:
            self.by_model[model] = self.by_model.get(model, 0) + 1
        texts = self.answer(prompt, n, model)
        logprobs = self.logprobs(prompt, model=model) if body.get("logprobs") else None
        if chat:
            choices = [{"index": i, "message": {"role": "assistant", "content": t}, "logprobs": logprobs,
                        "finish_reason": "stop"} for i, t in enumerate(texts)]
        else:
            lp = None
            if logprobs:
                lp = {"top_logprobs": [{e["token"]: e["logprob"] for e in logprobs["content"][0]["top_logprobs"]}]}
            choices = [{"index": i, "text": " " + t, "logprobs": lp, "finish_reason": "stop"}
                       for i, t in enumerate(texts)]
        return 200, {"id": f"sim-{self.requests}", "object": "chat.completion" if chat else "text_completion",
                     "created": int(time.time()), "model": model, "choices": choices,
                     "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": n,
                               "total_tokens": len(prompt.split()) + n}}

    # -- the Batch API
    def _run_batch(self, batch_id: str) -> None:
        time.sleep(self.batch_delay_s)
        b = self.batches[batch_id]
        out, errors = [], []
        for line in self.files[b["input_file_id"]].split(b"\n"):
            if not line.strip():
                continue
            req = json.loads(line)
            chat = req["url"].endswith("/chat/completions")
            failure = self._draw()
            if failure in ("500", "429", "malformed", "empty"):
                errors.append({"id": f"req-{len(errors)}", "custom_id": req["custom_id"], "response": None,
                               "error": {"code": "server_error", "message": "simulated failure"}})
                continue
            status, body = self.completion(req["body"], chat)
            out.append({"id": f"req-{len(out)}", "custom_id": req["custom_id"],
                        "response": {"status_code": status, "request_id": "r", "body": body}, "error": None})
        with self.lock:
            if out:
                fid = f"file-out-{batch_id}"
                self.files[fid] = "".join(json.dumps(r) + "\n" for r in out).encode()
                b["output_file_id"] = fid
            if errors:
                fid = f"file-err-{batch_id}"
                self.files[fid] = "".join(json.dumps(r) + "\n" for r in errors).encode()
                b["error_file_id"] = fid
            b["status"] = "completed"
            b["completed_at"] = int(time.time())
            b["request_counts"] = {"total": len(out) + len(errors), "completed": len(out), "failed": len(errors)}

    # -- serving
    def start(self, port: int = 0) -> str:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no delayed-ACK stall)

            def log_message(self, *args):  # quiet
                pass

            def _json(self, code: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self._raw(code, data, "application/json", headers)

            def _raw(self, code: int, data: bytes, ctype: str, headers: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if owner.api_key is None:
                    return True
                got = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if got == owner.api_key:
                    return True
                self._json(401, {"error": {"message": f"Incorrect API key provided: {got}", "type": "auth"}})
                return False

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

            def do_GET(self):
                path = self.path.split("?")[0].rstrip("/")
                if not self._authorised():
                    return
                if path.endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in owner.truths]})
                elif "/batches/" in path:
                    b = owner.batches.get(path.rsplit("/", 1)[1])
                    self._json(200, b) if b else self._json(404, {"error": {"message": "no such batch"}})
                elif path.endswith("/batches"):
                    data = sorted(owner.batches.values(), key=lambda b: -b["created_at"])
                    self._json(200, {"object": "list", "data": data, "has_more": False,
                                     "first_id": data[0]["id"] if data else None,
                                     "last_id": data[-1]["id"] if data else None})
                elif path.endswith("/content") and "/files/" in path:
                    fid = path.split("/files/")[1].split("/")[0]
                    if fid in owner.files:
                        self._raw(200, owner.files[fid], "application/octet-stream")
                    else:
                        self._json(404, {"error": {"message": "no such file"}})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                path = self.path.split("?")[0].rstrip("/")
                raw = self._body()
                if owner._httpd is None:  # stopped: keep-alive connections go down with the server
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if not self._authorised():
                    return
                if path.endswith("/files"):
                    return self._file(raw)
                if path.endswith("/batches"):
                    return self._batch(raw)
                with owner.lock:
                    owner.in_flight += 1
                try:
                    if path.endswith("/chat/completions"):
                        self._complete(raw, chat=True)
                    elif path.endswith("/completions"):
                        self._complete(raw, chat=False)
                    else:
                        self._json(404, {"error": {"message": "not found"}})
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def _file(self, raw: bytes):
                msg = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode() + raw)
                content = next((part.get_payload(decode=True) for part in msg.iter_parts()
                                if part.get_param("name", header="content-disposition") == "file"), None)
                if content is None:
                    return self._json(400, {"error": {"message": "no file part"}})
                fid = f"file-{len(owner.files)}"
                owner.files[fid] = content
                self._json(200, {"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                                 "filename": "input.jsonl", "purpose": "batch", "status": "processed"})

            def _batch(self, raw: bytes):
                body = json.loads(raw or b"{}")
                if body.get("input_file_id") not in owner.files:
                    return self._json(400, {"error": {"message": "unknown input file"}})
                bid = f"batch-{len(owner.batches)}"
                owner.batches[bid] = {
                    "id": bid, "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
                    "input_file_id": body["input_file_id"], "completion_window": "24h", "status": "in_progress",
                    "output_file_id": None, "error_file_id": None, "created_at": int(time.time()),
                    "metadata": body.get("metadata")}
                threading.Thread(target=owner._run_batch, args=(bid,), daemon=True).start()
                self._json(200, owner.batches[bid])

            def _complete(self, raw: bytes, chat: bool):
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._json(400, {"error": {"message": "body is not JSON"}})
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                failure = owner._draw()
                if failure == "429":
                    return self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                      {"Retry-After": "0"})
                if failure == "500":
                    return self._json(500, {"error": {"message": "internal error", "type": "server_error"}})
                if failure == "timeout":
                    time.sleep(owner.stall_s)
                    self.close_connection = True
                    return
                if failure == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if failure == "malformed":
                    return self._raw(200, b'{"id": "x", "choices": [{"index": 0, "mess', "application/json")
                if failure == "empty":
                    return self._json(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                                            "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0}})
                status, resp = owner.completion(body, chat)
                if failure == "dribble" and status == 200:  # headers now, then a byte at a time
                    data = json.dumps(resp).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    pause = owner.stall_s / max(len(data), 1) * 4
                    try:
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(pause)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                self._json(status, resp)

        self._httpd = _QuietServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def main(argv: list[str] | None = None) -> None:
    """Serve simulated models with random utilities on 127.0.0.1 until interrupted."""
    from ..data.loading import load_dataset
    from ..data.simulate import random_truth

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--models", default="alpha,beta,gamma", help="comma-separated model names")
    ap.add_argument("--outcomes", default="builtin:llama2_7b_sim")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--order-bias", type=float, default=0.3)
    ap.add_argument("--garbage-rate", type=float, default=0.03)
    ap.add_argument("--delay-s", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    outcomes = load_dataset(args.outcomes).outcomes
    rng = np.random.default_rng(args.seed)
    common = rng.normal(0, 1.5, len(outcomes))  # models share most of their values, as the paper finds
    truths = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        t = random_truth(len(outcomes), rng, order_bias=args.order_bias)
        truths[name] = SimulationTruth(mu=0.8 * common + 0.6 * t.mu, sigma=t.sigma, order_bias=args.order_bias,
                                       link="probit")
    srv = SimulatedServer(None, outcomes["text"].tolist(), models=truths, garbage_rate=args.garbage_rate,
                          delay_s=args.delay_s, seed=args.seed)
    url = srv.start(args.port)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logger.info("serving %s at %s (Ctrl-C stops)", ", ".join(truths), url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
