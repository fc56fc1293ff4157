"""Keeping secrets off disk and off the console.

Every URL that is written or printed goes through :func:`public_url` (credentials and
query strings that look like keys removed); every error text that is stored goes
through :func:`redact` (API keys echoed by a server, ``Authorization`` headers, the
key in use). Nothing here is a security boundary against a hostile server: it keeps
the keys users already hold out of the files they share.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_KEY_PATTERNS = [
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),               # user:password@ in URLs
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}"),            # OpenAI-style keys (sk-..., sk-proj-...)
    re.compile(r"\b(sk-ant|xai|gsk|hf|r8|pplx|fw|nvapi)[-_][A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),                 # Google API keys
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)(api[_-]?key|access[_-]?token|secret|password|authorization)(\"?\s*[:=]\s*\"?)[^\s\"',}&]+"),
    re.compile(r"\b[A-Za-z0-9_\-]{40,}\b"),                   # any long opaque token
]
_SECRET_QUERY = re.compile(r"(?i)key|token|secret|password|auth|sig")
REDACTED = "[redacted]"


def redact(text: str | None, secrets: tuple[str, ...] = ()) -> str | None:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    if text is None:
        return None
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, REDACTED)
    for pat in _KEY_PATTERNS:
        if pat.groups >= 2 and pat.pattern.startswith("(?i)(api"):
            text = pat.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        else:
            text = pat.sub(REDACTED, text)
    return text


def public_url(url: str) -> str:
    """``url`` without user, password, or query parameters that look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    query = urlencode([(k, REDACTED if _SECRET_QUERY.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def check_url(url: str) -> str:
    """Raise ValueError unless ``url`` is an absolute http(s) URL with a host (message never shows credentials)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"base_url {public_url(url)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"base_url {public_url(url)!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"base_url {public_url(url)!r} has no host")
    return url
