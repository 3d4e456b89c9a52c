"""Framework answers as they stand: the newest answer per question, and the verdicts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.frameworks import Assessment, Framework, assess
from leadq.store.tables import FrameworkAnswer

Answers = dict[str, dict[str, FrameworkAnswer]]
"""framework → question → its newest answer."""


def current_answers(session: Session, lead_ids: Sequence[int]) -> dict[int, Answers]:
    found: dict[int, Answers] = defaultdict(lambda: defaultdict(dict))
    query = (
        select(FrameworkAnswer)
        .where(FrameworkAnswer.lead_id.in_(lead_ids))
        .order_by(FrameworkAnswer.id)
    )
    for row in session.scalars(query):
        found[row.lead_id][row.framework][row.question] = row
    return found


def values(answers: Mapping[str, FrameworkAnswer]) -> dict[str, Any]:
    return {question: row.value for question, row in answers.items()}


def assessments(frameworks: Mapping[str, Framework], answers: Answers) -> dict[str, Assessment]:
    """Verdicts of the frameworks the lead has answers for (and that are still configured)."""
    return {
        name: assess(frameworks[name], values(given))
        for name, given in answers.items()
        if name in frameworks
    }
