"""A chunk's score cards show each fit criterion's matched value, worked out once per distinct
values the criterion reads: whatever the leads, each line shows what matching that lead alone
shows, traps included (``True`` and ``1`` are one key to a dict, not to a condition)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadq.domain.scoring.evaluate import ShownValues, fit_points
from leadq.domain.scoring.model import FitCriterion, ScoringModel
from tests.scoring_strategies import any_model, awkward_model, awkward_profiles, leads

TRAPS = [True, 1, 1.0, 0, False, 0.0, -0.0, "1", "true", None, [1], {"a": 1}, float("nan")]
TRAP_MODEL = ScoringModel.model_validate({
    "name": "traps", "grades": {"cold": 0, "hot": 10},
    "fit": [
        {"id": "one", "points": 1, "when": {"attributes.flag": {"eq": 1}}},
        {"id": "yes", "points": 2, "when": {"attributes.flag": {"eq": True}}},
        {"id": "both", "points": 4, "when": {"attributes.flag": {"exists": True},
                                             "company_size": {"gte": 0}}},
        {"id": "stepped", "levels": [{"level": 2, "when": {"company_size": {"gte": 100}}},
                                     {"level": 1, "when": {"country": "PL"}}]},
    ],
})  # fmt: skip


def _nested(profile: dict[str, Any]) -> dict[str, Any]:
    lead = {k: v for k, v in profile.items() if not k.startswith("attributes.")}
    lead["attributes"] = {k.removeprefix("attributes."): v for k, v in profile.items()
                          if k.startswith("attributes.")}  # fmt: skip
    return lead


def _assert_each_shows_its_own(model: ScoringModel, profiles: list[dict[str, Any]]) -> None:
    shown = ShownValues()
    for _ in range(2):  # the second pass reads every value back from what was remembered
        for lead in map(_nested, profiles):
            for criterion in model.criteria():
                if isinstance(criterion, FitCriterion):
                    expected = fit_points(criterion, lead)[0]
                    got = shown.of(criterion, lead)
                    assert repr(got) == repr(expected), (criterion.id, lead)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_model, leads)
def test_each_line_shows_what_matching_its_lead_alone_shows(
    model: ScoringModel, profiles: list[dict[str, Any]]
) -> None:
    _assert_each_shows_its_own(model, profiles)


@given(st.lists(st.fixed_dictionaries({
    "attributes.flag": st.sampled_from(TRAPS),
    "company_size": st.sampled_from([None, 0, 100, 100.0, True, "100"]),
    "country": st.sampled_from([None, "PL", "pl", 1]),
}), min_size=1, max_size=12))  # fmt: skip
def test_values_equal_to_a_dict_but_not_to_a_condition_are_told_apart(
    profiles: list[dict[str, Any]],
) -> None:
    _assert_each_shows_its_own(TRAP_MODEL, profiles)


def test_awkward_numbers_and_text_show_alike() -> None:
    _assert_each_shows_its_own(awkward_model(), awkward_profiles())
