"""``leadq init``, ``serve`` and ``demo``: set up a workspace, serve it, fill it with a sample."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.cli.support import out
from leadq.config import get_settings
from leadq.logs import UVICORN_LOGGING
from leadq.services.demo import Locale, build_demo
from leadq.services.intake.listing import LeadFilter, list_leads
from leadq.services.people import users
from leadq.store.db import Database

DEMO_USER = "demo"


def init() -> None:
    """Create the database schema, or upgrade it to this version."""
    db = _database()
    db.upgrade()
    out.print(f"Schema is up to date on {db.engine.url.render_as_string(hide_password=True)}")


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
    out.print(f"Serving the web UI on http://{host or settings.host}:{port or settings.port}/"
              " and the API's docs at /docs")  # fmt: skip
    uvicorn.run(
        "leadq.api.app:serve_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=UVICORN_LOGGING,
        access_log=False,
    )


def demo(
    leads: Annotated[int, typer.Option(min=1, max=100_000, help="Leads to generate")] = 200,
    show: Annotated[int, typer.Option(min=1, help="Leads to print")] = 20,
    locale: Annotated[
        Locale | None,
        typer.Option(
            help="Take the people, companies and cities from this language's market, and"
            " have the demo user read pages in it [default: all four markets]"
        ),
    ] = None,
) -> None:
    """Build a sample workspace and print its leads in priority order with their channels."""
    db = _database()
    db.upgrade()
    with out.status("Generating leads and events…"):
        summary = build_demo(db, _now(), leads=leads, locale=locale)
    out.print(
        f"[bold]{summary.leads}[/] leads ({summary.merged_arrivals} arrived twice and were "
        f"merged), [bold]{summary.events}[/] events, {summary.customers} customers, "
        f"{summary.tasks} follow-up tasks stored in "
        f"{db.engine.url.render_as_string(hide_password=True)}"
    )
    _print_priorities(db, show)
    _print_sign_in(db, locale)


def _print_sign_in(db: Database, locale: str | None) -> None:
    """The demo's web user, made once with a random password shown only then; it reads pages
    in the demo's language, when the demo has one."""
    with db.unit_of_work() as session:
        password = None
        if users.find_user(session, DEMO_USER) is None:
            password = secrets.token_urlsafe(9)
            users.add_user(session, DEMO_USER, password, "admin", "demo", _now())
        if locale is not None:
            users.set_reading(session, DEMO_USER, locale, None, "demo", _now())
    settings = get_settings()
    shown = f"password [bold]{password}[/]" if password else "the password shown the first time"
    out.print(f"Web UI: run [bold]leadq serve[/] and open http://{settings.host}:{settings.port}/"
              f" (or the port given to [bold]leadq serve --port[/])"
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
