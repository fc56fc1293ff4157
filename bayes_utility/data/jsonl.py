"""Append-only JSON Lines files that survive interruption (SBC replications, active-learning rounds,
and the request logs of earlier versions, which :mod:`bayes_utility.elicitation.store` imports).

Records are split on ``\n`` only (never on U+2028, U+2029 or U+0085, which JSON may hold
unescaped; they are written escaped all the same). A last line cut short by a kill is
removed by truncating the file to its last complete line, a single system call that
never rewrites what is before it; readers that must not write pass ``repair=False``
and simply skip it.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


class JsonlError(ValueError):
    """A record that is not valid JSON (not a cut-off last line): the file and line are named."""


def parse_lines(data: bytes):
    """``(line number, record, None)`` for every record of JSON Lines ``data`` split on
    ``\\n``, or ``(line number, None, why)`` for a line that is not one JSON object."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 text ({exc.reason})"
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"
        except RecursionError:
            yield number, None, "JSON nested too deeply"
        else:
            if isinstance(rec, dict):
                yield number, rec, None
            else:
                yield number, None, f"a JSON {type(rec).__name__}, not an object"


def read_jsonl(path: Path, *, repair: bool = True) -> list[dict]:
    """The records of ``path`` (none if absent).

    A last line cut short by an interruption is dropped; with ``repair`` the file is
    truncated to its last complete line (so that appends start on a fresh line).
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        if repair:
            os.truncate(path, end)
            logger.warning("%s: dropped a record cut short by an interruption", path)
        data = data[:end]
    records = []
    for number, rec, why in parse_lines(data):
        if why is not None:
            raise JsonlError(f"{path}, line {number}: {why}")
        records.append(rec)
    return records


def json_line(record: dict) -> str:
    """One record as a line; separators that other readers split on are escaped."""
    text = json.dumps(record, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085") + "\n"


def append_jsonl(fh: IO[str], record: dict) -> None:
    """Write one record to an open file and force it to disk."""
    fh.write(json_line(record))
    fh.flush()
    os.fsync(fh.fileno())
