"""``leadq worker``, ``leadq outbox``, ``leadq tasks``, ``leadq segments``, ``leadq automation``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadq.cli.support import ACTOR, err, out
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.config import Settings, get_settings
from leadq.domain.automation import SegmentFilter
from leadq.services.analytics import snapshots
from leadq.services.automation import outbox, segments, tasks
from leadq.services.automation.document import check_at_start, current_automation, load_automation
from leadq.services.errors import Conflict, LeadqError
from leadq.services.intake.policy import IntakePolicy
from leadq.services.monitoring import runs
from leadq.services.scoring import queue
from leadq.store.db import Database

outbox_app = typer.Typer(help="Notifications waiting, delivered or dead.", no_args_is_help=True)
tasks_app = typer.Typer(help="Follow-up tasks and their speed-to-lead SLA.", no_args_is_help=True)
segments_app = typer.Typer(help="Saved live segments of leads.", no_args_is_help=True)
automation_app = typer.Typer(help="The automation rules document.", no_args_is_help=True)


QUEUE_PAUSE = 0.1
"""Seconds an idle worker waits before it looks at the rescoring queue again."""


def worker(
    once: Annotated[bool, typer.Option(help="One round (everything due now), then exit")] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, max=3600, help="Seconds between outbox rounds")
    ] = 1.0,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Messages claimed at a time")] = 20,
    leads_per_claim: Annotated[
        int, typer.Option(min=1, max=5000, help="Queued leads rescored per transaction")
    ] = queue.BATCH,
) -> None:
    """Rescore the leads intake queued, deliver the outbox (at least once, with back-off) and
    check follow-up SLAs."""
    db, settings = _database(), get_settings()
    rules = check_at_start().rules  # a file never valid stops the worker before it claims anything
    out.print(f"{_now().isoformat(timespec='seconds')} worker started, {len(rules)} automation"
              " rules in force")  # fmt: skip
    rescored, next_round, later = 0, 0.0, _Later()
    while True:
        drained = queue.drain(db, _now, leads_per_claim, rounds=20)  # polled often: effects in ~1 s
        rescored += drained
        if once or time.monotonic() >= next_round:
            _deliver(db, settings, batch, rescored, later)
            rescored, next_round = 0, time.monotonic() + interval
        if once:
            return
        if not drained:
            time.sleep(min(interval, QUEUE_PAUSE))


def _deliver(db: Database, settings: Settings, batch: int, rescored: int, later: _Later) -> None:
    """One outbox round and the SLA check, said in one line when anything happened."""
    with db.unit_of_work() as session:
        breached = tasks.breach_overdue(session, _now())
    done = outbox.deliver_due(db, current_automation(), settings, _now, batch)
    if snapshots.refresh_due(db, _now(), settings.dashboard_max_age_seconds):
        out.print(f"{_now().isoformat(timespec='seconds')} dashboard computed")
    if time.monotonic() >= later.checks and runs.due(db, _now(), settings):
        later.checks = time.monotonic() + settings.monitor_every_hours * 3600
        _monitor(db, settings)
    if settings.imap_host and time.monotonic() >= later.mailbox:
        later.mailbox = time.monotonic() + settings.imap_every_seconds
        _read_mailbox(db, settings)
    if settings.retrain_every_days is not None and time.monotonic() >= later.retraining:
        later.retraining = time.monotonic() + 3600  # a refused run is asked again in an hour
        _retrain(db, settings)
    if breached or done.handled or rescored:
        moment = _now().isoformat(timespec="seconds")
        out.print(f"{moment} rescored {rescored} queued, delivered {done.delivered}, retrying"
                  f" {done.retried}, dead {done.dead}, taken over by another worker {done.lost},"
                  f" SLA breaches {breached}")  # fmt: skip


@dataclass
class _Later:
    """When this worker may next run the model checks or a retraining (the database says when
    any worker last did): a run that failed or was refused is not repeated every round."""

    checks: float = 0.0
    retraining: float = 0.0
    mailbox: float = 0.0


def _read_mailbox(db: Database, settings: Settings) -> None:
    """The monitored inbox, every LEADQ_IMAP_EVERY_SECONDS; a failure is said (and kept for
    the health endpoint), delivery goes on."""
    from leadq.services.intake.mailbox import poll

    moment = _now().isoformat(timespec="seconds")
    try:
        found = poll(db, settings, _now(), IntakePolicy.from_settings(settings))
    except LeadqError as exc:
        err.print(f"{moment} inbox: {escape(str(exc))}")
        return
    if found.read:
        out.print(f"{moment} inbox: {found.read} read, {found.messages} from people,"
                  f" {found.bounces} bounces")  # fmt: skip


def _retrain(db: Database, settings: Settings) -> None:
    """The retraining policy's run when due; its decision (or why none) in one line."""
    from leadq.services.monitoring import retraining  # scikit-learn: only when a run is due

    if not retraining.due(db, _now(), settings):
        return
    moment = _now().isoformat(timespec="seconds")
    try:
        decision = retraining.retrain(db, _now(), settings)
    except Exception as exc:  # a retraining must never stop delivery
        err.print(f"{moment} retraining: {type(exc).__name__}: {escape(str(exc))}")
        return
    out.print(f"{moment} retraining: {escape(decision.reason)}")


