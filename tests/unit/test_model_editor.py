"""The model editor's form and the YAML document are two views of one model: every shipped
model and generated ones round-trip through the form's fields to an equal model, and fields
that do not read are refused by name."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leadq.domain.scoring.editor import (
    FormError,
    ModelForm,
    document_from,
    form_of,
    yaml_of,
)
from leadq.domain.scoring.model import parse_model
from leadq.services.scoring.documents import SHIPPED


def fields_of(form: ModelForm) -> dict[str, str]:
    """The fields a browser posts for these rows (as the page names them)."""
    found = {"name": form.name, "version": form.version, "description": form.description,
             "floor": form.floor, "decay_points": form.decay_points,
             "decay_every_days": form.decay_every_days}  # fmt: skip
    for i, row in enumerate(form.criteria):
        at = f"c.{i}"
        for key in ("section", "kind", "id", "label", "weight", "points", "event",
                    "within_days", "cap", "half_life_days"):  # fmt: skip
            found[f"{at}.{key}"] = getattr(row, key)
        found.update({f"{at}.{flag}": "on" for flag in ("count", "once") if getattr(row, flag)})
        for j, c in enumerate(row.conditions):
            found.update({f"{at}.when.{j}.field": c.field, f"{at}.when.{j}.op": c.op,
                          f"{at}.when.{j}.value": c.value})  # fmt: skip
        for k, level in enumerate(row.levels):
            found[f"{at}.level.{k}.level"] = level.level
            for j, c in enumerate(level.conditions):
                where = f"{at}.level.{k}.when.{j}"
                found.update({f"{where}.field": c.field, f"{where}.op": c.op,
                              f"{where}.value": c.value})  # fmt: skip
        found.update({f"{at}.tr.{code}": text for code, text in row.translations.items()})
    for i, grade in enumerate(form.grades):
        found.update({f"grade.{i}.name": grade.name, f"grade.{i}.threshold": grade.threshold})
        found.update({f"grade.{i}.tr.{code}": t for code, t in grade.translations.items()})
    found.update({f"matrix.fit.{k}": v for k, v in form.matrix_fit.items()})
    found.update({f"matrix.engagement.{k}": v for k, v in form.matrix_engagement.items()})
    for i, label in enumerate(form.other_labels):
        found[f"other.{i}.id"] = label.id
        found.update({f"other.{i}.tr.{code}": t for code, t in label.translations.items()})
    found["account"] = form.account
    return found


def _round_trip(text: str) -> str:
    return yaml_of(document_from(fields_of(form_of(yaml.safe_load(text)))))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_model_round_trips_through_the_form(name: str) -> None:
    text = (resources.files("leadq.models") / f"{name}.yaml").read_text("utf-8")
    again = _round_trip(text)
    assert parse_model(again, "form").content() == parse_model(text, name).content()
    assert _round_trip(again) == again  # the form's own YAML is a fixed point


TRICKY = """
name: tricky
fit:
  - id: big
    label: "Size, as text"
    when: {company_size: {gte: 10, lt: 5000}, country: {in: ["PL", "Poland, the", "250"]}}
    points: 4
  - id: exact
    when: {industry: "250", seniority: {ne: manager}, email: {is_free_mail: false}}
    points: 2.5
  - id: written
    when: {job_title: {regex: "^(ceo|cto)$", exists: true}, city: {range: [1, 2]}}
    points: 1
engagement:
  - id: recent
    event: page_view
    where: {path: {contains: "a, b"}, "utm: x": {starts_with: "#"}}
    within_days: 30
    points: 3
    half_life_days: 7.5
  - id: first
    event: demo_requested
    points: 10
    once: true
negative:
  - id: student
    when: {seniority: student}
    points: -20
  - id: bounced
    event: email_bounced
    points: -5
    cap: 2
decay: {points: -1.5, every_days: 14}
floor: -10
grades: {cold: -100, warm: 5, hot: 20.25}
labels:
  big: {pl: Duża firma}
  stray: {ru: Лишний}
