"""The tracking door through the real app and database: which sites may send, what a batch
without consent keeps (a count, no one), how a consenting visitor's hits wait and then move
to their lead at their own times, retries, two devices, and hostile batches."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.leads import LeadInput
from leadq.services.intake.duplicates import merge
from leadq.services.intake.leads import upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.privacy.subjects import RetentionPolicy, erase_lead, export_lead, retain
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.queue import drain
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database
from leadq.store.tables import Event, Lead, PageCount, PossibleDuplicate, Visitor, VisitorHit
from tests.cli import invoke

SITE = "https://www.example.com"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def site(db: Database) -> Iterator[TestClient]:
    settings = Settings(database_url=db.url, tracking_origins=[SITE], collect_rate="20/minute")
    with TestClient(create_app(settings, db)) as client:
        client.headers.update({"Origin": SITE, "User-Agent": BROWSER,
                               "Content-Type": "text/plain"})  # fmt: skip
        yield client


def hit(kind: str, at: datetime, path: str = "/", **fields: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex[:16], "type": kind, "at": at.isoformat(), "path": path,
            **fields}  # fmt: skip


def send(client: TestClient, events: list[dict[str, Any]], visitor: str | None = None,
         consent: bool = True) -> Any:  # fmt: skip
    body = {"visitor": visitor, "consent": consent, "events": events}
    return client.post("/api/v1/collect", content=json.dumps(body))


def test_only_allowed_sites_may_send_and_read_the_answer(site: TestClient) -> None:
    now = datetime.now(UTC)
    foreign = site.post("/api/v1/collect", headers={"Origin": "https://evil.example"},
                        content=json.dumps({"events": [hit("page_view", now)]}))  # fmt: skip
    assert foreign.status_code == 403 and "access-control-allow-origin" not in foreign.headers
    assert site.post("/api/v1/collect", headers={"Origin": ""}, content="{}").status_code == 403
    allowed = send(site, [hit("page_view", now)], consent=False)
    assert allowed.status_code == 202 and allowed.headers["access-control-allow-origin"] == SITE
    preflight = site.options("/api/v1/collect", headers={"Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == SITE


def test_without_consent_only_a_count_per_day_and_path_is_kept(
    site: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    visitor = uuid.uuid4().hex  # a script that sent an id anyway: ignored without consent
    events = [hit("page_view", now, "/pricing"), hit("page_view", now, "/pricing"),
              hit("engaged", now, "/pricing", seconds=30),
              hit("identify", now, "/contact", email="ann@firm.example")]  # fmt: skip
    assert send(site, events, visitor, consent=False).json() == {"taken": 2}
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Visitor)) == 0
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
        counted = session.get(PageCount, (now.date(), "/pricing"))
        assert counted is not None and counted.views == 2


def test_a_visitors_hits_wait_then_move_to_their_lead_at_their_own_times(
    site: TestClient, db: Database, now: datetime
) -> None:
    with db.unit_of_work() as session:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic", now).name, now)
    visitor = uuid.uuid4().hex
    start = datetime.now(UTC) - timedelta(minutes=10)
    browsing = [hit("page_view", start, "/", title="Home", utm={"source": "newsletter"}),
                hit("page_view", start + timedelta(minutes=1), "/pricing"),
                hit("engaged", start + timedelta(minutes=2), "/pricing", seconds=42.5),
                hit("download", start + timedelta(minutes=3), "/docs",
                    url="https://www.example.com/guide.pdf")]  # fmt: skip
    assert send(site, browsing, visitor).json() == {"taken": 4}
    assert send(site, browsing, visitor).status_code == 202  # a retried batch: nothing twice
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(VisitorHit)) == 4
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    form = hit("identify", start + timedelta(minutes=5), "/contact", email="Ann@Firm.example",
               first_name="Ann")  # fmt: skip
    later = hit("page_view", start + timedelta(minutes=6), "/pricing/enterprise")
    assert send(site, [form, later], visitor).status_code == 202
    drain(db, lambda: datetime.now(UTC))
    with db.reading() as session:
        lead = session.scalars(select(Lead)).one()
        events = session.scalars(select(Event).order_by(Event.occurred_at)).all()
        assert lead.email == "ann@firm.example" and lead.first_name == "Ann"
        assert [(e.type, e.properties.get("path")) for e in events] == [
            ("page_view", "/"), ("page_view", "/pricing"), ("engaged_time", "/pricing"),
            ("content_download", "/docs"), ("page_view", "/pricing/enterprise")]  # fmt: skip
        assert [e.occurred_at for e in events[:4]] == [
            datetime.fromisoformat(h["at"]) for h in browsing]  # their own times  # fmt: skip
        assert events[0].properties["utm_source"] == "newsletter"
        assert events[2].properties["seconds"] == 42.5
        assert session.scalar(select(func.count()).select_from(VisitorHit)) == 0
        pricing = next(
            line for line in lead.score_breakdown or [] if line["criterion"] == "pricing_page"
        )
        assert pricing["points"] > 0  # two pricing-page views count in classic


def test_one_person_on_two_devices_becomes_one_lead(site: TestClient, db: Database) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    phone, laptop = uuid.uuid4().hex, uuid.uuid4().hex
    send(site, [hit("page_view", now, "/a")], phone)
    send(site, [hit("page_view", now, "/b")], laptop)
    for device in (phone, laptop):
        send(site, [hit("identify", now, "/c", email="eve@firm.example")], device)
    with db.reading() as session:
        (lead,) = session.scalars(select(Lead)).all()
        paths = sorted(e.properties["path"] for e in session.scalars(select(Event)))
        owners = set(session.scalars(select(Visitor.lead_id)))
    assert paths == ["/a", "/b"] and owners == {lead.id}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [("{not json", 400, "malformed JSON"), ("[]", 422, "valid dictionary"),
     (json.dumps({"events": []}), 422, "at least 1"),
     (json.dumps({"visitor": "../../etc", "consent": True,
                  "events": [hit("page_view", datetime.now(UTC))]}), 422, "visitor"),
     (json.dumps({"consent": True, "events": [hit("page_view", datetime.now(UTC), "no-slash")]}),
      422, "path"),
     (json.dumps({"events": [hit("page_view", datetime.now(UTC))] * 51}), 422, "at most 50"),
     (json.dumps({"events": [hit("engaged", datetime.now(UTC), seconds=-3)]}), 422, "seconds"),
     (json.dumps({"events": [hit("shell", datetime.now(UTC))]}), 422, "type"),
     (json.dumps({"events": [hit("page_view", datetime.now(UTC), title="x" * 301)]}), 422,
      "title"),
     ("x" * (40 * 1024), 413, "")],
    ids=["malformed", "array", "no-events", "visitor", "path", "51-events", "seconds", "type",
         "title", "40-KiB"],
)  # fmt: skip
def test_hostile_batches_are_refused_plainly_and_store_nothing(
    site: TestClient, db: Database, body: str, status: int, words: str
) -> None:
    reply = site.post("/api/v1/collect", content=body)
    assert reply.status_code == status and words in reply.text
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(PageCount)) == 0


def test_bots_are_answered_and_ignored_and_floods_are_slowed(
    site: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    for agent in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", ""):
        reply = site.post("/api/v1/collect", headers={"User-Agent": agent}, content=json.dumps(
            {"events": [hit("page_view", now)]}))  # fmt: skip
        assert reply.json() == {"taken": 0}
    old, future = now - timedelta(days=8), now + timedelta(hours=1)
    assert send(site, [hit("page_view", old), hit("page_view", future)], consent=False).json() == {
        "taken": 0}  # a browser's clock far off: dropped quietly  # fmt: skip
    answers = [send(site, [hit("page_view", now)], consent=False).status_code for _ in range(20)]
    assert answers[-1] == 429 and answers.count(202) < 20


def test_the_script_is_small_cached_and_revalidated(site: TestClient) -> None:
    script = site.get("/t.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert "max-age=86400" in script.headers["cache-control"]
    assert len(gzip.compress(script.content, 9)) < 5 * 1024  # the budget
    assert b"eval(" not in script.content and b"document.cookie" not in script.content
    again = site.get("/t.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("host", ["javascript:alert(1)", "https://x.example/path", "ftp://x"])
def test_the_snippet_refuses_a_host_that_is_not_an_origin(host: str, tmp_path: Path) -> None:
    done = invoke(tmp_path, ["tracking", "snippet", "--host", host], {})
    assert done.returncode == 2 and "not an origin" in done.stderr and "<script" not in done.stdout


def test_erasure_forgets_the_browsers_and_retention_the_silent_ones(
    site: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    known, silent = uuid.uuid4().hex, uuid.uuid4().hex
    send(site, [hit("page_view", now, "/"), hit("identify", now, "/c", email="kim@firm.example")],
         known)  # fmt: skip
    send(site, [hit("page_view", now, "/")], silent)
    with db.reading() as session:
        lead_id = session.scalars(select(Lead.id)).one()
        exported = export_lead(session, lead_id, "tests", now)
    assert [v["id"] for v in exported["visitors"]] == [known]  # the person sees their browser
    with db.unit_of_work() as session:
        assert erase_lead(session, lead_id, "tests", now).visitors == 1
    with db.reading() as session:
        assert set(session.scalars(select(Visitor.id))) == {silent}
    later = now + timedelta(days=800)
    with db.unit_of_work() as session:
        dry = retain(session, RetentionPolicy(inactive_months=24), later, True, "tests")
        assert dry.visitors == 1 and session.get(Visitor, silent) is not None
        assert retain(session, RetentionPolicy(inactive_months=24), later, False, "t").visitors == 1
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Visitor)) == 0
        assert session.scalar(select(func.count()).select_from(VisitorHit)) == 0


def test_one_odd_hit_costs_only_itself_and_a_wrong_clock_is_corrected(
    site: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    ahead = now + timedelta(minutes=30)  # the browser's clock runs half an hour fast
    body = {"visitor": None, "consent": False, "sent": ahead.isoformat(), "events": [
        hit("page_view", ahead, "/ok"), hit("page_view", ahead, "no-slash"),
        {"id": "hit-xyz-01", "type": "engaged", "at": ahead.isoformat(), "path": "/",
         "seconds": "lots"}]}  # fmt: skip
    assert site.post("/api/v1/collect", content=json.dumps(body)).json() == {"taken": 1}
    with db.reading() as session:
        assert session.get(PageCount, (now.date(), "/ok")) is not None


def test_engaged_time_counts_at_most_a_minute_a_hit(site: TestClient, db: Database) -> None:
    now, visitor = datetime.now(UTC), uuid.uuid4().hex
    send(site, [hit("identify", now, "/c", email="long@firm.example")], visitor)
    send(site, [hit("engaged", now, "/", seconds=3600)], visitor)
    with db.reading() as session:
        (engaged,) = session.scalars(select(Event).where(Event.type == "engaged_time"))
    assert engaged.properties["seconds"] == 60.0


def test_identifying_is_limited_like_a_web_form(db: Database) -> None:
    settings = Settings(database_url=db.url, tracking_origins=[SITE], form_rate="2/minute")
    with TestClient(create_app(settings, db)) as client:
        client.headers.update({"Origin": SITE, "User-Agent": BROWSER})
        now = datetime.now(UTC)
        answers = [send(client, [hit("identify", now, "/c", email=f"p{i}@firm.example")],
                        uuid.uuid4().hex).status_code for i in range(4)]  # fmt: skip
        assert answers == [202, 202, 429, 429]
        assert send(client, [hit("page_view", now)], consent=False).status_code == 202


def test_a_browser_follows_its_lead_through_a_merge_and_forgets_an_erased_one(
    site: TestClient, db: Database
) -> None:
    now = datetime.now(UTC)
    policy = IntakePolicy()
    with db.unit_of_work() as session:
        for email in ("rose@acme.example", "sean@acme.example"):
            data = LeadInput.model_validate({"email": email, "phone": "+48 22 123 45 67"})
            upsert_lead(session, data, "tests", now, policy)
    visitor = uuid.uuid4().hex
    send(site, [hit("identify", now, "/c", email="sean@acme.example")], visitor)
    with db.unit_of_work() as session:
        rose, sean = session.scalars(select(Lead.id).order_by(Lead.id)).all()
        assert session.get(Visitor, visitor).lead_id == sean  # type: ignore[union-attr]
        pair = session.scalars(select(PossibleDuplicate.id)).one()
        merge(session, pair, "tests", now, keep=rose)
    assert send(site, [hit("page_view", now, "/after-merge")], visitor).status_code == 202
    with db.reading() as session:
        event = session.scalars(select(Event).where(Event.type == "page_view")).one()
        assert event.lead_id == rose and session.get(Visitor, visitor).lead_id == rose  # type: ignore[union-attr]
    with db.unit_of_work() as session:
        erase_lead(session, rose, "tests", now)
    other = uuid.uuid4().hex
    send(site, [hit("identify", now, "/c", email="zed@acme.example")], other)
    with db.unit_of_work() as session:  # a lead erased while its browser lives on
        zed = session.scalars(select(Lead.id).where(Lead.email == "zed@acme.example")).one()
        session.execute(update(Lead).where(Lead.id == zed).values(erased_at=now))
    assert send(site, [hit("page_view", now, "/gone")], other).status_code == 202
    with db.reading() as session:
        assert session.get(Visitor, other).lead_id is None  # type: ignore[union-attr]
        paths = {e.properties.get("path") for e in session.scalars(select(Event))}
    assert "/gone" not in paths
