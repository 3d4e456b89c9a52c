"""Automation documents for tests, written to a file and put in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadq.config import get_settings

TEAMS = """
teams:
  emea:
    members:
      - {name: anna, email: anna@example.com}
      - {name: piotr, email: piotr@example.com}
      - {name: jan, email: jan@example.com}
    manager: {name: eva, email: eva@example.com}
  americas:
    members: [{name: bob, email: bob@example.com}]
territories:
  - {when: {country: {in: [US, CA, BR]}}, team: americas}
  - {when: {country: {in: [PL, RO, DE]}}, team: emea}
working_hours: {timezone: Europe/Warsaw, start: "09:00", end: "17:00"}
"""


def put_in_force(monkeypatch: pytest.MonkeyPatch, folder: Path, text: str) -> Path:
    path = folder / "automation.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LEADQ_AUTOMATION_FILE", str(path))
    get_settings.cache_clear()
    return path
