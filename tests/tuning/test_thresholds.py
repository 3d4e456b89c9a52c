"""Grade lines from sales capacity: the replay decides, a thin history is refused in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from leadq.domain.scoring.evaluate import grade_of
from leadq.domain.scoring.thresholds import Pace, Replay, ThresholdError, suggest
from leadq.services.scoring import rescoring as scoring
from leadq.services.scoring import thresholds
from leadq.store.db import Database
from leadq.store.tables import AuditEntry
from tests.cli import invoke
from tests.tuning.history import HORIZON, add_model, build, per_week_at_or_above

WEEKS, CAPACITY = 12, 10.0


def test_the_hot_line_sends_about_the_capacity_a_week_in_the_replay(
    db: Database, now: datetime
) -> None:
    """Every lead's stored score is 99 and each piled up events after its decision moment:
    a line read from today's scores would send far fewer than asked."""
    past = build(db, now, weeks=WEEKS, per_week=25)
    reference = add_model(db, now)
    with db.unit_of_work() as session:
        found = thresholds.propose(session, reference, Pace.parse("10/week"), HORIZON, now)
    hot, warm = found.grades["hot"], found.grades["warm"]
    assert per_week_at_or_above(past, hot, WEEKS) == pytest.approx(CAPACITY, rel=0.1)
    converted = [lead for lead in past if lead.converted]
    held = sum(lead.score_then >= warm for lead in converted) / len(converted)
    assert 0.8 <= held < 0.9, "warm is the highest line holding 80 % of conversions"
    assert found.leads == len(past) and found.conversions == len(converted)
    # the replay counts weeks from the first arrival to the last, a little short of 12
    assert found.proposed[0].per_week == pytest.approx(per_week_at_or_above(past, hot, WEEKS),
                                                       rel=0.03)  # fmt: skip
    assert "10.0" in found.sentences()[1] and "hot from" in found.sentences()[1].lower()


def test_applying_adds_an_audited_version_with_the_lines_and_keeps_the_active_one(
    db: Database, now: datetime
) -> None:
    build(db, now, weeks=5, per_week=25)
    reference = add_model(db, now)
    with db.unit_of_work() as session:
        found = thresholds.propose(session, reference, Pace.parse("2/day"), HORIZON, now)
        added = thresholds.apply(session, reference, found, now, "anna")
    with db.reading() as session:
        model = scoring.model_of(scoring.find_version(session, "tuned@2"))
        active = scoring.active_model(session)
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "model.thresholds_applied")).one()  # fmt: skip
    assert model.grades == found.grades and (added.name, added.version) == ("tuned", 2)
    assert active is not None and active.ref == "tuned@1"
    assert entry.actor == "anna" and entry.details["from"] == "tuned@1"
    assert entry.details["capacity_per_week"] == 14.0


def test_a_thin_history_is_refused_with_the_reason(db: Database, now: datetime) -> None:
    build(db, now, weeks=2, per_week=60)
    reference = add_model(db, now)
    with db.unit_of_work() as session, pytest.raises(thresholds.SuggestionRefused,
                                                     match="at least 4 weeks"):  # fmt: skip
        thresholds.propose(session, reference, Pace.parse("10/week"), HORIZON, now)


def test_the_command_prints_the_proposal_and_refuses_bad_capacities(
    db: Database, now: datetime, tmp_path: Path
) -> None:
    build(db, now, weeks=5, per_week=25)
    add_model(db, now)
    env = {"LEADQ_DATABASE_URL": db.url}
    shown = invoke(tmp_path, ["thresholds", "suggest", "--capacity", "10/week", "--apply"], env)
    assert shown.returncode == 0, shown.stderr
    assert "Replayed 125 past leads" in shown.stdout and "Added tuned@2" in shown.stdout
    for bad in ["ten", "-5/week", "40/fortnight", "1e400/week", "nan", "", "4\x00/week",
                "9" * 400, "10/week/rep"]:  # fmt: skip
        refused = invoke(tmp_path, ["thresholds", "suggest", "--capacity", bad], env)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "capacity" in refused.stderr, bad
    missing = invoke(tmp_path, ["thresholds", "suggest", "--capacity", "9/week", "--model",
                                "nope"], env)  # fmt: skip
    assert missing.returncode != 0 and "nope" in missing.stderr


# -- the pure proposal -------------------------------------------------------------------------


def _replay(scores: list[float], weeks: int = 10, every_third_wins: bool = True) -> Replay:
    start = datetime(2026, 1, 5, tzinfo=UTC)
    span = timedelta(weeks=weeks)
    arrivals = [start + span * i / (len(scores) - 1) for i in range(len(scores))]
    return Replay(scores, arrivals, [int(i % 3 == 0) for i in range(len(scores))])


@pytest.mark.parametrize("asked", ["5/week", "12/week", "3/day", "100/month"])
def test_the_line_meets_the_pace_on_spread_scores(asked: str) -> None:
    scores = [float((i * 37) % 101) for i in range(600)]
    found = suggest("m@1", {"cold": 0, "warm": 40, "hot": 70}, _replay(scores), Pace.parse(asked))
    sent = sum(s >= found.grades["hot"] for s in scores) / 10
    assert sent == pytest.approx(Pace.parse(asked).per_week, rel=0.1)
    assert [grade_of(found.grades, s) for s in (-1.0, 100.0)] == ["cold", "hot"]


def test_lower_grades_stay_below_the_new_lines() -> None:
    """A four-grade model whose middle line would sit above the new warm line is re-spaced,
    so thresholds still rise strictly."""
    scores = [float(i % 30) for i in range(400)]
    grades = {"d": 0.0, "c": 26.0, "b": 27.0, "a": 28.0}
    found = suggest("m@1", grades, _replay(scores), Pace.parse("10/week"))
    lines = list(found.grades.values())
    assert list(found.grades) == list(grades)
    assert all(a < b for a, b in pairwise(lines))
    assert found.grades["a"] > found.grades["b"]


@pytest.mark.parametrize(("scores", "asked", "reason"), [
    ([5.0] * 200, "5/week", "same replayed score"),
    ([float(i) for i in range(200)], "50/week", "every lead would be in the top grade"),
    ([float(i) for i in range(50)], "2/week", "at least 100"),
])  # fmt: skip
def test_a_proposal_that_cannot_be_made_says_why(scores: list[float], asked: str,
                                                 reason: str) -> None:  # fmt: skip
    with pytest.raises(ThresholdError, match=reason):
        suggest("m@1", {"cold": 0, "warm": 5, "hot": 9}, _replay(scores), Pace.parse(asked))


def test_too_few_conversions_are_refused() -> None:
    replay = _replay([float(i) for i in range(300)])
    replay = Replay(replay.scores, replay.arrivals, [int(i < 3) for i in range(300)])
    with pytest.raises(ThresholdError, match="at least 10 conversions"):
        suggest("m@1", {"cold": 0, "hot": 9}, replay, Pace.parse("5/week"))


def test_per_rep_capacity_counts_the_reps() -> None:
    assert Pace.parse("10/week/rep", reps=4).per_week == 40
    with pytest.raises(ThresholdError, match="per rep"):
        Pace.parse("10/week/rep", reps=0)
