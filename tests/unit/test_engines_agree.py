"""Property: the vectorised engine gives exactly the per-lead evaluator's results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadq.domain.scoring.evaluate import DECAY_ID, FLOOR_ID, EventFact, evaluate
from leadq.domain.scoring.model import ScoringModel
from leadq.domain.scoring.vectorised import score_frame

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SENIORITY = ["c_level", "owner", "vp", "director", "head", "manager", "individual"]
COUNTRIES = ["PL", "RO", "GB", "Poland"]
EMAILS = ["ann@gmail.com", "bob@acme.com", "cy@WP.PL", "dee@firma.pl", " eve@o2.pl. "]
TIERS = ["gold", "silver", "Gold"]
PATHS = ["/pricing", "/pricing/enterprise", "/blog/x", "/", "/PRICING"]
ASSETS = ["whitepaper", "ebook", "guide"]
TYPES = ["page_view", "content_download", "webinar_attended"]
LEAD_SCHEMA: dict[str, Any] = {
    "id": pl.Int64, "seniority": pl.String, "company_size": pl.Int64, "country": pl.String,
    "email": pl.String, "attributes.tier": pl.String,
}  # fmt: skip
EVENT_SCHEMA: dict[str, Any] = {
    "lead_id": pl.Int64, "type": pl.String, "occurred_at": pl.Datetime("us", "UTC"),
    "channel": pl.String, "path": pl.String, "asset_type": pl.String, "seconds": pl.Int64,
}  # fmt: skip

small = st.integers(min_value=0, max_value=6)
text_ops = st.sampled_from(["contains", "starts_with", "ends_with"])


def text_condition(values: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(values),
        st.lists(st.sampled_from(values), min_size=1, max_size=3),
        st.builds(lambda v: {"ne": v}, st.sampled_from(values)),
        st.builds(lambda v: {"not_in": [v]}, st.sampled_from(values)),
        st.builds(lambda op, v: {op: v[:3]}, text_ops, st.sampled_from(values)),
        st.builds(lambda b: {"exists": b}, st.booleans()),
        st.builds(lambda v: {"regex": f"^{v[:2]}"}, st.sampled_from(values)),
    )


number_condition = st.one_of(
    st.integers(0, 400),
    st.builds(lambda op, v: {op: v}, st.sampled_from(["gt", "gte", "lt", "lte"]),
              st.integers(0, 400)),
    st.builds(lambda a, b: {"range": [min(a, b), max(a, b)]}, st.integers(0, 400),
              st.integers(0, 400)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.just({"eq": "many"}),
)  # fmt: skip
profile_when = st.dictionaries(
    st.sampled_from(["seniority", "company_size", "country", "email", "attributes.tier"]),
    st.just(None),
    min_size=1,
    max_size=2,
).flatmap(
    lambda keys: st.fixed_dictionaries({
        k: (number_condition if k == "company_size"
            else st.builds(lambda b: {"is_free_mail": b}, st.booleans()) | text_condition(EMAILS)
            if k == "email"
            else text_condition({"seniority": SENIORITY, "country": COUNTRIES,
                                 "attributes.tier": TIERS}[k]))
        for k in keys
    })
)  # fmt: skip
event_where = st.dictionaries(
    st.sampled_from(["path", "asset_type", "seconds", "channel"]), st.just(None), max_size=2
).flatmap(
    lambda keys: st.fixed_dictionaries({
        k: (number_condition if k == "seconds" else text_condition(
            {"path": PATHS, "asset_type": ASSETS, "channel": ["web", "email"]}[k]))
        for k in keys
    })
)  # fmt: skip


def fit_criterion(i: int, sign: int) -> st.SearchStrategy[dict[str, Any]]:
    levels = st.lists(st.builds(lambda lv, w: {"level": lv, "when": w}, small, profile_when),
                      min_size=1, max_size=3)  # fmt: skip
    with_levels = st.builds(lambda w, ls: {"id": f"f{i}", "weight": w, "levels": ls}, small, levels)
    with_points = st.builds(lambda p, w: {"id": f"f{i}", "points": sign * p, "when": w},
                            small, profile_when)  # fmt: skip
    return with_points if sign < 0 else st.one_of(with_levels, with_points)


def engagement_criterion(i: int, sign: int) -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries(
        {"id": st.just(f"e{i}"), "event": st.sampled_from(TYPES), "where": event_where,
         "weight": small},
        optional={"within_days": st.sampled_from([1, 7, 30, 60]), "cap": st.integers(1, 4)},
    )  # fmt: skip
    counted = base.map(lambda c: {**c, "level": "count"})
    per = st.builds(lambda c, p, once: {**c, "points": sign * p, "once": once},
                    base, small, st.booleans())  # fmt: skip
    return per if sign < 0 else st.one_of(counted, per)


models = st.builds(
    lambda fits, engs, negs, decay, floor: ScoringModel.model_validate({
        "name": "random", "fit": fits, "engagement": engs, "negative": negs,
        "decay": decay, "floor": floor, "grades": {"cold": 0, "warm": 11, "hot": 21},
        "matrix": {"fit": {"A": 12, "B": 8, "C": 4, "D": 0},
                   "engagement": {"1": 15, "2": 9, "3": 3, "4": 0}},
    }),
    st.lists(st.integers(0, 3), max_size=3).flatmap(
        lambda ids: st.tuples(*(fit_criterion(i, 1) for i in range(len(ids))))).map(list),
    st.lists(st.integers(0, 3), min_size=1, max_size=3).flatmap(
        lambda ids: st.tuples(*(engagement_criterion(i, 1) for i in range(len(ids))))).map(list),
    st.lists(st.integers(0, 1), max_size=2).flatmap(
        lambda ids: st.tuples(*(
            (fit_criterion(10 + i, -1) if i % 2 else engagement_criterion(10 + i, -1))
            for i in range(len(ids))))).map(list),
    st.none() | st.builds(lambda p, d: {"points": -p, "every_days": d},
                          st.integers(1, 6), st.integers(5, 40)),
    st.none() | st.integers(-5, 3),
)  # fmt: skip

leads = st.lists(
    st.fixed_dictionaries({
        "seniority": st.none() | st.sampled_from(SENIORITY),
        "company_size": st.none() | st.integers(0, 500),
        "country": st.none() | st.sampled_from(COUNTRIES),
        "email": st.none() | st.sampled_from(EMAILS),
        "attributes.tier": st.none() | st.sampled_from(TIERS),
    }),
    min_size=1, max_size=6,
)  # fmt: skip
events = st.lists(
    st.fixed_dictionaries({
        "lead": st.integers(0, 5), "type": st.sampled_from(TYPES),
        "minutes": st.integers(-90 * 1440, 2 * 1440)  # boundaries: as_of, whole days back
        | st.sampled_from([0, 1, -1, -1440, -7 * 1440, -30 * 1440, -60 * 1440]),
        "channel": st.none() | st.sampled_from(["web", "email"]),
        "path": st.none() | st.sampled_from(PATHS),
        "asset_type": st.none() | st.sampled_from(ASSETS),
        "seconds": st.none() | st.integers(0, 400),
    }),
    max_size=25,
)  # fmt: skip


def per_lead(
    model: ScoringModel, profile: dict[str, Any], facts: list[EventFact]
) -> dict[str, Any]:
    lead = {k: v for k, v in profile.items() if not k.startswith("attributes.")}
    lead["attributes"] = {"tier": profile["attributes.tier"]}
    card = evaluate(model, lead, facts, AS_OF)
    row = {"score": card.score, "grade": card.grade, "fit_grade": card.fit_grade,
           "engagement_grade": card.engagement_grade}  # fmt: skip
    row.update({f"points.{line.criterion}": line.points for line in card.breakdown})
    if model.floor is not None:
        row.setdefault(f"points.{FLOOR_ID}", 0.0)
    return row


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models, leads, events)
def test_vectorised_engine_equals_evaluator(
    model: ScoringModel, profiles: list[dict[str, Any]], raw_events: list[dict[str, Any]]
) -> None:
    rows = [{**p, "id": i} for i, p in enumerate(profiles)]
    event_rows: list[dict[str, Any]] = [
        {"lead_id": e["lead"], "type": e["type"],
         "occurred_at": AS_OF + timedelta(minutes=e["minutes"]), "channel": e["channel"],
         "path": e["path"], "asset_type": e["asset_type"], "seconds": e["seconds"]}
        for e in raw_events
    ]  # fmt: skip
    frame = score_frame(
        model,
        pl.LazyFrame(rows, schema=LEAD_SCHEMA),
        pl.LazyFrame(event_rows, schema=EVENT_SCHEMA),
        AS_OF,
    ).collect()
    by_id = {row["id"]: row for row in frame.to_dicts()}
    for i, profile in enumerate(profiles):
        facts = [
            EventFact(e["type"], e["occurred_at"],
                      {k: e[k] for k in ("path", "asset_type", "seconds") if e[k] is not None},
                      e["channel"])
            for e in event_rows if e["lead_id"] == i
        ]  # fmt: skip
        expected = per_lead(model, profile, facts)
        got = {k: by_id[i][k] for k in expected}
        assert got == expected, (model.model_dump(exclude_none=True), profile, facts)


def test_decay_is_named_in_both_engines() -> None:
    assert DECAY_ID == "inactivity_decay"


@pytest.mark.parametrize("once", [False, True])
def test_half_life_agrees_within_rounding(once: bool) -> None:
    model = ScoringModel.model_validate({
        "name": "fading", "grades": {"cold": 0, "hot": 10},
        "engagement": [{"id": "views", "event": "page_view", "points": 4, "once": once,
                        "half_life_days": 7}],
    })  # fmt: skip
    minutes = [0, 60, 1440 * 3, 1440 * 10, 1440 * 40]
    event_rows: list[dict[str, Any]] = [
                  {"lead_id": 0, "type": "page_view", "occurred_at": AS_OF - timedelta(minutes=m),
                   "channel": None, "path": None, "asset_type": None, "seconds": None}
                  for m in minutes]  # fmt: skip
    frame = score_frame(model, pl.LazyFrame([{"id": 0}], schema={"id": pl.Int64}),
                        pl.LazyFrame(event_rows, schema=EVENT_SCHEMA), AS_OF).collect()  # fmt: skip
    facts = [EventFact("page_view", e["occurred_at"]) for e in event_rows]
    card = evaluate(model, {}, facts, AS_OF)
    assert frame["score"][0] == pytest.approx(card.score, rel=1e-12)
    assert card.score == pytest.approx(
        4 if once else 4 * sum(0.5 ** (m / 1440 / 7) for m in minutes)
    )
