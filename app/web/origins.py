"""Matching a browser's Origin against an organization's allowed origin patterns.

Patterns: `https://www.example.com`, `https://*.example.com` (any subdomain), and
`http://localhost:*` (any port).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def _parts(url: str) -> tuple[str, str, str] | None:
    try:
        split = urlsplit(url)
        host = (split.hostname or "").lower()
        port = split.port
    except ValueError:
        return None
    if split.scheme not in {"http", "https"} or not host or split.path not in {"", "/"}:
        return None
    default = 443 if split.scheme == "https" else 80
    return split.scheme, host, str(port or default)


def _matches(origin: tuple[str, str, str], pattern: str) -> bool:
    scheme, host, port = origin
    any_port = pattern.endswith(":*")
    base = pattern[:-2] if any_port else pattern
    subdomains = "://*." in base
    wanted = _parts(base.replace("://*.", "://", 1))
    if wanted is None:
        return False
    w_scheme, w_host, w_port = wanted
    if scheme != w_scheme or (not any_port and port != w_port):
        return False
    return host.endswith("." + w_host) if subdomains else host == w_host


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    parts = _parts(origin)
    return parts is not None and any(_matches(parts, p) for p in patterns)