def _monitor(db: Database, settings: Settings) -> None:
    """The daily model checks; a failure is said, the worker goes on and tries again later."""
    try:
        run = runs.monitor(db, _now(), settings)
    except Exception as exc:  # a check must never stop delivery
        err.print(f"{_now().isoformat(timespec='seconds')} model checks failed:"
                  f" {type(exc).__name__}: {escape(str(exc))}")  # fmt: skip
        return
    alarms = sum(len(found) for found in run.alarms.values())
    out.print(f"{run.at.isoformat(timespec='seconds')} models checked: {len(run.reports)},"
              f" alarms {alarms}")  # fmt: skip


@outbox_app.command("list")
def list_outbox(
    status: Annotated[str | None, typer.Option(help="pending, delivered or dead")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Messages, newest first, with attempts and the last error."""
    if status not in (None, "pending", "delivered", "dead"):
        raise Conflict("status", f"{status!r}: use pending, delivered or dead")
    table = Table("id", "channel", "target", "status", "attempts", "next attempt", "last error")
    with _database().reading() as session:
        for row in outbox.messages(session, status, limit):
            table.add_row(str(row.id), row.channel, escape(row.target), row.status,
                          str(row.attempts), row.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S"),
                          escape((row.last_error or "")[:80]))  # fmt: skip
    out.print(table)


@outbox_app.command("retry")
def retry(message_id: Annotated[int, typer.Argument(metavar="ID", min=1)]) -> None:
    """Send a dead message again (same idempotency key, fresh attempts)."""
    with _database().unit_of_work() as session:
        outbox.retry(session, message_id, ACTOR, _now())
    out.print(f"Message {message_id} is pending again")


@tasks_app.command("list")
def list_tasks(
    owner: Annotated[str | None, typer.Option(help="Only this rep's tasks")] = None,
    overdue: Annotated[bool, typer.Option(help="Only open tasks past their due time")] = False,
) -> None:
    """Open follow-up tasks, soonest due first."""
    table = Table("id", "lead", "kind", "owner", "due", "breached")
    with _database().reading() as session:
        for task in tasks.list_tasks(session, owner, True, _now() if overdue else None):
            table.add_row(str(task.id), str(task.lead_id), task.kind, escape(task.owner or "—"),
                          task.due_at.strftime("%Y-%m-%d %H:%M"),
                          "yes" if task.breached_at else "")  # fmt: skip
    out.print(table)


@tasks_app.command("done")
def complete(task_id: Annotated[int, typer.Argument(metavar="ID", min=1)],
             by: Annotated[str, typer.Option(help="Who did it")] = ACTOR) -> None:  # fmt: skip
    """Record the follow-up as done by hand."""
    with _database().unit_of_work() as session:
        tasks.complete(session, task_id, by, _now())
    out.print(f"Task {task_id} done")


@segments_app.command("save")
def save_segment(
    name: Annotated[str, typer.Argument(help="Segment name (a-z, 0-9, - and _)")],
    grade: Annotated[list[str] | None, typer.Option()] = None,
    stage: Annotated[list[str] | None, typer.Option()] = None,
    fit_grade: Annotated[list[str] | None, typer.Option()] = None,
    source: Annotated[list[str] | None, typer.Option()] = None,
    industry: Annotated[list[str] | None, typer.Option()] = None,
    account_grade: Annotated[list[str] | None, typer.Option()] = None,
    inactive_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
) -> None:
    """Save a live segment (repeat an option for several values)."""
    spec = SegmentFilter(grade=grade, stage=stage, fit_grade=fit_grade, source=source,
                         industry=industry, account_grade=account_grade,
                         inactive_days=inactive_days)  # fmt: skip
    if not segments.NAME.match(name):
        raise Conflict("name", f"{name!r}: use a-z, 0-9, - and _, starting with a letter")
    with _database().unit_of_work() as session:
        segments.save(session, name, spec, ACTOR, _now())
    out.print(f"Segment {name} saved")


@segments_app.command("members")
def members(name: Annotated[str, typer.Argument()]) -> None:
    """The segment's leads right now."""
    table = Table("id", "email", "grade", "stage", "owner")
    with _database().reading() as session:
        for lead in segments.members(session, name, _now()):
            table.add_row(str(lead.id), escape(lead.email or "—"), lead.grade or "—", lead.stage,
                          escape(lead.owner or "—"))  # fmt: skip
    out.print(table)


@automation_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Automation YAML file")]) -> None:
    """Check a document; a bad one is refused with the path inside it and why."""
    document = load_automation(file)
    out.print(f"{file}: {len(document.rules)} rules, {len(document.teams)} teams — valid")
