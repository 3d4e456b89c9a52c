"""The inbox as a work list: the columns it can show, the orders it can read, and a saved
view's layout (a segment remembers it). Pure: names and checks only."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from leadq.domain.scoring.model import Strict

Column = Literal["grade", "score", "probability", "stage", "owner", "source",
                 "last_activity_at", "created_at", "tasks"]  # fmt: skip
COLUMNS: tuple[str, ...] = get_args(Column)
DEFAULT_COLUMNS: tuple[Column, ...] = ("grade", "score", "probability", "stage", "owner",
                                    "last_activity_at", "tasks")  # fmt: skip
SORTABLE = ("score", "probability", "last_activity_at", "created_at", "owner")
"""Columns a click sorts: each has a keyset order (``services.intake.listing.SORTS``)."""
BY_GRADE = "grade"
"""The order by the active model's grades, best first, then by probability within each."""

ColumnSort = Literal["-score", "score", "-probability", "probability",
                     "-last_activity_at", "last_activity_at", "-created_at", "created_at",
                     "-owner", "owner"]  # fmt: skip
"""A column's order, highest (``-``) or lowest first: what the API's lists offer too."""
Sort = Literal["grade", ColumnSort]
SORTS: tuple[str, ...] = get_args(Sort)
FIRST = {"owner": "owner"}
"""A column's first click: highest first, except names, which read A to Z."""


def first_sort(column: str) -> str:
    return FIRST.get(column, f"-{column}")


def toggled(column: str, current: str) -> str:
    """The sort a click on ``column``'s header asks for: its first order, or the other way
    round when the list is already in it."""
    first = first_sort(column)
    if current == first:
        return first[1:] if first.startswith("-") else f"-{first}"
    return first


class ViewLayout(Strict):
    """How the inbox shows a saved view."""

    sort: Sort = "-score"
    columns: Annotated[list[Column], Field(min_length=1, max_length=len(COLUMNS))] = Field(
        default_factory=lambda: list(DEFAULT_COLUMNS)
    )
    closed: bool = False
    """Customers, unqualified and disqualified leads shown too."""


def columns_from(text: str | None) -> list[str]:
    """The columns a comma-separated address asks for, in the house order; unknown names are
    dropped, and none at all means the default."""
    asked = {part.strip() for part in (text or "").split(",")}
    found = [c for c in COLUMNS if c in asked]
    return found or list(DEFAULT_COLUMNS)
