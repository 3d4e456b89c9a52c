"""Random scoring models, leads and events for the property tests that prove the engines equal.

Values include the awkward ones: text that is or only looks like a number, NaN and infinity, text
with edges of space, free-mail addresses, events on the window and decay boundaries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import polars as pl
from hypothesis import strategies as st

from leadq.domain.scoring.evaluate import EventFact
from leadq.domain.scoring.model import ScoringModel, parse_model

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SENIORITY = ["c_level", "owner", "vp", "director", "head", "manager", "individual"]
COUNTRIES = ["PL", "RO", "GB", "Poland", "ÉIRE", "Łódź"]
EMAILS = ["ann@gmail.com", "bob@acme.com", "cy@WP.PL", "dee@firma.pl", " eve@o2.pl. "]
TIERS = ["gold", "silver", "Gold"]
BUDGETS = ["250", "1e2", "-3.5", "+.5", "inf", "-Infinity", "nan", " 5", "5\n", "1d", "1_0",
           "abc", "0x10", "7.", "١٢٣", "a\rb", "a\u2028b"]  # fmt: skip
REVENUES = [0.0, 49.5, 300.0, float("nan"), float("inf"), -1.0]
PATHS = ["/pricing", "/pricing/enterprise", "/blog/x", "/", "/PRICING"]
ASSETS = ["whitepaper", "ebook", "guide"]
TYPES = ["page_view", "content_download", "webinar_attended"]
LEAD_SCHEMA: dict[str, Any] = {
    "id": pl.Int64, "seniority": pl.String, "company_size": pl.Int64, "country": pl.String,
    "email": pl.String, "attributes.tier": pl.String, "annual_revenue": pl.Float64,
    "attributes.budget": pl.String,
}  # fmt: skip
EVENT_SCHEMA: dict[str, Any] = {
    "lead_id": pl.Int64, "type": pl.String, "occurred_at": pl.Datetime("us", "UTC"),
    "channel": pl.String, "path": pl.String, "asset_type": pl.String, "seconds": pl.Int64,
}  # fmt: skip

small = st.integers(min_value=0, max_value=6)
text_ops = st.sampled_from(["contains", "starts_with", "ends_with"])


REGEXES = [r"^\d+", r"^\w\w?", r"(?i)gold|łódź|éire", r"^.{2}", r"[ÓŁ]|ó", r"(?P<g>ol)d",
           r"[A-Z]{2}", r"^[+-]?\.?\d", r"a.b"]  # fmt: skip
"""Unicode classes, case folding and ``.`` the way every engine's dialect reads them. A ``$``
before a final line break is where the dialects part (Python and Java match, Rust does not)."""


def escaped(text: str) -> str:
    """Literal text in a pattern every engine's regex dialect reads alike."""
    return "".join("\\" + c if c in r".+*?()[]{}|^$\\" else c for c in text)


def text_condition(values: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(values),
        st.lists(st.sampled_from(values), min_size=1, max_size=3),
        st.builds(lambda v: {"ne": v}, st.sampled_from(values)),
        st.builds(lambda v: {"not_in": [v]}, st.sampled_from(values)),
        st.builds(lambda op, v: {op: v[:3]}, text_ops, st.sampled_from(values)),
        st.builds(lambda b: {"exists": b}, st.booleans()),
        st.builds(lambda v: {"regex": f"^{escaped(v[:2])}"}, st.sampled_from(values)),
        st.builds(lambda v: {"regex": v}, st.sampled_from(REGEXES)),
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
    st.sampled_from(["seniority", "company_size", "country", "email", "attributes.tier",
                     "annual_revenue", "attributes.budget"]),
    st.just(None),
    min_size=1,
    max_size=2,
).flatmap(
    lambda keys: st.fixed_dictionaries({
        k: (number_condition if k in ("company_size", "annual_revenue")
            else number_condition | text_condition(BUDGETS) if k == "attributes.budget"
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
        "annual_revenue": st.none() | st.sampled_from(REVENUES),
        "attributes.budget": st.none() | st.sampled_from(BUDGETS),
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


def shipped(name: str) -> ScoringModel:
    text = (resources.files("leadq.models") / f"{name}.yaml").read_text("utf-8")
    return parse_model(text, f"{name}.yaml")


any_model = models | st.sampled_from(["classic", "dynamic"]).map(shipped)


def lead_frame(profiles: list[dict[str, Any]]) -> pl.DataFrame:
    """The leads with ids 0, 1, … in the engines' layout."""
    return pl.DataFrame([{**p, "id": i} for i, p in enumerate(profiles)], schema=LEAD_SCHEMA)


def event_rows(raw_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"lead_id": e["lead"], "type": e["type"],
         "occurred_at": AS_OF + timedelta(minutes=e["minutes"]), "channel": e["channel"],
         "path": e["path"], "asset_type": e["asset_type"], "seconds": e["seconds"]}
        for e in raw_events
    ]  # fmt: skip


def event_frame(raw_events: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(event_rows(raw_events), schema=EVENT_SCHEMA)


def facts_of(rows: list[dict[str, Any]], lead: int) -> list[EventFact]:
    """One lead's events as the per-lead evaluator takes them."""
    return [
        EventFact(e["type"], e["occurred_at"],
                  {k: e[k] for k in ("path", "asset_type", "seconds") if e[k] is not None},
                  e["channel"])
        for e in rows if e["lead_id"] == lead
    ]  # fmt: skip


AWKWARD_CONDITIONS: list[dict[str, Any]] = [
    {"gt": 3}, {"lte": 250}, {"eq": 250}, {"ne": 5}, {"in": [5, "abc", 100]},
    {"not_in": [250, "nan"]}, {"range": [-5, 5]}, {"eq": "nan"}, {"contains": "n"},
    {"regex": r"^\d+"}, {"regex": "a.b"}, {"regex": "(?i)INF"},
]  # fmt: skip
"""Number and text operators on text that is or looks like a number, and on NaN and infinity."""


def awkward_model() -> ScoringModel:
    """One criterion per condition on each awkward column, worth 1, 2, 4, … points."""
    fit = [
        {"id": f"{column.replace('.', '_')}_{i}", "points": 2**i, "when": {column: condition}}
        for column in ("attributes.budget", "annual_revenue")
        for i, condition in enumerate(AWKWARD_CONDITIONS)
    ]
    return ScoringModel.model_validate({"name": "awkward", "fit": fit,
                                        "grades": {"cold": 0, "hot": 100}})  # fmt: skip


def awkward_profiles() -> list[dict[str, Any]]:
    """Every awkward value of both columns, with the other column missing."""
    blank = {name: None for name in LEAD_SCHEMA if name != "id"}
    return [{**blank, "attributes.budget": text} for text in BUDGETS] + [
        {**blank, "annual_revenue": number} for number in REVENUES
    ]
