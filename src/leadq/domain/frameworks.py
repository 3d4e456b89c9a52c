"""Qualification frameworks (BANT, CHAMP, ANUM, GPCTBA/C&I, SPIN) as data: question sets, the
answers that qualify, and the verdict a set of answers earns.

A verdict is ``not_qualified`` as soon as the failed answers make the pass mark unreachable
(a rep who learns there is no budget need not fill in the rest), ``qualified`` once enough
answers pass and every required question is answered, ``incomplete`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from leadq.domain.documents import DocumentLabels, parse_document, repeated
from leadq.domain.scoring.evaluate import holds
from leadq.domain.scoring.model import Condition, Strict

MAX_TEXT_ANSWER = 2000
MAX_NUMBER = 1e15
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
AnswerType = Literal["number", "boolean", "choice", "text"]
RESERVED = frozenset({"verdict", "completeness"})


class Verdict(StrEnum):
    qualified = "qualified"
    not_qualified = "not_qualified"
    incomplete = "incomplete"


class Question(Strict):
    """One question on the lead card; ``qualifies`` says which answers pass (none: the
    question informs but does not decide)."""

    id: Slug
    label: str = Field(min_length=1, max_length=200)
    type: AnswerType
    choices: list[str] | None = Field(default=None, min_length=1)
    qualifies: Condition | None = None
    required: bool = True
    help: str | None = None

    @model_validator(mode="after")
    def _choices(self) -> Question:
        if self.id in RESERVED:
            raise ValueError(f"{self.id!r} is reserved for the framework's own result")
        if (self.type == "choice") != (self.choices is not None):
            raise ValueError("choices are given exactly for questions of type choice")
        return self

    def answer(self, value: Any) -> Any:
        """The answer as stored, or ``ValueError`` saying what this question takes."""
        if value is None:
            return None
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("expected a number")
            if abs(value) > MAX_NUMBER or not math.isfinite(value):
                raise ValueError(f"expected a finite number of at most {MAX_NUMBER:.0e} in size")
            return value
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if self.choices is not None and (not isinstance(value, str) or value not in self.choices):
            raise ValueError(f"expected one of: {', '.join(self.choices)}")
        if not isinstance(value, str):
            raise ValueError("expected text")
        if len(value) > MAX_TEXT_ANSWER:
            raise ValueError(f"at most {MAX_TEXT_ANSWER} characters")
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        return value.strip() or None


class Framework(Strict):
    name: Slug
    label: str = Field(min_length=1, max_length=60)
    description: str | None = None
    questions: list[Question] = Field(min_length=1)
    min_passed: int | None = Field(default=None, ge=1, description="qualifying answers needed")
    labels: DocumentLabels = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        if twice := repeated([q.id for q in self.questions]):
            raise ValueError(f"question ids must be unique: {twice}")
        deciding = len(self.deciding())
        if deciding == 0:
            raise ValueError("at least one question needs 'qualifies'")
        if self.min_passed is not None and self.min_passed > deciding:
            raise ValueError(f"min_passed exceeds the {deciding} questions with 'qualifies'")
        return self

    def deciding(self) -> list[Question]:
        return [q for q in self.questions if q.qualifies is not None]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def parse_framework(text: str, file: str) -> Framework:
    return parse_document(text, file, Framework)


@dataclass(frozen=True)
class Failing:
    question: str
    label: str
    answer: Any
    reason: str


@dataclass(frozen=True)
class Assessment:
    framework: str
    verdict: Verdict
    completeness: float
    """Per cent of questions answered."""
    failing: list[Failing]
    missing: list[str]
    """Required questions not answered yet."""


def assess(framework: Framework, answers: Mapping[str, Any]) -> Assessment:
    """The verdict of a set of answers (question id → value; ``None`` is unanswered)."""
    given = {q.id: answers[q.id] for q in framework.questions if answers.get(q.id) is not None}
    failing, passed = [], 0
    for question in framework.deciding():
        assert question.qualifies is not None
        if question.id not in given:
            continue
        if holds(question.qualifies, given[question.id]):
            passed += 1
        else:
            reason = f"needs {question.qualifies.describe()}"
            failing.append(Failing(question.id, question.label, given[question.id], reason))
    needed = framework.min_passed or len(framework.deciding())
    missing = [q.id for q in framework.questions if q.required and q.id not in given]
    if len(failing) > len(framework.deciding()) - needed:
        verdict = Verdict.not_qualified
    elif passed >= needed and not missing:
        verdict = Verdict.qualified
    else:
        verdict = Verdict.incomplete
    completeness = round(100 * len(given) / len(framework.questions), 1)
    return Assessment(framework.name, verdict, completeness, failing, missing)


def scoring_facts(
    assessments: Mapping[str, Assessment], answers: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """What a scoring model sees as ``framework.NAME.verdict``, ``….completeness`` and
    ``framework.NAME.QUESTION``."""
    return {
        name: {**answers.get(name, {}), "verdict": a.verdict.value, "completeness": a.completeness}
        for name, a in assessments.items()
    }
