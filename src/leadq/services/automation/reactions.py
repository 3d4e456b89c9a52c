"""Automation: what happened to leads in a transaction triggers the rules, in that transaction.

Use cases ``emit`` happenings (a lead arrived, its grade changed, …). Just before the
transaction commits, ``react`` runs the matching rules: owners are assigned, tasks created,
segment memberships changed, and notifications written to the outbox — all committed together
with the change that caused them, or not at all. The worker delivers the outbox afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from leadq.config import Settings, get_settings
from leadq.domain.automation import (
    TOUCHES,
    Action,
    Assign,
    Automation,
    Notify,
    Rule,
    Task,
    TrackEmail,
    Trigger,
    due_at,
    fires,
    next_member,
    territory_of,
)  # fmt: skip
from leadq.domain.consent import Purpose, email_refusal, may_call, may_email, state, task_refusal
from leadq.domain.documents import DocumentLabels
from leadq.domain.mail_links import MAIL_SECRET, tracked
from leadq.i18n import Language
from leadq.services.automation.document import current_automation
from leadq.services.privacy import audit
from leadq.services.qualification.rules import Rules, current_rules
from leadq.services.scoring.documents import SHIPPED, read_model
from leadq.store.secrets import workspace_secret
from leadq.store.sql import insert_ignoring_conflicts
from leadq.store.tables import (
    DomainEvent,
    FollowUpTask,
    Lead,
    OutboxMessage,
    RoutingTurn,
    SavedSegment,
    SegmentMember,
)  # fmt: skip

PENDING = "leadq.happenings"
TRIGGERS = {
    "lead.created": Trigger.LEAD_CREATED, "lead.grade_changed": Trigger.GRADE_CHANGED,
    "lead.stage_changed": Trigger.STAGE_CHANGED, "lead.score_changed": Trigger.SCORE_CROSSED,
    "lead.framework_verdict": Trigger.FRAMEWORK_VERDICT, "task.sla_breached": Trigger.SLA_BREACHED,
    "account.grade_changed": Trigger.ACCOUNT_GRADE_CHANGED,
    "lead.event_recorded": Trigger.EVENT_RECORDED,
}  # fmt: skip
TOUCHED = "lead.touched"
EVENT_RECORDED = "lead.event_recorded"
ACTOR = "automation"
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Happening:
    kind: str
    lead_id: int
    payload: dict[str, Any]
    at: datetime


def emit(session: Session, kind: str, lead_id: int, payload: dict[str, Any], at: datetime,
         record: bool = True) -> None:  # fmt: skip
    """Note a happening for the rules; ``record`` also appends it to ``domain_events``."""
    if record:
        session.add(DomainEvent(type=kind, lead_id=lead_id, payload=payload, at=at))
    session.info.setdefault(PENDING, []).append(Happening(kind, lead_id, payload, at))


def withhold(session: Session, lead_ids: set[int]) -> None:
    """These leads' pending happenings stay facts (``domain_events``) that no rule reacts to:
    an import of another CRM's history must not send a notification per old lead."""
    pending: list[Happening] = session.info.get(PENDING, [])
    session.info[PENDING] = [h for h in pending if h.lead_id not in lead_ids]


@contextmanager
def tentative(session: Session) -> Iterator[None]:
    """A savepoint for one of many changes: if it fails, its rows and its happenings go, and
    the changes before it stay (a bulk action reports the lead it could not change)."""
    pending = list(session.info.get(PENDING, []))
    try:
        with session.begin_nested():
            yield
    except Exception:
        session.info[PENDING] = pending
        raise


# -- reacting ----------------------------------------------------------------------------------


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        react(session)


def react(session: Session) -> None:
    """Run the rules for every pending happening (actions may cause more, a few rounds deep)."""
    automation = current_automation()
    for _ in range(MAX_ROUNDS):
        pending: list[Happening] = session.info.pop(PENDING, [])
        if not pending:
            return
        for happening in pending:
            _handle(session, automation, happening)


def settle(session: Session) -> None:
    """Run the pending rules now, so that what a use case returns (the lead's owner, stage,
    tasks) is what its transaction commits; the commit then finds nothing left to run."""
    react(session)
    session.flush()


