"""The ``leadq`` command: set up, run the demo, serve the API, import and export, keys."""

from __future__ import annotations

import secrets
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from leadq import cli_audit, cli_automation, cli_predictive, cli_privacy, cli_report, cli_users
from leadq.cli_support import ACTOR, err, out
from leadq.cli_support import database as _database
from leadq.cli_support import now as _now
from leadq.config import get_settings
from leadq.domain.scoring.model import ScoringModel
from leadq.logs import UVICORN_LOGGING
from leadq.services import apikeys, batch, imports, predictive, scoring, users
from leadq.services.demo import build_demo
from leadq.services.errors import LeadqError
from leadq.services.leads import LeadFilter, list_leads
from leadq.services.lifecycle import stage_history
from leadq.services.lookup import get_lead
from leadq.services.policy import IntakePolicy
from leadq.services.qualification import FrameworkCard, framework_cards, list_overrides
from leadq.services.rules import current_rules
from leadq.store.db import Database
from leadq.store.tables import Lead, ManualOverride, StageChange

app = typer.Typer(
    help="leadq — lead qualification and lead scoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
import_app = typer.Typer(help="Import leads or events from CSV.", no_args_is_help=True)
export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
model_app = typer.Typer(help="Scoring models: validate, add, activate, list.", no_args_is_help=True)
lead_app = typer.Typer(help="Look at one lead.", no_args_is_help=True)
DEMO_USER = "demo"
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(key_app, name="apikey")
app.add_typer(model_app, name="model")
app.add_typer(lead_app, name="lead")
cli_predictive.register(app)
cli_automation.register(app)
cli_users.register(app)
cli_report.register(app)
cli_privacy.register(app)
cli_audit.register(app)


class UserError(LeadqError):
    """A mistake on the command line: reported in one line, exit status 2."""


@app.command()
def init() -> None:
    """Create the database schema, or upgrade it to this version."""
    db = _database()
    db.upgrade()
    out.print(f"Schema is up to date on {db.engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes; more than 1 pays off on PostgreSQL")
    ] = 1,
) -> None:
    """Start the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    settings = get_settings()
    _database().upgrade()
    uvicorn.run(
        "leadq.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=UVICORN_LOGGING,
        access_log=False,
    )


@app.command()
def demo(
    leads: Annotated[int, typer.Option(min=1, max=100_000, help="Leads to generate")] = 200,
    show: Annotated[int, typer.Option(min=1, help="Leads to print")] = 20,
) -> None:
    """Build a sample workspace and print its leads in priority order with their channels."""
    db = _database()
    db.upgrade()
    with out.status("Generating leads and events…"):
        summary = build_demo(db, _now(), leads=leads)
    out.print(
        f"[bold]{summary.leads}[/] leads ({summary.merged_arrivals} arrived twice and were "
        f"merged), [bold]{summary.events}[/] events, {summary.customers} customers, "
        f"{summary.tasks} follow-up tasks stored in "
        f"{db.engine.url.render_as_string(hide_password=True)}"
    )
    _print_priorities(db, show)
    _print_sign_in(db)


def _print_sign_in(db: Database) -> None:
    """The demo's web user, made once with a random password shown only then."""
    with db.unit_of_work() as session:
        password = None
        if users.find_user(session, DEMO_USER) is None:
            password = secrets.token_urlsafe(9)
            users.add_user(session, DEMO_USER, password, "admin", "demo", _now())
    settings = get_settings()
    shown = f"password [bold]{password}[/]" if password else "the password shown the first time"
    out.print(f"Web UI: run [bold]leadq serve[/] and open http://{settings.host}:{settings.port}/"
              f" — sign in as [bold]{DEMO_USER}[/] with {shown}")  # fmt: skip


