"""An admin at the command line: keys with roles, users' roles, and the audit log."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.e2e.test_cli import run


def test_keys_and_users_get_roles_and_every_step_is_in_the_audit_log(tmp_path: Path) -> None:
    run(tmp_path, "init")
    token = run(tmp_path, "apikey", "create", "anna", "--role", "rep").stdout.strip()
    assert token.startswith("lq_")
    assert "rep" in run(tmp_path, "apikey", "list").stdout
    refused = run(tmp_path, "apikey", "create", "x", "--role", "root", ok=False)
    assert (
        refused.returncode != 0 and "role" in refused.stderr and "Traceback" not in refused.stderr
    )
    os.environ["LEADQ_TEST_PASSWORD"] = "a long enough one"
    try:
        run(
            tmp_path, "user", "add", "ben", "--role", "rep", "--password-env", "LEADQ_TEST_PASSWORD"
        )
    finally:
        del os.environ["LEADQ_TEST_PASSWORD"]
    assert "now manager" in run(tmp_path, "user", "role", "ben", "manager").stdout
    for bad in (("user", "role", "ben", "god"), ("user", "role", "nobody", "rep")):
        result = run(tmp_path, *bad, ok=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr, bad
    logged = [json.loads(line) for line in run(tmp_path, "audit", "--json").stdout.splitlines()]
    assert [(e["action"], e["actor"]) for e in logged] == [
        ("user.role_changed", "cli"), ("user.created", "cli"), ("apikey.created", "cli"),
    ]  # fmt: skip
    assert logged[0]["details"] == {"from": "rep", "to": "manager"}
    only = run(tmp_path, "audit", "--action", "apikey.created", "--json").stdout.splitlines()
    assert [json.loads(line)["details"]["role"] for line in only] == ["rep"]
    assert "user.created" in run(tmp_path, "audit").stdout
    assert run(tmp_path, "audit", "--limit", "0", ok=False).returncode != 0
