"""JSON from outside, parsed within bounds: nesting depth first, then the parser.

Python's parser recurses once per level: 60 kB of `[` raises RecursionError, which no
handler expects. Every JSON a visitor's browser or a company's server sends (the API's
bodies, the socket's messages, the beacon) is checked here before it is parsed, so
deep nesting is a clear 400 (or a socket error), never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Nothing this service accepts is nested more than a few levels.
MAX_DEPTH = 32
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_OPENING = frozenset(b"[{")


class JsonTooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep")


def check_depth(data: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise JsonTooDeep when arrays and objects nest deeper than `limit` (strings skipped)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = 0
    for match in _TOKENS.finditer(raw):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > limit:
                raise JsonTooDeep(limit)
        elif first != 0x22:  # a closing bracket (strings start with '"')
            depth -= 1


def loads(data: bytes | str, limit: int = MAX_DEPTH) -> Any:
    """json.loads after check_depth; every failure is a ValueError."""
    check_depth(data, limit)
    try:
        return json.loads(data)
    except RecursionError:  # cannot happen within the limit; kept as the parser's own guard
        raise JsonTooDeep(limit) from None