def _print_priorities(db: Database, show: int) -> None:
    with db.reading() as session:
        top = list_leads(session, LeadFilter(), "-score", 1).leads
        scored = bool(top) and top[0].score is not None
        page = list_leads(session, LeadFilter(), "-score" if scored else "-last_activity_at", show)
    caption = "by score" if scored else "no scoring model yet: most recent activity first"
    table = Table(title=f"Leads in priority order ({caption})", box=box.SIMPLE_HEAD)
    for column in ("#", "lead", "company · title", "channels", "score", "last active"):
        table.add_column(column, overflow="fold")
    for rank, lead in enumerate(page.leads, 1):
        name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
        title = f"{lead.job_title} ({lead.seniority})" if lead.job_title else "—"
        table.add_row(
            str(rank),
            f"{name}\n[dim]{lead.email or lead.phone}[/]",
            f"{lead.company or '—'}\n[dim]{title}[/]",
            "\n".join(lead.channels),
            "—" if lead.score is None else f"{lead.score:g} {lead.grade}",
            lead.last_activity_at.strftime("%m-%d %H:%M") if lead.last_activity_at else "—",
        )
    out.print(table)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise UserError(f"--map {pair!r}: expected CSV_COLUMN=field")
        mapping[column.strip()] = field.strip()
    return mapping


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _report(summary: imports.Summary, kind: str) -> None:
    if kind == "leads":
        line = (
            f"{summary.created} created, {summary.merged} merged, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected"
        )
    else:
        line = (
            f"{summary.accepted} stored, {summary.duplicates} already stored, "
            f"{summary.rejected} rejected"
        )
    out.print(f"Imported {kind}: {line}")
    if summary.ignored_columns:
        out.print(f"Ignored export-only columns: {', '.join(summary.ignored_columns)}")
    if summary.rejects_file:
        out.print(f"Rejected rows with line and reason: {summary.rejects_file}")


FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row")]
Rejects = Annotated[Path | None, typer.Option(help="Where rejected rows go [FILE.rejects.csv]")]
Encoding = Annotated[str, typer.Option(help="Text encoding of the file")]


def _run_import(
    kind: str, file: Path, encoding: str, rejects: Path | None, mapping: dict[str, str]
) -> None:
    db = _database()
    policy = IntakePolicy.from_settings(get_settings())
    rejects_path = rejects or Path.cwd() / f"{file.stem}.rejects.csv"
    total = imports.count_lines(file, encoding)
    with _bar() as bar:
        task = bar.add_task(f"Importing {file.name}", total=max(total - 1, 1))
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if kind == "leads":
            summary = imports.import_leads(
                db, file, mapping, policy, _now(), rejects_path, encoding, advance
            )
        else:
            summary = imports.import_events(
                db, file, policy, _now(), rejects_path, encoding, advance
            )
    _report(summary, kind)


@import_app.command("leads")
def import_leads(
    file: FileArg,
    encoding: Encoding = "utf-8",
    rejects: Rejects = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="CSV_COLUMN=field, repeatable; field may be attributes.NAME"),
    ] = None,
) -> None:
    """Import leads; the same person twice (by e-mail, then phone) is merged, not duplicated."""
    _run_import("leads", file, encoding, rejects, _mapping(map_ or []))


@import_app.command("events")
def import_events(file: FileArg, encoding: Encoding = "utf-8", rejects: Rejects = None) -> None:
    """Import events: lead_id or email or phone, type, occurred_at (with time zone), channel,
    idempotency_key; every other column becomes a property."""
    _run_import("events", file, encoding, rejects, {})


@export_app.command("leads")
def export_leads(
    output: Annotated[Path | None, typer.Option("--out", help="File to write [stdout]")] = None,
) -> None:
    """Export every lead as CSV, ready to import back."""
    db = _database()
    with db.reading() as session:
        if output is None:
            imports.export_leads(session, sys.stdout)
            return
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = imports.export_leads(session, handle)
    err.print(f"Exported {count} leads to {output}")


