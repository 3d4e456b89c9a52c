"""A scoring model as rows of a form and back: what the model editor shows to people who do
not write YAML. Every document the schema takes has a form (a field with several operators is
several rows), and the form's document is the same model (``parse_model`` equal). Pure: text
in, text out."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from leadq.domain.documents import safe_load
from leadq.i18n import LANGUAGES

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "range", "contains",
             "starts_with", "ends_with", "regex", "exists", "is_free_mail")  # fmt: skip
NUMBERS = frozenset({"gt", "gte", "lt", "lte"})
LISTS = frozenset({"in", "not_in", "range"})
YES_NO = frozenset({"exists", "is_free_mail"})
TEXTS = frozenset({"contains", "starts_with", "ends_with", "regex"})
SECTIONS = ("fit", "engagement", "negative")
FIT_LETTERS = ("A", "B", "C", "D")
ENGAGEMENT_DIGITS = ("1", "2", "3", "4")


class FormError(ValueError):
    """A form field that does not read as what it holds; ``name`` is the field's."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


# -- document → rows ---------------------------------------------------------------------------


@dataclass
class ConditionRow:
    field: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class LevelRow:
    level: str = ""
    conditions: list[ConditionRow] = field(default_factory=list)


@dataclass
class CriterionRow:
    section: str = "fit"
    kind: str = "profile"
    """``profile`` (looks at the lead) or ``event`` (counts what the lead did)."""
    id: str = ""
    label: str = ""
    weight: str = ""
    points: str = ""
    event: str = ""
    within_days: str = ""
    count: bool = False
    cap: str = ""
    once: bool = False
    half_life_days: str = ""
    conditions: list[ConditionRow] = field(default_factory=list)
    """A profile criterion's ``when`` or an event criterion's ``where``."""
    levels: list[LevelRow] = field(default_factory=list)
    translations: dict[str, str] = field(default_factory=dict)


@dataclass
class GradeRow:
    name: str = ""
    threshold: str = ""
    translations: dict[str, str] = field(default_factory=dict)


@dataclass
class LabelRow:
    id: str = ""
    translations: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelForm:
    name: str = ""
    version: str = ""
    description: str = ""
    floor: str = ""
    decay_points: str = ""
    decay_every_days: str = ""
    criteria: list[CriterionRow] = field(default_factory=list)
    grades: list[GradeRow] = field(default_factory=list)
    matrix_fit: dict[str, str] = field(default_factory=dict)
    matrix_engagement: dict[str, str] = field(default_factory=dict)
    other_labels: list[LabelRow] = field(default_factory=list)
    account: str = ""
    """The ``account`` section as YAML text: kept whole, edited as text."""


def _edged(text: str) -> bool:
    """Text a form field would lose something of: spaces at an end, or a leading quote."""
    return text != text.strip() or text.startswith('"')


