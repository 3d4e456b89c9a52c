"""The scoring-model page: validate, preview grades and a backtest, add, activate; only for
roles that may change models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadq.services.scoring.documents import read_model
from leadq.store.db import Database
from leadq.store.tables import Lead, ScoringModelVersion
from tests.web.conftest import Browser
from tests.web.workspace import seed

STRICT = read_model("classic")[1].replace("name: classic", "name: strict")


def marketer(web: TestClient, make_user: Callable[[str, str], None]) -> Browser:
    make_user("max", "marketing")
    person = Browser(web)
    person.sign_in("max")
    return person


def test_a_draft_is_previewed_against_todays_leads(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    max_ = marketer(web, make_user)
    page = max_.get("/models")
    assert "classic@1" in page and "active" in page and "name: classic" in page
    preview = max_.post("/models/preview", document=STRICT)
    assert "Preview of strict: valid" in preview and "Backtest against history" in preview
    assert "newest 3 leads" in preview
    with db.reading() as session:
        assert session.scalars(select(ScoringModelVersion.name)).all() == [
            "classic"
        ]  # nothing stored


def test_a_broken_draft_names_the_path_and_the_reason(
    web: TestClient, db: Database, make_user: Callable[[str, str], None]
) -> None:
    max_ = marketer(web, make_user)
    broken = STRICT.replace("grades:", "grades_typo:")
    reply = max_.client.post("/models/preview", data={"csrf": max_.csrf, "document": broken})
    assert reply.status_code == 422 and 'id="problem"' in reply.text and "grades" in reply.text
    for document, reason in [
        ("", "paste a model document"),
        ("name: [", "draft"),
        ("<script>alert(1)</script>", "draft"),
    ]:
        reply = max_.client.post("/models/preview", data={"csrf": max_.csrf, "document": document})
        assert reply.status_code == 422 and reason in reply.text
        assert "<script>alert(1)</script>" not in reply.text


def test_an_uploaded_file_wins_over_the_editor(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    max_ = marketer(web, make_user)
    files = {"file": ("strict.yaml", STRICT.encode(), "application/yaml")}
    reply = max_.client.post(
        "/models/preview", data={"csrf": max_.csrf, "document": "junk"}, files=files
    )
    assert reply.status_code == 200 and "Preview of strict" in reply.text
    binary = {"file": ("model.yaml", b"\xff\xfe\x00bad", "application/yaml")}
    reply = max_.client.post("/models/preview", data={"csrf": max_.csrf}, files=binary)
    assert reply.status_code == 422 and "not UTF-8" in reply.text
    huge = {"file": ("model.yaml", b"#" * 300_000, "application/yaml")}
    reply = max_.client.post("/models/preview", data={"csrf": max_.csrf}, files=huge)
    assert reply.status_code == 422 and "over 256000 bytes" in reply.text


def test_add_then_activate_rescores_every_lead(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    max_ = marketer(web, make_user)
    page = max_.post("/models", document=STRICT)
    assert "strict@1 added" in page
    page = max_.post("/models/strict@1/activate")
    assert "strict@1 is active: 3 leads rescored" in page
    with db.reading() as session:
        assert set(session.scalars(select(Lead.scoring_model))) == {"strict@1"}
    assert "model strict@9 not found" in max_.post("/models/strict@9/activate")
    refused = max_.client.post("/models/strict@1x/activate", data={"csrf": max_.csrf})
    assert refused.status_code == 422
    assert max_.client.get("/models?edit=strict%00").status_code == 422


def test_only_marketing_and_admins_change_models(browser: Browser) -> None:
    reply = browser.client.post("/models", data={"csrf": browser.csrf, "document": STRICT})
    assert reply.status_code == 403  # mia is a sales manager


def test_a_long_document_can_be_edited_in_the_page(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    max_ = marketer(web, make_user)
    long = STRICT + "\n".join(f"# note {i:05d} " + "x" * 60 for i in range(600))
    assert len(long) > 40_000
    assert "Preview of strict: valid" in max_.post("/models/preview", document=long)
