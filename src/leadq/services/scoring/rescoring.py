"""Scoring use cases: workspace model versions, real-time rescoring, rescoring everyone.

The score stored on a lead is a cache of ``evaluate``: written with the model version that
produced it, every change kept in the score history, and a grade crossing recorded as a
domain event for automation to consume.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from hashlib import sha256
from typing import Any

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.orm import Session

from leadq.domain.frameworks import scoring_facts
from leadq.domain.leads import PROFILE_FIELDS
from leadq.domain.scoring.evaluate import EventFact, Line, ScoreCard, evaluate, settles
from leadq.domain.scoring.model import ACCOUNT_FIELDS, EngagementCriterion, ScoringModel
from leadq.domain.scoring.overrides import Override, overridden, stage_pinned
from leadq.services.automation import reactions as automation
from leadq.services.predictive import registry
from leadq.services.privacy import audit
from leadq.services.qualification.answers import Answers, assessments, current_answers, values
from leadq.services.qualification.lifecycle import progress, situation
from leadq.services.qualification.rules import Rules, current_rules
from leadq.services.scoring import accounts, versions
from leadq.services.scoring.documents import parse
from leadq.services.scoring.versions import every_version, next_version
from leadq.store.db import Database
from leadq.store.tables import (
    Event,
    Lead,
    ManualOverride,
    ScoreChange,
    ScoringModelVersion,
)

LAST_ACTIVITY = "_last_activity"
"""Not an event type (types are slugs): the newest event of any type, which decay counts."""
GRADE_CHANGED = "lead.grade_changed"
SCORE_CHANGED = "lead.score_changed"


def add_model(session: Session, text: str, file: str, now: datetime,
              actor: str = "system") -> ScoringModelVersion:  # fmt: skip
    """Store a new version of a model (versions count up per name); it is not active yet."""
    model = parse(text, file)
    version = next_version(session, ScoringModelVersion, model.name)
    row = ScoringModelVersion(name=model.name, version=version, document=text, active=False,
                              created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    details = {"model": f"{row.name}@{row.version}", "sha256": sha256(text.encode()).hexdigest()}
    audit.record(session, actor, "model.added", "scoring_model", row.id, details, now)
    return row


def same_as(session: Session, text: str) -> ScoringModelVersion | None:
    """The stored version of this document's model that says the same (whatever its version
    line or spacing), if one is: adding it again would only make a copy."""
    model = parse(text, "draft")
    named = select(ScoringModelVersion).where(ScoringModelVersion.name == model.name)
    rows = session.scalars(named.order_by(ScoringModelVersion.version.desc()))
    return next((row for row in rows if model_of(row).content() == model.content()), None)


def list_models(session: Session) -> list[ScoringModelVersion]:
    return every_version(session, ScoringModelVersion)


def find_version(session: Session, reference: str) -> ScoringModelVersion:
    """``name`` (newest version) or ``name@version``."""
    return versions.find_version(session, ScoringModelVersion, reference, "model")


def model_of(row: ScoringModelVersion) -> ScoringModel:
    return _parsed(row.name, row.version, row.document)


@lru_cache(maxsize=64)
def _parsed(name: str, version: int, document: str) -> ScoringModel:
    """Parsing is cached by content, so real-time rescoring does not re-read YAML."""
    return parse(document, f"{name}@{version}").model_copy(update={"version": version})


def active_model(session: Session) -> ScoringModel | None:
    row = session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).first()
    return None if row is None else model_of(row)


def activate(session: Session, reference: str, now: datetime,
             actor: str = "system") -> ScoringModelVersion:  # fmt: skip
    row = find_version(session, reference)
    before = session.scalars(select(ScoringModelVersion).where(ScoringModelVersion.active)).first()
    session.execute(update(ScoringModelVersion).values(active=False))
    row.active, row.activated_at = True, now
    session.flush()
    details = {"model": f"{row.name}@{row.version}",
               "replaced": f"{before.name}@{before.version}" if before else None}  # fmt: skip
    audit.record(session, actor, "model.activated", "scoring_model", row.id, details, now)
    return row


# -- rescoring ---------------------------------------------------------------------------------


def _settled(model: ScoringModel, lead: Lead, as_of: datetime) -> dict[str, Line]:
    """Lines of the lead's stored breakdown that can be reused as they are (see ``settles``)."""
    if (lead.scoring_model != model.ref or not lead.score_breakdown or lead.scored_at is None
            or as_of < lead.scored_at):  # fmt: skip
        return {}
    criteria = {c.id: c for c in model.criteria()}
    lines = (Line(**line) for line in lead.score_breakdown)
    return {x.criterion: x for x in lines
            if x.criterion in criteria and settles(criteria[x.criterion], x)}  # fmt: skip


