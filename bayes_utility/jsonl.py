"""Append-only JSON Lines files that survive interruption (request logs, SBC and round records)."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


def read_jsonl(path: Path) -> list[dict]:
    """The records of ``path`` (none if absent); a last line cut short by a kill is dropped from the file."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        path.write_text(text, encoding="utf-8")
        logger.warning("%s: dropped a record cut short by an interruption", path)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def append_jsonl(fh: IO[str], record: dict) -> None:
    """Write one record to an open file and force it to disk."""
    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    fh.flush()
    os.fsync(fh.fileno())
