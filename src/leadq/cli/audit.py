"""``leadq audit``: read the append-only audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from leadq.cli.support import database, out
from leadq.services.privacy.audit import AuditQuery, entries


def audit(
    entity: Annotated[str | None, typer.Option(help="lead, user, api_key, scoring_model…")] = None,
    entity_id: Annotated[str | None, typer.Option("--id", help="The entity's id")] = None,
    actor: Annotated[str | None, typer.Option(help="Who: a username, api:<key>, cli")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. lead.erased, model.activated")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
) -> None:
    """Who did what, when: newest entries first."""
    query = AuditQuery(entity=entity, entity_id=entity_id, actor=actor, action=action,
                       limit=limit)  # fmt: skip
    with database().reading() as session:
        found = entries(session, query)
        rows = [(e.id, e.at.isoformat(timespec="seconds"), e.actor, e.action, e.entity,
                 e.entity_id, e.details) for e in found]  # fmt: skip
    if as_json:
        keys = ("id", "at", "actor", "action", "entity", "entity_id", "details")
        for row in rows:
            print(json.dumps(dict(zip(keys, row, strict=True)), ensure_ascii=False))
        return
    table = Table("id", "at", "actor", "action", "entity", "details")
    for id_, at, who, what, entity_name, key, details in rows:
        table.add_row(str(id_), at, who, what, f"{entity_name} {key or ''}",
                      json.dumps(details, ensure_ascii=False)[:200])  # fmt: skip
    out.print(table)