@key_app.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="Who or what uses the key; for a rep, the rep")],
    role: Annotated[str, typer.Option(help="admin, marketing, manager or rep")] = "admin",
) -> None:
    """Create an API key acting with a role; it is printed once and stored only as a hash."""
    with _database().unit_of_work() as session:
        token, key = apikeys.create_key(session, name, _now(), role)
    err.print(f"API key {key.id} '{key.name}' ({key.role}) created; store it now, it is not"
              " shown again:")  # fmt: skip
    out.print(token, highlight=False)


@key_app.command("list")
def list_keys() -> None:
    """List API keys (never the keys themselves)."""
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    with _database().reading() as session:
        for key in apikeys.list_keys(session):
            table.add_row(
                str(key.id),
                key.name,
                key.role,
                key.prefix + "…",
                key.created_at.isoformat(),
                key.revoked_at.isoformat() if key.revoked_at else "",
            )
    out.print(table)


@key_app.command("revoke")
def revoke_key(
    key_id: Annotated[int, typer.Argument(help="Key id from 'leadq apikey list'")],
) -> None:
    """Revoke an API key at once."""
    with _database().unit_of_work() as session:
        key = apikeys.revoke_key(session, key_id, _now())
    out.print(f"API key {key.id} '{key.name}' revoked")


@model_app.command("validate")
def validate_model(file: Annotated[Path, typer.Argument(help="Model YAML file")]) -> None:
    """Check a model document; a bad one is refused with the path inside it and the reason."""
    model, _ = scoring.read_model(str(file))
    count = len(model.criteria())
    out.print(f"{file}: model '{model.name}' is valid ({count} criteria, grades "
              f"{', '.join(model.grades)})")  # fmt: skip


@model_app.command("add")
def add_model(
    file: Annotated[
        str, typer.Argument(help="Model YAML file, or a shipped model: classic, dynamic")
    ],
) -> None:
    """Add a model to the workspace as its next version (not active until activated)."""
    _, text = scoring.read_model(file)
    with _database().unit_of_work() as session:
        row = scoring.add_model(session, text, file, _now(), ACTOR)
    out.print(f"Added {row.name}@{row.version}; activate it with 'leadq model activate "
              f"{row.name}@{row.version}'")  # fmt: skip


@model_app.command("activate")
def activate_model(
    reference: Annotated[str, typer.Argument(help="NAME (newest version) or NAME@VERSION")],
) -> None:
    """Make a model version the active one and rescore every lead with it."""
    db = _database()
    with db.unit_of_work() as session:
        row = scoring.activate(session, reference, _now(), ACTOR)
        ref = f"{row.name}@{row.version}"
    total, changed = _rescore(db, f"model {ref} activated")
    out.print(f"Active model: {ref}; {total} leads rescored, {changed} changed")


@model_app.command("list")
def list_models() -> None:
    """Model versions in the workspace; the active one is marked."""
    table = Table("name", "version", "active", "added", box=box.SIMPLE_HEAD)
    with _database().reading() as session:
        for row in scoring.list_models(session):
            table.add_row(row.name, str(row.version), "●" if row.active else "",
                          row.created_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    out.print(table)


def _rescore(db: Database, reason: str) -> tuple[int, int]:
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Lead)) or 0
    with _bar() as bar:
        task = bar.add_task("Rescoring", total=max(total, 1))
        return scoring.rescore_everyone(db, _now(), reason, lambda n: bar.advance(task, n))


@app.command()
def rescore() -> None:
    """Recompute every lead's score as of now (decay is time-driven: run this on a schedule)."""
    total, changed = _rescore(_database(), "rescore")
    out.print(f"{total} leads rescored, {changed} changed")


def _as_of(value: str | None) -> datetime:
    if value is None:
        return _now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of {value!r}: not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise UserError(f"--as-of {value!r}: give a time zone, e.g. {value}+00:00")
    return moment


class Engine(StrEnum):
    polars = "polars"
    spark = "spark"