def _needed_types(model: ScoringModel, settled: Iterable[dict[str, Line]]) -> set[str]:
    """Event types some lead still needs counted."""
    engagement = [c for c in model.criteria() if isinstance(c, EngagementCriterion)]
    return {c.event for lines in settled for c in engagement if c.id not in lines}


def _facts(session: Session, model: ScoringModel | None, lead_ids: Sequence[int],
           as_of: datetime, types: set[str]) -> dict[int, list[EventFact]]:  # fmt: skip
    """The events the leads' scores depend on: the given types, and for decay the last event
    of any type."""
    facts: dict[int, list[EventFact]] = defaultdict(list)
    query = select(Event.lead_id, Event.type, Event.occurred_at, Event.properties, Event.channel)
    query = query.where(
        Event.lead_id.in_(lead_ids), Event.occurred_at <= as_of, Event.type.in_(types)
    )
    for lead_id, kind, at, properties, channel in session.execute(query) if types else ():
        facts[lead_id].append(EventFact(kind, at, properties or {}, channel))
    if model is not None and model.decay is not None:
        last = (
            select(Event.lead_id, func.max(Event.occurred_at))
            .where(Event.lead_id.in_(lead_ids), Event.occurred_at <= as_of)
            .group_by(Event.lead_id)
        )
        for lead_id, at in session.execute(last):
            if at is not None and not any(f.occurred_at == at for f in facts[lead_id]):
                facts[lead_id].append(EventFact(LAST_ACTIVITY, at))
    return facts


def override_json(row: ManualOverride) -> dict[str, Any]:
    """How an override is cached on its lead."""
    return {"id": row.id, "kind": row.kind, "reason": row.reason, "actor": row.actor,
            "created_at": row.created_at.isoformat(), "points": row.points, "grade": row.grade,
            "stage": row.stage,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None}  # fmt: skip


def lead_overrides(lead: Lead) -> list[Override]:
    """The lead's overrides nobody removed, from its cache (expired ones too: whether one
    holds depends on the moment)."""
    return [
        Override(o["id"], o["kind"], o["reason"], o["actor"],
                 datetime.fromisoformat(o["created_at"]),
                 datetime.fromisoformat(o["expires_at"]) if o["expires_at"] else None,
                 o["points"], o["grade"], o["stage"])
        for o in lead.overrides or []
    ]  # fmt: skip


