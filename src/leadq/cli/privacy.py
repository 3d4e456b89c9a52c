"""``leadq privacy``: a person's data export and erasure, and the retention period."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadq.cli.support import ACTOR, err, out
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.config import get_settings
from leadq.domain.ids import REASON, canonical_id
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.privacy import subjects as privacy

privacy_app = typer.Typer(help="Data-subject rights (GDPR / RODO): export, erase, retention.",
                          no_args_is_help=True)  # fmt: skip
SHOWN_IDS = 50


def _lead_id(value: str) -> int:
    """Parsed here, not by Typer, so a mistake is one line instead of a usage box."""
    try:
        return canonical_id(value.strip())
    except ValueError:
        raise InvalidInput([FieldError("LEAD_ID", f"{value!r}: {REASON}")]) from None


def _months(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not text.isdecimal() or not 1 <= int(text) <= privacy.MAX_MONTHS:
        reason = f"{value!r} is not a number of months from 1 to {privacy.MAX_MONTHS}"
        raise InvalidInput([FieldError(option, reason)])
    return int(text)


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner only: the file holds a person's data."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise InvalidInput([FieldError("--out", f"{path}: {exc.strerror or exc}")]) from None


@privacy_app.command("export")
def export(
    lead_id: Annotated[str, typer.Argument(metavar="LEAD_ID", help="The lead's id")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here instead of to stdout")
    ] = None,
) -> None:
    """Everything stored about a person, as JSON (right of access and portability)."""
    chosen = _lead_id(lead_id)
    with _database().unit_of_work() as session:  # the export is audited
        data = privacy.export_lead(session, chosen, ACTOR, _now())
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    _write_private(out_file, text)
    err.print(f"Wrote the data of lead {chosen} to {escape(str(out_file))}", highlight=False)


@privacy_app.command("erase")
def erase(
    lead_id: Annotated[str, typer.Argument(metavar="LEAD_ID", help="The lead's id")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone")] = False,
    reason: Annotated[str | None, typer.Option(
        help="Why (e.g. a ticket number); not stored, it may name the person")] = None,
) -> None:  # fmt: skip
    """Erase a person: their data goes, an anonymous shell keeps the statistics true."""
    chosen = _lead_id(lead_id)
    if not yes:
        reason_ = f"erasing lead {chosen} cannot be undone; add --yes to confirm"
        raise InvalidInput([FieldError("--yes", reason_)])
    with _database().unit_of_work() as session:
        report = privacy.erase_lead(session, chosen, ACTOR, _now(), reason)
    out.print(report.message, highlight=False, soft_wrap=True)


@privacy_app.command("retain")
def retain(
    inactive_months: Annotated[str | None, typer.Option(
        help="Erase leads with no activity for this many months "
             "(default: LEADQ_RETENTION_INACTIVE_MONTHS)")] = None,
    event_months: Annotated[str | None, typer.Option(
        help="Anonymise events older than this many months "
             "(default: LEADQ_RETENTION_EVENT_MONTHS)")] = None,
    include_customers: Annotated[bool, typer.Option(
        help="Erase silent customers too (kept by default: contracts and invoices)")] = False,
    dry_run: Annotated[bool, typer.Option(help="Count and list, change nothing")] = False,
) -> None:  # fmt: skip
    """Apply the retention period: erase silent leads, anonymise old events."""
    settings = get_settings()
    inactive = _months(inactive_months, "--inactive-months")
    old = _months(event_months, "--event-months")
    policy = privacy.RetentionPolicy(
        inactive_months=inactive if inactive is not None else settings.retention_inactive_months,
        event_months=old if old is not None else settings.retention_event_months,
        include_customers=include_customers,
    )
    with _database().unit_of_work() as session:
        report = privacy.retain(session, policy, _now(), dry_run, ACTOR)
    verb = "would be" if report.dry_run else "were"
    ids = ", ".join(str(i) for i in report.lead_ids[:SHOWN_IDS])
    if len(report.lead_ids) > SHOWN_IDS:
        ids += f", … ({len(report.lead_ids) - SHOWN_IDS} more)"
    listed = f" (ids: {ids})" if ids else ""
    prefix = "Dry run: " if report.dry_run else ""
    out.print(f"{prefix}{len(report.lead_ids)} leads {verb} erased{listed}; {report.events}"
              f" events {verb} anonymised; {report.customers_kept} silent customers kept;"
              f" {report.import_runs} old imports {verb} reduced to their counts;"
              f" {report.visitors} unidentified tracked browsers {verb} forgotten",
              highlight=False, soft_wrap=True)  # fmt: skip