def _handle(session: Session, automation: Automation, happening: Happening) -> None:
    if happening.kind == TOUCHED:
        _first_touch(session, happening)
        return
    trigger = TRIGGERS.get(happening.kind)
    if trigger is None:
        return
    rules = automation.rules_for(trigger)
    lead = session.get(Lead, happening.lead_id) if rules else None
    if lead is None:
        return
    for rule in rules:
        if fires(rule, happening.payload, lead_facts(lead)):
            for action in rule.do:
                _act(session, automation, rule, action, lead, happening)


def lead_facts(lead: Lead) -> dict[str, Any]:
    return {**lead.profile(), "attributes": lead.attributes, "grade": lead.grade,
            "stage": lead.stage, "score": lead.score, "fit_grade": lead.fit_grade}  # fmt: skip


def _act(session: Session, automation: Automation, rule: Rule, action: Action,
         lead: Lead, happening: Happening) -> None:  # fmt: skip
    if action.assign is not None:
        _assign(session, automation, action.assign, lead, rule, happening.at)
    elif action.task is not None:
        _task(session, automation, action.task, lead, rule, happening.at)
    elif action.notify is not None:
        _notify(session, automation, action.notify, lead, rule, happening)
    elif action.segment is not None:
        if action.segment.add:
            join(session, action.segment.add, lead.id, rule.id, happening.at)
        else:
            leave(session, action.segment.remove or "", lead.id)
    elif action.nurture is not None:
        _nurture(session, automation, action.nurture, lead, rule, happening)


# -- assignment --------------------------------------------------------------------------------


def _assign(session: Session, automation: Automation, assign: Assign, lead: Lead, rule: Rule,
            at: datetime) -> None:  # fmt: skip
    """Give an unowned lead an owner: its company's owner, its territory, its industry's team,
    or the next member of a round-robin team — the first strategy that finds one."""
    if lead.owner is not None:
        return
    owner, how = None, ""
    if assign.company_owner and lead.company_id is not None:
        owner, how = _company_owner(session, lead), "company owner"
    if owner is None and assign.territory:
        territory = territory_of(automation, lead_facts(lead))
        if territory is not None:
            owner = territory.owner or _round_robin(session, automation, territory.team or "")
            how = "territory"
    if owner is None and lead.industry in assign.industry:
        owner, how = _round_robin(session, automation, assign.industry[lead.industry]), "industry"
    if owner is None and assign.round_robin:
        owner, how = _round_robin(session, automation, assign.round_robin), "round robin"
    if owner is not None:
        lead.owner = owner
        audit.record(session, ACTOR, "lead.assigned", "lead", lead.id,
                     {"owner": owner, "how": how, "rule": rule.id}, at)  # fmt: skip


def _company_owner(session: Session, lead: Lead) -> str | None:
    query = (select(Lead.owner).where(Lead.company_id == lead.company_id, Lead.id != lead.id,
                                      Lead.owner.is_not(None))
             .order_by(Lead.updated_at.desc()).limit(1))  # fmt: skip
    return session.scalar(query)


def _round_robin(session: Session, automation: Automation, team_name: str) -> str:
    """The team's next member; the turn counter is locked so concurrent leads get different ones."""
    team = automation.teams[team_name]
    session.execute(insert_ignoring_conflicts(session, RoutingTurn, "team")
                    .values(team=team_name, turns=0))  # fmt: skip
    turn = session.scalars(select(RoutingTurn).where(RoutingTurn.team == team_name)
                           .with_for_update()).one()  # fmt: skip
    member = next_member(team, turn.turns)
    turn.turns += 1
    return member.name


# -- tasks -------------------------------------------------------------------------------------


def _task(session: Session, automation: Automation, spec: Task, lead: Lead, rule: Rule,
          at: datetime) -> None:  # fmt: skip
    refusal = task_refusal(spec.kind, lead.consents, lead.do_not_email, lead.do_not_call)
    if refusal is not None:
        skipped(session, lead, rule, "task", refusal, at)
        return
    open_one = select(FollowUpTask.id).where(FollowUpTask.lead_id == lead.id,
                                             FollowUpTask.kind == spec.kind,
                                             FollowUpTask.done_at.is_(None))  # fmt: skip
    if session.scalar(open_one) is not None:
        return  # one open follow-up of a kind per lead
    hours = automation.working_hours if spec.working_hours else None
    due = due_at(at, spec.due_minutes, hours)
    session.add(FollowUpTask(lead_id=lead.id, kind=spec.kind, owner=lead.owner, rule=rule.id,
                             created_at=at, due_at=due))  # fmt: skip


