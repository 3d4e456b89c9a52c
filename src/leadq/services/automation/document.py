"""The automation document in force: the configured file (``LEADQ_AUTOMATION_FILE``), read
again when it changes.

A file is edited while leadq runs, and a half-saved edit must not stop the business: when the
file stops parsing, the last valid document stays in force, the reason is logged once and
shown (health endpoint, settings page), and the fixed file is picked up when it is saved. The
reason names the place inside the document, never the server's path, because the health
endpoint is public. A process that has never read a valid document refuses to start
(``check_at_start``) rather than run without its rules.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from leadq.config import get_settings
from leadq.domain.automation import Automation, parse_automation
from leadq.domain.documents import DocumentError
from leadq.logs import emit
from leadq.services.errors import ConfigError, ServerConfigError
from leadq.services.qualification.rules import read_document

Stamp = tuple[int, int] | None
"""What tells a changed file apart: modification time and size (None: no file)."""


@dataclass(frozen=True)
class Standing:
    """Whether the document in force is the file's: ``stale_since`` says since when not."""

    configured: bool
    loaded_at: datetime | None = None
    stale_since: datetime | None = None
    reason: str | None = None

    @property
    def status(self) -> Literal["none", "current", "stale"]:
        if not self.configured:
            return "none"
        return "stale" if self.stale_since else "current"


@dataclass(frozen=True)
class _InForce:
    path: Path | None
    stamp: Stamp
    document: Automation
    standing: Standing


_NONE = _InForce(None, None, Automation(), Standing(configured=False))
_state = _NONE
_lock = threading.Lock()


def load_automation(path: Path | None) -> Automation:
    """Parse the file; ``ConfigError`` names the file, the place inside it and the reason."""
    if path is None:
        return Automation()
    try:
        return parse_automation(read_document(path, str(path)), str(path))
    except DocumentError as exc:
        raise ConfigError(exc.file, exc.path, exc.reason) from None


def _stamp(path: Path) -> Stamp:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def _public(exc: ConfigError, path: Path) -> str:
    """The reason without the server's path (an unreadable file's error quotes it)."""
    reason = exc.reason.replace(str(path), "the automation file")
    return reason if exc.path in ("", "-") else f"{exc.path}: {reason}"


def _reread(path: Path, stamp: Stamp, now: datetime) -> _InForce:
    global _state
    try:
        document = load_automation(path)
    except ConfigError as exc:
        if _state.path != path:  # nothing valid read from this file yet: nothing to fall back on
            emit("automation.unusable", logging.ERROR, file=str(path), where=exc.path,
                 reason=exc.reason)  # fmt: skip
            raise ServerConfigError(exc.file, exc.path, exc.reason) from None
        if _state.standing.stale_since is None:
            emit("automation.stale", logging.ERROR, file=str(path), where=exc.path,
                 reason=exc.reason)  # fmt: skip
            standing = replace(_state.standing, stale_since=now, reason=_public(exc, path))
        else:
            standing = replace(_state.standing, reason=_public(exc, path))
        _state = replace(_state, stamp=stamp, standing=standing)
        return _state
    if _state.standing.stale_since is not None and _state.path == path:
        emit("automation.current", file=str(path))
    _state = _InForce(path, stamp, document, Standing(configured=True, loaded_at=now))
    return _state


def _in_force() -> _InForce:
    global _state
    path = get_settings().automation_file
    if path is None:
        _state = _NONE
        return _state
    stamp = _stamp(path)
    with _lock:
        if _state.path == path and _state.stamp == stamp:
            return _state
        return _reread(path, stamp, datetime.now(UTC))


def current_automation() -> Automation:
    """The document in force: the file's, or the last valid one while the file is broken."""
    return _in_force().document


def standing() -> Standing:
    return _in_force().standing


def check_at_start() -> Automation:
    """For a server or worker starting: the document, or ``ConfigError`` if the file has never
    held a valid one (an operator fixes it before the process takes work)."""
    return current_automation()