def scalar_text(value: Any) -> str:
    """A value as YAML's flow style writes it, so ``"250"`` (text) and ``250`` stay apart;
    text with spaces at an end in double quotes (a form field is read trimmed)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _edged(value):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(yaml.safe_dump([value], default_flow_style=True, allow_unicode=True,
                              width=10_000)).strip()[1:-1]  # fmt: skip


def _number_text(value: Any) -> str:
    return "" if value is None else scalar_text(value)


def condition_rows(when: Mapping[str, Any] | None) -> list[ConditionRow]:
    """One row per field and operator; the shorthands (``seniority: manager``, a list) read
    as ``eq`` and ``in``."""
    rows: list[ConditionRow] = []
    for name, condition in (when or {}).items():
        if not isinstance(condition, dict):
            condition = {"in": condition} if isinstance(condition, list) else {"eq": condition}
        for op, value in condition.items():
            if op in LISTS:
                text = ", ".join(scalar_text(v) for v in value or [])
            elif op in TEXTS:
                text = json.dumps(value, ensure_ascii=False) if _edged(str(value)) \
                    else str(value)  # fmt: skip
            else:
                text = scalar_text(value)
            rows.append(ConditionRow(str(name), str(op), text))
    return rows


def _translations(labels: Mapping[str, Any], key: str) -> dict[str, str]:
    found = labels.get(key)
    return {code: str(found.get(code, "")) for code in LANGUAGES} if isinstance(found, dict) \
        else {}  # fmt: skip


def _criterion_row(section: str, item: Mapping[str, Any], labels: Mapping[str, Any],
                   ) -> CriterionRow:  # fmt: skip
    event = "event" in item
    return CriterionRow(
        section=section, kind="event" if event else "profile", id=str(item.get("id", "")),
        label=str(item.get("label") or ""), weight=_number_text(item.get("weight")),
        points=_number_text(item.get("points")), event=str(item.get("event") or ""),
        within_days=_number_text(item.get("within_days")), count=item.get("level") == "count",
        cap=_number_text(item.get("cap")), once=bool(item.get("once")),
        half_life_days=_number_text(item.get("half_life_days")),
        conditions=condition_rows(item.get("where") if event else item.get("when")),
        levels=[LevelRow(_number_text(lv.get("level")), condition_rows(lv.get("when")))
                for lv in item.get("levels") or [] if isinstance(lv, dict)],
        translations=_translations(labels, str(item.get("id", ""))))  # fmt: skip


def form_of(document: Mapping[str, Any]) -> ModelForm:
    """The rows of a document (as YAML loads it; a valid one round-trips)."""
    labels = document.get("labels") or {}
    criteria = [_criterion_row(section, item, labels) for section in SECTIONS
                for item in document.get(section) or [] if isinstance(item, dict)]  # fmt: skip
    grades = [GradeRow(str(name), _number_text(line), _translations(labels, str(name)))
              for name, line in (document.get("grades") or {}).items()]  # fmt: skip
    decay = document.get("decay") or {}
    matrix = document.get("matrix") or {}
    used = {row.id for row in criteria} | {row.name for row in grades}
    others = [LabelRow(str(key), _translations(labels, str(key)))
              for key in labels if str(key) not in used]  # fmt: skip
    return ModelForm(
        name=str(document.get("name") or ""), version=_number_text(document.get("version")),
        description=str(document.get("description") or "").strip(),
        floor=_number_text(document.get("floor")),
        decay_points=_number_text(decay.get("points")),
        decay_every_days=_number_text(decay.get("every_days")),
        criteria=criteria, grades=grades,
        matrix_fit={k: _number_text(v) for k, v in (matrix.get("fit") or {}).items()},
        matrix_engagement={str(k): _number_text(v)
                           for k, v in (matrix.get("engagement") or {}).items()},
        other_labels=others, account=_account_text(document.get("account")))  # fmt: skip


def _account_text(section: Any) -> str:
    if not section:
        return ""
    return str(yaml.dump(section, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         width=100))  # fmt: skip


# -- fields → document -------------------------------------------------------------------------


class _Fields:
    """The posted fields, read by name, each refusal naming its field."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = data

    def text(self, name: str) -> str:
        return str(self.data.get(name, "")).strip()

    def number(self, name: str) -> float | int | None:
        raw = self.text(name).replace(",", ".").replace(" ", "")
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError:
            raise FormError(name, "a number, such as 3 or 2.5") from None
        if not math.isfinite(number):
            raise FormError(name, "a number, such as 3 or 2.5")
        return int(number) if number.is_integer() else number

    def flag(self, name: str) -> bool:
        return self.text(name) in ("on", "true", "yes")

    def indexes(self, prefix: str) -> list[int]:
        """The row numbers present under ``prefix`` (``c.`` → 0, 1, 3), in order."""
        found = set()
        for key in self.data:
            if key.startswith(prefix):
                head = key[len(prefix) :].split(".", 1)[0]
                if head.isdigit() and len(head) < 5:
                    found.add(int(head))
        return sorted(found)


