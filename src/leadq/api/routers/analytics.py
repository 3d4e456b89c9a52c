"""Analytics over HTTP: metrics by dimension, the manager's dashboard series, and campaign
costs (a CSV upload or a JSON list) for cost per lead."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from leadq.api.deps import Actor, Db, Now
from leadq.api.routers import uploaded_file
from leadq.api.schemas import ErrorOut
from leadq.http.errors import error_response, field_name
from leadq.services.analytics import costs, dashboard, snapshots
from leadq.services.analytics.metrics import Dimension, Metrics, metrics
from leadq.services.errors import FieldError, InvalidInput

router = APIRouter(tags=["analytics"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})  # fmt: skip
COSTS_BODY_LIMIT = costs.MAX_FILE_BYTES + 64 * 1024
"""Body limit for ``POST /analytics/costs``: the largest cost file plus multipart framing."""
MAX_COST_LINES = 100_000


class AnalyticsOut(BaseModel):
    by: Dimension
    since: datetime | None
    until: datetime | None
    rows: list[Metrics]


class SampledLead(BaseModel):
    """A lead to review, without personal data: open it by id."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    score: float | None
    grade: str | None


class DashboardOut(BaseModel):
    funnel: list[dashboard.Bar]
    conversion_by_grade: list[dashboard.Rate]
    conversion_by_decile: list[dashboard.Rate]
    channels: list[Metrics]
    campaigns: list[Metrics]
    score_trend: list[dashboard.WeekScores]
    speed_to_lead: list[dashboard.RepSpeed]
    low_score_sample: list[SampledLead]
    as_of: datetime
    """When these series were computed (a kept dashboard is served while it is young)."""
    computed_seconds: float


class CostIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    campaign: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")
    spent_on: date
    amount: float = Field(ge=0, le=costs.MAX_AMOUNT, allow_inf_nan=False)
    source: str = Field(default="", max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")


class CostsOut(BaseModel):
    stored: int = Field(description="Cost lines stored; a line for a campaign, source and day "
                                    "already booked replaced it")  # fmt: skip


_COST_LIST = TypeAdapter(Annotated[list[CostIn], Field(min_length=1, max_length=MAX_COST_LINES)])
_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"],
                           "properties": {"file": {"type": "string", "format": "binary"}}},
            },
            "application/json": {"schema": {"type": "array", "items": CostIn.model_json_schema()}},
        },
    }
}  # fmt: skip


@router.get("/analytics", response_model=AnalyticsOut)
def analytics(db: Db, _: Actor, now: Now, by: Dimension = "total",
              since: datetime | None = None,
              until: datetime | None = None) -> AnalyticsOut:  # fmt: skip
    """Metrics of the leads created in ``[since, until)`` per group (docs/analytics.md has
    every formula); times without a zone are UTC."""
    with db.reading() as session:
        rows = metrics(session, by, since, until, now=now)
    return AnalyticsOut(by=by, since=since, until=until, rows=rows)


@router.get("/analytics/dashboard", response_model=DashboardOut)
def dashboard_series(request: Request, db: Db, _: Actor, now: Now,
                     weeks: Annotated[int, Query(ge=1, le=dashboard.MAX_WEEKS)] = 12,
                     sample: Annotated[int, Query(ge=1, le=100)] = 10,
                     seed: Annotated[int | None, Query(ge=0, le=2**62)] = None,
                     fresh: Annotated[bool, Query(description="compute it now")] = False,
                     ) -> DashboardOut:  # fmt: skip
    """Every dashboard series as of ``as_of``: a dashboard computed within
    ``LEADQ_DASHBOARD_MAX_AGE_SECONDS`` is served as it was; the low-score sample gives lead
    ids and scores only."""
    max_age = request.app.state.settings.dashboard_max_age_seconds
    kept = snapshots.current(db, now, weeks, sample, seed, max_age, fresh)
    found = kept.dashboard
    picked = [SampledLead.model_validate(lead) for lead in found.low_score_sample]
    return DashboardOut(as_of=kept.as_of, computed_seconds=kept.seconds, funnel=found.funnel,
                        conversion_by_grade=found.conversion_by_grade,
                        conversion_by_decile=found.conversion_by_decile,
                        channels=found.channels, campaigns=found.campaigns,
                        score_trend=found.score_trend, speed_to_lead=found.speed_to_lead,
                        low_score_sample=picked)  # fmt: skip


@router.post("/analytics/costs", response_model=CostsOut, openapi_extra=_UPLOAD_DOC,
             responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut}})  # fmt: skip
async def import_costs(request: Request, db: Db, _: Actor, now: Now) -> CostsOut | JSONResponse:
    """Store campaign costs: a CSV file as multipart field ``file`` (all lines or none, every
    bad line named), or a JSON list of cost lines. Re-sending replaces, never adds up."""
    kind = request.headers.get("content-type", "").lower()
    if kind.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        data = await uploaded_file(form, costs.MAX_FILE_BYTES)
        if isinstance(data, JSONResponse):
            return data
        stored = await run_in_threadpool(db.run, lambda s: costs.import_cost_data(s, data, now))
    elif kind.startswith("application/json"):
        lines = _cost_lines(await request.body())
        stored = await run_in_threadpool(db.run, lambda s: _store(s, lines, now))
    else:
        reason = "send multipart/form-data with a CSV 'file', or application/json"
        return error_response(415, [FieldError("content-type", reason)])
    return CostsOut(stored=stored)


def _cost_lines(body: bytes) -> list[costs.CostLine]:
    try:
        items = _COST_LIST.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            raise InvalidInput([FieldError("body", "malformed JSON")]) from None
        found = [FieldError(field_name(("body", *e["loc"])), e["msg"]) for e in errors[:100]]
        raise InvalidInput(found) from None
    return [costs.CostLine(i.campaign, i.spent_on, i.amount, i.source,
                           i.currency.upper() if i.currency else None)
            for i in items]  # fmt: skip


def _store(session: Session, lines: list[costs.CostLine], now: datetime) -> int:
    errors = costs.duplicates(lines, [f"[{i}]" for i in range(len(lines))])
    if errors:
        raise InvalidInput(errors[:100])
    return costs.record_costs(session, lines, now)
