"""Bad automation documents are refused with the place and the reason; good ones explain."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadq.domain.automation import Rule, Trigger, TriggerCondition, fires, parse_automation
from leadq.domain.documents import DocumentError
from tests.automation.documents import TEAMS
from tests.predictive.test_predict_cli import leadq

RULE = "rules:\n  - id: r1\n    trigger: lead_created\n    do: [{assign: {round_robin: emea}}]\n"
BAD = {
    "unknown team": (TEAMS + RULE.replace("emea", "apac"), "unknown team 'apac'"),
    "unknown endpoint": (RULE.replace("{assign: {round_robin: emea}}", "{notify: {webhook: x}}"),
                         "unknown endpoint 'x'"),
    "two actions in one": (TEAMS + RULE.replace("}}]", "}, task: {due_minutes: 5}}]"),
                           "exactly one of"),
    "unknown trigger": (TEAMS + RULE.replace("lead_created", "lead_sneezed"), "lead_created"),
    "yaml 'on' key": (TEAMS + RULE.replace("trigger:", "on:"), "trigger"),
    "repeated rule ids": (TEAMS + RULE + RULE.replace("rules:\n", ""), "unique: r1"),
    "score line missing": (TEAMS + RULE.replace("lead_created", "score_crossed"), "when.score"),
    "bad time zone": (TEAMS.replace("Europe/Warsaw", "Mars/Olympus") + RULE, "unknown time zone"),
    "closing before opening": (TEAMS.replace('end: "17:00"', 'end: "08:00"') + RULE, "before end"),
    "not a mapping": ("- just\n- a list\n", "mapping"),
    "not yaml": ("rules: [unclosed", "line"),
    "unknown profile field": (TEAMS + RULE.replace("do:", "where: {shoe_size: 44}\n    do:"),
                              "unknown field 'shoe_size'"),
    "webhook without a scheme": (TEAMS + "endpoints: {x: {url: 'ftp://h'}}\n" + RULE, "url"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_bad_documents_name_the_reason(case: str) -> None:
    text, reason = BAD[case]
    with pytest.raises(DocumentError) as refused:
        parse_automation(text, "automation.yaml")
    assert reason in f"{refused.value.path}: {refused.value.reason}"


def test_cli_and_api_refuse_a_bad_document_in_one_line(tmp_path: Path, client: TestClient) -> None:
    text, reason = BAD["unknown team"]
    (tmp_path / "bad.yaml").write_text(text)
    result = leadq(tmp_path, "automation", "validate", "bad.yaml", ok=False)
    assert reason in result.stderr and "bad.yaml" in result.stderr
    (tmp_path / "good.yaml").write_text(TEAMS + RULE)
    assert (
        "1 rules, 2 teams — valid" in leadq(tmp_path, "automation", "validate", "good.yaml").stdout
    )
    answer = client.post("/api/v1/automation/validate", content=text,
                         headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert answer.status_code == 422 and reason in answer.text
    assert client.post("/api/v1/automation/validate", content="x" * 300_000,
                       headers={"Content-Type": "application/yaml"}).status_code == 422  # fmt: skip
    assert client.get("/api/v1/automation").json()["rules"] == []  # nothing in force by default


def test_triggers_fire_only_on_what_they_name() -> None:
    crossed = Rule.model_validate({"id": "c", "trigger": Trigger.SCORE_CROSSED,
                                   "when": TriggerCondition(score=20),
                                   "do": [{"nurture": "x"}]})  # fmt: skip
    assert fires(crossed, {"before": 15, "score": 21}, {})
    assert not fires(crossed, {"before": 21, "score": 25}, {})  # already above: no crossing
    assert not fires(crossed, {"before": 25, "score": 19}, {})  # going down
    assert fires(crossed, {"before": None, "score": 20}, {})
    to_hot = Rule.model_validate({"id": "h", "trigger": "grade_changed",
                                  "when": {"to": ["hot"]}, "where": {"country": "PL"},
                                  "do": [{"nurture": "x"}]})  # fmt: skip
    assert fires(to_hot, {"to": "hot"}, {"country": "PL"})
    assert not fires(to_hot, {"to": "warm"}, {"country": "PL"})
    assert not fires(to_hot, {"to": "hot"}, {"country": "DE"})
