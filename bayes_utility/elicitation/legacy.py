"""Importing the request log of an older version into the answer store."""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from ..config import ElicitConfig, ServerConfig
from .designs import _Prepared, model_identity, prepare, request_body
from .store import AnswerStore, digest

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ earlier request logs
def _legacy_sha(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest()[:16]


def import_request_log(store: AnswerStore, path: Path, cfg: ElicitConfig, prep: _Prepared | None = None) -> dict:
    """Import a ``requests.jsonl`` of an earlier version into the store (idempotent).

    Each answer is matched to this recipe's request by its pair, its prompt hash and its
    sampling parameters, and keyed by the model and endpoint it was asked of (from the
    run folder's ``config.yaml`` of that version, else this recipe's endpoint). Answers
    that match no request of this recipe are still imported, under a key of their own, so
    that nothing is stranded (``bayes-utility store export`` shows them).
    """
    from ..data.jsonl import read_jsonl

    stamp = f"imported:{path.resolve()}:{path.stat().st_size}"
    if store.db.execute("SELECT 1 FROM meta WHERE key=?", (stamp,)).fetchone():
        return {"imported": 0, "matched": 0, "unmatched": 0, "skipped": "already imported"}
    prep = prep or prepare(cfg, check_keys=False)
    old_url = None
    old_cfg = path.parent / "config.yaml"
    if old_cfg.exists():
        import yaml

        try:
            old_url = ((yaml.safe_load(old_cfg.read_text()) or {}).get("server") or {}).get("base_url")
        except yaml.YAMLError:
            old_url = None
    exp = cfg.experiment
    system = [{"role": "system", "content": exp.system_message}] if exp.system_message else []
    by_pair = {}
    for p in prep.prompts:
        by_pair[(p.outcome_a, p.outcome_b, _legacy_sha(system + [{"role": "user", "content": p.text}]))] = p
    counts = {"imported": 0, "matched": 0, "unmatched": 0}
    for rec in read_jsonl(path, repair=False):
        if rec.get("type") != "answer" or "answer" not in rec:
            continue
        spec = next((s for s in prep.specs if s.model == rec.get("model")), None)
        base = old_url or (spec.base_url if spec else "http://unknown/v1")
        model_spec = ServerConfig(base_url=base, model=str(rec.get("model")),
                                  name=spec.label if spec else str(rec.get("model")))
        ident = model_identity(model_spec)
        params = {k: v for k, v in (rec.get("params") or {}).items() if k not in ("n", "seed")}
        prompt = by_pair.get((str(rec.get("outcome_a")), str(rec.get("outcome_b")), rec.get("prompt_sha256")))
        key = body = None
        if prompt is not None:
            key, body = request_body(cfg, model_spec, prompt.text)
            if body["params"] != params:
                key = None
        if key is None:
            body = {"api": "chat", "legacy_prompt_sha256": rec.get("prompt_sha256"), "params": params,
                    "outcome_a": rec.get("outcome_a"), "outcome_b": rec.get("outcome_b")}
            key = "legacy-" + digest(body)[:25]
            counts["unmatched"] += 1
        else:
            counts["matched"] += 1
        usage = rec.get("usage") or {}
        counts["imported"] += store.record(
            model=ident, request_key=key, body=body, samples=[int(rec.get("sample", 0))], outcome="import",
            mode="import", started=rec.get("time"), seconds=rec.get("seconds"),
            outcome_ids=(str(rec.get("outcome_a")), str(rec.get("outcome_b"))),
            answers=[{"sample": int(rec.get("sample", 0)), "raw": rec.get("raw"), "answer": rec["answer"],
                      "finish_reason": rec.get("finish_reason"), "returned_model": rec.get("returned_model"),
                      "logprob_p_a": rec.get("logprob_p_a"), "logprob_mass": rec.get("logprob_mass")}],
            prompt_tokens=int(usage.get("prompt_tokens") or 0) // max(int(usage.get("choices") or 1), 1),
            completion_tokens=int(usage.get("completion_tokens") or 0) // max(int(usage.get("choices") or 1), 1))
    store.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (stamp, json.dumps(counts)))
    logger.info("%s: imported %d answers (%d matched to this recipe)", path, counts["imported"], counts["matched"])
    return counts