def lead_facts(lead: Lead | Row[Any],
               frameworks: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    """What a scoring model sees of a lead (a ``Lead``, or a row of its columns)."""
    profile = {name: getattr(lead, name) for name in (*PROFILE_FIELDS, *ACCOUNT_FIELDS)}
    return {**profile, "attributes": lead.attributes or {}, "framework": frameworks or {}}


def breakdown_json(card: ScoreCard) -> list[dict[str, Any]]:
    return [{"criterion": line.criterion, "label": line.label, "value": line.value,
             "points": line.points} for line in card.breakdown]  # fmt: skip


@dataclass(frozen=True)
class _Chunk:
    """What a chunk of leads' scores and lifecycle rules need, loaded in a few queries."""

    facts: dict[int, list[EventFact]]
    answers: dict[int, Answers]


def _load(session: Session, chunk: Sequence[Lead], model: ScoringModel | None, rules: Rules,
          as_of: datetime, settled: Sequence[dict[str, Line]]) -> _Chunk:  # fmt: skip
    ids = [lead.id for lead in chunk]
    types = _needed_types(model, settled) if model is not None else set()
    types |= rules.lifecycle.event_types(flags=not all(lead.pql for lead in chunk))
    stages = rules.lifecycle.framework_stages
    wanted = (model is not None and model.uses_frameworks()) or any(
        lead.stage in stages for lead in chunk
    )
    answers = current_answers(session, ids) if wanted else {}
    return _Chunk(_facts(session, model, ids, as_of, types), answers)


def rescore(session: Session, leads: Iterable[Lead], model: ScoringModel | None,
            as_of: datetime, reason: str, with_accounts: bool = True) -> int:  # fmt: skip
    """Recompute and store the leads' scores, then let the lifecycle rules move them; returns
    how many scores changed. A stored score never moves back in time: concurrent requests
    read the clock before they queue for the lead, so each lead is scored as of the later of
    ``as_of`` and its last scoring. Their accounts are rescored after them, and when an
    account moved and the model reads accounts, its other leads too."""
    rules = current_rules()
    changed = 0
    moments = _by_moment(leads, as_of)
    for moment, group in moments:
        for start in range(0, len(group), 1000):
            chunk = group[start : start + 1000]
            settled = [_settled(model, lead, moment) if model else {} for lead in chunk]
            loaded = _load(session, chunk, model, rules, moment, settled)
            for lead, known in zip(chunk, settled, strict=True):
                changed += _rescore_one(session, lead, model, rules, loaded, moment, known, reason)
            registry.predict_leads(session, chunk, moment)
    if with_accounts and model is not None and model.account is not None:
        changed += follow_accounts(session, [lead for _, g in moments for lead in g], model,
                                    as_of)  # fmt: skip
    return changed


def follow_accounts(
    session: Session,
    leads: Sequence[Lead | Row[Any]],
    model: ScoringModel,
    as_of: datetime,
    everyone: bool = False,
) -> int:
    """Rescore the accounts of these leads (``everyone``: every account); if the model reads
    accounts, the leads of an account that moved are rescored again with its new grade."""
    if everyone:
        moved = accounts.rescore_every_account(session, model, as_of)
    else:
        caused_by = {lead.company_id: lead.id for lead in leads if lead.company_id is not None}
        moved = accounts.rescore_accounts(session, caused_by, model, as_of, caused_by)
    if not moved or not accounts.reads_accounts(model):
        return 0
    members = session.scalars(locked(list(session.scalars(
        select(Lead.id).where(Lead.company_id.in_(moved)))))).all()  # fmt: skip
    return rescore(session, members, model, as_of, "account changed", with_accounts=False)


def _by_moment(leads: Iterable[Lead], as_of: datetime) -> list[tuple[datetime, list[Lead]]]:
    """The leads by the moment each is scored as of: events are loaded per moment, so a lead
    scored earlier never sees (as its last activity) an event after its own moment."""
    groups: dict[datetime, list[Lead]] = defaultdict(list)
    for lead in leads:
        groups[max(as_of, lead.scored_at) if lead.scored_at else as_of].append(lead)
    return sorted(groups.items())


def _rescore_one(session: Session, lead: Lead, model: ScoringModel | None, rules: Rules,
                 loaded: _Chunk, moment: datetime, known: dict[str, Line],
                 reason: str) -> bool:  # fmt: skip
    events = loaded.facts.get(lead.id, [])
    overrides = lead_overrides(lead)
    given = loaded.answers.get(lead.id, {})
    verdicts = assessments(rules.frameworks, given)
    frameworks = scoring_facts(verdicts, {name: values(a) for name, a in given.items()})
    profile = lead_facts(lead, frameworks)
    score, grade, grades, changed = lead.score, lead.grade, list[str](), False
    if model is not None:
        card = evaluate(model, profile, events, moment, known)
        card = overridden(card, overrides, model.grades, moment)
        changed = _store(session, lead, card, reason)
        score, grade, grades = card.score, card.grade, list(model.grades)
    pinned = stage_pinned(overrides, moment)
    now = situation(lead, profile, score, grade, grades, verdicts, events, pinned)
    progress(session, lead, rules, now, moment)
    return changed


def _store(session: Session, lead: Lead, card: ScoreCard, reason: str) -> bool:
    before = (lead.score, lead.grade, lead.scoring_model)
    lead.score, lead.grade = card.score, card.grade
    lead.fit_grade, lead.engagement_grade = card.fit_grade, card.engagement_grade
    lead.scoring_model, lead.scored_at = card.model, card.as_of
    lead.score_breakdown = breakdown_json(card)
    lead.engagement_points = card.engagement_points
    if before == (card.score, card.grade, card.model):
        return False
    session.add(ScoreChange(lead_id=lead.id, model=card.model, score=card.score,
                            grade=card.grade, reason=reason, at=card.as_of))  # fmt: skip
    announce(session, lead.id, before[0], before[1], card)
    return True


def announce(session: Session, lead_id: int, score: float | None, grade: str | None,
             card: ScoreCard, recorded: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
    """The happenings of a stored score that moved from ``score`` and ``grade``; a grade
    change is a domain event, added to the session or, given ``recorded``, appended to it as a
    row for the caller to insert with others."""
    if score != card.score:
        moved = {"before": score, "score": card.score, "model": card.model}
        automation.emit(session, SCORE_CHANGED, lead_id, moved, card.as_of, record=False)
    if grade != card.grade:
        payload = {"from": grade, "to": card.grade, "score": card.score, "model": card.model}
        automation.emit(session, GRADE_CHANGED, lead_id, payload, card.as_of, recorded is None)
        if recorded is not None:
            recorded.append({"type": GRADE_CHANGED, "lead_id": lead_id, "payload": payload,
                             "at": card.as_of})  # fmt: skip


def locked(lead_ids: Sequence[int]) -> Select[Lead]:
    """Leads locked in id order (the order every writer uses, so writers never deadlock),
    ``FOR NO KEY UPDATE`` so inserts of their events are not blocked."""
    return (
        select(Lead).where(Lead.id.in_(lead_ids), Lead.erased_at.is_(None)).order_by(Lead.id)
        .with_for_update(key_share=True)
    )  # fmt: skip


def rescore_leads(session: Session, lead_ids: Sequence[int], as_of: datetime, reason: str) -> int:
    """Real time: rescore these leads with the active model, if there is one, and apply the
    lifecycle rules."""
    if not lead_ids:
        return 0
    leads = session.scalars(locked(lead_ids))
    return rescore(session, leads, active_model(session), as_of, reason)


Progress = Callable[[int], None]


def rescore_each(db: Database, as_of: datetime, reason: str,
                 progress: Progress | None = None) -> tuple[int, int]:  # fmt: skip
    """Every lead as of ``as_of``, one lead at a time through the evaluator, in transactions of
    1,000 (what ``bulk.rescore_everyone`` does when the vectorised engine cannot)."""
    with db.reading() as session:
        model = active_model(session)
        live = select(Lead.id).where(Lead.erased_at.is_(None))  # an erased shell stays as is
        ids = list(session.scalars(live.order_by(Lead.id)))
    changed = 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with db.unit_of_work() as session:
            leads = session.scalars(locked(chunk))
            changed += rescore(session, leads, model, as_of, reason)
        if progress:
            progress(len(chunk))
    return len(ids), changed
