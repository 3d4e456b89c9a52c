"""YAML documents users write (scoring models, lifecycle rules, frameworks, forms): parsed into
Pydantic types and refused with the file, the path inside it and the reason."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from leadq.domain.boundary import problems
from leadq.i18n import LANGUAGES

T = TypeVar("T", bound=BaseModel)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it, else PyYAML's own: the same documents and
errors, seven times faster (the shipped lifecycle rules: 1.8 ms against 13.7 ms; every process
start and every app parses the rules and models)."""


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` on the fastest parser at hand. libyaml cannot take a lone surrogate
    (it encodes the text first and raises ``UnicodeEncodeError``): PyYAML's parser refuses it
    as a ``YAMLError``, like every other character YAML does not allow."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except UnicodeEncodeError:
        return yaml.load(text, Loader=yaml.SafeLoader)


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"a label's language must be one of {', '.join(LANGUAGES)}")
    return value


def _one_line(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a label is one line of text, without control characters")
    return value


LabelText = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_one_line)]
"""A label lands in e-mail subjects too, where a line break is refused."""
DocumentLabels = dict[
    Annotated[str, Field(min_length=1, max_length=100)],
    dict[Annotated[str, AfterValidator(_language)], LabelText],
]
"""``labels: {id: {pl: …, ro: …, ru: …, en: …}}``: what people read for any id of a document
(a stage, a reason, a grade, a question, a choice, a rule) in each language."""
_WRAPPERS = ("FitCriterion", "EngagementCriterion", "function-after[_shorthand()]")


class DocumentError(ValueError):
    """A document that cannot be used, with the place inside it and the reason."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        super().__init__(f"{file}: {path}: {reason}")
        self.file, self.path, self.reason = file, path, reason


def repeated(ids: list[str]) -> str | None:
    """The ids given more than once, for a "must be unique" refusal; ``None`` when none are."""
    twice = sorted({i for i in ids if ids.count(i) > 1})
    return ", ".join(twice) if twice else None


def error_path(loc: tuple[int | str, ...], document: Any) -> str:
    """``("fit", 0, "levels")`` → ``fit[0:decision_maker].levels``: index and id, so the
    author finds the line."""
    path, node = "", document
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                path = f"{path[:-1]}:{node['id']}]"
        elif part not in _WRAPPERS and not part.startswith("function-"):
            path += f".{part}" if path else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return path or "-"


def load_yaml(text: str, file: str) -> dict[str, Any]:
    """The mapping a document holds; anything else is refused."""
    try:
        document = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        raise DocumentError(
            file,
            where,
            f"not valid YAML: {str(getattr(exc, 'problem', None) or exc).splitlines()[0]}",
        ) from None
    if not isinstance(document, dict):
        raise DocumentError(file, "-", "the document must be a mapping of keys to values")
    for path, reason in problems(document):
        raise DocumentError(file, path, reason)
    return document


def validate_document(document: dict[str, Any], file: str, schema: type[T]) -> T:
    try:
        return schema.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        raise DocumentError(file, error_path(tuple(error["loc"]), document), reason) from None


def parse_document(text: str, file: str, schema: type[T]) -> T:
    """A document of ``schema`` from YAML text, or ``DocumentError``."""
    return validate_document(load_yaml(text, file), file, schema)
