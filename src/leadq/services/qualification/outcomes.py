"""What analytics counts per lead, kept on the lead: its first event, when it converted, the
revenue of its purchases, and the furthest funnel stage it reached.

Analytics and the dashboard then read one row per lead instead of grouping every event and stage
change of the workspace on each request (at a million leads and ten million events: seconds
instead of minutes). Where history only grows, the facts move on in place (a stage change:
``moved``; a first event: ``move_activity``, by intake or the rescoring queue); where it moves
between leads or a purchase arrives, they are recomputed from history in SQL (``refresh``), the
statement that also fills a whole workspace after a bulk load or an upgrade. A test holds the
kept facts equal to a full recomputation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.functions import Function

from leadq.domain.boundary import MAX_MAGNITUDE
from leadq.domain.scoring.evaluate import DECAY_ID
from leadq.domain.scoring.model import EngagementCriterion
from leadq.services.predictive.history import CONVERTED_STAGE, CONVERTING_EVENT
from leadq.store.sql import driver_cursor, on_postgres
from leadq.store.tables import Event, Lead, StageChange, naive_utc

FUNNEL = ("iql", "mql", "sal", "sql", "opportunity", "customer")
"""The stages a lead moves up through; any other stage (nurture, disqualified…) ranks as iql."""
QUALIFIED_STAGES = FUNNEL[1:]
FACTS = ("first_event_at", "converted_at", "revenue", "furthest_stage")


class JsonReads:
    """The JSON reads analytics needs, spelled for the session's database."""

    def __init__(self, session: Session) -> None:
        self.postgres = on_postgres(session)

    def number(self, document: Any, key: str) -> ColumnElement[float]:
        """``document[key]`` when it is a JSON number within ``MAX_MAGNITUDE``, else NULL: an
        event stored before the intake bounded numbers cannot overflow a sum (read exactly as
        NUMERIC first, turned into a double only once it is known to fit)."""
        if self.postgres:
            value = func.jsonb_extract_path(document, key)
            exact = func.jsonb_extract_path_text(document, key).cast(Numeric)
            fits = case((func.abs(exact) <= MAX_MAGNITUDE, exact.cast(Float)))
            return case((func.jsonb_typeof(value) == "number", fits))
        path = f"$.{key}"
        kind = func.json_type(document, path)
        number = func.json_extract(document, path, type_=Float)
        return case((kind.in_(("integer", "real")),
                     case((func.abs(number) <= MAX_MAGNITUDE, number))))  # fmt: skip

    def text(self, document: Any, key: str) -> ColumnElement[str]:
        if self.postgres:
            return func.jsonb_extract_path_text(document, key)
        return func.json_extract(document, f"$.{key}")

    def elements(self, document: Any) -> Function[Any]:
        if self.postgres:
            array = case((func.jsonb_typeof(document) == "array", document))
            return func.jsonb_array_elements(array)
        return func.json_each(document)


RANK = {name: rank for rank, name in enumerate(FUNNEL)}


class Funnel(Protocol):
    """How far a lead (a ``Lead``, or a record of its columns) has come."""

    furthest_stage: str | None
    converted_at: datetime | None


def moved(lead: Funnel, stage: str, at: datetime) -> None:
    """A stage change (or a new lead's first stage) moves the facts on as ``refresh`` would
    find them, without a statement: the furthest stage, and becoming a customer converts."""
    reached = max(RANK.get(lead.furthest_stage or "", 0), RANK.get(stage, 0))
    lead.furthest_stage = FUNNEL[reached]
    if stage == CONVERTED_STAGE and (lead.converted_at is None or at < lead.converted_at):
        lead.converted_at = at


Span = tuple[datetime, datetime]
"""The earliest and the latest moment of a lead's new events."""


def spans(moments: Sequence[tuple[int, datetime, datetime]]) -> dict[int, Span]:
    """(lead, earliest, latest) triples folded into one span per lead."""
    found: dict[int, Span] = {}
    for lead, first, last in moments:
        found[lead] = widened(found.get(lead), (first, last))
    return found


def widened(known: tuple[datetime | None, datetime | None] | None, span: Span) -> Span:
    """A first event and last activity (either may be missing) once new events of ``span``
    arrive: the earlier first, the later last, as ``move_activity`` writes them."""
    first, last = known or (None, None)
    return (span[0] if first is None else min(first, span[0]),
            span[1] if last is None else max(last, span[1]))  # fmt: skip


def move_activity(session: Session, activity: dict[int, Span]) -> int:
    """New events move each lead's last activity forward and its first event back (a purchase
    changes more of what analytics reads: ``refresh``). The caller has locked the leads, in id
    order. Returns how many of the leads exist and take events."""
    ids = sorted(activity)
    if on_postgres(session) and len(ids) > 1:
        arrays = [ids, [naive_utc(activity[k][0]) for k in ids],
                  [naive_utc(activity[k][1]) for k in ids]]  # fmt: skip
        cursor = driver_cursor(session)
        cursor.execute(_MOVE_ARRAYS, arrays)
        return int(cursor.rowcount)
    rows = [{"lead": k, "first": activity[k][0], "when": activity[k][1]} for k in ids]
    return session.connection().execute(_MOVE, rows).rowcount if rows else 0