def _value(fields: _Fields, name: str, op: str) -> Any:
    raw = fields.text(name)
    if op in NUMBERS:
        return fields.number(name)
    if op in YES_NO:
        if raw.lower() not in ("yes", "no", "true", "false"):
            raise FormError(name, "yes or no")
        return raw.lower() in ("yes", "true")
    if op in TEXTS:
        if raw.startswith('"'):
            try:
                return str(json.loads(raw))
            except ValueError:
                pass
        return raw
    try:
        parsed = safe_load(f"[{raw}]")
    except yaml.YAMLError:
        raise FormError(name, "values separated by commas; quote text with a comma") from None
    if op in LISTS:
        return parsed
    if len(parsed) != 1:
        raise FormError(name, "one value; quote text with a comma")
    return parsed[0]


def _when(fields: _Fields, prefix: str) -> dict[str, dict[str, Any]]:
    when: dict[str, dict[str, Any]] = {}
    for j in fields.indexes(f"{prefix}."):
        name = fields.text(f"{prefix}.{j}.field")
        op = fields.text(f"{prefix}.{j}.op") or "eq"
        if not name:
            continue  # an empty row: left out
        if op not in OPERATORS:
            raise FormError(f"{prefix}.{j}.op", "not an operator")
        key = "in" if op == "in" else op
        when.setdefault(name, {})[key] = _value(fields, f"{prefix}.{j}.value", op)
    return when