def _first_touch(session: Session, happening: Happening) -> None:
    """An e-mail reply, call or meeting by the owner (or by anyone, when the event does not
    say who) completes the lead's open tasks."""
    by = happening.payload.get("by")
    tasks = session.scalars(select(FollowUpTask).where(FollowUpTask.lead_id == happening.lead_id,
                                                       FollowUpTask.done_at.is_(None)))  # fmt: skip
    for task in tasks:
        if by is None or task.owner is None or by == task.owner:
            task.done_at, task.done_by = happening.at, by or "unknown"
            task.done_how = happening.payload["type"]


def touched(session: Session, lead_id: int, kind: str, properties: dict[str, Any],
            at: datetime, channel: str | None = None) -> None:  # fmt: skip
    """Called for every stored event: rules on ``event_recorded`` see it (after the lead is
    rescored, so their conditions read its new grade); first-touch kinds complete follow-up
    tasks."""
    emit(session, EVENT_RECORDED, lead_id, {"event": kind, "channel": channel}, at, record=False)
    if kind in TOUCHES:
        by = properties.get("by") or properties.get("owner")
        emit(session, TOUCHED, lead_id, {"type": kind, "by": by}, at, record=False)


# -- notifications -----------------------------------------------------------------------------


def lead_payload(lead: Lead) -> dict[str, Any]:
    """What a notification says about the lead: profile, score with its breakdown, stage."""
    return {"id": lead.id, **{k: v for k, v in lead.profile().items() if v is not None},
            "stage": lead.stage, "score": lead.score, "grade": lead.grade,
            "fit_grade": lead.fit_grade, "engagement_grade": lead.engagement_grade,
            "model": lead.scoring_model, "breakdown": lead.score_breakdown or [],
            "probability": lead.probability, "do_not_email": lead.do_not_email,
            "do_not_call": lead.do_not_call,
            "consents": {p.value: state(lead.consents, p) for p in Purpose},
            "may_email": may_email(lead.consents, lead.do_not_email),
            "may_call": may_call(lead.consents, lead.do_not_call)}  # fmt: skip


def enqueue(session: Session, channel: str, target: str, payload: dict[str, Any], at: datetime,
            error: str | None = None, lead_id: int | None = None,
            key: str | None = None) -> OutboxMessage:  # fmt: skip
    """Write a message to the outbox (dead at once, with the reason, if it cannot be sent);
    ``lead_id`` names the lead it is about, so that an erasure finds and redacts it; ``key``
    when the message's body must name it (its tracked links)."""
    message = OutboxMessage(channel=channel, target=target, payload=payload, lead_id=lead_id,
                            idempotency_key=key or new_key(), attempts=0,
                            status="dead" if error else "pending", next_attempt_at=at,
                            last_error=error, created_at=at)  # fmt: skip
    session.add(message)
    return message


def new_key() -> str:
    return f"leadq-{uuid.uuid4().hex}"


def _trigger_json(rule: Rule, happening: Happening) -> dict[str, Any]:
    return {"rule": rule.id, "event": happening.kind, "details": happening.payload,
            "at": happening.at.isoformat()}  # fmt: skip


def _notify(session: Session, automation: Automation, notify: Notify, lead: Lead, rule: Rule,
            happening: Happening) -> None:  # fmt: skip
    if notify.webhook is not None:
        sent = {"trigger": _trigger_json(rule, happening), "lead": lead_payload(lead)}
        enqueue(session, "webhook", notify.webhook, sent, happening.at, lead_id=lead.id)
        return
    address, error = _address(automation, notify.email or "", lead)
    refusal = email_refusal(lead.consents, lead.do_not_email)
    if refusal is not None and address is not None and address.lower() == lead.email:
        skipped(session, lead, rule, "notify", refusal, happening.at)
        return  # to the lead themselves: e-mail marketing, which needs their consent
    lang = notification_language(automation)
    payload: dict[str, Any] = {"subject": email_subject(lead, rule, lang),
                               "body": email_body(lead, rule, happening, lang)}  # fmt: skip
    enqueue(session, "email", address or notify.email or "", payload, happening.at, error,
            lead_id=lead.id)  # fmt: skip


