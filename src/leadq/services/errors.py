"""Typed errors of the use cases; each adapter maps them to its own medium in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class LeadqError(Exception):
    """Base of every error a user can cause; never shown as a traceback."""


class InvalidInput(LeadqError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


class NotFound(LeadqError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


class Conflict(LeadqError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.error = FieldError(field, reason)


class ConfigError(LeadqError):
    """A configuration document that cannot be used: names the file, the path and the reason."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        super().__init__(f"{file}: {path}: {reason}")
        self.file, self.path, self.reason = file, path, reason


class ServerConfigError(ConfigError):
    """A file configured on the server cannot be used: the operator's to fix, not the caller's
    (an API answers 503 without naming the file; the log and the CLI name it)."""
