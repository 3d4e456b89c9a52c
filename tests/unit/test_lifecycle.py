"""The lifecycle as data: documents refused with path and reason, rules that move leads, pins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import yaml

from leadq.domain.documents import DocumentError
from leadq.domain.frameworks import Verdict
from leadq.domain.lifecycle import Lifecycle, Situation, Stage, advance, parse_lifecycle
from leadq.domain.scoring.evaluate import EventFact
from leadq.services.errors import ConfigError
from leadq.services.qualification.rules import load_rules

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
GRADES = ("cold", "warm", "hot")
SHIPPED = (resources.files("leadq.models") / "lifecycle.yaml").read_text("utf-8")


@pytest.fixture(scope="module")
def shipped() -> Lifecycle:
    return parse_lifecycle(SHIPPED, "lifecycle.yaml")


def moves(lifecycle: Lifecycle, **facts: object) -> list[tuple[str, str | None, str | None]]:
    base: dict[str, object] = {"stage": Stage.iql, "stage_changed_at": NOW - timedelta(days=1),
                               "grades": GRADES}  # fmt: skip
    situation = Situation(**{**base, **facts})  # type: ignore[arg-type]
    return [(s.rule, s.to, s.flag) for s in advance(lifecycle, situation, NOW)]


def test_shipped_rules_move_a_warm_lead_to_mql_and_a_cold_mql_to_nurture(
    shipped: Lifecycle,
) -> None:
    assert moves(shipped, grade="cold") == []
    assert moves(shipped, grade="warm") == [("mql_by_grade", Stage.mql, None)]
    assert moves(shipped, grade="hot") == [("mql_by_grade", Stage.mql, None)]
    assert moves(shipped, stage=Stage.mql, grade="cold") == [
        ("nurture_when_cold", Stage.nurture, None)
    ]
    assert moves(shipped, stage=Stage.mql, grade="cold", pql=True) == []
    assert moves(shipped, grade="warm", stage_pinned=True) == []
    assert moves(shipped, grade="unknown") == []  # a grade the model lacks meets nothing


def test_pql_needs_three_days_of_product_use_within_two_weeks(shipped: Lifecycle) -> None:
    def used(*days_ago: float) -> list[EventFact]:
        return [EventFact("product_used", NOW - timedelta(days=d)) for d in days_ago]

    assert moves(shipped, events=used(1, 1.1, 2, 2.2)) == []  # two distinct days
    assert moves(shipped, events=used(1, 3, 20)) == []  # the third is too old
    assert moves(shipped, events=used(1, 3, 13)) == [
        ("pql", None, "pql"),
        ("mql_by_grade", Stage.mql, None),  # a PQL is worth a sales conversation
    ]
    assert moves(shipped, events=used(1, 3, 13), pql=True) == [("mql_by_grade", Stage.mql, None)]


def test_sql_needs_acceptance_and_a_qualified_verdict(shipped: Lifecycle) -> None:
    qualified = {"bant": Verdict.qualified}
    assert moves(shipped, stage=Stage.sal, accepted=True, verdicts=qualified) == [
        ("sql_when_qualified", Stage.sql, None)
    ]
    assert moves(shipped, stage=Stage.sal, accepted=False, verdicts=qualified) == []
    assert moves(shipped, stage=Stage.sal, accepted=True,
                 verdicts={"bant": Verdict.incomplete}) == []  # fmt: skip


def test_unqualified_leads_come_back_on_activity_or_after_half_a_year(
    shipped: Lifecycle,
) -> None:
    since = NOW - timedelta(days=10)
    back = [("reactivate_on_activity", Stage.nurture, None)]
    kept = {"stage": Stage.unqualified, "stage_changed_at": since}
    assert moves(shipped, **kept) == []
    assert moves(shipped, **kept, last_activity_at=since - timedelta(hours=1)) == []
    assert moves(shipped, **kept, last_activity_at=since + timedelta(hours=1)) == back
    long_ago = {"stage": Stage.unqualified, "stage_changed_at": NOW - timedelta(days=181)}
    assert moves(shipped, **long_ago) == [("reactivate_after_half_a_year", Stage.nurture, None)]
    assert moves(shipped, stage=Stage.disqualified, last_activity_at=NOW) == []


def test_contradicting_rules_cannot_loop() -> None:
    document = yaml.safe_load(SHIPPED)
    document["rules"] = [
        {"id": "up", "from": ["iql", "nurture"], "to": "mql", "when": {"grade": ["warm"]}},
        {"id": "down", "from": ["mql"], "to": "nurture", "when": {"grade": ["warm"]}},
    ]
    document["transitions"]["nurture"] = ["mql"]
    lifecycle = parse_lifecycle(yaml.safe_dump(document), "loop.yaml")
    assert [m[1] for m in moves(lifecycle, grade="warm")] == [Stage.mql, Stage.nurture]


def test_moves_and_reasons_are_checked(shipped: Lifecycle) -> None:
    assert shipped.refusal(Stage.mql, Stage.sal) is None
    refusal = shipped.refusal(Stage.iql, Stage.customer)
    assert refusal is not None and refusal.startswith("iql → customer is not allowed (from iql:")
    assert shipped.reason_refusal(Stage.unqualified, "no_budget") is None
    assert "one of: no_budget" in str(shipped.reason_refusal(Stage.unqualified, None))
    assert "one of: not_ready" in str(shipped.reason_refusal(Stage.nurture, "whatever"))
    assert shipped.reason_refusal(Stage.nurture, "not_ready") is None
    assert shipped.reason_refusal(Stage.mql, None) is None


def _edit(path: str, value: object) -> str:
    document = yaml.safe_load(SHIPPED)
    node = document
    *parents, last = path.split("/")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return yaml.safe_dump(document)


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"),
    [
        ("rules/0/to", "customer", "-", "transitions do not allow iql → customer"),
        ("rules/0/to", "sal", "-", "sal is entered only when sales accepts"),
        ("rules/0/to", "won", "rules[0:mql_by_grade].to", "Input should be"),
        ("rules/0/when", {}, "rules[0:mql_by_grade].when", "at least one test"),
        ("rules/0/when", {"colour": 1}, "rules[0:mql_by_grade].when.colour", "unknown key"),
        ("rules/0/when", {"profile": {"colour": "red"}}, "rules[0:mql_by_grade].when.profile",
         "unknown field 'colour'"),
        ("rules/1/id", "mql_by_grade", "-", "rule ids must be unique"),
        ("rejection/no_budget", "sql", "-", "transitions do not allow mql → sql"),
        ("rejection/too_small", "unqualified", "-", "not among the reasons"),
        ("reasons/unqualified", [], "reasons", "give the reasons"),
        ("flags/0/when/events/count", 2, "flags[0:pql].when.events", "not both"),
        ("flags/0/flag", "vip", "flags[0:pql].flag", "Input should be 'pql'"),
    ],
)  # fmt: skip
def test_bad_lifecycle_documents_name_the_path(
    path: str, value: object, where: str, reason: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_lifecycle(_edit(path, value), "rules.yaml")
    assert (caught.value.file, caught.value.path) == ("rules.yaml", where)
    assert reason in caught.value.reason


def test_configured_documents_are_cross_checked(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(_edit("rules/3/when/framework/name", "meddic"), encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown framework 'meddic'"):
        load_rules(rules)
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "meddic.yaml").write_text(
        "name: meddic\nlabel: MEDDIC\nquestions:\n"
        "  - {id: metrics, label: Metrics agreed, type: boolean, qualifies: {eq: true}}\n",
        encoding="utf-8",
    )
    loaded = load_rules(rules, folder)
    assert "meddic" in loaded.frameworks and "bant" in loaded.frameworks
    (folder / "bad.yaml").write_text("name: bad\nlabel: B\nquestions: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: questions: "):
        load_rules(rules, folder)
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not a folder"):
        load_rules(None, tmp_path / "nowhere")
