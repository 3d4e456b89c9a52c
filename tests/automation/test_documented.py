"""The automation documentation says what the schema accepts: the shipped example validates and
uses every trigger and action, and the README's automation section names no key the schema
does not know (a planted wrong key is caught)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from leadq.domain.automation import Action, Automation, Trigger
from leadq.services.automation.document import load_automation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "automation.yaml"
SECTION = "### Automation:"


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def schema_keys(model: type[BaseModel] = Automation, seen: set[type] | None = None) -> set[str]:
    """Every key the document may hold, at any depth (aliases as written in YAML)."""
    seen = seen if seen is not None else set()
    seen.add(model)
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for inner in _models(field.annotation):
            if inner not in seen:
                keys |= schema_keys(inner, seen)
    return keys


def automation_section(readme: str) -> str:
    start = readme.index(SECTION)
    return readme[start : readme.index("\n### ", start + 1)]


def unknown_keys(section: str) -> list[str]:
    """What the section documents that the schema does not know: a YAML block that does not
    validate, a ``key: value`` in code that names no key, or a key in the opening list (the
    backticked words of the first paragraph) that is not one."""
    problems: list[str] = []
    for block in re.findall(r"```yaml\n(.*?)```", section, re.S):
        try:
            Automation.model_validate(yaml.safe_load(block))
        except Exception as exc:  # any refusal is a documentation error
            problems.append(f"yaml block: {exc}")
    prose = re.sub(r"```.*?```", "", section, flags=re.S)
    known = schema_keys()
    for code in re.findall(r"`([^`\n]+)`", prose):
        if (match := re.fullmatch(r"([a-z_]+): .+", code)) and match.group(1) not in known:
            problems.append(f"`{code}`: no key {match.group(1)!r}")
    opening = prose.split("\n\n")[1]
    for word in re.findall(r"`([a-z_]+)`", opening):
        if word not in known:
            problems.append(f"`{word}` in the key list: no such key")
    return problems


def test_the_example_validates_and_shows_every_trigger_and_action() -> None:
    document = load_automation(EXAMPLE)
    assert {rule.trigger for rule in document.rules} == set(Trigger)
    used = {kind for rule in document.rules for action in rule.do
            for kind, value in action if value is not None}  # fmt: skip
    assert used == set(Action.model_fields)
    assert document.teams and document.territories and document.endpoints and document.tracks
    assert document.segments and document.working_hours.timezone != "UTC"


def test_the_readme_names_only_keys_the_schema_knows() -> None:
    section = automation_section((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "```yaml" in section and "examples/automation.yaml" in section
    assert unknown_keys(section) == []


def test_the_check_catches_a_planted_wrong_key() -> None:
    section = automation_section((ROOT / "README.md").read_text(encoding="utf-8"))
    in_yaml = section.replace("timezone: Europe/Warsaw", "time_zone: Europe/Warsaw", 1)
    in_list = section.replace("`working_hours`", "`hours`", 1)
    in_prose = section.replace("`format: slack`", "`style: slack`", 1)
    for planted in (in_yaml, in_list, in_prose):
        assert planted != section
        assert unknown_keys(planted), "a planted wrong key went unnoticed"


def test_the_readme_states_what_users_trip_over() -> None:
    section = automation_section((ROOT / "README.md").read_text(encoding="utf-8"))
    flat = " ".join(section.split())
    assert "`marketing_email` consent" in flat  # nurture needs it
    assert "its first score fires `grade_changed`" in flat  # at creation
