"""``leadq lead show``: the lead card in the terminal; ``leadq duplicates``: pairs to review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from leadq.cli.support import ACTOR, out
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.services.intake import duplicates
from leadq.services.intake.lookup import get_lead
from leadq.services.qualification.decisions import FrameworkCard, framework_cards, list_overrides
from leadq.services.qualification.lifecycle import stage_history
from leadq.services.qualification.rules import current_rules
from leadq.store.tables import Lead, ManualOverride, StageChange

lead_app = typer.Typer(help="Look at one lead.", no_args_is_help=True)
duplicates_app = typer.Typer(help="Leads that may be one person: review them.",
                             no_args_is_help=True)  # fmt: skip


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
        others = duplicates.of_lead(session, lead_id)
        if others:
            parts.append(f"Possible duplicates (same phone, another e-mail): "
                         f"{', '.join(map(str, others))} — see leadq duplicates list")  # fmt: skip
        for part in parts:
            out.print(part, "")


@duplicates_app.command("list")
def list_duplicates(limit: Annotated[int, typer.Option(min=1, max=1000)] = 100) -> None:
    """Open pairs, oldest first: two leads that share a phone but not an e-mail."""
    table = Table("pair", "lead", "other lead", "why", "since")
    with _database().reading() as session:
        for pair in duplicates.open_pairs(session, limit):
            table.add_row(str(pair.id), str(pair.lead_id), str(pair.other_id), pair.reason,
                          _when(pair.created_at))  # fmt: skip
    out.print(table)


@duplicates_app.command("dismiss")
def dismiss_duplicate(pair_id: Annotated[int, typer.Argument(metavar="PAIR", min=1)]) -> None:
    """Two people after all: close the pair."""
    with _database().unit_of_work() as session:
        duplicates.dismiss(session, pair_id, ACTOR, _now())
    out.print(f"Pair {pair_id} dismissed: two people")


@duplicates_app.command("merge")
def merge_duplicate(
    pair_id: Annotated[int, typer.Argument(metavar="PAIR", min=1)],
    keep: Annotated[int | None, typer.Option(min=1, help="The lead to keep [the older]")] = None,
) -> None:
    """One person: the kept lead takes the other's events and empty fields; undo with unmerge."""
    with _database().unit_of_work() as session:
        pair = duplicates.merge(session, pair_id, ACTOR, _now(), keep)
        record = pair.merge_record or {}
    out.print(f"Pair {pair_id} merged: lead {record.get('absorbed')} into lead"
              f" {record.get('kept')} ({len(record.get('events', []))} events moved)")  # fmt: skip


@duplicates_app.command("unmerge")
def unmerge_duplicate(pair_id: Annotated[int, typer.Argument(metavar="PAIR", min=1)]) -> None:
    """Undo a merge: both leads as they were, the pair open again."""
    with _database().unit_of_work() as session:
        duplicates.unmerge(session, pair_id, ACTOR, _now())
    out.print(f"Pair {pair_id} unmerged: two leads again, the pair open")
