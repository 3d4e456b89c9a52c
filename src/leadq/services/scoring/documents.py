"""Scoring model documents: a shipped model by name or a YAML file, parsed or refused with a
``ConfigError`` that names the place. Light on purpose: ``leadq score`` needs only this."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from leadq.domain.documents import DocumentError
from leadq.domain.scoring.model import ScoringModel, parse_model
from leadq.services.errors import ConfigError
from leadq.services.qualification.rules import read_document

SHIPPED = ("classic", "dynamic")


def parse(text: str, file: str) -> ScoringModel:
    try:
        return parse_model(text, file)
    except DocumentError as exc:
        raise ConfigError(exc.file, exc.path, exc.reason) from None


def read_model(reference: str) -> tuple[ScoringModel, str]:
    """A shipped model by name (``classic``) or a model file by path; with its text."""
    if reference in SHIPPED:
        text = (resources.files("leadq.models") / f"{reference}.yaml").read_text("utf-8")
        return parse(text, f"{reference}.yaml"), text
    text = read_document(Path(reference), reference)
    return parse(text, reference), text
