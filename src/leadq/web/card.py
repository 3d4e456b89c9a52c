"""The lead card and what people do on it: accept, reject, move, assign, answer the
qualification frameworks, write notes, override the score, close tasks."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from leadq.domain.consent import ConsentInput, Purpose, may_call, may_email
from leadq.domain.frameworks import Framework
from leadq.domain.lifecycle import Stage
from leadq.http.params import LeadPath, OverridePath, TaskPath
from leadq.i18n import Language
from leadq.services.automation import tasks
from leadq.services.errors import FieldError, InvalidInput, LeadqError, NotFound
from leadq.services.intake import channels as channel_intake
from leadq.services.intake import duplicates
from leadq.services.intake.events import list_events
from leadq.services.people.access import lead_for
from leadq.services.people.users import lead_owners
from leadq.services.privacy import consents
from leadq.services.qualification import decisions as qualification
from leadq.services.qualification import notes
from leadq.services.qualification.decisions import OverrideRequest
from leadq.services.qualification.lifecycle import stage_history
from leadq.services.qualification.rules import Rules
from leadq.services.scoring.rescoring import active_model, find_version, model_of
from leadq.store.db import Database
from leadq.store.tables import Company, FollowUpTask, Lead
from leadq.web.auth import Form, Signed, Viewer, local_path, require
from leadq.web.render import back, flash, page, reader

router = APIRouter(include_in_schema=False)
Overrider = Annotated[Viewer, require("leads.override")]


def _company(session: Session, lead: Lead) -> tuple[Company | None, int]:
    if lead.company_id is None:
        return None, 0
    colleagues = select(func.count()).select_from(Lead).where(Lead.company_id == lead.company_id)
    return session.get(Company, lead.company_id), (session.scalar(colleagues) or 1) - 1


def _since(consents: dict[str, Any] | None) -> dict[str, datetime]:
    """When each purpose's current consent was given or withdrawn (the lead's cache keeps it
    as ISO text); an entry without a readable moment shows none."""
    found: dict[str, datetime] = {}
    for purpose, current in (consents or {}).items():
        try:
            found[purpose] = datetime.fromisoformat(current["at"])
        except (TypeError, KeyError, ValueError):
            continue
    return found


def _criteria(session: Session, lead: Lead, lang: Language) -> dict[str, str]:
    """What the reader reads for each line of the lead's score breakdown: the scoring model
    that scored the lead labels its own criteria (two models may give one id other words)."""
    lines = lead.score_breakdown or []
    labels: dict[str, dict[str, str]] = {}
    if lead.scoring_model:
        with contextlib.suppress(LeadqError):  # a model no longer stored: the lines' words
            labels = model_of(find_version(session, lead.scoring_model)).labels
    scoped = dataclasses.replace(lang, labels=labels)
    return {line["criterion"]: scoped.label(line["criterion"], "criterion", line.get("label"))
            for line in lines if line.get("criterion")}  # fmt: skip


def _why_not(rules: Rules, lead: Lead, pinned: bool, lang: Language) -> list[str]:
    """Why the card offers no Accept, Reject or Move here, in words: a button that is simply
    missing leaves a rep guessing."""
    here = Stage(lead.stage)
    named = {"stage": lang.label(here.value, "stage"), "mql": lang.label("mql", "stage"),
             "sal": lang.label("sal", "stage")}  # fmt: skip
    if pinned:
        return [lang.gettext("The stage is pinned by an override: remove the override to "
                             "accept, reject or move the lead.")]  # fmt: skip
    said = []
    if here is not Stage.mql:
        line = lang.gettext("No Accept: only a %(mql)s is accepted, and this lead is "
                            "%(stage)s.") % named  # fmt: skip
        if not rules.lifecycle.refusal(here, Stage.mql):
            line += " " + lang.gettext("Move it to %(mql)s first if sales should take it.") % named
        said.append(line)
    if here not in (Stage.mql, Stage.sal):
        said.append(lang.gettext("No Reject: only a %(mql)s or %(sal)s is rejected; this lead "
                                 "is %(stage)s.") % named)  # fmt: skip
    if not rules.lifecycle.transitions.get(here):
        said.append(lang.gettext("No Move: the lifecycle allows no move from %(stage)s.") % named)
    return said


def _card(session: Session, rules: Rules, viewer: Viewer, lead_id: int, now: datetime,
          lang: Language) -> dict[str, Any]:  # fmt: skip
    lead = lead_for(session, viewer.access, lead_id)
    model = active_model(session)
    company, colleagues = _company(session, lead)
    open_tasks = session.scalars(select(FollowUpTask).where(
        FollowUpTask.lead_id == lead_id, FollowUpTask.done_at.is_(None))
        .order_by(FollowUpTask.due_at))  # fmt: skip
    overrides = [o for o in qualification.list_overrides(session, lead_id) if o.removed_at is None
                 and (o.expires_at is None or o.expires_at > now)]  # fmt: skip
    moves = rules.lifecycle.transitions.get(lead.stage, [])  # type: ignore[call-overload]
    return {"lead": lead, "company": company, "colleagues": colleagues,
            "identities": channel_intake.identities(session, lead_id),
            "events": list_events(session, lead_id, 100),
            "stages": list(reversed(stage_history(session, lead_id))),
            "tasks": list(open_tasks), "overrides": overrides,
            "frameworks": qualification.framework_cards(session, rules, lead_id),
            "notes": notes.notes_of(session, lead_id),
            "feedback": qualification.feedback(session, lead_id),
            "moves": [m.value for m in moves], "reasons": rules.lifecycle.reasons,
            "rejection": rules.lifecycle.rejection, "now": now,
            "reason_codes": {r for listed in rules.lifecycle.reasons.values() for r in listed}
                            | set(rules.lifecycle.rejection),
            "purposes": list(Purpose), "may_email": may_email(lead.consents, lead.do_not_email),
            "consent_since": _since(lead.consents), "criteria": _criteria(session, lead, lang),
            "may_call": may_call(lead.consents, lead.do_not_call),
            "consent_history": consents.consents_of(session, lead_id, lead).history[:20],
            "duplicates": duplicates.of_lead(session, lead_id, viewer.access.lead_filter()),
            "why_not": _why_not(rules, lead, any(o.kind == "stage" for o in overrides), lang),
            "users": lead_owners(session),
            "model_grades": list(reversed(model.grades)) if model else [],
            "all_stages": [s.value for s in Stage],
            }  # fmt: skip


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def card_page(request: Request, lead_id: LeadPath, viewer: Signed) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        try:
            context = _card(session, request.app.state.rules, viewer, lead_id, datetime.now(UTC),
                            reader(request, viewer))  # fmt: skip
        except NotFound:
            what = reader(request, viewer).gettext("Lead %(id)s") % {"id": lead_id}
            return page(request, "missing.html.j2", viewer, 404, what=what)
    typed = request.session.pop("typed", None)
    return page(request, "card.html.j2", viewer, typed=typed if isinstance(typed, dict) else {},
                **context)  # fmt: skip


# -- actions -----------------------------------------------------------------------------------


def text(data: FormData, name: str, limit: int = 200, required: bool = False) -> str | None:
    value = data.get(name)
    found = value.strip() if isinstance(value, str) else ""
    if "\x00" in found or len(found) > limit:
        raise InvalidInput([FieldError(name, f"at most {limit} characters of text")])
    if required and not found:
        raise InvalidInput([FieldError(name, "required")])
    return found or None


def _act(request: Request, viewer: Viewer, lead_id: int, data: FormData,
         work: Callable[[Session, datetime], str]) -> RedirectResponse:  # fmt: skip
    """Run one action in one transaction on a lead the viewer may see; say what happened, or
    why not, on the next page."""
    db: Database = request.app.state.db
    fallback = f"/leads/{lead_id}"

    def checked(session: Session) -> str:
        lead_for(session, viewer.access, lead_id, for_update=True)
        return work(session, datetime.now(UTC))

    try:
        flash(request, db.run(checked))
    except LeadqError as exc:
        flash(request, str(exc), "error")
        if isinstance(exc, NotFound) and exc.what == "lead":
            fallback = "/inbox"
    wanted = data.get("next")
    return back(local_path(wanted if isinstance(wanted, str) else None, fallback))


@router.post("/leads/{lead_id}/accept")
def accept(request: Request, lead_id: LeadPath, viewer: Signed, data: Form) -> RedirectResponse:
    rules: Rules = request.app.state.rules
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        lead = qualification.accept(session, rules, lead_id, viewer.username, now,
                                    text(data, "comment", 2000), text(data, "owner", 100),
                                    default_owner=viewer.username)  # fmt: skip
        return lang.gettext("Lead %(id)s accepted: now %(stage)s, owned by %(owner)s") % {
            "id": lead_id, "stage": lang.label(lead.stage, "stage"),
            "owner": lead.owner}  # fmt: skip

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/reject")
def reject(request: Request, lead_id: LeadPath, viewer: Signed, data: Form) -> RedirectResponse:
    rules: Rules = request.app.state.rules
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        reason = text(data, "reason", 60, required=True) or ""
        lead = qualification.reject(session, rules, lead_id, reason,
                                    text(data, "comment", 2000), viewer.username, now)  # fmt: skip
        return lang.gettext("Lead %(id)s rejected (%(reason)s): now %(stage)s") % {
            "id": lead_id, "reason": lang.label(reason, "reason"),
            "stage": lang.label(lead.stage, "stage")}  # fmt: skip

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/stage")
def move(request: Request, lead_id: LeadPath, viewer: Signed, data: Form) -> RedirectResponse:
    rules: Rules = request.app.state.rules
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        stage = text(data, "stage", 20, required=True) or ""
        lead = qualification.move_stage(session, rules, lead_id, stage, text(data, "reason", 60),
                                        viewer.username, now)  # fmt: skip
        return lang.gettext("Lead %(id)s is now %(stage)s") % {
            "id": lead_id, "stage": lang.label(lead.stage, "stage")}  # fmt: skip

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/assign")
def assign(request: Request, lead_id: LeadPath, viewer: Signed, data: Form) -> RedirectResponse:
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        owner = text(data, "owner", 100)
        qualification.assign(session, lead_id, owner, viewer.username, now)
        if owner:
            said = lang.gettext("Lead %(id)s assigned to %(owner)s")
            return said % {"id": lead_id, "owner": owner}
        return lang.gettext("Lead %(id)s unassigned") % {"id": lead_id}

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/notes")
def add_note(request: Request, lead_id: LeadPath, viewer: Signed, data: Form) -> RedirectResponse:
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        body = text(data, "body", notes.MAX_NOTE, required=True) or ""
        notes.add_note(session, lead_id, body, viewer.username, now)
        return lang.gettext("Note added")

    return _act(request, viewer, lead_id, data, work)


def _answer(framework: Framework, data: FormData) -> dict[str, Any]:
    """Form strings as the framework's questions take them; an empty field clears."""
    answers: dict[str, Any] = {}
    for question in framework.questions:
        raw = text(data, f"answer.{question.id}", 2000)
        if raw is None or question.type in ("choice", "text"):
            answers[question.id] = raw
        elif question.type == "boolean":
            answers[question.id] = {"yes": True, "no": False}.get(raw, raw)
        else:
            try:
                number = float(raw.replace(" ", "").replace(",", "."))
            except ValueError:
                number = math.nan
            answers[question.id] = number if math.isfinite(number) else raw
    return answers


