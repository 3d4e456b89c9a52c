"""Read a big workspace through the real API, as a client would: the lead list in each sort
order and with each filter, search, a lead, analytics, two saved segments (saved by this script)
and the dashboard, computed and kept. Prints p50 / p95 per request over warm repeats (the
first, cold call is shown apart).

    python bench/workspace.py --url postgresql+psycopg://postgres@127.0.0.1:5432/big [--runs 7]

Fill the workspace first with bench/populate.py. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadq.api.app import create_app
from leadq.config import Settings
from leadq.domain.automation import SegmentFilter
from leadq.services.automation import segments
from leadq.services.people.apikeys import create_key
from leadq.services.people.users import add_user
from leadq.store.db import Database
from leadq.store.tables import Lead

REQUESTS = {
    "list, by score": "/api/v1/leads?sort=-score&limit=50",
    "list, by probability": "/api/v1/leads?sort=-probability&limit=50",
    "list, newest": "/api/v1/leads?sort=-created_at&limit=50",
    "list, by last activity": "/api/v1/leads?sort=-last_activity_at&limit=50",
    "list, grade=hot": "/api/v1/leads?grade=hot&limit=50",
    "list, stage=mql": "/api/v1/leads?stage=mql&limit=50",
    "list, owner=olga": "/api/v1/leads?owner=olga&limit=50",
    "list, source=event": "/api/v1/leads?source=event&limit=50",
    "search, e-mail": "/api/v1/leads?q=lead777777@&limit=50",
    "search, name": "/api/v1/leads?q=Kowalski&limit=50",
    "search, company": "/api/v1/leads?q=Baltic%20Freight&limit=50",
    "one lead": "/api/v1/leads/{lead}",
    "analytics by source": "/api/v1/analytics?by=source",
    "segment counts": "/api/v1/analytics?by=segment",
    "segment, first page": "/api/v1/segments/hot-stale/leads?limit=50",
    "dashboard, computed": "/api/v1/analytics/dashboard?fresh=true",
    "dashboard, kept (as readers get it)": "/api/v1/analytics/dashboard",
}
PAGES = {
    "web inbox, by score": "/inbox",
    "web inbox, grade then probability": "/inbox?sort=grade",
    "web inbox, by probability": "/inbox?sort=-probability",
    "web inbox, grade=hot": "/inbox?grade=hot",
    "web inbox, by owner": "/inbox?sort=owner",
    "web inbox, by last activity": "/inbox?sort=-last_activity_at",
    "web lead card": "/leads/{lead}",
}
"""The web UI's pages, read by a signed-in manager (the whole team's leads)."""


PASSWORD = "bench horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SEGMENTS = {
    "hot-stale": SegmentFilter(grade=["hot"], inactive_days=30),
    "warm-referrals": SegmentFilter(grade=["warm"], source=["referral", "event"]),
}


def timed(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    response.raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    db = Database(args.url)
    with db.unit_of_work() as session:
        token, _ = create_key(session, "bench", datetime.now(UTC))
        user = f"bench{secrets.token_hex(3)}"
        add_user(session, user, PASSWORD, "manager", "bench", datetime.now(UTC))
        for name, spec in SEGMENTS.items():  # saved (or re-saved) for the segment requests
            segments.save(session, name, spec, "bench", datetime.now(UTC))
        leads = session.scalar(select(func.count()).select_from(Lead)) or 0
        middle = session.scalar(select(func.max(Lead.id))) or 1
    print(f"{leads:,} leads")
    client = TestClient(create_app(Settings(database_url=args.url), db))
    client.headers["Authorization"] = f"Bearer {token}"
    web = TestClient(client.app)
    csrf = CSRF.search(web.get("/login").text)
    web.post("/login", data={"username": user, "password": PASSWORD,
                             "csrf": csrf[1] if csrf else ""}, follow_redirects=False)  # fmt: skip
    for name, path, reader in [*((n, p, client) for n, p in REQUESTS.items()),
                               *((n, p, web) for n, p in PAGES.items())]:  # fmt: skip
        path = path.format(lead=middle // 2)
        cold = timed(reader, path)
        warm = sorted(timed(reader, path) for _ in range(args.runs))
        p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
        p50 = statistics.median(warm)
        print(f"{name:26s} cold {cold * 1000:7.0f} ms   warm p50 {p50 * 1000:7.0f} ms"
              f"  p95 {p95 * 1000:7.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
