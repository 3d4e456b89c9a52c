"""Reusing settled breakdown lines gives exactly the full evaluation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadq.domain.scoring.evaluate import EventFact, evaluate, settles
from leadq.domain.scoring.model import ScoringModel
from tests.scoring_strategies import AS_OF, events, leads, models


def facts_of(raw: list[dict[str, Any]]) -> list[EventFact]:
    return [
        EventFact(e["type"], AS_OF + timedelta(minutes=e["minutes"]),
                  {k: e[k] for k in ("path", "asset_type", "seconds") if e[k] is not None},
                  e["channel"])
        for e in raw
    ]  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models, leads, events, events, st.integers(0, 90 * 1440))
def test_settled_lines_equal_a_full_evaluation(
    model: ScoringModel, profiles: list[dict[str, Any]], before: list[dict[str, Any]],
    added: list[dict[str, Any]], later_minutes: int,
) -> None:  # fmt: skip
    profile = {k: v for k, v in profiles[0].items() if not k.startswith("attributes.")}
    earlier = evaluate(model, profile, facts_of(before), AS_OF)
    criteria = {c.id: c for c in model.criteria()}
    settled = {
        line.criterion: line
        for line in earlier.breakdown
        if line.criterion in criteria and settles(criteria[line.criterion], line)
    }
    now = AS_OF + timedelta(minutes=later_minutes)
    everything = facts_of(before + added)
    assert evaluate(model, profile, everything, now, settled) == evaluate(
        model, profile, everything, now
    )