"""


def test_every_operator_and_quoting_round_trips() -> None:
    again = _round_trip(TRICKY)
    assert parse_model(again, "form").content() == parse_model(TRICKY, "tricky").content()
    assert "'250'" in again  # text that looks like a number stays text


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["company_size", "annual_revenue", "age"]),
                          st.sampled_from(["gt", "gte", "lt", "lte", "eq", "ne"]),
                          st.integers(-10_000, 10_000) | st.floats(-1e6, 1e6, allow_nan=False)),
                min_size=1, max_size=4),
       st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                        max_size=12), min_size=1, max_size=4))  # fmt: skip
def test_generated_conditions_round_trip(numbers: list[tuple[str, str, float]],
                                         words: list[str]) -> None:  # fmt: skip
    when: dict[str, Any] = {}
    for name, op, value in numbers:
        when.setdefault(name, {})[op] = value
    document = {"name": "generated",
                "fit": [{"id": "n", "when": when, "points": 1},
                        {"id": "w", "when": {"industry": {"in": words}, "city": {"eq": words[0]},
                                             "company": {"contains": words[-1]}},
                         "points": 2}],
                "grades": {"low": 0, "high": 1}}  # fmt: skip
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    again = _round_trip(text)
    assert parse_model(again, "form").content() == parse_model(text, "generated").content()


@pytest.mark.parametrize(("field", "value", "said"), [
    ("c.0.weight", "heavy", "a number"),
    ("c.0.when.0.value", "nan", "a number"),
    ("c.0.when.0.op", "approximately", "not an operator"),
    ("c.0.section", "bonus", "fit, engagement or negative"),
])  # fmt: skip
def test_a_field_that_does_not_read_is_named(field: str, value: str, said: str) -> None:
    fields = {"name": "m", "c.0.id": "size", "c.0.points": "1", "c.0.when.0.field":
              "company_size", "c.0.when.0.op": "gte", "c.0.when.0.value": "10",
              "grade.0.name": "cold", "grade.0.threshold": "0", field: value}  # fmt: skip
    with pytest.raises(FormError) as refused:
        document_from(fields)
    assert refused.value.name == field and said in refused.value.reason


def test_empty_rows_are_left_out() -> None:
    fields = {"name": "m", "c.0.id": "size", "c.0.points": "1", "c.0.when.0.field": "age",
              "c.0.when.0.op": "gte", "c.0.when.0.value": "30", "c.0.when.1.field": "",
              "c.0.when.1.value": "", "c.1.id": "", "c.1.weight": "1", "c.1.section": "fit",
              "grade.0.name": "cold", "grade.0.threshold": "0", "grade.1.name": "",
              "grade.2.name": "hot", "grade.2.threshold": "5"}  # fmt: skip
    document = document_from(fields)
    assert document == {"name": "m", "fit": [{"id": "size", "points": 1,
                                              "when": {"age": {"gte": 30}}}],
                        "grades": {"cold": 0, "hot": 5}}  # fmt: skip


def test_the_account_section_goes_through_the_form_whole() -> None:
    """The form keeps a model's account section as YAML text: saving the form loses nothing,
    and text that is not a section is refused naming the field."""
    document = {"name": "b2b", "fit": [{"id": "f", "points": 1, "when": {"country": "PL"}}],
                "grades": {"cold": 0, "hot": 5},
                "account": {"engagement": {"cap_per_person": 10},
                            "committee": {"engaged_from": 3, "points": {"vp": 4}},
                            "grades": {"cold": 0, "hot": 20}}}  # fmt: skip
    form = form_of(document)
    assert "cap_per_person: 10" in form.account
    fields = fields_of(form)
    assert document_from(fields)["account"] == document["account"]
    for bad, reason in [("[1, 2]", "give the account section"), ("a: [", "not YAML")]:
        with pytest.raises(FormError) as refused:
            document_from({**fields, "account": bad})
        assert refused.value.name == "account" and reason in refused.value.reason
