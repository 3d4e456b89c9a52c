"""Leads through the HTTP API on a real database: create, merge across channels, edit, list."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.store.db import Database
from leadq.store.tables import AuditEntry, Company, StageChange

API = "/api/v1"


def post_lead(client: TestClient, **fields: Any) -> Any:
    return client.post(f"{API}/leads", json=fields)


def test_a_new_lead_is_created_normalised_and_its_seniority_inferred(client: TestClient) -> None:
    response = post_lead(
        client,
        email="  Anna.Nowak@Firma.PL ",
        phone="+48 601 234 567",
        first_name="Anna",
        job_title="Prezes Zarządu",
        source="Web Site",
        company_size=120,
        attributes={"crm_id": "A-17"},
    )
    assert response.status_code == 201, response.text
    lead = response.json()
    assert lead["email"] == "anna.nowak@firma.pl"
    assert lead["phone"] == "+48601234567"
    assert lead["seniority"] == "c_level"
    assert lead["source"] == "web_site"
    assert lead["channels"] == ["web_site"]
    assert lead["stage"] == "iql"
    assert lead["attributes"] == {"crm_id": "A-17"}
    assert lead["outcome"] == "created"
    assert lead["score"] is None  # no scoring model yet: no made-up score
    assert lead["company_id"] is not None


def test_second_arrival_by_email_merges_fills_gaps_and_logs_conflicts(
    client: TestClient, db: Database
) -> None:
    first = post_lead(
        client, email="jan@acme.com", first_name="Jan", company="ACME", source="website"
    ).json()
    again = post_lead(
        client,
        email="JAN@acme.com",
        first_name="Janek",
        job_title="CTO",
        company="acme",
        source="webinar",
        attributes={"utm_term": "crm"},
    )
    assert again.status_code == 200
    merged = again.json()
    assert merged["id"] == first["id"]
    assert merged["outcome"] == "merged"
    assert merged["first_name"] == "Jan"  # the first value is kept
    assert merged["job_title"] == "CTO"  # the gap is filled
    assert merged["seniority"] == "c_level"
    assert merged["channels"] == ["website", "webinar"]
    assert merged["attributes"] == {"utm_term": "crm"}
    assert merged["conflicts"] == {"first_name": {"kept": "Jan", "incoming": "Janek"}}
    with db.reading() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lead.merged")
        ).all()
    assert [e.details["conflicts"] for e in entries] == [["first_name"]]  # names, no values
    assert client.get(f"{API}/leads").json()["items"].__len__() == 1


def test_second_arrival_by_phone_merges_across_channels(client: TestClient) -> None:
    first = post_lead(client, phone="+40 721 000 111", source="phone").json()
    merged = post_lead(
        client, phone="+40721000111", email="ioana@danube.ro", source="messenger"
    ).json()
    assert merged["id"] == first["id"]
    assert merged["email"] == "ioana@danube.ro"
    assert merged["channels"] == ["phone", "messenger"]


def test_same_arrival_twice_is_unchanged_and_not_duplicated(client: TestClient) -> None:
    post_lead(client, email="x@acme.com", source="website")
    again = post_lead(client, email="x@acme.com", source="website")
    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged"


def test_company_grouped_by_business_domain_but_not_free_mail(
    client: TestClient, db: Database
) -> None:
    a = post_lead(client, email="a@northwind.com").json()
    b = post_lead(client, email="b@northwind.com").json()
    c = post_lead(client, email="c@gmail.com").json()
    d = post_lead(client, email="d@wp.pl").json()
    assert a["company_id"] == b["company_id"] is not None
    assert c["company_id"] is None and d["company_id"] is None
    with db.reading() as session:
        assert session.scalars(select(Company.domain)).all() == ["northwind.com"]


def test_creation_records_initial_stage_in_history(client: TestClient, db: Database) -> None:
    lead = post_lead(client, email="s@acme.com").json()
    with db.reading() as session:
        history = session.scalars(
            select(StageChange).where(StageChange.lead_id == lead["id"])
        ).all()
    assert [(h.from_stage, h.to_stage, h.actor) for h in history] == [(None, "iql", "api:tests")]


def test_patch_overwrites_clears_and_audits(client: TestClient, db: Database) -> None:
    lead = post_lead(
        client, email="p@acme.com", job_title="Analyst", city="Kraków", attributes={"a": 1, "b": 2}
    ).json()
    assert lead["seniority"] == "individual"
    response = client.patch(
        f"{API}/leads/{lead['id']}",
        json={
            "job_title": "Head of Sales",
            "city": None,
            "owner": "ola",
            "attributes": {"a": None, "c": 3},
        },
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["job_title"] == "Head of Sales"
    assert edited["seniority"] == "director"  # re-inferred: it was our guess, not a fact
    assert edited["city"] is None
    assert edited["attributes"] == {"b": 2, "c": 3}
    with db.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.updated")).one()
    assert "city" in entry.details["fields"] and "job_title" in entry.details["fields"]
    assert "Kraków" not in str(entry.details)  # the append-only log keeps no personal value
    assert entry.actor == "api:tests"


def test_patch_keeps_stated_seniority(client: TestClient) -> None:
    lead = post_lead(client, email="q@acme.com", job_title="Analyst", seniority="vp").json()
    assert lead["seniority"] == "vp"
    edited = client.patch(f"{API}/leads/{lead['id']}", json={"job_title": "Engineer"}).json()
    assert edited["seniority"] == "vp"


def test_patch_refuses_an_email_used_by_another_lead(client: TestClient) -> None:
    post_lead(client, email="taken@acme.com")
    other = post_lead(client, email="other@acme.com").json()
    response = client.patch(f"{API}/leads/{other['id']}", json={"email": "TAKEN@acme.com"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"
    assert client.get(f"{API}/leads/{other['id']}").json()["email"] == "other@acme.com"


def test_patch_cannot_remove_the_last_contact(client: TestClient) -> None:
    lead = post_lead(client, email="only@acme.com").json()
    response = client.patch(f"{API}/leads/{lead['id']}", json={"email": None})
    assert response.status_code == 422
    assert client.get(f"{API}/leads/{lead['id']}").json()["email"] == "only@acme.com"


def test_get_unknown_lead_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/leads/999999")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "errors": [{"field": "lead_id", "reason": "lead 999999 not found"}],
    }


def test_list_filters_and_text_search(client: TestClient) -> None:
    post_lead(client, email="a@alpha.com", company="Alpha Sp. z o.o.", source="website")
    post_lead(client, email="b@beta.com", company="Beta 100%", source="referral")
    client.patch(f"{API}/leads/2", json={"owner": "kasia"})

    def names(**query: str) -> list[str]:
        items = client.get(f"{API}/leads", params=query).json()["items"]
        return [x["email"] for x in items]

    assert names(source="referral") == ["b@beta.com"]
    assert names(owner="kasia") == ["b@beta.com"]
    assert names(q="alpha") == ["a@alpha.com"]
    assert names(q="100%") == ["b@beta.com"]
    assert names(q="a_p") == []  # LIKE wildcards are literal text ("alp" would match a_p)
    assert names(stage="iql", sort="created_at") == ["a@alpha.com", "b@beta.com"]
    assert names(grade="hot") == []


def test_cursor_pagination_visits_every_lead_once(client: TestClient) -> None:
    for i in range(7):
        post_lead(client, email=f"l{i}@acme.com")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "sort": "-created_at"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/leads", params=params).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == list(range(1, 8))
    assert len(seen) == len(set(seen))


def test_score_sort_pages_through_scored_then_unscored_leads(
    client: TestClient, db: Database
) -> None:
    from leadq.store.tables import Lead

    for i in range(6):
        post_lead(client, email=f"s{i}@acme.com")
    with db.unit_of_work() as session:
        for lead_id, score in ((1, 5.0), (2, 30.0), (3, 5.0)):
            session.get_one(Lead, lead_id).score = score
    order: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/leads", params=params).json()
        order += [x["id"] for x in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert order == [2, 3, 1, 6, 5, 4]
    ascending = client.get(f"{API}/leads", params={"sort": "score", "limit": 10}).json()
    assert [x["id"] for x in ascending["items"]] == [1, 3, 2, 4, 5, 6]


def test_stated_seniority_replaces_the_guess_without_conflict(client: TestClient) -> None:
    lead = post_lead(client, email="g@acme.com", job_title="Kierownik").json()
    assert lead["seniority"] == "manager"
    merged = post_lead(client, email="g@acme.com", seniority="director").json()
    assert (merged["outcome"], merged["seniority"], merged["conflicts"]) == (
        "merged",
        "director",
        {},
    )
    again = post_lead(client, email="g@acme.com", seniority="vp").json()
    assert again["seniority"] == "director"  # now a fact: a different claim is a conflict
    assert again["conflicts"] == {"seniority": {"kept": "director", "incoming": "vp"}}


def test_a_lead_without_source_takes_the_first_one_offered(client: TestClient) -> None:
    post_lead(client, phone="+48601000300")
    merged = post_lead(client, phone="+48601000300", source="chat").json()
    assert (merged["source"], merged["channels"]) == ("chat", ["chat"])


def test_clearing_seniority_infers_it_again_from_the_title(client: TestClient) -> None:
    lead = post_lead(client, email="c@acme.com", job_title="CEO", seniority="manager").json()
    assert lead["seniority"] == "manager"
    cleared = client.patch(f"{API}/leads/{lead['id']}", json={"seniority": None}).json()
    assert cleared["seniority"] == "c_level"
