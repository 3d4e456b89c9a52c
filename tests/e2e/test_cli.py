"""The ``leadq`` command as a user runs it, on a real SQLite file: through its entry point in
this process, and as a real subprocess where a process matters (the server, bad settings)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli import LEADQ, Result, invoke, spawn
from tests.e2e.serving import free_port, wait_until_up


def run(tmp_path: Path, *args: str, ok: bool = True, process: bool = False) -> Result:
    """``leadq ARGS`` on the SQLite file in ``tmp_path``; ``process`` for a real subprocess."""
    env = {"LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'leadq.db'}"}
    result = (spawn if process else invoke)(tmp_path, list(args), env)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def refused_in_one_line(result: Result, args: object) -> None:
    """A user's mistake: a non-zero exit and one line on stderr, never a traceback."""
    assert result.returncode != 0, args
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("leadq: "), result.stderr


def test_demo_builds_a_workspace_and_prints_priorities(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--leads", "60", "--show", "5")
    assert "60 leads" in result.stdout
    assert "Leads in priority order" in result.stdout
    assert result.stdout.count("@") >= 5
    again = run(tmp_path, "demo", "--leads", "60", "--show", "5")
    assert " 0 events, 0 customers, 0 follow-up tasks" in again.stdout  # nothing stored twice
    exported = run(tmp_path, "export", "leads").stdout.splitlines()
    assert len(exported) == 61 and exported[0].startswith("id,email,phone")


def test_user_mistakes_are_one_line_without_traceback(tmp_path: Path) -> None:
    run(tmp_path, "init")
    (tmp_path / "bad.csv").write_bytes("email,city\nzofia@firma.pl,Łódź\n".encode("cp1250"))
    cases = [
        ("import", "leads", "missing.csv"),
        ("import", "leads", "bad.csv"),
        ("import", "leads", "bad.csv", "--map", "nonsense"),
        ("import", "leads", "bad.csv", "--encoding", "no-such-codec"),
        ("apikey", "revoke", "42"),
    ]
    for args in cases:
        refused_in_one_line(run(tmp_path, *args, ok=False), args)


def test_commands_before_init_say_what_to_do(tmp_path: Path) -> None:
    result = run(tmp_path, "apikey", "list", ok=False)
    assert result.returncode == 1
    assert "leadq init" in result.stderr and "Traceback" not in result.stderr


def test_import_prints_summary_and_writes_rejects(tmp_path: Path) -> None:
    run(tmp_path, "init")
    (tmp_path / "in.csv").write_text("Mail,name\na@firma.pl,A\nnope,B\n", encoding="utf-8")
    result = run(
        tmp_path, "import", "leads", "in.csv", "--map", "Mail=email", "--map", "name=first_name"
    )
    assert "1 created, 0 merged, 0 unchanged, 1 rejected" in result.stdout
    rejects = (tmp_path / "in.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "line,reason,Mail,name" and rejects[1].startswith("3,")


def test_serve_answers_with_a_created_key(tmp_path: Path) -> None:
    run(tmp_path, "init")
    token = run(tmp_path, "apikey", "create", "e2e").stdout.strip()
    assert token.startswith("lq_")
    port = free_port()
    env = {
        **os.environ,
        "LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'leadq.db'}",
        "LEADQ_API_KEY_CACHE_SECONDS": "0",  # a revocation counts at once
    }
    server = subprocess.Popen([*LEADQ, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        auth = {"Authorization": f"Bearer {token}"}
        created = httpx.post(f"{base}/leads", json={"email": "serve@acme.com"}, headers=auth)
        assert created.status_code == 201
        assert httpx.get(f"{base}/leads", headers={"Authorization": "Bearer x"}).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "leadq"
        listed = run(tmp_path, "apikey", "list").stdout
        assert "e2e" in listed and token not in listed
        run(tmp_path, "apikey", "revoke", "1")
        assert httpx.get(f"{base}/leads", headers=auth).status_code == 401
        searched = httpx.get(f"{base}/leads", params={"q": "serve@acme.com"}, headers=auth)
    finally:
        server.terminate()
        _, logged = server.communicate(timeout=10)
    entries = [json.loads(line) for line in logged.splitlines()]  # every line is JSON
    requests = [e for e in entries if e["event"] == "request"]
    assert requests[-1]["request_id"] == searched.headers["x-request-id"]
    assert (requests[-1]["path"], requests[-1]["status"]) == ("/api/v1/leads", 401)
    assert "serve@acme.com" not in logged  # neither the created lead nor the search


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"LEADQ_PORT": "eighty"}, ("serve",), "invalid setting LEADQ_PORT"),
        ({"LEADQ_DATABASE_URL": "nonsense://"}, ("init",), "database error"),
        ({"LEADQ_FORMS_FILE": "/no/such/forms.yaml"}, ("serve", "--port", "1"), "cannot read"),
    ],
)
def test_bad_settings_are_one_line(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    full_env = {**os.environ, "LEADQ_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env}
    result = subprocess.run([*LEADQ, *args], cwd=tmp_path, env=full_env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.startswith("leadq: ") and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


LEADS_FILE = """id,job_title,seniority,company_size
1,CEO,c_level,300
2,Chief Executive Officer,,300
3,,director,60
4,Analyst,individual,5
"""


def _events_file(day0: str) -> str:
    rows = ["lead_id,type,occurred_at,asset_type,path"]
    rows += [f"1,content_download,{day0},whitepaper,"] * 3
    rows += [f"1,webinar_attended,{day0},,"] * 3 + [f"1,page_view,{day0},,/pricing"] * 3
    rows += [f"3,webinar_attended,{day0},,"] + [f"3,page_view,{day0},,/pricing/team"] * 2
    rows += [f"4,content_download,{day0},whitepaper,", f"4,content_download,{day0},ebook,"]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_files_with_the_classic_vectors(tmp_path: Path, suffix: str) -> None:
    import polars as pl

    day0 = "2026-03-02T09:00:00+00:00"
    (tmp_path / "leads.csv").write_text(LEADS_FILE, encoding="utf-8")
    (tmp_path / "events.csv").write_text(_events_file(day0), encoding="utf-8")
    if suffix == ".parquet":  # the same data as Parquet, time stamps typed
        pl.read_csv(tmp_path / "leads.csv").write_parquet(tmp_path / "leads.parquet")
        events = pl.read_csv(tmp_path / "events.csv").with_columns(
            pl.col("occurred_at").str.to_datetime(time_zone="UTC")
        )
        events.write_parquet(tmp_path / "events.parquet")
    result = run(tmp_path, "score", "--leads", f"leads{suffix}", "--events", f"events{suffix}",
                 "--model", "classic", "--as-of", "2026-03-02T10:00:00+00:00",
                 "--out", f"scores{suffix}")  # fmt: skip
    assert "Scored 4 leads" in result.stdout
    scores = (pl.read_parquet if suffix == ".parquet" else pl.read_csv)(
        tmp_path / f"scores{suffix}"
    )
    assert scores.columns == ["id", "score", "grade", "points.decision_maker",
                              "points.company_size", "points.whitepaper", "points.webinar",
                              "points.pricing_page"]  # fmt: skip
    rows = {r["id"]: (r["score"], r["grade"]) for r in scores.to_dicts()}
    assert rows == {1: (33, "hot"), 2: (15, "warm"), 3: (18, "warm"), 4: (1, "cold")}


@pytest.mark.parametrize(("as_of", "score"), [("2026-03-02T09:00:00+00:00", 15),
                                              ("2026-04-01T09:00:00+00:00", 10),
                                              ("2026-05-06T09:00:00+00:00", 5),
                                              ("2026-06-05T09:00:00+00:00", 0)])  # fmt: skip
def test_score_files_with_the_dynamic_vectors(tmp_path: Path, as_of: str, score: int) -> None:
    import polars as pl

    (tmp_path / "leads.csv").write_text("id\n7\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text(
        "lead_id,type,occurred_at,asset_type\n"
        "7,content_download,2026-03-02T09:00:00Z,whitepaper\n"
        "7,webinar_attended,2026-03-02T11:00:00+02:00,\n", encoding="utf-8")  # fmt: skip
    run(tmp_path, "score", "--leads", "leads.csv", "--events", "events.csv", "--model",
        "dynamic", "--as-of", as_of, "--out", "out.csv")  # fmt: skip
    assert pl.read_csv(tmp_path / "out.csv")["score"].to_list() == [score]


def test_model_commands_and_bad_documents(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: m\ngrades: {cold: 0, hot: 5}\nfit: [{id: a, points: 1, when: "
                   "{age: {about: 3}}}]\n", encoding="utf-8")  # fmt: skip
    for args in (("model", "validate", str(bad)), ("model", "add", str(bad)),
                 ("score", "--leads", "x.csv", "--out", "y.csv", "--model", str(bad)),
                 ("score", "--leads", "missing.csv", "--out", "y.csv"),
                 ("score", "--leads", "x.txt", "--out", "y.csv"),
                 ("score", "--leads", "x.csv", "--out", "y.csv", "--as-of", "never")):  # fmt: skip
        result = run(tmp_path, *args, ok=False)
        assert result.returncode != 0, args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert (
        "fit[0:a].when.age.about: unknown key"
        in run(tmp_path, "model", "validate", str(bad), ok=False).stderr
    )
    assert "is valid" in run(tmp_path, "model", "validate", "classic").stdout
    run(tmp_path, "init")
    run(tmp_path, "model", "add", "classic")
    assert "Added classic@2" in run(tmp_path, "model", "add", "classic").stdout
    assert "Active model: classic@1" in run(tmp_path, "model", "activate", "classic@1").stdout
    listed = run(tmp_path, "model", "list").stdout
    assert "classic" in listed and "●" in listed
    assert "0 leads rescored" in run(tmp_path, "rescore").stdout