@app.command()
def score(
    leads: Annotated[str, typer.Option(help="Leads table: id and profile fields")],
    out_file: Annotated[str, typer.Option("--out", help="Scores to write")],
    events: Annotated[str | None, typer.Option(help="Events table")] = None,
    model: Annotated[str, typer.Option(help="Shipped model name or a model YAML file")] = "classic",
    as_of: Annotated[str | None, typer.Option(help="Score as of this ISO-8601 time [now]")] = None,
    predictive_model: Annotated[
        Path | None,
        typer.Option(
            "--predictive",
            help="Also add probability and reasons from this model directory ('leadq train')",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="polars: .csv/.parquet files on this machine; spark: Parquet"
            " files, folders or URIs on Spark"
        ),
    ] = Engine.polars,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL [local[*], or spark-submit's]")
    ] = None,
) -> None:
    """Score lead tables in bulk, without the database: id, score, grade, points.<criterion>."""
    moment = _as_of(as_of)
    scoring_model, _ = scoring.read_model(model)
    extra = None if predictive_model is None else predictive.load(predictive_model)
    if engine is Engine.spark:
        rows = _score_on_spark(scoring_model, leads, events, out_file, moment, master, extra)
    else:
        if master is not None:
            raise UserError("--master is for --engine spark")
        leads_path, out_path = Path(leads), Path(out_file)
        scores, notes = batch.plan(scoring_model, leads_path, Path(events) if events else None,
                                   out_path, moment, extra)  # fmt: skip
        _notes(notes)
        with _bar() as bar:
            task = bar.add_task(f"Scoring {leads_path.name} with {scoring_model.name}", total=1)
            rows = batch.write(scores, out_path)
            bar.advance(task)
    out.print(f"Scored {rows} leads with {scoring_model.name} as of {moment.isoformat()} → "
              f"{out_file}")  # fmt: skip


def _score_on_spark(model: ScoringModel, leads: str, events: str | None, out_file: str,
                    moment: datetime, master: str | None,
                    extra: predictive.PredictiveModel | None) -> int:  # fmt: skip
    from leadq.spark.session import start

    spark = start(master)  # says what is missing before anything imports PySpark
    from leadq.spark import batch as spark_batch

    scores, notes = spark_batch.plan(spark, model, leads, events, moment, extra)
    _notes(notes)
    return spark_batch.write(spark, scores, out_file)


