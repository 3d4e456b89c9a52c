"""A monitoring run: check the live models, keep every check, and raise one alarm per model
for the checks that breach now but did not in its previous run (an audit entry, a message
through the outbox to the configured webhook and e-mail, and the dashboard's card)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadq.config import Settings
from leadq.domain.monitoring import Finding, Limits
from leadq.services.automation.document import current_automation
from leadq.services.automation.reactions import enqueue, notification_language
from leadq.services.monitoring.checks import ModelReport, Periods, check_models
from leadq.services.privacy import audit
from leadq.store.db import Database
from leadq.store.tables import ModelCheck

ACTOR = "monitor"
ALARM = "model.drift_alarm"


@dataclass(frozen=True)
class Run:
    at: datetime
    reports: list[ModelReport]
    alarms: dict[str, list[Finding]]


def monitor(db: Database, now: datetime, settings: Settings) -> Run:
    """Check every live model now, in one transaction with its alarms."""
    limits = Limits(settings.monitor_psi, settings.monitor_calibration_gap)
    with db.unit_of_work() as session:
        reports = check_models(session, now, Periods.of(settings), limits)
        alarms = {}
        for report in reports:
            raised = _store(session, report, now)
            if raised:
                alarms[report.model] = raised
                _raise(session, report.model, raised, now, settings)
    return Run(now, reports, alarms)


def due(db: Database, now: datetime, settings: Settings) -> bool:
    """Whether the worker should run the checks: none yet, or the last is old enough."""
    with db.reading() as session:
        last = session.scalar(select(func.max(ModelCheck.run_at)))
    return last is None or now - last >= timedelta(hours=settings.monitor_every_hours)


def _store(session: Session, report: ModelReport, now: datetime) -> list[Finding]:
    before = session.scalar(
        select(func.max(ModelCheck.run_at)).where(
            ModelCheck.model == report.model, ModelCheck.run_at < now
        )
    )
    breached_before = set()
    if before is not None:
        rows = session.execute(
            select(ModelCheck.kind, ModelCheck.subject).where(
                ModelCheck.model == report.model, ModelCheck.run_at == before, ModelCheck.breached
            )
        )
        breached_before = {f"{kind}:{subject or ''}" for kind, subject in rows}
    raised = [f for f in report.findings if f.breached and f.key not in breached_before]
    session.add_all(
        ModelCheck(
            run_at=now,
            model=report.model,
            kind=f.kind,
            subject=f.subject,
            value=f.value,
            limit=f.limit,
            breached=f.breached,
            alarm=f in raised,
            leads=f.leads,
            reference=f.reference,
            details=f.details,
        )
        for f in report.findings
    )
    return raised


def describe(finding: Finding) -> str:
    """One breach in words, naming what moved."""
    if finding.kind == "calibration":
        groups = [g for g in finding.details.get("groups", []) if g["breached"]]
        said = ", ".join(
            f"{g['group']}: {g['realised']:.0%} converted against {g['promised']:.0%}"
            for g in groups
        )
        return f"calibration by {finding.subject} is off ({said})"
    what = {
        "score": "the score distribution",
        "grade": "the grade mix",
        "probability": "the probability distribution",
    }.get(finding.kind)
    what = what or f"the column {finding.subject!r}"
    return f"{what} of new leads shifted (PSI {finding.value:.2f}, alarm above {finding.limit:g})"


def _raise(
    session: Session, model: str, raised: list[Finding], now: datetime, settings: Settings
) -> None:
    lines = [describe(f) for f in raised]
    audit.record(
        session,
        ACTOR,
        ALARM,
        "model",
        model,
        {"checks": [f.key for f in raised], "values": [f.value for f in raised]},
        now,
    )
    payload = {
        "alarm": ALARM,
        "model": model,
        "at": now.isoformat(),
        "checks": [
            {"check": f.kind, "subject": f.subject, "value": f.value, "limit": f.limit}
            for f in raised
        ],
        "said": lines,
    }
    if settings.monitor_webhook:
        enqueue(session, "webhook", settings.monitor_webhook, payload, now)
    if settings.monitor_email:
        lang = notification_language(current_automation(), settings)
        subject = lang.gettext("leadq: model %(model)s needs a look") % {"model": model}
        body = "\n".join(
            [
                lang.gettext("The daily check of %(model)s found:") % {"model": model},
                *(f"- {line}" for line in lines),
            ]
        )
        enqueue(session, "email", settings.monitor_email, {"subject": subject, "body": body}, now)


@dataclass(frozen=True)
class Standing:
    """A model whose latest run breached, since when its alarm was raised, and what."""

    model: str
    checked_at: datetime
    breaches: list[ModelCheck]


def standing(session: Session) -> list[Standing]:
    """For the dashboard's card: each model's latest run, if anything in it breached."""
    latest = (select(ModelCheck.model, func.max(ModelCheck.run_at).label("run_at"))
              .group_by(ModelCheck.model).subquery())  # fmt: skip
    rows = session.scalars(
        select(ModelCheck)
        .join(latest, (ModelCheck.model == latest.c.model) & (ModelCheck.run_at == latest.c.run_at))
        .where(ModelCheck.breached)
        .order_by(ModelCheck.model, ModelCheck.id)
    ).all()
    found: dict[str, list[ModelCheck]] = {}
    for row in rows:
        found.setdefault(row.model, []).append(row)
    return [Standing(model, checks[0].run_at, checks) for model, checks in found.items()]


def recent_checks(session: Session, runs: int = 30) -> list[ModelCheck]:
    """The checks of the newest ``runs`` runs, newest first."""
    moments = select(ModelCheck.run_at).distinct().order_by(ModelCheck.run_at.desc()).limit(runs)
    return list(
        session.scalars(
            select(ModelCheck)
            .where(ModelCheck.run_at.in_(moments.scalar_subquery()))
            .order_by(ModelCheck.run_at.desc(), ModelCheck.model, ModelCheck.id)
        )
    )
