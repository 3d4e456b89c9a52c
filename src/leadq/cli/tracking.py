"""``leadq tracking``: the website snippet to install, and what came in."""

from __future__ import annotations

from typing import Annotated

import typer

from leadq.cli.support import err
from leadq.config import ORIGIN, get_settings
from leadq.domain.tracking import snippet

tracking_app = typer.Typer(help="Website tracking: the snippet to install.",
                           no_args_is_help=True)  # fmt: skip


@tracking_app.command("snippet")
def print_snippet(
    host: Annotated[str | None, typer.Option(
        help="Where the site's visitors reach leadq (https://leadq.example.com); default:"
        " http://LEADQ_HOST:LEADQ_PORT")] = None,
) -> None:  # fmt: skip
    """Print the two <script> tags to put on every page of the site. Nothing is stored in
    the browser until the page calls leadq('consent', true); add the site's origin to
    LEADQ_TRACKING_ORIGINS."""
    settings = get_settings()
    chosen = (host or f"http://{settings.host}:{settings.port}").rstrip("/")
    if not ORIGIN.fullmatch(chosen):
        raise typer.BadParameter(f"not an origin: {chosen!r} (e.g. https://leadq.example.com)",
                                 param_hint="--host")  # fmt: skip
    typer.echo(snippet(chosen))
    if not settings.tracking_origins:
        err.print("[yellow]LEADQ_TRACKING_ORIGINS is empty: /api/v1/collect refuses every site"
                  " until it names yours.[/]", highlight=False)  # fmt: skip
