"""Account scores: per-person caps, buying-committee coverage, every point on a line, and the
vectorised engine equal to the per-account one on generated accounts."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadq.domain.documents import DocumentError
from leadq.domain.scoring.accounts import Person, evaluate_account, score_accounts
from leadq.domain.scoring.model import AccountModel, parse_model

SPEC = AccountModel.model_validate({
    "fit": [{"id": "big", "weight": 2, "levels": [
        {"level": 3, "when": {"company_size": {"gte": 250}}},
        {"level": 1, "when": {"company_size": {"gte": 20}}}]},
        {"id": "software", "points": 4, "when": {"industry": "software"}}],
    "engagement": {"weight": 1, "cap_per_person": 10},
    "committee": {"engaged_from": 3, "points": {"c_level": 6, "director": 4, "manager": 2}},
    "grades": {"cold": 0, "warm": 15, "hot": 30},
})  # fmt: skip
SENIORITIES = ["c_level", "owner", "vp", "director", "head", "manager", "individual", None]


def test_one_busy_intern_cannot_make_an_account_hot() -> None:
    intern = [Person(1, 400.0, "individual")]
    card = evaluate_account(SPEC, {"company_size": 5}, intern)
    assert card.engagement_points == 10 and card.grade == "cold"
    assert [(line.criterion, line.value, line.points) for line in card.breakdown
            if line.criterion.startswith("person")] == [("person:1", 400.0, 10.0)]  # fmt: skip


def test_a_committee_of_engaged_seniors_makes_an_account_hot() -> None:
    people = [Person(1, 8.0, "c_level"), Person(2, 5.0, "director"), Person(3, 4.0, "manager"),
              Person(4, 2.0, "c_level"), Person(5, 30.0, "director")]  # fmt: skip
    card = evaluate_account(SPEC, {"company_size": 300, "industry": "software"}, people)
    assert card.fit_points == 10 and card.engagement_points == 8 + 5 + 4 + 2 + 10
    assert card.committee_points == 12 and card.engaged == 4 and card.people == 5
    assert card.score == 10 + 29 + 12 and card.grade == "hot"
    lines = {line.criterion: (line.value, line.points) for line in card.breakdown}
    assert lines["committee:director"] == (2, 4) and lines["committee:c_level"] == (1, 6)
    assert sum(line.points for line in card.breakdown) == card.score


def test_negative_engagement_counts_as_none_and_unengaged_seniors_add_nothing() -> None:
    card = evaluate_account(SPEC, {}, [Person(1, -12.0, "c_level"), Person(2, 2.5, "director")])
    assert card.engagement_points == 2.5 and card.committee_points == 0 and card.engaged == 0


@pytest.mark.parametrize(("section", "reason"), [
    ({"grades": {"cold": 0, "hot": 0}}, "rise strictly"),
    ({"grades": {"a": 0, "b": 1}, "committee": {"points": {"intern": 2}}}, "unknown seniority"),
    ({"grades": {"a": 0, "b": 1}, "committee": {"points": {"vp": -1}}}, "must not be negative"),
    ({"grades": {"a": 0, "b": 1}, "engagement": {"cap_per_person": 0}}, "greater than 0"),
    ({"grades": {"a": 0, "b": 1}, "fit": [{"id": "x", "points": 1, "when": {"shoe": 4}}]},
     "unknown field"),
    ({"grades": {"a": 0, "b": 1}, "extra": 1}, "extra"),
])  # fmt: skip
def test_a_bad_account_section_is_refused_with_its_path(section: dict[str, Any],
                                                        reason: str) -> None:  # fmt: skip
    import yaml

    document = {"name": "m", "fit": [{"id": "f", "points": 1, "when": {"country": "PL"}}],
                "grades": {"cold": 0, "hot": 5}, "account": section}  # fmt: skip
    with pytest.raises(DocumentError) as refused:
        parse_model(yaml.safe_dump(document), "m.yaml")
    assert "account" in str(refused.value) and reason in str(refused.value)


def test_the_account_spec_is_strict() -> None:
    with pytest.raises(ValidationError):
        AccountModel.model_validate({"grades": {"a": 0}})


people_lists = st.lists(
    st.tuples(st.floats(-50, 80, allow_nan=False), st.sampled_from(SENIORITIES)), max_size=8
)
profiles = st.fixed_dictionaries({
    "company_size": st.one_of(st.none(), st.integers(0, 2000)),
    "industry": st.one_of(st.none(), st.sampled_from(["software", "retail", ""])),
})  # fmt: skip
specs = st.builds(
    lambda cap, weight, engaged_from, points: AccountModel.model_validate({
        **SPEC.model_dump(exclude={"engagement", "committee"}, exclude_none=True, by_alias=True),
        "engagement": {"weight": weight, "cap_per_person": cap},
        "committee": {"engaged_from": engaged_from, "points": points}}),
    st.floats(0.5, 40), st.floats(0, 3), st.floats(0.5, 20),
    st.dictionaries(st.sampled_from(SENIORITIES[:-1]), st.floats(0, 10), max_size=4),
)  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, accounts=st.lists(st.tuples(profiles, people_lists), min_size=1, max_size=6))
def test_the_vectorised_engine_equals_the_per_account_one(
    spec: AccountModel, accounts: list[tuple[dict[str, Any], list[tuple[float, str | None]]]]
) -> None:
    expected, rows, people = {}, [], []
    for account_id, (profile, members) in enumerate(accounts, start=1):
        persons = [Person(account_id * 100 + i, e, s) for i, (e, s) in enumerate(members)]
        card = evaluate_account(spec, profile, persons)
        expected[account_id] = (card.score, card.grade, card.fit_points, card.engagement_points,
                                card.committee_points, card.engaged, card.people)  # fmt: skip
        rows.append({"account_id": account_id, **profile})
        people += [{"account_id": account_id, "engagement": p.engagement,
                    "seniority": p.seniority} for p in persons]  # fmt: skip
    frame = score_accounts(
        spec, pl.DataFrame(rows, schema={"account_id": pl.Int64, "company_size": pl.Int64,
                                         "industry": pl.String}),
        pl.DataFrame(people, schema={"account_id": pl.Int64, "engagement": pl.Float64,
                                     "seniority": pl.String}),
    )  # fmt: skip
    got = {r["account_id"]: (r["score"], r["grade"], r["fit_points"], r["engagement_points"],
                             r["committee_points"], r["engaged"], r["people"])
           for r in frame.iter_rows(named=True)}  # fmt: skip
    assert got.keys() == expected.keys()
    for account_id, want in expected.items():
        assert got[account_id][1] == want[1] and got[account_id][5:] == want[5:]
        assert got[account_id][0] == pytest.approx(want[0], rel=1e-12, abs=1e-9)
        assert got[account_id][2:5] == pytest.approx(want[2:5], rel=1e-12, abs=1e-9)
