"""Logs: one JSON object per line on stdout (the web process's request lines carry the
request id: `app.web.request_ids`)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(level: str = "INFO") -> None:
    """Everything the process logs goes to stdout as JSON, one object per line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every vendor call at INFO; app.vendors.http logs what matters, with the vendor.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def json_formatter() -> JsonFormatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{", rename_fields={"asctime": "time", "levelname": "level"})
