"""The scoring-model page: validate, preview grades and a backtest, add, activate; only for
roles that may change models."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from leadq.domain.scoring.model import parse_model
from leadq.services.scoring.documents import read_model
from leadq.store.db import Database
from leadq.store.tables import Lead, ScoringModelVersion
from tests.tuning.history import add_model, build
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
    assert "classic@1" in page and "active" in page and 'name="name" value="classic"' in page
    assert "name: classic" in max_.get("/models?view=yaml")
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


def _form(page: str) -> dict[str, str]:
    """The fields the model form posts, read from its page (inputs, chosen options, ticks)."""
    body = page[
        page.index('id="model-form"') : page.index("</form>", page.index('id="model-form"'))
    ]
    found: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name[1] == "csrf":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                found[name[1]] = "on"
            continue
        found[name[1]] = html.unescape(value[1]) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
            r'<option value="([^"]*)"', options)  # fmt: skip
        found[name] = html.unescape(chosen[1]) if chosen else ""
    return found


def _post(person: Browser, fields: dict[str, str], do: str) -> Response:
    sent = {**fields, "csrf": person.csrf, "do": do}
    reply: Response = person.client.post("/models/form", data=sent)
    return reply


def test_the_form_shows_a_model_as_rows_and_its_yaml_is_the_same_model(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    max_ = marketer(web, make_user)
    fields = _form(max_.get("/models"))
    assert fields["c.0.id"] == "decision_maker" and fields["c.0.level.0.when.0.op"] == "in"
    assert fields["c.0.level.0.when.0.value"] == "c_level, owner, vp"
    assert fields["c.2.kind"] == "event" and fields["c.2.count"] == "on"
    assert fields["grade.2.name"] == "hot" and fields["grade.1.tr.pl"] == "Ciepły"
    shown = _post(max_, fields, "yaml").text
    found = re.search(r'<textarea name="document"[^>]*>(.*?)</textarea>', shown, re.S)
    assert found
    text = html.unescape(found[1])
    classic = parse_model(read_model("classic")[1], "classic")
    assert parse_model(text, "form").content() == classic.content()


def test_rows_are_added_and_removed_and_typed_values_stay(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    max_ = marketer(web, make_user)
    fields = {**_form(max_.get("/models?new=true")), "name": "mine", "c.0.id": "size"}
    page = _post(max_, fields, "add_criterion:negative:profile").text
    assert 'name="c.2.section" value="negative"' in page and 'value="size"' in page
    page = _post(max_, _form(page), "add_level:0").text
    assert 'name="c.0.level.0.level"' in page
    page = _post(max_, _form(page), "add_level_condition:0:0").text
    assert 'name="c.0.level.0.when.1.field"' in page
    page = _post(max_, _form(page), "remove_criterion:1").text
    assert 'name="c.2.section"' not in page and 'name="c.1.section" value="negative"' in page
    for odd in ("remove_criterion:99", "add_condition:x", "explode", "add_criterion:bonus:x",
                "add_level_condition:0:99", "remove_criterion:" + "9" * 40):  # fmt: skip
        assert _post(max_, _form(page), odd).status_code == 200  # nothing named: nothing changes


def test_a_field_that_does_not_read_is_refused_by_name_with_the_form_kept(
    web: TestClient, make_user: Callable[[str, str], None]
) -> None:
    max_ = marketer(web, make_user)
    fields = {**_form(max_.get("/models")), "c.0.weight": "heavy"}
    reply = _post(max_, fields, "preview")
    assert reply.status_code == 422 and "c.0.weight: a number" in reply.text
    assert 'value="heavy" inputmode="decimal"' in reply.text and 'aria-invalid="true"' in reply.text
    fields = {**_form(max_.get("/models")), "grade.2.threshold": "5"}  # hot below warm
    reply = _post(max_, fields, "preview")
    assert reply.status_code == 422 and "grade thresholds must rise strictly" in reply.text


def test_the_preview_lists_the_leads_that_change_grade(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    leads = seed(db, now)
    max_ = marketer(web, make_user)
    fields = {**_form(max_.get("/models")), "name": "eager", "grade.1.threshold": "1",
              "grade.2.threshold": "2"}  # fmt: skip
    page = _post(max_, fields, "preview").text
    assert "Preview of eager: valid" in page
    examples = page[page.index('id="examples"') : page.index("</ul>", page.index('id="examples"'))]
    with db.reading() as session:
        olaf = session.get(Lead, leads.owned)
        assert olaf is not None and olaf.grade == "cold"
    assert f'href="/leads/{leads.owned}">Olaf Berg</a>: Cold' in examples and "→ Hot" in examples
    assert re.search(r"<strong>[1-9]\d* would move up a grade</strong>", page)
    assert 'id="moves"' in page and "▲" in page
    assert "of the leads this model would have called" in page.lower() or "backtest" in page


def test_an_unchanged_document_is_not_added_again(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    seed(db, now)
    max_ = marketer(web, make_user)
    page = _post(max_, _form(max_.get("/models")), "save")
    assert (
        page.status_code == 200
        and "Nothing added: this is what classic@1 already says" in page.text
    )
    reworded = read_model("classic")[1].replace("version: 1", "version: 7") + "\n# a comment\n"
    assert "Nothing added" in max_.post("/models", document=reworded)
    with db.reading() as session:
        assert session.scalars(select(ScoringModelVersion.version)).all() == [1]
    changed = {**_form(max_.get("/models")), "grade.2.threshold": "25"}
    assert "classic@2 added" in _post(max_, changed, "save").text


def test_grade_lines_from_capacity_are_suggested_charted_and_applied(
    web: TestClient, db: Database, now: datetime, make_user: Callable[[str, str], None]
) -> None:
    """A marketer asks for the lines of 10 leads a week, sees the replay's proposal and its
    curve, adds it as a version; a hostile or thin request is refused with the reason."""
    build(db, now, weeks=5, per_week=25)
    add_model(db, now)
    max_ = marketer(web, make_user)
    assert 'id="lines"' in max_.get("/models?edit=tuned@1")
    page = max_.get("/models/thresholds?model=tuned@1&capacity=10/week&days=7&share=80")
    assert "Replayed 125 past leads" in page and "<polyline" in page
    hot = re.search(r"<td>Hot</td><td>([\d.,]+)</td>", page) or re.search(
        r"<td>hot</td><td>([\d.,]+)</td>", page
    )
    assert hot is not None, page
    applied = web.post("/models/thresholds", data={"csrf": max_.csrf, "model": "tuned@1",
                       "capacity": "10/week", "days": "7", "share": "80"},
                       follow_redirects=False)  # fmt: skip
    assert applied.status_code == 303 and applied.headers["location"] == "/models?edit=tuned@2"
    with db.reading() as session:
        added = session.scalars(select(ScoringModelVersion).where(
            ScoringModelVersion.version == 2)).one()  # fmt: skip
    assert parse_model(added.document, "t").grades["hot"] == float(hot[1].replace(",", ""))
    for query, status in [("capacity=lots", 422), ("capacity=10/week&days=-1", 422),
                          ("capacity=" + "9" * 50, 422), ("capacity=10%00/week", 422),
                          ("capacity=500/week", 422)]:  # fmt: skip
        reply = web.get(f"/models/thresholds?model=tuned@1&{query}")
        assert reply.status_code == status, query
    assert "every lead would be in the top grade" in html.unescape(
        web.get("/models/thresholds?model=tuned@1&capacity=500/week").text
    )
    forged = web.post("/models/thresholds", data={"csrf": max_.csrf, "model": "tuned@1",
                      "capacity": "10/week", "days": "x", "share": "80"},
                      follow_redirects=False)  # fmt: skip
    assert forged.status_code == 303 and forged.headers["location"] == "/models"
    rep = Browser(web)
    make_user("rita", "rep")
    rep.sign_in("rita")
    assert web.get("/models/thresholds?model=tuned@1&capacity=10/week").status_code == 403
