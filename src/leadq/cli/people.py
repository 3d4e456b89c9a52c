"""``leadq user`` and ``apikey``: the people who sign in, and the keys of systems that call
the API."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from leadq.cli.support import ACTOR, err, out
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.people import apikeys, users

user_app = typer.Typer(help="People who sign in to the web UI, and their roles.",
                       no_args_is_help=True)  # fmt: skip
ROLES = ", ".join(role.value for role in users.Role)


def _password(env: str | None) -> str:
    """From a named environment variable (scripts), else asked twice without echo."""
    if env is None:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    value = os.environ.get(env)
    if value is None:
        raise InvalidInput([FieldError("--password-env", f"{env} is not set")])
    return value


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Lower-case name; leads' owner field uses it")],
    role: Annotated[str, typer.Option(help=ROLES)] = "rep",
    password_env: Annotated[str | None, typer.Option(
        help="Read the password from this environment variable instead of asking")] = None,
) -> None:  # fmt: skip
    """Add a user; the password is stored only as an argon2 hash."""
    users.check_username(username)
    users.parse_role(role)
    password = _password(password_env)
    with _database().unit_of_work() as session:
        users.add_user(session, username, password, role, ACTOR, _now())
    out.print(f"user [bold]{username}[/] added as {role}")


@user_app.command("password")
def password(
    username: Annotated[str, typer.Argument()],
    password_env: Annotated[str | None, typer.Option(
        help="Read the new password from this environment variable instead of asking")] = None,
) -> None:  # fmt: skip
    """Set a new password (a forgotten one cannot be read back: only its hash is kept)."""
    value = _password(password_env)
    with _database().unit_of_work() as session:
        users.set_password(session, username, value, ACTOR, _now())
    out.print(f"password of {username} set")


@user_app.command("role")
def role(username: Annotated[str, typer.Argument()],
         new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLES)]) -> None:  # fmt: skip
    """Give a user another role; it applies from their next page."""
    with _database().unit_of_work() as session:
        users.set_role(session, username, new_role, ACTOR, _now())
    out.print(f"{username} is now {new_role}")


@user_app.command("reading")
def reading(
    username: Annotated[str, typer.Argument()],
    language: Annotated[str | None, typer.Option(
        help="en, pl, ro or ru; '' to follow the browser, then LEADQ_LOCALE")] = None,
    time_zone: Annotated[str | None, typer.Option(
        help="IANA zone (Europe/Warsaw); '' for the workspace's LEADQ_TIME_ZONE")] = None,
) -> None:  # fmt: skip
    """Set the language and time zone a user reads pages in (the header's switch sets the
    language too)."""
    with _database().unit_of_work() as session:
        user = users.set_reading(session, username, language, time_zone, ACTOR, _now())
        language = user.language or "of the browser"
        zone = user.time_zone or "of the workspace"
    out.print(f"{username} reads in language {language}, time zone {zone}")


@user_app.command("list")
def list_users() -> None:
    table = Table("username", "role", "language", "time zone", "added", "disabled")
    with _database().reading() as session:
        for user in users.list_users(session):
            disabled = user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else ""
            table.add_row(user.username, user.role, user.language or "", user.time_zone or "",
                          user.created_at.isoformat(timespec="seconds"), disabled)  # fmt: skip
    out.print(table)


@user_app.command("disable")
def disable(username: Annotated[str, typer.Argument()]) -> None:
    """Sign a user out for good; their history stays."""
    with _database().unit_of_work() as session:
        users.disable_user(session, username, ACTOR, _now())
    out.print(f"user {username} disabled")


key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


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
