"""The answer store: every answer an elicitation paid for, in one SQLite database.

One store serves every experiment of a project folder (``output.dir/answers.sqlite``
unless a recipe names another). An answer is keyed by what determines it:

``model_key``
    the model's identity: provider, model name, API kind and endpoint (without
    credentials), hashed. Another model, or the same name at another endpoint, is
    another key: switching models under one run name asks anew and never relabels.
``request_key``
    a hash of the exact request: the messages (or the plain-text prompt) and the
    sampling parameters. A changed design or an added outcome shares every request
    already asked, so only what the store lacks is asked.
``sample``
    the j-th answer to that request (K answers per prompt and order).

``answers`` keeps the first answer of each slot (``INSERT OR IGNORE``: nothing is ever
recorded twice or overwritten) with its model label, raw text, parsed answer,
logprobs, timing and the request that produced it; ``requests`` is the ledger, one row
per HTTP request (answered, retried or failed, with tokens); ``prompts`` the request
bodies; ``batches`` the Batch API jobs (resumable). Writes happen in one transaction
per response; the database runs in WAL mode, so a ``kill -9`` at any moment leaves
every committed answer in place.

One writer at a time: a writer holds an exclusive ``flock`` on ``STORE.lock`` (the
kernel releases it when the process dies, however it dies); a second writer refuses,
saying who holds it, or waits. Readers (``--dry-run``, exports) never write.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
from pathlib import Path

from ..data.jsonl import json_line

logger = logging.getLogger(__name__)


SCHEMA_VERSION = 1


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS prompts (
    request_key TEXT PRIMARY KEY,
    body TEXT NOT NULL                -- JSON: api, messages or prompt, sampling parameters
);
CREATE TABLE IF NOT EXISTS answers (
    model_key TEXT NOT NULL,
    request_key TEXT NOT NULL,
    sample INTEGER NOT NULL,
    model_label TEXT NOT NULL,
    provider TEXT, model TEXT, endpoint TEXT, api TEXT,
    outcome_a TEXT, outcome_b TEXT,   -- the ids of whoever asked first (informational)
    raw TEXT, answer TEXT NOT NULL,
    logprob_p_a REAL, logprob_mass REAL,
    finish_reason TEXT, returned_model TEXT,
    request_id INTEGER, asked_at TEXT, seconds REAL,
    source TEXT NOT NULL DEFAULT 'live',   -- live | batch | import
    PRIMARY KEY (model_key, request_key, sample)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    run_id TEXT, experiment TEXT,
    model_key TEXT NOT NULL, model_label TEXT, request_key TEXT,
    samples TEXT,                     -- JSON list of the sample indices asked
    started TEXT, seconds REAL,
    outcome TEXT NOT NULL,            -- answered | retried | failed | import
    status INTEGER, error TEXT,
    prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0,
    answers INTEGER DEFAULT 0, duplicates INTEGER DEFAULT 0,
    mode TEXT DEFAULT 'live',
    cost REAL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_model ON requests (model_key, outcome);
CREATE TABLE IF NOT EXISTS batches (
    token TEXT PRIMARY KEY,           -- ours, sent as batch metadata: finds a batch created before a crash
    model_key TEXT NOT NULL, model_label TEXT,
    batch_id TEXT, input_file_id TEXT,
    slots TEXT NOT NULL,              -- JSON: custom_id -> [request_key, sample, outcome_a, outcome_b]
    status TEXT NOT NULL,             -- preparing | submitted | recorded | failed
    created TEXT, finished TEXT, detail TEXT
);
"""


class StoreError(RuntimeError):
    """The store cannot be opened (locked by another writer, newer schema, not a store)."""


