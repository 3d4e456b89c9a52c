"""``leadq import`` and ``export``: leads and events in and out as CSV, every bad row reported."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadq.cli.support import UserError, err, out, progress_bar
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.config import get_settings
from leadq.domain.countries import country_code
from leadq.services.intake import imports
from leadq.services.intake.policy import ImportAutomation, IntakePolicy

import_app = typer.Typer(help="Import leads or events from CSV.", no_args_is_help=True)


export_app = typer.Typer(help="Export data as CSV.", no_args_is_help=True)


def _mapping(pairs: list[str], option: str = "--map",
             form: str = "CSV_COLUMN=field") -> dict[str, str]:  # fmt: skip
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise UserError(f"{option} {pair!r}: expected {form}")
        mapping[column.strip()] = field.strip()
    return mapping


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
    if summary.automation_withheld:
        out.print(f"Automation rules left alone {summary.automation_withheld} lead(s) the file"
                  " dates (another CRM's history; --automation all runs them)")  # fmt: skip
    if summary.preset:
        out.print(f"Columns read as: {summary.preset}")
    if summary.unmapped_statuses:
        common = summary.unmapped_statuses.most_common(10)
        statuses = ", ".join(f"{k!r} ({n})" for k, n in common)
        out.print(f"Statuses without a stage (those leads start as new leads; kept in"
                  f" attributes.crm_status; map them with --stage 'STATUS=stage'):"
                  f" {escape(statuses)}")  # fmt: skip
    if summary.ignored_columns:
        out.print(f"Ignored export-only columns: {', '.join(summary.ignored_columns)}")
    if summary.rejects_file:
        out.print(f"Rejected rows with line and reason: {summary.rejects_file}")
    if summary.warnings_file:
        out.print(f"{summary.warned} values set aside (rows stored; line, field, reason):"
                  f" {summary.warnings_file}")  # fmt: skip


FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row")]


Rejects = Annotated[Path | None, typer.Option(
    help="Where rejected rows go [FILE.rejects.csv beside the file]")]  # fmt: skip


Encoding = Annotated[str, typer.Option(help="Text encoding of the file")]


def _policy(phone_region: str | None) -> IntakePolicy:
    policy = IntakePolicy.from_settings(get_settings())
    if phone_region is None:
        return policy
    region = country_code(phone_region)
    if region is None:
        raise UserError(f"--phone-region {phone_region!r}: not a country (e.g. PL, US)")
    return replace(policy, phone_region=region)


def _run_import(kind: str, file: Path, encoding: str, rejects: Path | None,
                mapping: dict[str, str], phone_region: str | None = None, preset: str | None = None,
                stages: dict[str, str] | None = None,
                automation: ImportAutomation | None = None) -> None:  # fmt: skip
    db = _database()
    policy = _policy(phone_region)
    if automation is not None:
        policy = replace(policy, import_automation=automation)
    rejects_path = rejects or file.with_name(f"{file.stem}.rejects.csv")
    total = imports.count_lines(file, encoding)
    with progress_bar() as bar:
        task = bar.add_task(f"Importing {file.name}", total=max(total - 1, 1))
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if kind == "leads":
            summary = imports.import_leads(
                db, file, mapping, policy, _now(), rejects_path, encoding, advance,
                preset_name=preset, stages=stages,
            )  # fmt: skip
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
    preset: Annotated[
        str | None,
        typer.Option(
            help="The export's layout, e.g. salesforce-lead, hubspot-contacts"
            " [recognised from the header]"
        ),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option(help="STATUS=stage, repeatable: the stage a CRM status means"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Show the mapping and the first rows' result; write nothing")
    ] = False,
    phone_region: Annotated[
        str | None,
        typer.Option(
            help="Country (e.g. PL) of national phone numbers in rows without a country"
            " [LEADQ_DEFAULT_PHONE_REGION]",
        ),
    ] = None,
    automation: Annotated[
        ImportAutomation | None,
        typer.Option(
            help="Which rows automation rules react to: new-only (not rows the file dates, a"
            " migration's history), all or none [LEADQ_IMPORT_AUTOMATION, new-only]"
        ),
    ] = None,
) -> None:
    """Import leads; the same e-mail twice is one lead, merged, not duplicated.

    Columns named like a lead field fill it; --map names the others; the rest become custom
    attributes. Lead fields: {fields}.

    A value that cannot be its field (a phone that is no number, a size that is no count) is
    set aside in attributes.FIELD_raw and reported in FILE.warnings.csv; only a row with neither
    a usable e-mail nor phone is rejected (FILE.rejects.csv, beside the file). National phone
    numbers are read in the row's country, else --phone-region, else the default."""
    mapping = _mapping(map_ or [])
    table = _mapping(stage or [], "--stage", "STATUS=stage")
    if dry_run:
        _show_plan(file, mapping, _policy(phone_region), encoding, preset, table)
        return
    _run_import("leads", file, encoding, rejects, mapping, phone_region, preset, table,
                automation)  # fmt: skip


def _show_plan(file: Path, mapping: dict[str, str], policy: IntakePolicy, encoding: str,
               preset: str | None, stages: dict[str, str]) -> None:  # fmt: skip
    chosen, rows = imports.preview(file, mapping, policy, encoding, preset, stages)
    out.print(f"Columns read as: {chosen.preset.name} ({escape(chosen.preset.product)})")
    table = Table("column", "field")
    for column, target in chosen.targets.items():
        table.add_row(escape(column), escape(target))
    for column in chosen.ignored:
        table.add_row(escape(column), "(ignored: export-only)")
    out.print(table)
    for line, result in rows:
        if isinstance(result, str):
            out.print(f"line {line}: rejected: {escape(result)}")
            continue
        shown = {k: v for k, v in result.lead.profile().items() if k != "source" or v}
        stage = result.history.stage or "iql (new)"
        out.print(f"line {line}: {escape(json.dumps(shown, ensure_ascii=False, default=str))}"
                  f" stage {stage}, created {result.history.created_at or 'now'}")  # fmt: skip
        for warning in result.warnings:
            out.print(f"  warning: {warning.field}: {escape(warning.reason)}")
    out.print("Nothing was written (--dry-run).")


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


import_leads.__doc__ = (import_leads.__doc__ or "").replace("{fields}", imports.FIELD_LIST)


def mailbox() -> None:
    """Read the monitored inbox once (LEADQ_IMAP_*): senders become leads, replies to leadq's
    e-mails and bounces are recorded on their leads, automatic replies create nothing; each
    handled message is moved to LEADQ_IMAP_DONE_FOLDER."""
    from leadq.services.intake.mailbox import poll

    settings = get_settings()
    found = poll(_database(), settings, _now(), IntakePolicy.from_settings(settings))
    out.print(f"{found.read} read: {found.messages} from people ({found.replies} replies),"
              f" {found.automatic} automatic replies, {found.bounces} bounces")  # fmt: skip