@router.post("/leads/{lead_id}/frameworks/{name}")
def answer(request: Request, lead_id: LeadPath, name: Annotated[str, Path(max_length=40)],
           viewer: Signed, data: Form) -> RedirectResponse:  # fmt: skip
    """Save the answers; refused ones come back in their panel, open, with what was typed and
    the reason beside each field."""
    rules: Rules = request.app.state.rules
    lang = reader(request, viewer)
    typed = {key[7:]: value[:200] for key, value in data.items()
             if key.startswith("answer.") and isinstance(value, str)}  # fmt: skip

    def work(session: Session, now: datetime) -> str:
        framework = qualification.framework_of(rules, name)
        try:
            card = qualification.answer(session, rules, lead_id, name,
                                        _answer(framework, data), viewer.username, now)  # fmt: skip
        except InvalidInput as exc:
            request.session["typed"] = {
                "framework": name,
                "values": typed,
                "errors": {e.field.removeprefix("answers."): e.reason for e in exc.errors},
            }
            raise
        return lang.gettext("%(framework)s saved: %(verdict)s") % {
            "framework": lang.label(framework.name, "framework", framework.label),
            "verdict": lang.label(card.assessment.verdict.value, "verdict")}  # fmt: skip

    reply = _act(request, viewer, lead_id, data, work)
    if "typed" in request.session:
        reply.headers["location"] = f"/leads/{lead_id}#fw-{name}"
    return reply


