"""The import page through the real app: upload, the proposed mapping, a changed field, the
run in the background and its counts."""

from __future__ import annotations

import time

from tests.integration.test_imports_api import SALESFORCE
from tests.web.conftest import Browser, csrf_of


def _wait_done(browser: Browser, run_page: str) -> str:
    deadline = time.monotonic() + 30
    while (
        'data-status="running"' in (text := browser.get(run_page)) and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    return text


def test_the_web_page_uploads_maps_and_runs(browser: Browser) -> None:
    page = browser.get("/imports")
    assert "Import leads" in page and 'href="/imports"' in page
    reply = browser.client.post("/imports", data={"csrf": browser.csrf},
                                files={"file": ("crm.csv", SALESFORCE, "text/csv")})  # fmt: skip
    assert reply.status_code == 200 and "Columns read as" in reply.text
    assert "Salesforce (Lead)" in reply.text and "Ann" in reply.text
    mapping_url = str(reply.url)
    run_id = mapping_url.rstrip("/").split("/")[-2]
    header = SALESFORCE.splitlines()[0].split(",")
    fields = {f"column-{i}": "-" if c == "Title" else "" for i, c in enumerate(header)}
    again = browser.client.post(f"/imports/{run_id}/mapping", data={"csrf": csrf_of(reply.text),
                                                                   **fields})  # fmt: skip
    assert again.status_code == 200 and "CEO" not in again.text.split('id="preview"')[1]
    done = browser.client.post(f"/imports/{run_id}/run", data={"csrf": browser.csrf, **fields})
    assert done.status_code == 200
    text = _wait_done(browser, f"/imports/{run_id}")
    assert "<dt>Created</dt><dd>2</dd>" in text and "Title" in text  # left out, and listed
    twice = browser.client.post(f"/imports/{run_id}/run", data={"csrf": browser.csrf})
    assert twice.status_code == 200 and "has run" in twice.text  # a run runs once
    rejects = browser.client.get(f"/imports/{run_id}/rejects.csv")
    assert rejects.status_code == 200 and rejects.text.startswith("line,reason")


def test_a_file_without_a_known_email_column_is_mapped_on_the_page(browser: Browser) -> None:
    text = "E-mail Address,Name\nann@acme.example,Ann\n"
    reply = browser.client.post("/imports", data={"csrf": browser.csrf},
                                files={"file": ("odd.csv", text, "text/csv")})  # fmt: skip
    assert reply.status_code == 422 and "no email or phone column" in reply.text
    run_id = str(reply.url).rstrip("/").split("/")[-2]
    fields = {"column-0": "email", "column-1": "first_name"}
    mapped = browser.client.post(f"/imports/{run_id}/mapping",
                                 data={"csrf": csrf_of(reply.text), **fields})  # fmt: skip
    assert mapped.status_code == 200 and "ann@acme.example" in mapped.text
    browser.client.post(f"/imports/{run_id}/run", data={"csrf": browser.csrf, **fields})
    assert "<dt>Created</dt><dd>1</dd>" in _wait_done(browser, f"/imports/{run_id}")