def _compact(when: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{seniority: {eq: manager}}`` written as ``seniority: manager``, as people write it."""
    return {name: ops["eq"] if list(ops) == ["eq"] and not isinstance(ops["eq"], list | dict)
            else ops for name, ops in when.items()}  # fmt: skip


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is empty (0 is a value)."""
    if value is not None and value is not False and value != "" and value != [] \
            and value != {}:  # fmt: skip
        target[key] = value


def _criterion(fields: _Fields, i: int) -> tuple[str, dict[str, Any]] | None:
    prefix = f"c.{i}"
    section = fields.text(f"{prefix}.section") or "fit"
    if section not in SECTIONS:
        raise FormError(f"{prefix}.section", "fit, engagement or negative")
    item: dict[str, Any] = {}
    _put(item, "id", fields.text(f"{prefix}.id"))
    _put(item, "label", fields.text(f"{prefix}.label"))
    weight = fields.number(f"{prefix}.weight")
    if weight is not None and weight != 1:
        item["weight"] = weight
    if fields.text(f"{prefix}.kind") == "event":
        _put(item, "event", fields.text(f"{prefix}.event"))
        _put(item, "where", _compact(_when(fields, f"{prefix}.when")))
        _put(item, "within_days", fields.number(f"{prefix}.within_days"))
        if fields.flag(f"{prefix}.count"):
            item["level"] = "count"
        _put(item, "points", fields.number(f"{prefix}.points"))
        _put(item, "cap", fields.number(f"{prefix}.cap"))
        _put(item, "once", fields.flag(f"{prefix}.once"))
        _put(item, "half_life_days", fields.number(f"{prefix}.half_life_days"))
    else:
        levels = []
        for k in fields.indexes(f"{prefix}.level."):
            at = f"{prefix}.level.{k}"
            level, when = fields.number(f"{at}.level"), _compact(_when(fields, f"{at}.when"))
            if level is not None or when:
                levels.append({"level": level, "when": when})
        _put(item, "levels", levels)
        _put(item, "points", fields.number(f"{prefix}.points"))
        _put(item, "when", _compact(_when(fields, f"{prefix}.when")))
    if list(item) == [] or (list(item) == ["weight"]):
        return None  # a row left empty
    return section, item


def _translated(fields: _Fields, prefix: str) -> dict[str, str]:
    return {code: text for code in LANGUAGES if (text := fields.text(f"{prefix}.tr.{code}"))}


def document_from(data: Mapping[str, str]) -> dict[str, Any]:
    """The document the form's fields describe (rows left empty are left out), in the order
    people write one; refused with ``FormError`` naming a field that does not read."""
    fields = _Fields(data)
    document: dict[str, Any] = {}
    _put(document, "name", fields.text("name"))
    _put(document, "version", fields.number("version"))
    _put(document, "description", fields.text("description"))
    labels: dict[str, dict[str, str]] = {}
    for i in fields.indexes("c."):
        found = _criterion(fields, i)
        if found is None:
            continue
        section, item = found
        document.setdefault(section, []).append(item)
        if (words := _translated(fields, f"c.{i}")) and item.get("id"):
            labels[item["id"]] = words
    for section in SECTIONS:  # the document's own order, whatever the rows' order
        if section in document:
            document[section] = document.pop(section)
    points, every = fields.number("decay_points"), fields.number("decay_every_days")
    if points is not None or every is not None:
        document["decay"] = {"points": points, "every_days": every}
    _put(document, "floor", fields.number("floor"))
    grades: dict[str, Any] = {}
    for i in fields.indexes("grade."):
        name = fields.text(f"grade.{i}.name")
        if name:
            grades[name] = fields.number(f"grade.{i}.threshold")
            if words := _translated(fields, f"grade.{i}"):
                labels[name] = words
    _put(document, "grades", grades)
    fit = {k: fields.number(f"matrix.fit.{k}") for k in FIT_LETTERS}
    engagement = {k: fields.number(f"matrix.engagement.{k}") for k in ENGAGEMENT_DIGITS}
    if any(v is not None for v in [*fit.values(), *engagement.values()]):
        document["matrix"] = {"fit": fit, "engagement": engagement}
    for i in fields.indexes("other."):
        key = fields.text(f"other.{i}.id")
        if key and (words := _translated(fields, f"other.{i}")):
            labels[key] = words
    _put(document, "account", _account(fields.text("account")))
    _put(document, "labels", _ordered_labels(labels, grades, document))
    return document


def _account(text: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        section = safe_load(text)
    except yaml.YAMLError as exc:
        raise FormError("account", f"not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(section, dict):
        raise FormError("account", "give the account section as keys: fit, engagement,"
                        " committee, grades")  # fmt: skip
    return section


def _ordered_labels(labels: dict[str, dict[str, str]], grades: Mapping[str, Any],
                    document: Mapping[str, Any]) -> dict[str, dict[str, str]]:  # fmt: skip
    """Grades' labels first, then the criteria's, then the others, as the shipped models."""
    order = [*grades, *(c.get("id") for s in SECTIONS for c in document.get(s, []))]
    first = {key: labels[key] for key in order if key in labels}
    return {**first, **{k: v for k, v in labels.items() if k not in first}}


def yaml_of(document: Mapping[str, Any]) -> str:
    """The document as YAML text, keys in the order given: block style for the document and
    its criteria, one line (``{seniority: manager}``) for a condition, a level, the grades,
    the decay, the matrix rows and each label, as the shipped models read."""
    shaped = dict(document)
    for key in ("grades", "decay"):
        if isinstance(shaped.get(key), dict):
            shaped[key] = _Flow(shaped[key])
    if isinstance(shaped.get("matrix"), dict):
        shaped["matrix"] = {k: _Flow(v) for k, v in shaped["matrix"].items()}
    if isinstance(shaped.get("labels"), dict):
        shaped["labels"] = {k: _Flow(v) for k, v in shaped["labels"].items()}
    for section in SECTIONS:
        shaped[section] = [_criterion_shape(c) for c in shaped.get(section) or []] \
            if section in shaped else None  # fmt: skip
        if shaped[section] is None:
            del shaped[section]
    return str(yaml.dump(shaped, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         width=100))  # fmt: skip


def _criterion_shape(item: Mapping[str, Any]) -> dict[str, Any]:
    shaped = dict(item)
    for key in ("when", "where"):
        if isinstance(shaped.get(key), dict):
            shaped[key] = _Flow(shaped[key])
    if isinstance(shaped.get("levels"), list):
        shaped["levels"] = [_Flow(level) for level in shaped["levels"]]
    return shaped


class _Flow(dict[str, Any]):
    """A map written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(data), flow_style=True)


def _block(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)


_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(dict, _block)


# -- fields → rows (as typed, empty rows kept) -------------------------------------------------


def _condition_rows(fields: _Fields, prefix: str) -> list[ConditionRow]:
    return [ConditionRow(fields.text(f"{prefix}.{j}.field"), fields.text(f"{prefix}.{j}.op")
                         or "eq", fields.text(f"{prefix}.{j}.value"))
            for j in fields.indexes(f"{prefix}.")]  # fmt: skip


def _typed(fields: _Fields, prefix: str) -> dict[str, str]:
    return {code: fields.text(f"{prefix}.tr.{code}") for code in LANGUAGES}


def rows_of(data: Mapping[str, str]) -> ModelForm:
    """The form as it was typed, empty rows included (a row just added, a half-written one),
    to show it again."""
    fields = _Fields(data)
    criteria = []
    for i in fields.indexes("c."):
        at = f"c.{i}"
        criteria.append(CriterionRow(
            section=fields.text(f"{at}.section") or "fit",
            kind="event" if fields.text(f"{at}.kind") == "event" else "profile",
            **{key: fields.text(f"{at}.{key}") for key in (
                "id", "label", "weight", "points", "event", "within_days", "cap",
                "half_life_days")},
            count=fields.flag(f"{at}.count"), once=fields.flag(f"{at}.once"),
            conditions=_condition_rows(fields, f"{at}.when"),
            levels=[LevelRow(fields.text(f"{at}.level.{k}.level"),
                             _condition_rows(fields, f"{at}.level.{k}.when"))
                    for k in fields.indexes(f"{at}.level.")],
            translations=_typed(fields, at)))  # fmt: skip
    return ModelForm(
        name=fields.text("name"), version=fields.text("version"),
        description=fields.text("description"), floor=fields.text("floor"),
        decay_points=fields.text("decay_points"),
        decay_every_days=fields.text("decay_every_days"), criteria=criteria,
        grades=[GradeRow(fields.text(f"grade.{i}.name"), fields.text(f"grade.{i}.threshold"),
                         _typed(fields, f"grade.{i}")) for i in fields.indexes("grade.")],
        matrix_fit={k: fields.text(f"matrix.fit.{k}") for k in FIT_LETTERS},
        matrix_engagement={k: fields.text(f"matrix.engagement.{k}") for k in ENGAGEMENT_DIGITS},
        other_labels=[LabelRow(fields.text(f"other.{i}.id"), _typed(fields, f"other.{i}"))
                      for i in fields.indexes("other.")])  # fmt: skip


def edited(form: ModelForm, action: str) -> ModelForm:
    """The form after one of its buttons: a row added or removed. ``action`` names the row
    (``add_criterion:engagement:event``, ``add_condition:3``, ``add_level:3``,
    ``add_level_condition:3:1``, ``remove_criterion:3``, ``add_grade``, ``add_label``); an
    action naming no row changes nothing."""
    verb, _, rest = action.partition(":")
    parts = rest.split(":") if rest else []
    numbers = [int(p) for p in parts if p.isdigit() and len(p) < 5]
    if verb == "add_criterion" and len(parts) == 2 and parts[0] in SECTIONS:
        kind = "event" if parts[1] == "event" else "profile"
        form.criteria.append(CriterionRow(section=parts[0], kind=kind))
    elif verb == "add_grade":
        form.grades.append(GradeRow())
    elif verb == "add_label":
        form.other_labels.append(LabelRow())
    elif numbers and numbers[0] < len(form.criteria):
        row = form.criteria[numbers[0]]
        if verb == "add_condition":
            row.conditions.append(ConditionRow())
        elif verb == "add_level":
            row.levels.append(LevelRow(conditions=[ConditionRow()]))
        elif verb == "add_level_condition" and len(numbers) == 2 and numbers[1] < len(row.levels):
            row.levels[numbers[1]].conditions.append(ConditionRow())
        elif verb == "remove_criterion":
            del form.criteria[numbers[0]]
    return form


def blank() -> ModelForm:
    """A new model's form: one fit and one engagement row, and three grades to name."""
    return ModelForm(criteria=[CriterionRow("fit", "profile", conditions=[ConditionRow()]),
                               CriterionRow("engagement", "event", conditions=[ConditionRow()])],
                     grades=[GradeRow(), GradeRow(), GradeRow()])  # fmt: skip