def _override(data: FormData) -> OverrideRequest:
    kind = text(data, "kind", 10, required=True) or ""
    value = text(data, kind if kind in ("points", "grade", "stage") else "kind", 40)
    expires = text(data, "expires_at", 40)
    try:
        points = float(value.replace(",", ".")) if kind == "points" and value else None
        until = datetime.fromisoformat(expires).replace(tzinfo=UTC) if expires else None
    except ValueError:
        raise InvalidInput([FieldError(kind if kind == "points" else "expires_at",
                                       "not a number or a date")]) from None  # fmt: skip
    return OverrideRequest(kind=kind, reason=text(data, "reason", 2000) or "", points=points,
                           grade=value if kind == "grade" else None,
                           stage=value if kind == "stage" else None, expires_at=until)  # fmt: skip


@router.post("/leads/{lead_id}/overrides")
def override(request: Request, lead_id: LeadPath, viewer: Overrider,
             data: Form) -> RedirectResponse:  # fmt: skip
    rules: Rules = request.app.state.rules
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        row = qualification.add_override(session, rules, lead_id, _override(data),
                                         viewer.username, now)  # fmt: skip
        return lang.gettext("Override %(id)s added") % {"id": row.id}

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/overrides/{override_id}/remove")
def remove_override(request: Request, lead_id: LeadPath,
                    override_id: OverridePath, viewer: Overrider,
                    data: Form) -> RedirectResponse:  # fmt: skip
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        qualification.remove_override(session, lead_id, override_id, text(data, "reason", 2000),
                                      viewer.username, now)  # fmt: skip
        return lang.gettext("Override %(id)s removed") % {"id": override_id}

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/tasks/{task_id}/done")
def task_done(request: Request, lead_id: LeadPath, task_id: TaskPath,
              viewer: Signed, data: Form) -> RedirectResponse:  # fmt: skip
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        task = session.get(FollowUpTask, task_id)
        if task is None or task.lead_id != lead_id:
            raise NotFound("task", task_id)
        tasks.complete(session, task_id, viewer.username, now)
        return lang.gettext("Task %(kind)s done") % {"kind": lang.label(task.kind, "task")}

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/consents")
def record_consent(request: Request, lead_id: LeadPath, viewer: Signed,
                   data: Form) -> RedirectResponse:  # fmt: skip
    """What the lead told the rep: a consent given or withdrawn now, where (``source``)."""
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        try:
            consent = ConsentInput(purpose=text(data, "purpose", 30, required=True) or "",
                                   granted=text(data, "granted", 10) == "yes", at=now,
                                   source=text(data, "source", 100, required=True) or "",
                                   wording_version=text(data, "wording_version", 60))  # fmt: skip
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise InvalidInput([FieldError(where, exc.errors()[0]["msg"])]) from None
        consents.record_consent(session, lead_id, consent, viewer.username, now)
        if consent.granted:
            said = lang.gettext("Consent %(purpose)s given")
        else:
            said = lang.gettext("Consent %(purpose)s withdrawn")
        return said % {"purpose": lang.label(consent.purpose.value, "purpose")}

    return _act(request, viewer, lead_id, data, work)


@router.post("/leads/{lead_id}/contact-flags")
def contact_flags(request: Request, lead_id: LeadPath, viewer: Signed,
                  data: Form) -> RedirectResponse:  # fmt: skip
    """Do Not Email / Do Not Call as the two checkboxes say (an unticked one clears)."""
    lang = reader(request, viewer)

    def work(session: Session, now: datetime) -> str:
        lead = consents.set_flags(session, lead_id, viewer.username, now,
                                  data.get("do_not_email") == "on",
                                  data.get("do_not_call") == "on")  # fmt: skip
        said = {(False, False): lang.gettext("Contact flags: none"),
                (True, False): lang.gettext("Contact flags: Do Not Email"),
                (False, True): lang.gettext("Contact flags: Do Not Call"),
                (True, True): lang.gettext("Contact flags: Do Not Email, Do Not Call")}  # fmt: skip
        return said[lead.do_not_email, lead.do_not_call]

    return _act(request, viewer, lead_id, data, work)