def _address(automation: Automation, who: str, lead: Lead) -> tuple[str | None, str | None]:
    if "@" in who:
        return who, None
    for team in automation.teams.values():
        names = {m.name: m for m in team.members}
        if lead.owner in names:
            person = names[lead.owner] if who == "owner" else team.manager
            if person is not None and person.email:
                return person.email, None
    return None, f"no e-mail address for the lead's {who} ({lead.owner or 'unassigned'})"


@lru_cache(maxsize=1)
def _shipped_labels() -> list[DocumentLabels]:
    return [read_model(name)[0].labels for name in SHIPPED]


_merged: list[tuple[Rules, Automation, dict[str, dict[str, str]]]] = []
"""The labels of the last few pairs of documents (a server's pages and its outbox may hold
their own rules): made again only when a document changes (the automation file is re-read
while a server runs), not for every page or message."""


def workspace_labels(rules: Rules, automation: Automation) -> dict[str, dict[str, str]]:
    """What the shipped scoring models, the lifecycle, the frameworks and the automation
    document call their ids (grades, stages, rules…), per language, later documents winning:
    the labels pages and notifications show. The automation document's ids are its rules'
    (``rule:<id>``), so a rule named like a grade does not rename the grade."""
    for kept_rules, kept_automation, kept in _merged:
        if kept_rules is rules and kept_automation is automation:
            return kept
    merged: dict[str, dict[str, str]] = {}
    rule_labels = {f"rule:{key}": texts for key, texts in automation.labels.items()}
    for labels in [*_shipped_labels(), rules.labels, rule_labels]:
        for key, texts in labels.items():
            merged[key] = {**merged.get(key, {}), **texts}
    _merged[:] = [(rules, automation, merged), *_merged[:3]]
    return merged


def notification_language(automation: Automation, settings: Settings | None = None) -> Language:
    """What notifications (e-mails, Slack messages) are written in: the workspace's language,
    with the workspace's labels."""
    labels = workspace_labels(current_rules(), automation)
    return (settings or get_settings()).language(labels)


def email_subject(lead: Lead, rule: Rule, lang: Language) -> str:
    grade = lang.label(lead.grade, "grade") if lead.grade else lang.gettext("unscored")
    return lang.gettext("[leadq] %(rule)s: lead %(id)s (%(grade)s)") % {
        "rule": lang.label(rule.id, "rule", rule.id), "id": lead.id, "grade": grade}  # fmt: skip


def email_body(lead: Lead, rule: Rule, happening: Happening, lang: Language) -> str:
    """A plain message a rep can act on without opening anything else, in ``lang``."""
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lang.gettext("(no name)")
    event = lang.label(happening.kind, "event", happening.kind.replace("lead.", ""))
    score = "-" if lead.score is None else lang.figure(lead.score)
    grade = lang.label(lead.grade, "grade") if lead.grade else "-"
    company = lead.company or lang.gettext("no company")
    lines = [f"{name} — {company}", "",
             lang.gettext("Why you get this: rule %(rule)s (%(event)s)")
             % {"rule": lang.label(rule.id, "rule", rule.id), "event": event},
             lang.gettext("Score: %(score)s (%(grade)s), stage %(stage)s")
             % {"score": score, "grade": grade, "stage": lang.label(lead.stage, "stage")},
             lang.gettext("E-mail: %(email)s") % {"email": lead.email or "-"},
             lang.gettext("Phone: %(phone)s") % {"phone": lead.phone or "-"},
             lang.gettext("Job title: %(job_title)s") % {"job_title": lead.job_title or "-"},
             "", lang.gettext("Score breakdown:")]  # fmt: skip
    for line in lead.score_breakdown or []:
        points = lang.figure(line["points"], signed=True)
        lines.append(f"  {points}  {line['label']} ({line['value']})")
    return "\n".join(lines) + "\n"


# -- segments and nurture ----------------------------------------------------------------------


def segment_named(session: Session, name: str, at: datetime) -> SavedSegment:
    found = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).first()
    if found is None:
        session.execute(insert_ignoring_conflicts(session, SavedSegment, "name")
                        .values(name=name, filter={}, created_at=at))  # fmt: skip
        found = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).one()
    return found


