"""Rescoring the whole workspace on the vectorised engine.

Activating a model, the nightly rescore (decay, expiring overrides, rules that count days)
and a predictive role change rescore every lead. Chunk by chunk, leads and the events their
scores count are read in a few set-based queries, scored by ``vectorised.score_frame``, and
only leads whose stored score differs are written, with score history, happenings and
lifecycle moves as real-time rescoring writes them. A lead the engine cannot read exactly
takes the per-lead path in the same transaction: one with overrides or framework answers, one
whose custom fields or event properties have a type the rest of its chunk does not use for
that name, one already scored after ``as_of``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import polars as pl
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from leadq.domain.leads import PROFILE_FIELDS
from leadq.domain.scoring.evaluate import (
    DAY,
    DECAY_ID,
    FLOOR_ID,
    EventFact,
    Line,
    ScoreCard,
    ShownValues,
    criterion_line,
    decay_line,
    floor_line,
    profile_value,
)
from leadq.domain.scoring.model import (
    ACCOUNT_FIELDS,
    EngagementCriterion,
    FitCriterion,
    ScoringModel,
)
from leadq.domain.scoring.vectorised import score_frame
from leadq.services.automation import reactions as automation
from leadq.services.predictive import registry
from leadq.services.qualification import outcomes
from leadq.services.qualification.answers import current_answers
from leadq.services.qualification.lifecycle import progress, situation
from leadq.services.qualification.outcomes import Span
from leadq.services.qualification.rules import Rules, current_rules
from leadq.services.scoring.rescoring import (
    LAST_ACTIVITY,
    Progress,
    active_model,
    announce,
    breakdown_json,
    follow_accounts,
    lead_facts,
    locked,
    rescore,
    rescore_each,
    rescore_leads,
)
from leadq.store.db import Database
from leadq.store.sql import Rows, insert_all, insert_rows, one_of, update_by_id
from leadq.store.tables import DomainEvent, Event, Lead, ScoreChange

CHUNK = 20_000

_COLUMNS = (
    Lead.id, *(getattr(Lead, name) for name in (*PROFILE_FIELDS, *ACCOUNT_FIELDS)),
    Lead.attributes, Lead.overrides, Lead.company_id,
    Lead.score, Lead.grade, Lead.scoring_model, Lead.scored_at, Lead.fit_grade,
    Lead.engagement_grade, Lead.engagement_points, Lead.stage, Lead.stage_changed_at,
    Lead.created_at, Lead.pql, Lead.pql_at, Lead.accepted_at, Lead.last_activity_at,
    Lead.first_event_at, Lead.furthest_stage, Lead.converted_at,
)  # fmt: skip


def rescore_everyone(db: Database, as_of: datetime, reason: str,
                     progress: Progress | None = None) -> tuple[int, int]:  # fmt: skip
    """Every live lead as of ``as_of``; returns (leads, scores changed). Without an active
    model, with a half-life criterion (whose sums the engines round apart) or with a predictive
    model deployed, every lead takes the per-lead path."""
    with db.reading() as session:
        model = active_model(session)
        deployed = registry.deployment(session)
    if model is None or not vectorisable(model) or deployed.champion or deployed.challenger:
        return rescore_each(db, as_of, reason, progress)
    rules, after, total, changed = current_rules(), 0, 0, 0
    while True:
        with db.unit_of_work() as session:
            rows = _chunk_of_leads(session, after)
            if rows:
                changed += _rescore_chunk(session, model, rules, rows, as_of, reason)
        if not rows:
            if model.account is not None:
                with db.unit_of_work() as session:
                    changed += follow_accounts(session, [], model, as_of, everyone=True)
            return total, changed
        after, total = rows[-1].id, total + len(rows)
        if progress:
            progress(len(rows))


def rescore_together(session: Session, reasons: Mapping[int, str], as_of: datetime,
                     activity: Mapping[int, Span] | None = None) -> int:  # fmt: skip
    """Real-time rescoring of many leads at once (an import's chunk), each for its reason, on
    the vectorised engine, storing what ``rescore_leads`` stores lead by lead; the per-lead
    path where the engine cannot. Leads the session holds are expired: their scores were
    written past them. ``activity``, the span of each lead's new events, moves its activity
    first (``outcomes.move_activity``), in the same write as its score where the engine
    scores it: a lead written twice takes an entry in each of its table's indexes twice."""
    model = active_model(session)
    deployed = registry.deployment(session)
    if model is None or not vectorisable(model) or deployed.champion or deployed.challenger:
        outcomes.move_activity(session, dict(activity or {}))
        return sum(rescore_leads(session, ids, as_of, reason)
                   for reason, ids in _by_reason(reasons, reasons).items())  # fmt: skip
    session.flush()  # the leads are read past the session
    query = (select(*_COLUMNS).where(one_of(session, Lead.id, sorted(reasons)),
                                     Lead.erased_at.is_(None))
             .order_by(Lead.id).with_for_update(key_share=True))  # fmt: skip
    rows = session.execute(query).all()
    changed = _rescore_chunk(session, model, current_rules(), rows, as_of, reasons, rewrite=True,
                             activity=activity)  # fmt: skip
    for lead_id in reasons:
        if (held := session.identity_map.get(session.identity_key(Lead, lead_id))) is not None:
            session.expire(held)
    if model.account is not None:
        changed += follow_accounts(session, rows, model, as_of)
    return changed


Reasons = str | Mapping[int, str]
"""Why leads are rescored: one reason for all, or each lead's own."""


def _by_reason(ids: Iterable[int], reasons: Reasons) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for lead_id in sorted(ids):
        grouped[_why(reasons, lead_id)].append(lead_id)
    return grouped


def _why(reasons: Reasons, lead_id: int) -> str:
    return reasons if isinstance(reasons, str) else reasons[lead_id]


def vectorisable(model: ScoringModel) -> bool:
    """Whether the vectorised engine gives the evaluator's results bit for bit."""
    return not any(isinstance(c, EngagementCriterion) and c.half_life_days is not None
                   for c in model.criteria())  # fmt: skip


def _chunk_of_leads(session: Session, after: int) -> Sequence[Row[Any]]:
    """The next live leads by id, locked as every writer locks them."""
    query = (
        select(*_COLUMNS).where(Lead.id > after, Lead.erased_at.is_(None)).order_by(Lead.id)
        .limit(CHUNK).with_for_update(key_share=True)
    )  # fmt: skip
    return session.execute(query).all()


@dataclass
class _Chunk:
    """A chunk's leads as the engine reads them, and the ones it must leave to the evaluator."""

    profiles: dict[int, dict[str, Any]]
    lifecycle_facts: dict[int, list[EventFact]]
    exact: set[int]


def _moved(row: Row[Any], span: Span) -> Any:
    """The row as it reads once its activity moves by ``span`` (as ``move_activity`` moves it)."""
    moved = SimpleNamespace(**row._asdict())
    known = (moved.first_event_at, moved.last_activity_at)
    moved.first_event_at, moved.last_activity_at = outcomes.widened(known, span)
    return moved


def _rescore_chunk(session: Session, model: ScoringModel, rules: Rules, rows: Sequence[Row[Any]],
                   as_of: datetime, reason: Reasons, rewrite: bool = False,
                   activity: Mapping[int, Span] | None = None) -> int:  # fmt: skip
    """``rewrite`` stores every lead's score as of ``as_of``, changed or not, as real-time
    rescoring does; otherwise an unchanged score keeps its breakdown and moment. ``activity``:
    the rows are read as moved by it and stored so (the per-lead path reads them moved)."""
    if activity:
        rows = [_moved(row, activity[row.id]) if row.id in activity else row for row in rows]
    written, chunk = _scored(session, model, rules, rows, as_of, reason, rewrite)
    if activity:
        written.activity = [{"id": r.id, "last_activity_at": r.last_activity_at,
                             "first_event_at": r.first_event_at} for r in rows
                            if r.id in activity and r.id not in chunk.exact]  # fmt: skip
        outcomes.move_activity(session, {i: activity[i] for i in chunk.exact if i in activity})
    written.store(session)
    changed = len(written.history)
    for why, ids in _by_reason(chunk.exact, reason).items():
        changed += rescore(session, session.scalars(locked(ids)), model, as_of, why)
    return changed


def _scored(session: Session, model: ScoringModel, rules: Rules, rows: Sequence[Row[Any]],
            as_of: datetime, reason: Reasons,
            rewrite: bool) -> tuple[_Written, _Chunk]:  # fmt: skip
    """The chunk's writes, and the leads the engine left to the per-lead path."""
    exact = {r.id for r in rows if r.overrides or (r.scored_at and r.scored_at > as_of)}
    wanted = model.uses_frameworks() or any(r.stage in rules.lifecycle.framework_stages
                                            for r in rows)  # fmt: skip
    if wanted:
        exact |= set(current_answers(session, [r.id for r in rows]))
    profiles = {r.id: lead_facts(r) for r in rows if r.id not in exact}
    leads = _lead_frame(model, profiles, exact)
    events, lifecycle_facts = _event_frame(session, model, rules, rows, as_of, exact)
    chunk = _Chunk(profiles, lifecycle_facts, exact)
    scored = _score(model, leads, events, as_of, chunk)
    return _write(session, model, rules, rows, scored, as_of, reason, chunk, rewrite), chunk


@dataclass
class Unstored:
    """What waits for new leads scored before they are inserted (``score_unstored``): their
    score history, their moves' records and their happenings."""

    written: _Written
    happenings: list[Any]
    leads: set[int]

    def store(self, session: Session) -> None:
        """Once the leads are inserted, after the batch's other leads are rescored (happenings
        follow in lead id order, as rescoring them together gives them)."""
        self.written.insert(session)
        session.info.setdefault(automation.PENDING, []).extend(self.happenings)


def score_unstored(session: Session, leads: Sequence[Lead], reasons: Mapping[int, str],
                   as_of: datetime) -> Unstored | None:  # fmt: skip
    """Score new leads, numbered but not yet inserted, so each is written once with its score
    and stage (a row written anew costs an entry in each of the table's indexes): sets their
    columns and returns what waits for them. ``None`` when they must be rescored once stored:
    no model on the vectorised engine, a predictive model deployed, an account section (a new
    lead reads its account's copy), or a lead the engine cannot read exactly."""
    model = active_model(session)
    deployed = registry.deployment(session)
    if (model is None or not vectorisable(model) or model.account is not None
            or deployed.champion or deployed.challenger):  # fmt: skip
        return None
    rows: list[Any] = [SimpleNamespace(**{c.key: lead.__dict__.get(c.key) for c in _COLUMNS})
                       for lead in leads]  # fmt: skip
    pending = session.info.get(automation.PENDING, [])
    session.info[automation.PENDING] = []
    try:
        written, chunk = _scored(session, model, current_rules(), rows, as_of, reasons, True)
        happenings = session.info[automation.PENDING]
    finally:
        session.info[automation.PENDING] = pending
    if chunk.exact or len(written.scores) != len(leads):
        return None
    held = {lead.id: lead.__dict__ for lead in leads}
    for row in (*written.scores, *written.moves):
        held[row["id"]].update(row)
    return Unstored(written, happenings, set(held))


# -- reading into frames -----------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


_DTYPES: dict[str, pl.DataType] = {"bool": pl.Boolean(), "number": pl.Float64(),
                                   "text": pl.String()}  # fmt: skip


def typed_column(name: str, values: Sequence[Any]) -> tuple[pl.Series, list[int]]:
    """One column of one type, as the engine needs, and the positions of values of any other
    type (those rows are left to the evaluator, which reads each value as it is)."""
    kinds = [_kind(v) for v in values if v is not None]
    usable = [k for k in kinds if k != "other"]
    kind = max(set(usable), key=usable.count) if usable else "text"
    odd = [i for i, v in enumerate(values) if v is not None and _kind(v) != kind]
    cells = [None if v is None or _kind(v) != kind else v for v in values]
    if kind == "number":
        cells = [None if v is None else float(v) for v in cells]
    return pl.Series(name, cells, dtype=_DTYPES[kind]), odd


def _lead_frame(model: ScoringModel, profiles: Mapping[int, Mapping[str, Any]],
                exact: set[int]) -> pl.DataFrame:  # fmt: skip
    ids = list(profiles)
    columns = [pl.Series("id", ids, dtype=pl.Int64)]
    for name in sorted(model.profile_fields()):
        column, odd = typed_column(name, [profile_value(profiles[i], name) for i in ids])
        exact.update(ids[i] for i in odd)
        columns.append(column)
    return pl.DataFrame(columns)


def _event_names(model: ScoringModel) -> list[str]:
    return sorted({name for c in model.criteria() if isinstance(c, EngagementCriterion)
                   for name in c.where})  # fmt: skip


def _event_frame(session: Session, model: ScoringModel, rules: Rules, rows: Sequence[Row[Any]],
                 as_of: datetime, exact: set[int],
                 ) -> tuple[pl.DataFrame, dict[int, list[EventFact]]]:  # fmt: skip
    """The events the scores count (the model's types, and for decay each lead's newest event
    as ``LAST_ACTIVITY``), and per lead the events the lifecycle rules count."""
    counted = {c.event for c in model.criteria() if isinstance(c, EngagementCriterion)}
    lifecycle_types = rules.lifecycle.event_types()
    ids = [r.id for r in rows]
    of_rows = (
        Event.lead_id.between(ids[0], ids[-1]) if ids[-1] - ids[0] < 2 * len(ids)
        else one_of(session, Event.lead_id, ids)
    )  # fmt: skip
    in_chunk = of_rows & (Event.occurred_at <= as_of)
    query = select(Event.lead_id, Event.type, Event.occurred_at, Event.channel, Event.properties)
    found = session.execute(query.where(in_chunk, Event.type.in_(counted | lifecycle_types)))
    names = _event_names(model)
    cells: dict[str, list[Any]] = defaultdict(list)
    lifecycle_facts: dict[int, list[EventFact]] = defaultdict(list)
    wanted = set(ids)  # a range of ids also holds erased leads
    for lead_id, kind, at, channel, properties in found:
        if lead_id not in wanted:
            continue
        if kind in lifecycle_types:
            lifecycle_facts[lead_id].append(EventFact(kind, at, properties or {}, channel))
        if kind in counted:
            _add_event(cells, names, lead_id, kind, at, channel, properties or {})
    if model.decay is not None:
        newest = select(Event.lead_id, func.max(Event.occurred_at)).where(in_chunk)
        for lead_id, at in session.execute(newest.group_by(Event.lead_id)):
            if lead_id in wanted:
                _add_event(cells, names, lead_id, LAST_ACTIVITY, at, None, {})
    return _events_of(cells, names, exact), lifecycle_facts


def _add_event(cells: dict[str, list[Any]], names: Iterable[str], lead_id: int, kind: str,
               at: datetime, channel: str | None,
               properties: Mapping[str, Any]) -> None:  # fmt: skip
    cells["lead_id"].append(lead_id)
    cells["type"].append(kind)
    cells["occurred_at"].append(at)
    for name in names:
        cells[name].append(channel if name == "channel" else properties.get(name))


def _events_of(cells: Mapping[str, list[Any]], names: Sequence[str],
               exact: set[int]) -> pl.DataFrame:  # fmt: skip
    lead_ids = cells.get("lead_id", [])
    columns = [
        pl.Series("lead_id", lead_ids, dtype=pl.Int64),
        pl.Series("type", cells.get("type", []), dtype=pl.String),
        pl.Series("occurred_at", cells.get("occurred_at", []), dtype=pl.Datetime("us", "UTC")),
    ]
    for name in names:
        column, odd = typed_column(name, cells.get(name, [None] * len(lead_ids)))
        exact.update(lead_ids[i] for i in odd)
        columns.append(column)
    return pl.DataFrame(columns)


# -- scoring and writing -----------------------------------------------------------------------


def _score(model: ScoringModel, leads: pl.DataFrame, events: pl.DataFrame, as_of: datetime,
           chunk: _Chunk) -> dict[int, dict[str, Any]]:  # fmt: skip
    frame = score_frame(model, leads.lazy(), events.lazy(), as_of, explain=True).collect()
    return {row["id"]: row for row in frame.to_dicts() if row["id"] not in chunk.exact}


def card_of(model: ScoringModel, profile: Mapping[str, Any], row: Mapping[str, Any],
            as_of: datetime, shown: ShownValues) -> ScoreCard:  # fmt: skip
    """The engine's row as the evaluator's score card, each line with the value it shows."""
    lines: list[Line] = []
    for criterion in model.criteria():
        points = row[f"points.{criterion.id}"]
        if isinstance(criterion, FitCriterion):
            value = shown.of(criterion, profile)
        else:
            value = row[f"count.{criterion.id}"]
        lines.append(criterion_line(criterion, value, points))
    if model.decay is not None:
        last = row["last_activity"]
        days = (as_of - last.replace(tzinfo=UTC)) / DAY if last is not None else None
        lines.append(decay_line(days, row[f"points.{DECAY_ID}"]))
    if model.floor is not None and row[f"points.{FLOOR_ID}"] > 0:
        lines.append(floor_line(model.floor, row[f"points.{FLOOR_ID}"]))
    return ScoreCard(model.ref, as_of, row["score"], row["grade"], row["fit_points"],
                     row["engagement_points"], row.get("fit_grade"), row.get("engagement_grade"),
                     lines)  # fmt: skip


def _write(session: Session, model: ScoringModel, rules: Rules, rows: Sequence[Row[Any]],
           scored: Mapping[int, Mapping[str, Any]], as_of: datetime, reason: Reasons,
           chunk: _Chunk, rewrite: bool) -> _Written:  # fmt: skip
    """The scores that changed, then the lifecycle rules' moves, as ``rescoring.rescore``
    makes them one lead at a time."""
    written = _Written()
    grades = list(model.grades)
    shown = ShownValues()
    for row in rows:
        if (engine := scored.get(row.id)) is None:
            continue
        if rewrite or not _same(row, engine, model.ref):
            card = card_of(model, chunk.profiles[row.id], engine, as_of, shown)
            written.score(session, row, card, _why(reason, row.id))
        now = situation(row, chunk.profiles[row.id], engine["score"], engine["grade"], grades,
                        {}, chunk.lifecycle_facts.get(row.id, []), False)  # fmt: skip
        moving = _Moving.of(row)
        if progress(session, moving, rules, now, as_of, written.rows):
            written.moves.append(moving.stored())
    return written


@dataclass
class _Written:
    """A chunk's writes, made together: rows for ``update_by_id`` and for inserts."""

    scores: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    rows: Rows = field(default_factory=dict)
    """What the lifecycle rules record of their moves."""

    def score(self, session: Session, row: Row[Any], card: ScoreCard, reason: str) -> None:
        self.scores.append(_stored(row.id, card))
        if (row.score, row.grade, row.scoring_model) != (card.score, card.grade, card.model):
            change = {"lead_id": row.id, "model": card.model, "score": card.score,
                      "grade": card.grade, "reason": reason, "at": card.as_of}  # fmt: skip
            self.history.append(change)
            announce(session, row.id, row.score, row.grade, card, self.recorded)

    def store(self, session: Session) -> None:
        """A lead whose score and stage both changed is written once: every row written
        anew costs an entry in each of the table's indexes."""
        changed: dict[int, dict[str, Any]] = {row["id"]: row for row in self.scores}
        for move in (*self.moves, *self.activity):
            changed[move["id"]] = {**changed.get(move["id"], {}), **move}
        alike: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in changed.values():
            alike[tuple(row)].append(row)
        for rows in alike.values():
            update_by_id(session, Lead, rows)
        self.insert(session)

    def insert(self, session: Session) -> None:
        """What the leads' scores and moves record beside them."""
        insert_rows(session, ScoreChange, self.history)
        insert_rows(session, DomainEvent, self.recorded)
        insert_all(session, self.rows)


@dataclass
class _Moving:
    """What the lifecycle rules change on a lead, as a record of its columns."""

    id: int
    stage: str
    stage_changed_at: datetime | None
    created_at: datetime
    pql: bool
    pql_at: datetime | None
    accepted_at: datetime | None
    last_activity_at: datetime | None
    furthest_stage: str | None
    converted_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> _Moving:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def stored(self) -> dict[str, Any]:
        """The columns the rules may have changed (``asdict`` would deep-copy each moment: a
        fiftieth of an import's time)."""
        return {name: getattr(self, name) for name in _MOVED}


_MOVED = tuple(name for name in _Moving.__dataclass_fields__
               if name not in ("created_at", "last_activity_at"))  # fmt: skip


def _same(row: Row[Any], engine: Mapping[str, Any], model: str) -> bool:
    """Whether the stored score says what the engine's row says; its breakdown then stays as
    it was, true as of its own ``scored_at``."""
    return (row.score, row.grade, row.scoring_model, row.fit_grade, row.engagement_grade,
            row.engagement_points) == (engine["score"], engine["grade"], model,
                                       engine.get("fit_grade"), engine.get("engagement_grade"),
                                       engine["engagement_points"])  # fmt: skip


def _stored(lead_id: int, card: ScoreCard) -> dict[str, Any]:
    return {"id": lead_id, "score": card.score, "grade": card.grade,
            "fit_grade": card.fit_grade, "engagement_grade": card.engagement_grade,
            "scoring_model": card.model, "scored_at": card.as_of.astimezone(UTC),
            "score_breakdown": breakdown_json(card),
            "engagement_points": card.engagement_points}  # fmt: skip
