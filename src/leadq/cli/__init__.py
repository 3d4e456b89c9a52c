"""The ``leadq`` command, assembled here from one module per command group.

Each module holds the commands of one capability (the same names as ``leadq.services``); this
file is the only place that says which command a name runs, and turns a user's mistake into one
line on stderr and a non-zero exit instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from leadq.services.errors import LeadqError


class Entry(NamedTuple):
    """Where a command lives (``leadq.cli.<module>.<attribute>``: a function or a Typer group)
    and the line the root help shows for it."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, Entry] = {
    "init": Entry("workspace", "init", "Create the database schema, or upgrade it to this"
                  " version."),
    "serve": Entry("workspace", "serve", "Start the HTTP API (OpenAPI docs at /docs)."),
    "demo": Entry("workspace", "demo", "Build a sample workspace and print its leads in priority"
                  " order with their channels."),
    "import": Entry("intake", "import_app", "Import leads or events from CSV."),
    "mailbox": Entry("intake", "mailbox", "Read the monitored inbox once (LEADQ_IMAP_*): senders"
                     " become leads, replies to leadq's e-mails and bounces are recorded on their"
                     " leads, automatic replies create nothing; each handled message is moved to"
                     " LEADQ_IMAP_DONE_FOLDER."),
    "export": Entry("intake", "export_app", "Export data as CSV."),
    "consume": Entry("streams", "consume_app", "Read events from NATS JetStream or a RabbitMQ"
                     " stream into intake, until stopped."),
    "apikey": Entry("people", "key_app", "Create, list and revoke API keys."),
    "model": Entry("scoring", "model_app", "Scoring models: validate, add, activate, list."),
    "thresholds": Entry("scoring", "thresholds_app", "Grade lines from sales capacity."),
    "monitor": Entry("tuning", "monitor", "Check the live models against their reference period"
                     " (shift of scores, grades and input columns; calibration once outcomes"
                     " matured); an alarm for each new breach."),
    "retrain": Entry("tuning", "retrain", "Train a challenger on the workspace's history, judge it"
                     " against the predictive champion on the newest matured leads, and promote"
                     " it only when it wins by the margin without worse calibration ('leadq"
                     " predictive rollback' undoes a promotion)."),
    "lead": Entry("leads", "lead_app", "Look at one lead."),
    "duplicates": Entry("leads", "duplicates_app", "Leads that may be one person: review them."),
    "rescore": Entry("scoring", "rescore", "Recompute every lead's score as of now (decay is"
                     " time-driven: run this on a schedule)."),
    "score": Entry("batch", "score", "Score lead tables in bulk, without the database: id,"
                   " score, grade, points.<criterion>."),
    "train": Entry("predictive", "train", "Train a predictive model on a CRM export, or without"
                   " --csv on the workspace's leads."),
    "predict": Entry("predictive", "predict", "Add probability, score (1–100) and the top three"
                     " reasons to each lead of a file."),
    "backtest": Entry("predictive", "backtest_command", "Replay models over the workspace's past"
                      " leads as of arrival + N days, side by side (or over an export with an"
                      " outcome column)."),
    "predictive": Entry("predictive", "predictive_app", "Predictive models in the workspace: add,"
                        " activate, roll back."),
    "worker": Entry("automation", "worker", "Rescore the leads intake queued, deliver the outbox"
                    " (at least once, with back-off) and check follow-up SLAs."),
    "outbox": Entry("automation", "outbox_app", "Notifications waiting, delivered or dead."),
    "tasks": Entry("automation", "tasks_app", "Follow-up tasks and their speed-to-lead SLA."),
    "segments": Entry("automation", "segments_app", "Saved live segments of leads."),
    "automation": Entry("automation", "automation_app", "The automation rules document."),
    "tracking": Entry("tracking", "tracking_app", "Website tracking: the snippet to install."),
    "user": Entry("people", "user_app", "People who sign in to the web UI, and their roles."),
    "report": Entry("analytics", "report", "Write analytics.html (self-contained) and"
                    " analytics-<dimension>.csv per dimension."),
    "costs": Entry("analytics", "costs_app", "Campaign costs, for cost per lead."),
    "privacy": Entry("privacy", "privacy_app", "Data-subject rights (GDPR / RODO): export,"
                     " erase, retention."),
    "audit": Entry("audit", "audit", "Who did what, when: newest entries first."),
}  # fmt: skip
"""Every command, in the order the help lists them. A command's module (and the libraries it
needs: SQLAlchemy, polars, scikit-learn, FastAPI…) is imported only when that command runs, so
``leadq --help`` and every command start at once."""


def load(name: str) -> Any:
    """The click command behind a name, importing its module now."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(f"leadq.cli.{entry.module}"), entry.attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class Commands(TyperGroup):
    """The root group: it lists commands from ``COMMANDS`` and loads one only to run it (or to
    show its own help); the root help is drawn from the entries alone."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        return TyperCommand(name=cmd_name, help=entry.help) if self.listing else load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(cls=Commands, no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)  # fmt: skip


@app.callback()
def leadq() -> None:
    """leadq — lead qualification and lead scoring."""


def _fail(message: str, status: int = 1) -> NoReturn:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    sys.stderr.write(f"leadq: {first_line}\n")
    sys.exit(status)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and a non-zero exit, no traceback."""
    try:
        app()
    except LeadqError as exc:
        from leadq.cli.support import UserError

        _fail(str(exc), 2 if isinstance(exc, UserError) else 1)
    except Exception as exc:
        _fail(*_refusal(exc))


def _refusal(exc: Exception) -> tuple[str, int]:
    """Settings and database errors in one line; anything else is a bug, raised as it is. The
    libraries are looked up, not imported: an error of one that was never loaded cannot occur."""
    pydantic: Any = sys.modules.get("pydantic")
    sqlalchemy: Any = sys.modules.get("sqlalchemy.exc")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):  # settings
        error = exc.errors()[0]
        name = "LEADQ_" + "_".join(str(p) for p in error["loc"]).upper()
        return f"invalid setting {name}: {error['msg']}", 2
    if sqlalchemy is not None and isinstance(exc, sqlalchemy.SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc)
        missing = "no such table" in reason or "does not exist" in reason
        return f"database error: {reason}" + (" (run 'leadq init' first?)" if missing else ""), 1
    raise exc