_MOVE = (
    update(Lead)
    .where(Lead.id == bindparam("lead"), Lead.erased_at.is_(None), Lead.merged_into_id.is_(None))
    .values(
        last_activity_at=case(
            (or_(Lead.last_activity_at.is_(None), Lead.last_activity_at < bindparam("when")),
             bindparam("when")),
            else_=Lead.last_activity_at,
        ),
        first_event_at=case(
            (or_(Lead.first_event_at.is_(None), Lead.first_event_at > bindparam("first")),
             bindparam("first")),
            else_=Lead.first_event_at,
        ),
    )
)  # fmt: skip
_MOVE_ARRAYS = (
    "UPDATE leads SET"
    " last_activity_at = CASE WHEN last_activity_at IS NULL OR last_activity_at < t.last"
    " THEN t.last ELSE last_activity_at END,"
    " first_event_at = CASE WHEN first_event_at IS NULL OR first_event_at > t.first"
    " THEN t.first ELSE first_event_at END"
    " FROM unnest(%b::integer[], %b::timestamp[], %b::timestamp[]) AS t(id, first, last)"
    " WHERE leads.id = t.id AND leads.erased_at IS NULL AND leads.merged_into_id IS NULL"
)
"""PostgreSQL: ``_MOVE`` for many leads in one statement, its arrays sent in binary."""


def _rank(stage: Any) -> ColumnElement[int]:
    return case(RANK, value=stage, else_=0)


def earliest(session: Session, first: Any, second: Any) -> ColumnElement[Any]:
    """The earlier of two moments, either of which may be missing."""
    if on_postgres(session):
        return func.least(first, second)  # LEAST skips NULLs
    return func.coalesce(func.min(first, second), first, second)  # SQLite's min does not


def _facts(session: Session, leads: Sequence[int] | None) -> Any:
    """Per lead, from its history: first event, first purchase and revenue, first move to
    customer, furthest funnel rank."""
    json = JsonReads(session)
    purchase = Event.type == CONVERTING_EVENT
    amount = func.coalesce(json.number(Event.properties, "amount"),
                           json.number(Event.properties, "value"))  # fmt: skip
    events = (
        select(Event.lead_id, func.min(Event.occurred_at).label("first"),
               func.min(case((purchase, Event.occurred_at))).label("bought"),
               func.sum(case((purchase, amount))).label("revenue"))
        .group_by(Event.lead_id)
    )  # fmt: skip
    stages = select(
        StageChange.lead_id,
        func.max(_rank(StageChange.to_stage)).label("rank"),
        func.min(case((StageChange.to_stage == CONVERTED_STAGE, StageChange.at))).label("won"),
    ).group_by(StageChange.lead_id)
    chosen = select(Lead.id, Lead.stage)
    if leads is not None:
        events = events.where(Event.lead_id.in_(leads))
        stages = stages.where(StageChange.lead_id.in_(leads))
        chosen = chosen.where(Lead.id.in_(leads))
    e, s = events.subquery(), stages.subquery()
    current = _rank(Lead.stage)
    furthest = case((s.c.rank > current, s.c.rank), else_=current)
    ranks = {rank: name for rank, name in enumerate(FUNNEL)}
    return (
        chosen.add_columns(e.c.first, earliest(session, e.c.bought, s.c.won).label("converted"),
                           e.c.revenue, case(ranks, value=furthest).label("furthest"))
        .outerjoin(e, e.c.lead_id == Lead.id).outerjoin(s, s.c.lead_id == Lead.id)
        .subquery()
    )  # fmt: skip


def refresh(session: Session, leads: Sequence[int] | None) -> None:
    """Recompute the history facts of these leads (``None``: of every lead). Pending changes
    are flushed first; loaded leads read the new values on their next access."""
    if leads is not None and not leads:
        return
    session.flush()
    for start in range(0, len(leads), 5000) if leads is not None else (0,):
        chunk = None if leads is None else list(leads[start : start + 5000])
        facts = _facts(session, chunk)
        statement = (
            update(Lead).where(Lead.id == facts.c.id)
            .values(first_event_at=facts.c.first, converted_at=facts.c.converted,
                    revenue=facts.c.revenue, furthest_stage=facts.c.furthest)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        session.execute(statement)
    _expire(session, leads)


def _expire(session: Session, leads: Sequence[int] | None) -> None:
    """Loaded leads read their new facts on next access (looked up by key: a long import
    holds thousands of objects, which a scan per call would make quadratic)."""
    if leads is None:
        loaded = [x for x in session.identity_map.values() if isinstance(x, Lead)]
    else:
        keys = (identity_key(Lead, lead_id) for lead_id in leads)
        loaded = [x for key in keys if (x := session.identity_map.get(key)) is not None]
    for lead in loaded:
        session.expire(lead, FACTS)


def engagement_from_breakdowns(session: Session) -> None:
    """Fill engagement points from the stored breakdowns, by the active model's engagement
    criteria and inactivity decay (for leads scored before the score wrote them)."""
    from leadq.services.scoring.rescoring import active_model  # only an upgrade needs it

    model = active_model(session)
    if model is None:
        return
    criteria = [c.id for c in model.criteria() if isinstance(c, EngagementCriterion)]
    json = JsonReads(session)
    lines = json.elements(Lead.score_breakdown).table_valued("value", name="line")
    points = (
        select(Lead.id, func.sum(func.coalesce(json.number(lines.c.value, "points"), 0.0))
               .label("points"))
        .select_from(Lead).join(lines, true())
        .where(Lead.score.is_not(None),
               json.text(lines.c.value, "criterion").in_([*criteria, DECAY_ID]))
        .group_by(Lead.id).subquery()
    )  # fmt: skip
    scored = update(Lead).where(Lead.score.is_not(None)).values(engagement_points=0.0)
    session.execute(scored.execution_options(synchronize_session=False))
    summed = update(Lead).where(Lead.id == points.c.id).values(engagement_points=points.c.points)
    session.execute(summed.execution_options(synchronize_session=False))