def _notes(notes: list[str]) -> None:
    for note in notes:
        err.print(f"[yellow]warning:[/] {escape(note)}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _text(value: object) -> str:
    """A stored value as escaped markup; empty ones as a dash."""
    return "—" if value is None or value == "" or value == [] else escape(str(value))


def _profile(lead: Lead) -> Table:
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or None
    title = lead.job_title and f"{lead.job_title} ({lead.seniority or 'seniority unknown'})"
    stage = f"[bold]{lead.stage}[/] since {_when(lead.stage_changed_at)}"
    pql = f"yes, since {_when(lead.pql_at)}" if lead.pql else "no"
    table = Table.grid(padding=(0, 2))
    table.title, table.title_justify = f"Lead {lead.id}", "left"
    rows = [("name", _text(name)), ("e-mail", _text(lead.email)), ("phone", _text(lead.phone)),
            ("company", _text(lead.company)), ("job title", _text(title)),
            ("source", _text(lead.source)), ("channels", _text(", ".join(lead.channels))),
            ("owner", _text(lead.owner)), ("stage", stage), ("PQL", pql),
            ("accepted at", _when(lead.accepted_at))]  # fmt: skip
    for label, value in rows:
        table.add_row(f"[dim]{label}[/]", value)
    return table


def _score(lead: Lead) -> RenderableType:
    if lead.score is None:
        return "[bold]Score[/]: no active scoring model"
    summary = (f"[bold]Score {lead.score:g}[/] {_text(lead.grade)} · fit "
               f"{_text(lead.fit_grade)} · engagement {_text(lead.engagement_grade)} · "
               f"model {_text(lead.scoring_model)} as of {_when(lead.scored_at)}")  # fmt: skip
    table = Table("criterion", "label", "value", "points", box=box.SIMPLE_HEAD)
    for line in lead.score_breakdown or []:
        table.add_row(_text(line["criterion"]), _text(line["label"]), _text(line["value"]),
                      f"{line['points']:g}")  # fmt: skip
    return Group(summary, table)


def _history(changes: list[StageChange]) -> Table:
    table = Table("at", "move", "actor", "reason", title="Stage history", box=box.SIMPLE_HEAD)
    table.title_justify = "left"
    for change in changes:
        move = f"{change.from_stage or '·'} → {change.to_stage}"
        table.add_row(_when(change.at), move, _text(change.actor), _text(change.reason))
    return table


VERDICT_STYLE = {"qualified": "green", "not_qualified": "red", "incomplete": "yellow"}


def _framework(card: FrameworkCard) -> RenderableType:
    verdict = card.assessment
    style = VERDICT_STYLE.get(verdict.verdict.value, "")
    lines = [f"[bold]{escape(card.framework.label)}[/] [{style}]{verdict.verdict.value}[/] · "
             f"{verdict.completeness:g}% answered"]  # fmt: skip
    for item in verdict.failing:
        lines.append(f"  ✗ {item.question}: {_text(item.label)} = {_text(item.answer)} "
                     f"({_text(item.reason)})")  # fmt: skip
    if verdict.missing:
        lines.append(f"  missing: {', '.join(verdict.missing)}")
    return "\n".join(lines)


def _frameworks(cards: list[FrameworkCard]) -> RenderableType:
    started = [c for c in cards if any(a.value is not None for a in c.answers.values())]
    idle = [escape(c.framework.label) for c in cards if c not in started]
    parts: list[RenderableType] = ["[bold]Frameworks[/]", *map(_framework, started)]
    if idle:
        parts.append(f"[dim]not started: {', '.join(idle)}[/]")
    return Group(*parts)


def _overrides(rows: list[ManualOverride]) -> RenderableType:
    now = _now()
    active = [o for o in rows if o.removed_at is None and
              (o.expires_at is None or o.expires_at > now)]  # fmt: skip
    if not active:
        return "[bold]Overrides[/]: none active"
    table = Table("kind", "set to", "reason", "actor", "expires", title="Active overrides",
                  box=box.SIMPLE_HEAD, title_justify="left")  # fmt: skip
    for o in active:
        value = f"{o.points:+g} points" if o.points is not None else o.grade or o.stage
        table.add_row(o.kind, _text(value), _text(o.reason), _text(o.actor),
                      _when(o.expires_at) if o.expires_at else "never")  # fmt: skip
    return table


@lead_app.command("show")
def show_lead(lead_id: Annotated[int, typer.Argument(metavar="ID", help="Lead id")]) -> None:
    """Print the lead card: profile, score, stage history, framework verdicts, overrides."""
    rules = current_rules()
    with _database().reading() as session:
        lead = get_lead(session, lead_id)
        parts = [_profile(lead), _score(lead), _history(stage_history(session, lead_id)),
                 _frameworks(framework_cards(session, rules, lead_id)),
                 _overrides(list_overrides(session, lead_id))]  # fmt: skip
        for part in parts:
            out.print(part, "")


def _fail(message: str, status: int = 1) -> NoReturn:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    sys.stderr.write(f"leadq: {first_line}\n")
    sys.exit(status)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and a non-zero exit, no traceback."""
    try:
        app()
    except LeadqError as exc:
        _fail(str(exc), 2 if isinstance(exc, UserError) else 1)
    except ValidationError as exc:  # settings from the environment
        error = exc.errors()[0]
        name = "LEADQ_" + "_".join(str(p) for p in error["loc"]).upper()
        _fail(f"invalid setting {name}: {error['msg']}", 2)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc)
        missing = "no such table" in reason or "does not exist" in reason
        _fail(f"database error: {reason}" + (" (run 'leadq init' first?)" if missing else ""))
