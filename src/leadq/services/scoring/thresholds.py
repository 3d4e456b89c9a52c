"""Grade lines from sales capacity: replay history with the backtest machinery, propose lines,
and apply them as a new model version."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from leadq.domain.documents import safe_load
from leadq.domain.scoring.editor import yaml_of
from leadq.domain.scoring.thresholds import Pace, Replay, Suggestion, ThresholdError, suggest
from leadq.services.automation.document import current_automation
from leadq.services.errors import LeadqError
from leadq.services.predictive.history import history
from leadq.services.privacy import audit
from leadq.services.scoring import backtest
from leadq.services.scoring import rescoring as scoring
from leadq.store.tables import ScoringModelVersion


class SuggestionRefused(LeadqError):
    """History too thin or a capacity that cannot be read: the reason says which."""


def pace(text: str) -> Pace:
    """A capacity as written by a person; ``/rep`` counts the reps of the automation teams."""
    reps = {m.name for team in current_automation().teams.values() for m in team.members}
    try:
        return Pace.parse(text, len(reps))
    except ThresholdError as exc:
        raise SuggestionRefused(str(exc)) from None


def propose(session: Session, reference: str, capacity: Pace, horizon: timedelta,
            now: datetime, warm_share: float = 0.8) -> Suggestion:  # fmt: skip
    """Lines for model ``reference`` from its replay over the workspace's past leads, each
    scored ``horizon`` after it arrived."""
    model = scoring.model_of(scoring.find_version(session, reference))
    past = history(session, horizon, now, types=[])
    ids = sorted(past.moments)
    cards = backtest.replay(session, model, past.moments, ids)
    replay = Replay([card.score for card in cards], [past.moments[i] - horizon for i in ids],
                    [past.outcomes[i] for i in ids])  # fmt: skip
    try:
        return suggest(model.ref, model.grades, replay, capacity, warm_share)
    except ThresholdError as exc:
        raise SuggestionRefused(str(exc)) from None


def apply(session: Session, reference: str, suggestion: Suggestion, now: datetime,
          actor: str) -> ScoringModelVersion:  # fmt: skip
    """The model with the proposed lines, as its next version (not active until activated)."""
    source = scoring.find_version(session, reference)
    document = safe_load(source.document)
    document["grades"] = suggestion.grades
    document.pop("version", None)
    row = scoring.add_model(session, yaml_of(document), f"{source.name}@{source.version}", now,
                            actor)  # fmt: skip
    details = {"from": f"{source.name}@{source.version}", "model": f"{row.name}@{row.version}",
               "capacity_per_week": round(suggestion.pace.per_week, 2),
               "capacity": audit.Code(suggestion.pace.text), "grades": suggestion.grades,
               "replayed_leads": suggestion.leads, "weeks": round(suggestion.weeks, 2)}  # fmt: skip
    audit.record(session, actor, "model.thresholds_applied", "scoring_model", row.id, details, now)
    return row