def join(session: Session, name: str, lead_id: int, rule: str, at: datetime) -> None:
    segment = segment_named(session, name, at)
    if session.get(SegmentMember, (segment.id, lead_id)) is None:
        session.add(SegmentMember(segment_id=segment.id, lead_id=lead_id, rule=rule, added_at=at))


def leave(session: Session, name: str, lead_id: int) -> None:
    segment = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).first()
    if segment is not None:
        session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment.id,
                                                    SegmentMember.lead_id == lead_id))  # fmt: skip


def _nurture(session: Session, automation: Automation, track: str, lead: Lead, rule: Rule,
             happening: Happening) -> None:  # fmt: skip
    """Move the lead onto a nurture track: a segment ``nurture-TRACK`` and a webhook event.
    Nurture tracks are e-mail marketing: a lead who may not get it is put on none (and leaves
    the one they are on)."""
    refusal = email_refusal(lead.consents, lead.do_not_email)
    if refusal is not None:
        skipped(session, lead, rule, "nurture", refusal, happening.at)
        if lead.nurture_track is not None:
            stop_nurture(session, lead, refusal, happening.at)
        return
    if lead.nurture_track == track:
        return
    if lead.nurture_track is not None:
        leave(session, f"nurture-{lead.nurture_track}", lead.id)
    lead.nurture_track = track
    join(session, f"nurture-{track}", lead.id, rule.id, happening.at)
    spec = automation.tracks[track]
    if spec.webhook is not None:
        payload = {"trigger": {**_trigger_json(rule, happening), "event": "nurture.started"},
                   "track": track, "content": spec.content, "lead": lead_payload(lead)}  # fmt: skip
        enqueue(session, "webhook", spec.webhook, payload, happening.at, lead_id=lead.id)
    if spec.email is not None and lead.email:
        _nurture_email(session, spec.email, lead, happening.at)


def _nurture_email(session: Session, email: TrackEmail, lead: Lead, at: datetime) -> None:
    """The track's e-mail to the lead, its links tracked and signed, with one-click
    unsubscribe, in the workspace language's words."""
    settings = get_settings()
    key = new_key()
    words = settings.language().gettext("Unsubscribe")
    secret = workspace_secret(session, MAIL_SECRET, at)
    made = tracked(email.body, settings.public_base(), secret, key, lead.id, words)
    payload = {"subject": email.subject, "body": made.text, "html": made.html,
               "headers": made.headers}  # fmt: skip
    missing = (
        None
        if settings.public_url
        else (
            "LEADQ_PUBLIC_URL is not set: the e-mail's links and unsubscribe would not reach leadq"
        )
    )
    enqueue(session, "email", lead.email or "", payload, at, missing, lead_id=lead.id, key=key)


def stop_nurture(session: Session, lead: Lead, reason: str, at: datetime) -> None:
    """Take the lead off its nurture track, and tell the track's mailer (which was told when the
    lead started it) to stop: only the lead's id and e-mail, what a suppression list needs."""
    track = lead.nurture_track
    if track is None:
        return
    leave(session, f"nurture-{track}", lead.id)
    lead.nurture_track = None
    audit.record(session, ACTOR, "nurture.stopped", "lead", lead.id,
                 {"track": track, "reason": audit.Code(reason)}, at)  # fmt: skip
    spec = current_automation().tracks.get(track)
    if spec is not None and spec.webhook is not None:
        payload = {"trigger": {"event": "nurture.stopped", "reason": reason, "at": at.isoformat()},
                   "track": track, "lead": {"id": lead.id, "email": lead.email}}  # fmt: skip
        enqueue(session, "webhook", spec.webhook, payload, at, lead_id=lead.id)


def skipped(session: Session, lead: Lead, rule: Rule, action: str, reason: str,
            at: datetime) -> None:  # fmt: skip
    """An action the lead's consents refused, on the record: rule, action and reason only."""
    audit.record(session, ACTOR, "automation.skipped", "lead", lead.id,
                 {"rule": rule.id, "action": action, "reason": audit.Code(reason)}, at)  # fmt: skip


def secret_of(automation: Automation, endpoint: str) -> str | None:
    spec = automation.endpoints.get(endpoint)
    return os.environ.get(spec.secret_env) if spec and spec.secret_env else None
