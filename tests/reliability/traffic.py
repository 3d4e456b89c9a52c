"""Event traffic for the concurrency test: what one client process sends, decided by its number
alone, so the test knows every distinct event that must end up stored."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx

SHARED = 30  # events every process sends with the same idempotency key
Request = tuple[str, list[dict[str, Any]]]  # ("single" | "batch", events)


def _event(lead_id: int, at: datetime, rng: random.Random) -> dict[str, Any]:
    """Mostly events the classic model ignores, so scores spread out below the caps."""
    roll = rng.random()
    if roll < 0.04:
        kind, properties = "page_view", {"path": rng.choice(["/pricing", "/pricing/team"])}
    elif roll < 0.08:
        kind, properties = "content_download", {"asset_type": "whitepaper"}
    elif roll < 0.11:
        kind, properties = "webinar_attended", {}
    elif roll < 0.12:
        kind, properties = "demo_requested", {}
    elif roll < 0.5:
        kind, properties = "page_view", {"path": f"/blog/{rng.randrange(20)}"}
    else:
        kind, properties = "email_opened", {"campaign": f"c{rng.randrange(5)}"}
    return {"lead_id": lead_id, "type": kind, "properties": properties,
            "occurred_at": at.isoformat()}  # fmt: skip


def shared_events(lead_ids: list[int], base: datetime) -> list[dict[str, Any]]:
    """Events every process sends: a retried delivery racing itself across processes."""
    return [
        {"lead_id": lead_ids[j % len(lead_ids)], "type": "page_view",
         "properties": {"path": "/pricing/shared"}, "occurred_at": base.isoformat(),
         "idempotency_key": f"shared-{j}"}
        for j in range(SHARED)
    ]  # fmt: skip


def plan(process: int, lead_ids: list[int], base: datetime) -> list[Request]:
    """The requests of one process: the shared events first (every process in the same order,
    so they race), then singles and batches with and without keys."""
    rng = random.Random(process)
    shared = shared_events(lead_ids, base)
    requests: list[Request] = []
    for start in range(0, SHARED, 6):  # five shared batches, each followed by a shared single
        requests.append(("batch", shared[start : start + 5]))
        requests.append(("single", [shared[start + 5]]))
    counter = 0

    def fresh(keyed: bool) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        at = base - timedelta(seconds=process * 10_000 + counter)
        event = _event(rng.choice(lead_ids), at, rng)
        if keyed:
            event["idempotency_key"] = f"p{process}-{counter}"
        return event

    own: list[Request] = [("single", [fresh(keyed=i % 3 != 0)]) for i in range(60)]
    own += [("batch", [fresh(keyed=rng.random() < 0.5) for _ in range(15)]) for _ in range(16)]
    rng.shuffle(own)
    return requests + own


def send(base_url: str, token: str, lead_ids: list[int], base: datetime, process: int) -> int:
    """Send one process's plan; returns how many events the server reported as new."""
    accepted = 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        for kind, events in plan(process, lead_ids, base):
            if kind == "single":
                response = client.post("/api/v1/events", json=events[0])
                if response.status_code not in (200, 201):
                    raise AssertionError(f"{response.status_code}: {response.text}")
                accepted += response.status_code == 201
            else:
                response = client.post("/api/v1/events/batch", json={"events": events})
                if response.status_code != 200:
                    raise AssertionError(f"{response.status_code}: {response.text}")
                body = response.json()
                assert body["accepted"] + body["duplicates"] == len(events), body
                accepted += body["accepted"]
    return accepted