def digest(obj) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class _Lock:
    """Exclusive ``flock`` on ``path``; the holder's pid and start time are written into it."""

    def __init__(self, path: Path, wait: bool):
        self.path = path
        self.fh = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            if not wait:
                self.fh.close()
                raise StoreError(f"{path.with_suffix('')} is being written by another elicitation ({holder}); "
                                 "wait for it to finish, or rerun with --wait") from None
            logger.warning("waiting for the other elicitation writing this store (%s)", holder)
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(json.dumps({"pid": os.getpid(), "since": now()}))
        self.fh.flush()

    def _holder(self) -> str:
        try:
            with open(self.path, encoding="utf-8") as fh:
                info = json.loads(fh.read() or "{}")
            return f"pid {info.get('pid')}, since {info.get('since')}"
        except (OSError, ValueError):
            return "pid unknown"

    def release(self) -> None:
        if not self.fh.closed:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()


class AnswerStore:
    """The SQLite answer store; ``write=True`` takes the single-writer lock."""

    def __init__(self, path: str | Path, *, write: bool = True, wait: bool = False, synchronous: str = "NORMAL"):
        self.path = Path(path)
        self.write = write
        self._lock = None
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _Lock(Path(f"{self.path}.lock"), wait)
            try:
                self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute(f"PRAGMA synchronous={synchronous}")
                self.db.executescript(_SCHEMA)
                self._check_version()
            except sqlite3.DatabaseError as exc:
                self._lock.release()
                raise StoreError(f"{self.path}: not an answer store ({exc})") from None
        else:
            if not self.path.exists():
                raise StoreError(f"{self.path}: no answer store here")
            try:
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60, isolation_level=None)
                self.db.execute("SELECT 1 FROM answers LIMIT 1")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: not an answer store ({exc})") from None

    def _check_version(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer bayes_utility (schema {row[0]})")

    def close(self) -> None:
        if getattr(self, "db", None) is not None:
            self.db.close()
            self.db = None
        if self._lock is not None:
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ reading
    def answered(self, model_key: str) -> set[tuple[str, int]]:
        """The (request_key, sample) slots this model has answered."""
        return {(r, int(s)) for r, s in
                self.db.execute("SELECT request_key, sample FROM answers WHERE model_key=?", (model_key,))}

    def answers(self, model_key: str) -> dict[tuple[str, int], dict]:
        """This model's answers by slot."""
        cur = self.db.execute("SELECT * FROM answers WHERE model_key=?", (model_key,))
        cols = [c[0] for c in cur.description]
        return {(r["request_key"], int(r["sample"])): r for r in (dict(zip(cols, row)) for row in cur)}

    def failed_slots(self, model_key: str) -> int:
        """Slots of this model whose last request failed for good and that have no answer yet."""
        rows = self.db.execute(
            "SELECT request_key, samples FROM requests WHERE model_key=? AND outcome='failed'", (model_key,))
        done = self.answered(model_key)
        return len({(rk, int(s)) for rk, ss in rows for s in json.loads(ss or "[]")} - done)

    def counts(self) -> dict:
        q = self.db.execute
        return {"answers": q("SELECT count(*) FROM answers").fetchone()[0],
                "requests": q("SELECT count(*) FROM requests").fetchone()[0],
                "models": q("SELECT count(DISTINCT model_key) FROM answers").fetchone()[0],
                "batches": q("SELECT count(*) FROM batches").fetchone()[0]}

    def ledger(self, model_key: str, run_id: str | None = None) -> dict:
        """Requests, answers, failures, tokens and cost of one model (all runs, or one run)."""
        sql = ("SELECT outcome, mode, count(*), coalesce(sum(prompt_tokens),0), coalesce(sum(completion_tokens),0), "
               "coalesce(sum(answers),0), coalesce(sum(duplicates),0), coalesce(sum(cost),0) FROM requests "
               "WHERE model_key=?" + (" AND run_id=?" if run_id else "") + " GROUP BY outcome, mode")
        out = {"requests": 0, "answered": 0, "retried": 0, "failed": 0, "imported": 0, "batch_requests": 0,
               "answers": 0, "duplicates": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0}
        for outcome, mode, n, pt, ct, ans, dup, cost in self.db.execute(sql, (model_key, run_id) if run_id
                                                                         else (model_key,)):
            if outcome == "import":
                out["imported"] += ans
                continue
            out["requests"] += n
            out[outcome] = out.get(outcome, 0) + n
            if mode == "batch":
                out["batch_requests"] += n
            out["answers"] += ans
            out["duplicates"] += dup
            out["prompt_tokens"] += pt
            out["completion_tokens"] += ct
            out["cost"] += cost
        out["cost"] = round(out["cost"], 6)
        return out

    # ------------------------------------------------------------------ writing
    def record(self, *, model: dict, request_key: str, body: dict, samples: list[int], outcome: str,
               answers: list[dict] = (), run_id: str | None = None, experiment: str | None = None,
               started: str | None = None, seconds: float | None = None, status: int | None = None,
               error: str | None = None, prompt_tokens: int = 0, completion_tokens: int = 0, mode: str = "live",
               cost: float = 0.0, outcome_ids: tuple[str, str] | None = None) -> int:
        """One request and its answers, in one transaction; returns how many answers were new."""
        if not self.write:
            raise StoreError("store opened read-only")
        a, b = outcome_ids or (None, None)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR IGNORE INTO prompts VALUES (?, ?)",
                       (request_key, json.dumps(body, ensure_ascii=False, sort_keys=True)))
            cur = db.execute(
                "INSERT INTO requests (run_id, experiment, model_key, model_label, request_key, samples, started, "
                "seconds, outcome, status, error, prompt_tokens, completion_tokens, mode, cost) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, experiment, model["key"], model["label"], request_key, json.dumps(list(samples)), started,
                 seconds, outcome, status, error, prompt_tokens, completion_tokens, mode, cost))
            request_id = cur.lastrowid
            new = 0
            for ans in answers:
                cur = db.execute(
                    "INSERT OR IGNORE INTO answers (model_key, request_key, sample, model_label, provider, model, "
                    "endpoint, api, outcome_a, outcome_b, raw, answer, logprob_p_a, logprob_mass, finish_reason, "
                    "returned_model, request_id, asked_at, seconds, source) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (model["key"], request_key, int(ans["sample"]), model["label"], model["provider"],
                     model["model"], model["endpoint"], model["api"], a, b, ans.get("raw"), ans["answer"],
                     ans.get("logprob_p_a"), ans.get("logprob_mass"), ans.get("finish_reason"),
                     ans.get("returned_model"), request_id, started, seconds,
                     "import" if outcome == "import" else mode))
                new += cur.rowcount
            if answers:
                db.execute("UPDATE requests SET answers=?, duplicates=? WHERE id=?",
                           (new, len(answers) - new, request_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new

    # ------------------------------------------------------------------ batches
    def batches(self, model_key: str, status: tuple[str, ...] = ("preparing", "submitted")) -> list[dict]:
        cur = self.db.execute(
            f"SELECT * FROM batches WHERE model_key=? AND status IN ({','.join('?' * len(status))}) ORDER BY created",
            (model_key, *status))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row)) for row in cur]

    def put_batch(self, token: str, **fields) -> None:
        """Create a batch row, or update the fields of an existing one (each call commits)."""
        cur = self.db.execute(f"UPDATE batches SET {','.join(f'{c}=?' for c in fields)} WHERE token=?",
                              (*fields.values(), token))
        if cur.rowcount == 0:
            cols = ["token", *fields]
            self.db.execute(f"INSERT INTO batches ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                            (token, *fields.values()))

    # ------------------------------------------------------------------ maintenance
    def checkpoint(self) -> None:
        """Fold the WAL into the database file and compact it (safe to interrupt)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")

    def export(self, path: str | Path) -> int:
        """All answers with their requests, as JSON Lines (``.jsonl``) or Parquet (``.parquet``)."""
        import pandas as pd

        path = Path(path)
        df = pd.read_sql_query(
            "SELECT a.*, p.body AS request FROM answers a LEFT JOIN prompts p USING (request_key) "
            "ORDER BY a.model_label, a.request_key, a.sample", self.db)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix in (".jsonl", ".json"):
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in df.to_dict(orient="records"):
                    fh.write(json_line(rec))
        else:
            raise StoreError(f"{path}: export to .jsonl or .parquet")
        os.replace(tmp, path)
        return len(df)
