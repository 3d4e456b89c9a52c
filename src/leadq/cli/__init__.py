"""The ``leadq`` command, assembled here from one module per command group.

Each module holds the commands of one capability (the same names as ``leadq.services``); this
file is the only place that says which command a name runs, and turns a user's mistake into one
line on stderr and a non-zero exit instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from leadq.cli import (
    analytics,
    audit,
    automation,
    intake,
    leads,
    people,
    predictive,
    privacy,
    scoring,
    workspace,
)
from leadq.cli.support import UserError
from leadq.services.errors import LeadqError

app = typer.Typer(
    help="leadq — lead qualification and lead scoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command()(workspace.init)
app.command()(workspace.serve)
app.command()(workspace.demo)
app.add_typer(intake.import_app, name="import")
app.add_typer(intake.export_app, name="export")
app.add_typer(people.key_app, name="apikey")
app.add_typer(scoring.model_app, name="model")
app.add_typer(leads.lead_app, name="lead")
app.add_typer(leads.duplicates_app, name="duplicates")
app.command()(scoring.rescore)
app.command()(scoring.score)
app.command()(predictive.train)
app.command()(predictive.predict)
app.command("backtest")(predictive.backtest_command)
app.add_typer(predictive.predictive_app, name="predictive")
app.command()(automation.worker)
app.add_typer(automation.outbox_app, name="outbox")
app.add_typer(automation.tasks_app, name="tasks")
app.add_typer(automation.segments_app, name="segments")
app.add_typer(automation.automation_app, name="automation")
app.add_typer(people.user_app, name="user")
app.command()(analytics.report)
app.add_typer(analytics.costs_app, name="costs")
app.add_typer(privacy.privacy_app, name="privacy")
app.command("audit")(audit.audit)


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
