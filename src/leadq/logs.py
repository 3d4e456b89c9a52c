"""Structured logs: one JSON object per line, with the request id, and never a personal field.

Only fields we choose are written. An exception is named by its type and the place it was
raised, never by its message: a database error quotes the value it refused (a duplicate
e-mail address, say), and that must not end up in a log file."""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger("leadq")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = traceback.extract_tb(error.__traceback__)
            entry["error"] = type(error).__qualname__
            entry["where"] = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
        return json.dumps(entry, default=str, ensure_ascii=False)


def emit(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log an event with named fields; callers pass ids, counts and codes, not people."""
    log.log(level, event, extra={"fields": fields})


UVICORN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonLines}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "leadq": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}  # fmt: skip
"""Logging for ``leadq serve``: our JSON lines for our events and the server's own, and no
access log (it would print query strings, which can hold a search for a person's name)."""
