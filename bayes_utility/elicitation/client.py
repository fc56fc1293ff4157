"""Asking one model: live requests (concurrency, rate limits, retries, deadlines, a circuit
breaker, a preflight) and the OpenAI Batch API; every request goes to the answer store.

What is final and what is retried
    401, 403 and 404 stop that model at once with a plain message (a wrong key, no access,
    a wrong model name or endpoint: asking again cannot help). 429, 5xx, a dropped
    connection, a request past its total deadline (``timeout_s``, however slowly the bytes
    arrive), a body that is not JSON or has no choices are retried with exponential backoff
    and jitter (``Retry-After`` honoured), then recorded as failed. Other 4xx are recorded
    as failed at once. ``circuit_breaker`` consecutive requests with no response at all
    (connection failures, deadlines) stop the model: the endpoint is down or hung, and
    retrying every question would cost minutes for nothing.
Preflight
    The first question is asked alone (with at most two retries when nothing comes back); if
    it fails, the model is stopped with the reason before anything else is sent.
Ledger
    One row per HTTP request (answered, retried, failed), with the tokens that request
    used: a request that returns K answers counts its tokens once.

Why one module (about 490 lines): the live request loop, its retries and the Batch API
share the answer store's writes and the ledger, which must count every request once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
import zlib
from dataclasses import dataclass, field

from ..redact import public_url, redact
from .prompts import parse_answer
from .store import AnswerStore, now

logger = logging.getLogger(__name__)


FATAL_STATUS = {401: "the API key was refused (401): check the key in the environment variable {env}",
                403: "access denied (403): the key has no access to model {model!r}",
                404: "not found (404): model {model!r} or the endpoint {url} does not exist"}


@dataclass
class Item:
    """One request body (a pair in one order) and the answer slots it still needs."""

    outcome_a: str
    outcome_b: str
    request_key: str
    body: dict  # api, messages | prompt, params (without model, n and seed)
    samples: tuple[int, ...]


@dataclass
class Progress:
    answers: int = 0
    failures: int = 0
    retries: int = 0
    requests: int = 0
    started: float = field(default_factory=time.perf_counter)


class Stop(Exception):
    """This model cannot go on (fatal status, circuit breaker, failed preflight)."""


class _Malformed(Exception):
    """A 200 response that carries no usable answer (not JSON, no choices)."""


def slot_seed(request_key: str, sample: int) -> int:
    return zlib.crc32(f"{request_key}|{sample}".encode()) & 0x7FFFFFFF


def retry_after(exc: Exception) -> float:
    """Seconds a server asked us to wait (``Retry-After`` in seconds), else 0."""
    response = getattr(exc, "response", None)
    try:
        return max(0.0, float(response.headers.get("retry-after", 0))) if response is not None else 0.0
    except (TypeError, ValueError, AttributeError):  # an HTTP date or garbage: fall back to the backoff
        return 0.0


def first_token_preference(choice: dict) -> dict:
    """P("A") from the first generated token's top logprobs, renormalised over "A" and "B".

    Tokens are matched after stripping spaces, quotes and periods (" A", "A." count as
    "A"). ``logprob_mass`` is the probability the top list puts on "A" or "B" at all.
    Reads the chat format (``logprobs.content[0].top_logprobs``) and the completions
    format (``logprobs.top_logprobs[0]``, a token -> logprob mapping). Empty without logprobs.
    """
    import math

    lp = choice.get("logprobs") if isinstance(choice, dict) else None
    if not isinstance(lp, dict):
        return {}
    alts: list[tuple[str, float]] = []
    content = lp.get("content")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        alts = [(a.get("token") or "", a.get("logprob")) for a in content[0].get("top_logprobs") or []
                if isinstance(a, dict)]
    elif isinstance(lp.get("top_logprobs"), list) and lp["top_logprobs"] and isinstance(lp["top_logprobs"][0], dict):
        alts = list(lp["top_logprobs"][0].items())
    if not alts:
        return {}
    mass = {"A": 0.0, "B": 0.0}
    for tok, logprob in alts:
        tok = str(tok).strip().strip("\"'`*.").strip()
        if tok in mass and isinstance(logprob, (int, float)):
            mass[tok] += math.exp(logprob)
    total = mass["A"] + mass["B"]
    return {"logprob_p_a": mass["A"] / total if total > 0 else None, "logprob_mass": total}


def parse_choices(data, api: str) -> list[dict]:
    """The choices of a response body, each with its raw text; raises _Malformed when there are none."""
    if not isinstance(data, dict):
        raise _Malformed("response body is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _Malformed("response has no choices")
    out = []
    for ch in sorted((c for c in choices if isinstance(c, dict)), key=lambda c: c.get("index") or 0):
        if api == "chat":
            msg = ch.get("message")
            if not isinstance(msg, dict):
                raise _Malformed("a choice has no message")
            raw = msg.get("content")
        else:
            if "text" not in ch:
                raise _Malformed("a choice has no text")
            raw = ch.get("text")
        out.append({"raw": raw if isinstance(raw, str) or raw is None else str(raw), "choice": ch,
                    "finish_reason": ch.get("finish_reason")})
    if not out:
        raise _Malformed("response has no choices")
    return out


def usage_of(data) -> tuple[int, int]:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    try:
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    except (TypeError, ValueError):
        return 0, 0


class ModelAsker:
    """Asks one model every pending item, recording each request in the store."""

    def __init__(self, spec, ident: dict, store: AnswerStore, *, api_key: str, run_id: str, experiment: str,
                 reasoning: bool, logprobs: bool, on_done=None):
        self.spec, self.ident, self.store = spec, ident, store
        self.api_key, self.run_id, self.experiment = api_key, run_id, experiment
        self.reasoning, self.logprobs = reasoning, logprobs
        self.on_done = on_done or (lambda n: None)
        self.progress = Progress()
        self.stopped: str | None = None
        self._conn_failures = 0
        self._secrets = (api_key,) if api_key != "not-needed" else ()

    # ------------------------------------------------------------------ helpers
    def _client(self):
        import openai

        return openai.AsyncOpenAI(base_url=self.spec.base_url, api_key=self.api_key,
                                  timeout=self.spec.timeout_s, max_retries=0)

    def _cost(self, p_tok: int, c_tok: int, batch: bool = False) -> float:
        s = self.spec
        return (p_tok * s.price_input_per_mtok + c_tok * s.price_output_per_mtok) / 1e6 * (
            s.batch_discount if batch else 1.0)

    def _payload(self, item: Item, samples: tuple[int, ...]) -> dict:
        body = item.body
        payload = {"model": self.spec.model, **body["params"]}
        if body["api"] == "chat":
            payload["messages"] = body["messages"]
        else:
            payload["prompt"] = body["prompt"]
        if len(samples) > 1:
            payload["n"] = len(samples)
        if self.spec.send_seed:
            payload["seed"] = slot_seed(item.request_key, samples[0])
        return payload

    def _answers(self, parsed: list[dict], samples, returned_model) -> list[dict]:
        out = []
        for s, p in zip(samples, parsed):
            extra = first_token_preference(p["choice"]) if self.logprobs else {}
            out.append({"sample": s, "raw": p["raw"], "answer": parse_answer(p["raw"], reasoning=self.reasoning),
                        "finish_reason": p["finish_reason"], "returned_model": returned_model, **extra})
        return out

    def _record(self, item: Item, samples, outcome: str, **kw) -> int:
        return self.store.record(model=self.ident, request_key=item.request_key, body=item.body,
                                 samples=list(samples), outcome=outcome, run_id=self.run_id,
                                 experiment=self.experiment, outcome_ids=(item.outcome_a, item.outcome_b), **kw)

    def _stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
            logger.error("%s: %s", self.spec.label, reason)

    # ------------------------------------------------------------------ live requests
    async def run(self, items: list[Item]) -> None:
        if not items:
            return
        client = self._client()
        sem = asyncio.Semaphore(self.spec.concurrency)
        limiters = self._limiters()
        try:
            todo = list(items)
            if self.spec.preflight:  # one request alone first: stop at once if endpoint, model or key is wrong
                first = items[0]
                n = len(first.samples) if self.spec.supports_n else 1
                probe = Item(first.outcome_a, first.outcome_b, first.request_key, first.body, first.samples[:n])
                await self._ask_item(client, probe, sem, limiters, preflight=True)
                if self.stopped:
                    return
                rest = first.samples[n:]
                todo = ([Item(first.outcome_a, first.outcome_b, first.request_key, first.body, rest)] if rest
                        else []) + items[1:]
            tasks = [asyncio.ensure_future(self._ask_item(client, it, sem, limiters)) for it in todo]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
        finally:
            await client.close()

    def _limiters(self):
        if not (self.spec.requests_per_minute or self.spec.tokens_per_minute):
            return None, None
        from aiolimiter import AsyncLimiter

        # buckets of one second's share: the rate holds over any window, with no minute-long burst at start
        def bucket(per_minute):
            if not per_minute:
                return None
            return AsyncLimiter(per_minute / 60, 1) if per_minute >= 60 else AsyncLimiter(1, 60 / per_minute)

        return bucket(self.spec.requests_per_minute), bucket(self.spec.tokens_per_minute)

    def _token_estimate(self, item: Item, n: int) -> float:
        body = item.body
        text = json.dumps(body.get("messages") or body.get("prompt"), ensure_ascii=False)
        out = body["params"].get("max_tokens") or body["params"].get("max_completion_tokens") or 16
        return len(text) / 4 + 4 + n * out

    async def _ask_item(self, client, item: Item, sem, limiters, preflight: bool = False) -> None:
        groups = [item.samples] if self.spec.supports_n else [(s,) for s in item.samples]
        for samples in groups:
            while samples and not self.stopped:
                got = await self._request(client, item, samples, sem, limiters, preflight)
                if not got:
                    break
                self.on_done(len(got))
                samples = tuple(s for s in samples if s not in got)

    async def _request(self, client, item: Item, samples, sem, limiters, preflight: bool) -> set[int]:

        spec = self.spec
        payload = self._payload(item, samples)
        retries = spec.max_retries
        for attempt in range(retries + 1):
            if self.stopped:
                return set()
            rpm, tpm = limiters
            if rpm is not None:
                await rpm.acquire()
            if tpm is not None:
                await tpm.acquire(min(self._token_estimate(item, len(samples)), tpm.max_rate))
            started, t0 = now(), time.perf_counter()
            status = None
            try:
                async with sem:
                    if self.stopped:
                        return set()
                    started, t0 = now(), time.perf_counter()  # the request's own time, not its wait
                    self.progress.requests += 1
                    # the client's plain POST: its auth, status errors and connection handling, but the body as
                    # text (parsed here, so that a malformed body is a recorded, retried failure)
                    path = "/chat/completions" if item.body["api"] == "chat" else "/completions"
                    content = await asyncio.wait_for(client.post(path, body=payload, cast_to=str), spec.timeout_s)
                    status = 200
                try:
                    data = json.loads(content)
                except ValueError:
                    raise _Malformed("response body is not JSON") from None
                parsed = parse_choices(data, item.body["api"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
                seconds = time.perf_counter() - t0
                kind, retryable, code = self._classify(exc)
                if code in FATAL_STATUS:
                    self._record(item, samples, "failed", started=started, seconds=seconds, status=code,
                                 error=self._err(exc))
                    self.progress.failures += len(samples)
                    self._stop(FATAL_STATUS[code].format(env=spec.api_key_env, model=spec.model,
                                                         url=public_url(spec.base_url)))
                    return set()
                if kind in ("connection", "deadline"):  # nothing came back at all
                    self._conn_failures += 1
                    if self._conn_failures >= spec.circuit_breaker:
                        self._record(item, samples, "failed", started=started, seconds=seconds, error=self._err(exc))
                        self.progress.failures += len(samples)
                        self._stop(f"{self._conn_failures} consecutive connection failures or timeouts at "
                                   f"{public_url(spec.base_url)}: the endpoint seems down ({self._err(exc)})")
                        return set()
                limit = min(retries, 2) if preflight and kind in ("connection", "deadline") else retries
                if retryable and attempt < limit:
                    self._record(item, samples, "retried", started=started, seconds=seconds, status=code or status,
                                 error=self._err(exc))
                    self.progress.retries += 1
                    delay = min(spec.max_backoff_s, spec.backoff_s * 2 ** attempt) * random.uniform(0.5, 1.5)
                    await asyncio.sleep(max(delay, min(retry_after(exc), spec.max_backoff_s)))
                    continue
                self._record(item, samples, "failed", started=started, seconds=seconds, status=code or status,
                             error=self._err(exc))
                self.progress.failures += len(samples)
                if preflight:
                    self._stop(f"the first request to {public_url(spec.base_url)} failed: {self._err(exc)}")
                return set()
            seconds = time.perf_counter() - t0
            self._conn_failures = 0
            p_tok, c_tok = usage_of(data)
            answers = self._answers(parsed, samples, data.get("model"))
            self._record(item, samples, "answered", answers=answers, started=started, seconds=round(seconds, 4),
                         status=status, prompt_tokens=p_tok, completion_tokens=c_tok,
                         cost=self._cost(p_tok, c_tok))
            got = {a["sample"] for a in answers}
            self.progress.answers += len(got)
            return got
        return set()

    def _classify(self, exc: Exception) -> tuple[str, bool, int | None]:
        import openai

        if isinstance(exc, (asyncio.TimeoutError, openai.APITimeoutError)):
            return "deadline", True, None
        if isinstance(exc, openai.APIConnectionError):
            return "connection", True, None
        if isinstance(exc, _Malformed):
            return "malformed", True, None
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            return "status", code == 429 or code >= 500 or code == 408, code
        return "other", False, None

    def _err(self, exc: Exception) -> str:
        name = "DeadlineExceeded" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        text = f"{name}: {exc}" if str(exc) else name
        if isinstance(exc, asyncio.TimeoutError):
            text = f"DeadlineExceeded: no complete response within {self.spec.timeout_s:g} s"
        return redact(text, self._secrets)[:500]

    # ------------------------------------------------------------------ batch API
    async def run_batch(self, items: list[Item]) -> None:
        """Ask through the Batch API: build JSONL, upload, create, poll, download, record.

        Resumable: each batch is recorded (with a token of ours sent as metadata) before it
        is created, so a run killed at any point finds its batches again instead of paying
        for them twice; a rerun polls open batches before it submits new ones.
        """
        client = self._client()
        try:
            for open_batch in self.store.batches(self.ident["key"]):
                await self._finish_batch(client, open_batch)
                if self.stopped:
                    return
            done = self.store.answered(self.ident["key"])
            slots = [(it, s) for it in items for s in it.samples if (it.request_key, s) not in done]
            pending = {(json.loads(b["slots"])[c][0], json.loads(b["slots"])[c][1])
                       for b in self.store.batches(self.ident["key"]) for c in json.loads(b["slots"])}
            slots = [(it, s) for it, s in slots if (it.request_key, s) not in pending]
            size = self.spec.batch_max_requests
            for i in range(0, len(slots), size):
                batch = await self._submit_batch(client, slots[i:i + size])
                if batch is None or self.stopped:
                    return
                await self._finish_batch(client, batch)
                if self.stopped:
                    return
        finally:
            await client.close()

    async def _submit_batch(self, client, slots) -> dict | None:
        import openai

        token = uuid.uuid4().hex
        mapping, lines = {}, []
        url = "/v1/chat/completions" if self.spec.api == "chat" else "/v1/completions"
        for i, (it, s) in enumerate(slots):
            cid = f"bu-{i}"
            mapping[cid] = [it.request_key, s, it.outcome_a, it.outcome_b, it.body]
            lines.append(json.dumps({"custom_id": cid, "method": "POST", "url": url,
                                     "body": self._payload(it, (s,))}, ensure_ascii=False))
        self.store.put_batch(token, model_key=self.ident["key"], model_label=self.spec.label,
                             slots=json.dumps(mapping, ensure_ascii=False), status="preparing", created=now())
        try:
            f = await client.files.create(file=(f"{token}.jsonl", ("\n".join(lines) + "\n").encode(),
                                                "application/jsonl"), purpose="batch")
            b = await client.batches.create(input_file_id=f.id, endpoint=url, completion_window="24h",
                                            metadata={"bayes_utility_token": token})
        except openai.APIStatusError as exc:
            if exc.status_code in FATAL_STATUS:
                self._stop(FATAL_STATUS[exc.status_code].format(env=self.spec.api_key_env, model=self.spec.model,
                                                                url=public_url(self.spec.base_url)))
            else:
                self._stop(f"the batch could not be submitted: {self._err(exc)}")
            return None
        except openai.APIConnectionError as exc:
            self._stop(f"the batch could not be submitted: {self._err(exc)}")
            return None
        self.store.put_batch(token, batch_id=b.id, input_file_id=f.id, status="submitted")
        logger.info("%s: batch %s submitted (%d requests)", self.spec.label, b.id, len(slots))
        return {"token": token, "batch_id": b.id, "slots": json.dumps(mapping), "status": "submitted"}

    async def _find_batch(self, client, token: str) -> str | None:
        async for b in client.batches.list(limit=100):
            if (getattr(b, "metadata", None) or {}).get("bayes_utility_token") == token:
                return b.id
        return None

    async def _finish_batch(self, client, batch: dict) -> None:
        token, batch_id = batch["token"], batch.get("batch_id")
        if not batch_id:  # killed between creating it and recording its id: find it by our token
            batch_id = await self._find_batch(client, token)
            if batch_id is None:  # never created: its slots go back to the queue
                self.store.put_batch(token, status="failed", detail="never created", finished=now())
                return
            self.store.put_batch(token, batch_id=batch_id, status="submitted")
        while True:
            b = await client.batches.retrieve(batch_id)
            if b.status in ("completed", "failed", "expired", "cancelled"):
                break
            logger.info("%s: batch %s %s", self.spec.label, batch_id, b.status)
            await asyncio.sleep(self.spec.batch_poll_s)
        mapping = json.loads(batch["slots"])
        seen = set()
        for file_id in (b.output_file_id, b.error_file_id):
            if not file_id:
                continue
            content = await client.files.content(file_id)
            for line in content.content.split(b"\n"):
                if line.strip():
                    seen.add(self._record_batch_line(line, mapping))
        if b.status != "completed" and not seen - {None}:
            self.store.put_batch(token, status="failed", detail=f"batch {b.status}", finished=now())
            return
        self.store.put_batch(token, status="recorded", detail=f"batch {b.status}", finished=now())

    def _record_batch_line(self, line: bytes, mapping: dict) -> str | None:
        try:
            rec = json.loads(line)
            cid = rec["custom_id"]
            request_key, sample, a, b, body = mapping[cid]
        except (ValueError, KeyError, TypeError):
            logger.warning("%s: a batch output line that is not ours was skipped", self.spec.label)
            return None
        item = Item(a, b, request_key, body, (sample,))
        resp = rec.get("response") or {}
        data = resp.get("body") if isinstance(resp, dict) else None
        status = resp.get("status_code") if isinstance(resp, dict) else None
        try:
            if rec.get("error") or status != 200:
                raise _Malformed(redact(json.dumps(rec.get("error") or data)[:300], self._secrets))
            parsed = parse_choices(data, body["api"])
        except _Malformed as exc:
            self._record(item, (sample,), "failed", started=now(), status=status, mode="batch",
                         error=f"batch: {exc}")
            self.progress.failures += 1
            return cid
        p_tok, c_tok = usage_of(data)
        answers = self._answers(parsed, (sample,), data.get("model"))
        self._record(item, (sample,), "answered", answers=answers, started=now(), status=status, mode="batch",
                     prompt_tokens=p_tok, completion_tokens=c_tok, cost=self._cost(p_tok, c_tok, batch=True))
        self.progress.answers += 1
        self.progress.requests += 1
        self.on_done(1)
        return cid
