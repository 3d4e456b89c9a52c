"""An events file's row becomes exactly what ``EventInput`` and the derived key made of it when
every row went through the model: the same stored row, or the same reason to reject it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadq.domain.events import EventInput, check_not_future
from leadq.services.intake.event_files import EventReader, Named, _property, derived_key
from leadq.services.intake.events import event_row
from leadq.services.intake.imports import _errors
from leadq.services.intake.policy import IntakePolicy

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
POLICY = IntakePolicy()
NAMED = Named({7, 8}, {"a@x.example": 7, "b@x.example": 8}, {})

TYPES = ["page_view", " Page_View ", "EMAIL_OPENED", "9lives", "form-sent", "a" * 64, "a" * 65,
         "émail", "demo requested", "x"]  # fmt: skip
CHANNELS = ["web", " web ", "E-mail ", "c" * 100, "c" * 101, " "]
MOMENTS = ["2026-03-04T05:06:07Z", "2026-03-04T05:06:07+02:00", "2026-03-04 05:06:07Z",
           "2026-03-04T05:06:07", " 2026-03-04T05:06:07Z ", "2026-03-04T05:06:07.250-11:30",
           "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-06-01T12:04:59Z",
           "2026-06-01T12:05:01Z", "2999-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday",
           "1700000000", "2026-03-04"]  # fmt: skip
VALUES = ["35", "007", "1.0", "1e400", "nan", "-0", "x" * 4_096, "x" * 4_097, "text", " padded ",
          "+48 601 000 000", "=SUM(A1)"]  # fmt: skip
PROPERTY_NAMES = ["url", "Campaign", "n" * 101, "utm source"]


@st.composite
def rows(draw: st.DrawFn) -> dict[str, str]:
    """A row as the file reader gives it: column → cell, blank cells left out."""
    cells: dict[str, str] = {}
    who = draw(st.sampled_from(["email", "lead_id"]))
    cells[who] = draw(st.sampled_from(["a@x.example", "B@X.example", "b@x.example"]
                                      if who == "email" else ["7", "8", "08"]))  # fmt: skip
    cells["type"] = draw(st.sampled_from(TYPES) | st.text(max_size=6))
    moment = st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2027, 1, 1),
                          timezones=st.sampled_from([UTC, None]))  # fmt: skip
    cells["occurred_at"] = draw(st.sampled_from(MOMENTS) | moment.map(datetime.isoformat))
    if draw(st.booleans()):
        cells["channel"] = draw(st.sampled_from(CHANNELS))
    if draw(st.integers(0, 9)) == 0:
        cells["idempotency_key"] = draw(st.sampled_from(["k1", "k" * 201, " k2 "]))
    names = draw(st.lists(st.sampled_from(PROPERTY_NAMES), max_size=3, unique=True))
    cells.update({n: draw(st.sampled_from(VALUES) | st.text(max_size=4)) for n in names})
    return {k: v for k, v in cells.items() if v.strip()}


def _as_the_model_made_it(values: dict[str, str]) -> dict[str, Any] | str:
    """The stored row (or the reason) of every row's trip through the model, derived key as
    ``csv:`` and the first 40 hex digits of the SHA-256 of the JSON list."""
    try:
        lead_id = NAMED.lead_of(values, POLICY)
        properties = {k: _property(v) for k, v in values.items()
                      if k not in ("lead_id", "email", "phone", "type", "occurred_at", "channel",
                                   "idempotency_key")}  # fmt: skip
        event = EventInput.model_validate(
            {"lead_id": lead_id, "type": values.get("type"),
             "occurred_at": values.get("occurred_at"), "channel": values.get("channel"),
             "properties": properties, "idempotency_key": values.get("idempotency_key")}
        )  # fmt: skip
        try:
            check_not_future(event.occurred_at, NOW, POLICY.clock_skew)
        except ValueError as exc:
            raise ValueError(f"occurred_at: {exc}") from None
    except ValidationError as exc:
        return _errors(exc)
    except ValueError as exc:
        return str(exc)
    row = event_row(event, NOW)
    if row["idempotency_key"] is None:
        text = json.dumps([lead_id, event.type, event.occurred_at.isoformat(), properties],
                          sort_keys=True)  # fmt: skip
        row["idempotency_key"] = "csv:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return row


def _as_read(reader: EventReader, values: dict[str, str]) -> dict[str, Any] | str:
    try:
        return reader.row(values)
    except ValidationError as exc:
        return _errors(exc)
    except ValueError as exc:
        return str(exc)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=12))
def test_a_chunk_reads_as_every_row_through_the_model(chunk: list[dict[str, str]]) -> None:
    reader = EventReader(NAMED, POLICY, NOW)  # one per chunk: what it remembers spans rows
    for values in chunk:
        read, modelled = _as_read(reader, values), _as_the_model_made_it(values)
        assert read == modelled, values
        if isinstance(read, dict) and isinstance(modelled, dict):  # equal moments, same zone
            assert read["occurred_at"].utcoffset() == modelled["occurred_at"].utcoffset()


def test_rows_of_a_chunk_do_not_share_their_properties() -> None:
    reader = EventReader(NAMED, POLICY, NOW)
    values = {"email": "a@x.example", "type": "page_view", "occurred_at": "2026-03-04T05:06:07Z",
              "url": "/pricing"}  # fmt: skip
    first, second = reader.row(values), reader.row(values)
    first["properties"]["url"] = "/changed"
    assert second["properties"] == {"url": "/pricing"}


MOMENTS_SINCE_1970 = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 1, 1),
                                  timezones=st.just(UTC))  # fmt: skip
PROPERTIES = st.dictionaries(st.text(max_size=8), st.integers() | st.floats() | st.text(max_size=8),
                             max_size=4)  # fmt: skip


@given(st.integers(1, 2**31 - 1), st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True),
       MOMENTS_SINCE_1970, PROPERTIES)  # fmt: skip
def test_the_derived_key_is_the_json_lists_digest(
    lead_id: int, kind: str, at: datetime, properties: dict[str, Any]
) -> None:
    text = json.dumps([lead_id, kind, at.isoformat(), properties], sort_keys=True)
    assert derived_key(lead_id, kind, at, properties) == (
        "csv:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    )
    assert derived_key(lead_id, kind, at + timedelta(microseconds=1), properties) != (
        "csv:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    )
