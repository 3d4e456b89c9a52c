"""The shipped models' test vectors, through the per-lead evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from leadq.domain.scoring.evaluate import EventFact, evaluate
from leadq.domain.scoring.model import ScoringModel, parse_model

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def shipped(name: str) -> ScoringModel:
    text = (resources.files("leadq.models") / f"{name}.yaml").read_text("utf-8")
    return parse_model(text, f"{name}.yaml")


def events(whitepapers: int = 0, webinars: int = 0, pricing: int = 0) -> list[EventFact]:
    made = [EventFact("content_download", DAY0, {"asset_type": "whitepaper"})] * whitepapers
    made += [EventFact("webinar_attended", DAY0)] * webinars
    made += [EventFact("page_view", DAY0, {"path": "/pricing/enterprise"})] * pricing
    return made


CLASSIC_VECTORS = [
    ({"seniority": "c_level", "company_size": 300}, events(3, 3, 3), 33, "hot"),
    ({"seniority": "c_level", "company_size": 300}, [], 15, "warm"),
    ({"seniority": "director", "company_size": 60}, events(0, 1, 2), 18, "warm"),
    ({"seniority": "individual", "company_size": 5}, events(1, 0, 0), 1, "cold"),
]


@pytest.mark.parametrize(("lead", "facts", "score", "grade"), CLASSIC_VECTORS)
def test_classic_vectors(lead: dict[str, object], facts: list[EventFact], score: float,
                         grade: str) -> None:  # fmt: skip
    card = evaluate(shipped("classic"), lead, facts, DAY0)
    assert (card.score, card.grade) == (score, grade)
    assert sum(line.points for line in card.breakdown) == card.score


@pytest.mark.parametrize(("days", "score"), [(0, 15), (30, 10), (65, 5), (95, 0)])
def test_dynamic_vectors(days: int, score: float) -> None:
    card = evaluate(shipped("dynamic"), {}, events(1, 1), DAY0 + timedelta(days=days))
    assert card.score == score
    assert sum(line.points for line in card.breakdown) == card.score


def test_classic_breakdown_names_every_criterion() -> None:
    card = evaluate(shipped("classic"), {"seniority": "director", "company_size": 60},
                    events(0, 1, 2), DAY0)  # fmt: skip
    lines = {line.criterion: (line.value, line.points) for line in card.breakdown}
    assert lines == {
        "decision_maker": ("director", 6), "company_size": (60, 4), "whitepaper": (0, 0),
        "webinar": (1, 2), "pricing_page": (2, 6),
    }  # fmt: skip
    assert (card.fit_grade, card.engagement_grade) == ("B", "3")


def test_events_after_as_of_do_not_count() -> None:
    later = [EventFact("webinar_attended", DAY0 + timedelta(days=1))]
    assert evaluate(shipped("classic"), {}, later, DAY0).score == 0


def test_vectors_through_the_vectorised_engine() -> None:
    import polars as pl

    from leadq.domain.scoring.vectorised import score_frame

    leads = pl.LazyFrame(
        [{"id": i, **lead} for i, (lead, _, _, _) in enumerate(CLASSIC_VECTORS)],
        schema={"id": pl.Int64, "seniority": pl.String, "company_size": pl.Int64},
    )
    rows = [
        {"lead_id": i, "type": e.type, "occurred_at": e.occurred_at, **e.properties}
        for i, (_, facts, _, _) in enumerate(CLASSIC_VECTORS)
        for e in facts
    ]
    events = pl.LazyFrame(rows, schema={"lead_id": pl.Int64, "type": pl.String,
                                        "occurred_at": pl.Datetime("us", "UTC"),
                                        "asset_type": pl.String, "path": pl.String})  # fmt: skip
    scored = score_frame(shipped("classic"), leads, events, DAY0).collect()
    expected = [(score, grade) for _, _, score, grade in CLASSIC_VECTORS]
    assert list(zip(scored["score"], scored["grade"], strict=True)) == expected
    dynamic = [
        score_frame(shipped("dynamic"), pl.LazyFrame({"id": [0]}),
                    events.filter(pl.col("lead_id") == 0, pl.col("type") != "page_view")
                    .group_by("type").first(),
                    DAY0 + timedelta(days=days)).collect()["score"][0]
        for days in (0, 30, 65, 95)
    ]  # fmt: skip
    assert dynamic == [15, 10, 5, 0]
