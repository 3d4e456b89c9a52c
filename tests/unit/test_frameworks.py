"""Qualification frameworks: shipped verdicts, answer type checks, refused documents."""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Any

import pytest
import yaml

from leadq.domain.documents import DocumentError, safe_load
from leadq.domain.frameworks import (
    MAX_TEXT_ANSWER,
    AnswerType,
    Framework,
    Question,
    Verdict,
    assess,
    parse_framework,
)

Answers = dict[str, Any]
SHIPPED = ("bant", "champ", "anum", "gpctba_ci", "spin")


@cache
def shipped(name: str) -> Framework:
    resource = files("leadq.models") / "frameworks" / f"{name}.yaml"
    return parse_framework(resource.read_text(encoding="utf-8"), f"{name}.yaml")


def failing_of(framework: str, answers: Answers) -> list[tuple[str, str]]:
    return [(f.question, f.reason) for f in assess(shipped(framework), answers).failing]


# -- the shipped frameworks, answer by answer ---------------------------------------------------
# Each table reads as documentation: what a lead that passes each framework looks like.

QUALIFIED = [
    pytest.param(
        "bant",
        {"budget": 25000, "authority": "decision_maker", "need": True, "timing": 3},
        100.0,
        id="bant",
    ),
    pytest.param(
        "bant",
        {"budget": 10000, "authority": "decision_maker", "need": True, "timing": 6},
        100.0,
        id="bant-on-the-thresholds",
    ),
    pytest.param(
        "champ",
        {
            "challenges": True,
            "challenge_notes": "Invoices are keyed in by hand, two days a month",
            "authority": "influencer",
            "money": 15000,
            "prioritization": "top",
        },
        100.0,
        id="champ",
    ),
    pytest.param(
        "champ",
        {
            "challenges": True,
            "authority": "decision_maker",
            "money": 10000,
            "prioritization": "high",
        },
        80.0,
        id="champ-without-the-optional-notes",
    ),
    pytest.param(
        "anum",
        {"authority": "decision_maker", "need": True, "urgency": "this_quarter", "money": 40000},
        100.0,
        id="anum",
    ),
    pytest.param(
        "gpctba_ci",
        {
            "goals": True,
            "plans": "Hire two more clerks next year",
            "challenges": True,
            "timeline": 4,
            "budget": 50000,
            "authority": "decision_maker",
            "negative_consequences": True,
            "positive_implications": True,
        },
        100.0,
        id="gpctba_ci",
    ),
    pytest.param(
        "gpctba_ci",
        {
            "goals": True,
            "challenges": True,
            "timeline": 6,
            "budget": 10000,
            "authority": "influencer",
            "negative_consequences": True,
            "positive_implications": True,
        },
        87.5,
        id="gpctba_ci-without-the-optional-plans",
    ),
    pytest.param(
        "spin",
        {
            "situation": "Three spreadsheets and a shared inbox",
            "problem": True,
            "implication": "severe",
            "need_payoff": True,
        },
        100.0,
        id="spin",
    ),
    pytest.param(
        "spin",
        {"problem": True, "implication": "significant", "need_payoff": True},
        75.0,
        id="spin-without-the-optional-situation",
    ),
]


@pytest.mark.parametrize(("name", "answers", "completeness"), QUALIFIED)
def test_all_required_answered_and_passing_is_qualified(
    name: str, answers: Answers, completeness: float
) -> None:
    result = assess(shipped(name), answers)
    assert result.framework == name
    assert result.verdict is Verdict.qualified
    assert result.failing == []
    assert result.missing == []
    assert result.completeness == completeness


INCOMPLETE = [
    pytest.param("bant", {"budget": 12000, "need": True}, ["authority", "timing"], 50.0, id="bant"),
    pytest.param(
        "champ",
        {"challenges": True, "challenge_notes": "Slow month-end close", "money": 20000},
        ["authority", "prioritization"],
        60.0,
        id="champ",
    ),
    pytest.param(
        "anum",
        {"authority": "decision_maker", "need": True},
        ["urgency", "money"],
        50.0,
        id="anum",
    ),
    pytest.param(
        "gpctba_ci",
        {"goals": True, "plans": "None yet", "challenges": True, "authority": "influencer"},
        ["timeline", "budget", "negative_consequences", "positive_implications"],
        50.0,
        id="gpctba_ci",
    ),
    pytest.param(
        "spin",
        {"situation": "Paper forms", "problem": True},
        ["implication", "need_payoff"],
        50.0,
        id="spin",
    ),
    pytest.param(
        "spin",
        {"situation": "Paper forms"},
        ["problem", "implication", "need_payoff"],
        25.0,
        id="spin-only-the-optional-answered",
    ),
]


@pytest.mark.parametrize(("name", "answers", "missing", "completeness"), INCOMPLETE)
def test_required_unanswered_without_a_failure_is_incomplete(
    name: str, answers: Answers, missing: list[str], completeness: float
) -> None:
    result = assess(shipped(name), answers)
    assert result.verdict is Verdict.incomplete
    assert result.failing == []
    assert result.missing == missing
    assert result.completeness == completeness


REQUIRED = [
    pytest.param("bant", ["budget", "authority", "need", "timing"], id="bant"),
    pytest.param("champ", ["challenges", "authority", "money", "prioritization"], id="champ"),
    pytest.param("anum", ["authority", "need", "urgency", "money"], id="anum"),
    pytest.param(
        "gpctba_ci",
        [
            "goals",
            "challenges",
            "timeline",
            "budget",
            "authority",
            "negative_consequences",
            "positive_implications",
        ],
        id="gpctba_ci",
    ),
    pytest.param("spin", ["problem", "implication", "need_payoff"], id="spin"),
]


@pytest.mark.parametrize(("name", "required"), REQUIRED)
def test_nothing_answered_is_incomplete_and_misses_every_required_question(
    name: str, required: list[str]
) -> None:
    result = assess(shipped(name), {})
    assert result.verdict is Verdict.incomplete
    assert result.missing == required
    assert result.failing == []
    assert result.completeness == 0.0


NOT_QUALIFIED = [
    pytest.param(
        "bant",
        {"budget": 9999.5, "authority": "decision_maker", "need": True, "timing": 3},
        [("budget", "needs ≥ 10000")],
        [],
        id="bant-budget-too-small",
    ),
    pytest.param(
        "bant",
        {"need": False},
        [("need", "needs = yes")],
        ["budget", "authority", "timing"],
        id="bant-no-need-so-the-rest-can-wait",
    ),
    pytest.param(
        "bant",
        {"budget": 25000, "authority": "user", "need": True, "timing": 6.5},
        [("authority", "needs in [decision_maker]"), ("timing", "needs ≤ 6")],
        [],
        id="bant-two-failing",
    ),
    pytest.param(
        "champ",
        {"challenges": True, "authority": "gatekeeper", "money": 15000, "prioritization": "top"},
        [("authority", "needs in [decision_maker, influencer]")],
        [],
        id="champ-wrong-contact",
    ),
    pytest.param(
        "champ",
        {"challenges": True, "prioritization": "low"},
        [("prioritization", "needs in [top, high]")],
        ["authority", "money"],
        id="champ-low-priority",
    ),
    pytest.param(
        "anum",
        {"authority": "gatekeeper", "need": True, "urgency": "no_rush", "money": 20000},
        [
            ("authority", "needs in [decision_maker]"),
            ("urgency", "needs in [immediate, this_quarter]"),
        ],
        [],
        id="anum-two-failing",
    ),
    pytest.param(
        "gpctba_ci",
        {
            "goals": True,
            "challenges": True,
            "timeline": 12,
            "budget": 50000,
            "authority": "decision_maker",
            "negative_consequences": True,
            "positive_implications": True,
        },
        [("timeline", "needs ≤ 6")],
        [],
        id="gpctba_ci-too-late",
    ),
    pytest.param(
        "gpctba_ci",
        {"goals": False, "budget": 500},
        [("goals", "needs = yes"), ("budget", "needs ≥ 10000")],
        ["challenges", "timeline", "authority", "negative_consequences", "positive_implications"],
        id="gpctba_ci-early-failures",
    ),
    pytest.param(
        "spin",
        {
            "situation": "Fine as it is",
            "problem": True,
            "implication": "minor",
            "need_payoff": True,
        },
        [("implication", "needs in [severe, significant]")],
        [],
        id="spin-minor-implications",
    ),
    pytest.param(
        "spin",
        {"problem": False},
        [("problem", "needs = yes")],
        ["implication", "need_payoff"],
        id="spin-no-problem",
    ),
]


@pytest.mark.parametrize(("name", "answers", "failing", "missing"), NOT_QUALIFIED)
def test_a_failing_answer_is_not_qualified_and_says_why(
    name: str, answers: Answers, failing: list[tuple[str, str]], missing: list[str]
) -> None:
    framework = shipped(name)
    result = assess(framework, answers)
    assert result.verdict is Verdict.not_qualified
    assert [(f.question, f.reason) for f in result.failing] == failing
    assert result.missing == missing
    for entry in result.failing:
        assert entry.reason.startswith("needs ")
        assert entry.answer == answers[entry.question]
        question = framework.question(entry.question)
        assert question is not None
        assert entry.label == question.label


def test_the_tables_use_real_questions_and_well_typed_answers() -> None:
    """Guards the tables above: a typo in an id or a wrong type would make them lie."""
    for table in (QUALIFIED, INCOMPLETE, NOT_QUALIFIED):
        for case in table:
            name, answers = case.values[0], case.values[1]
            assert isinstance(name, str) and isinstance(answers, dict)
            for question_id, value in answers.items():
                question = shipped(name).question(question_id)
                assert question is not None, f"{name} has no question {question_id!r}"
                assert question.answer(value) == value


def test_the_five_frameworks_ship_under_their_own_names() -> None:
    assert [shipped(name).name for name in SHIPPED] == list(SHIPPED)
    assert [shipped(name).min_passed for name in SHIPPED] == [None, None, 3, None, None]


# -- ANUM: three of four is enough --------------------------------------------------------------

ANUM_PASSING: Answers = {
    "authority": "decision_maker",
    "need": True,
    "urgency": "immediate",
    "money": 10000,
}
ANUM_FAILING: Answers = {
    "authority": "influencer",
    "need": False,
    "urgency": "this_year",
    "money": 9000,
}


@pytest.mark.parametrize("failed", ["authority", "need", "urgency", "money"])
def test_anum_one_failing_with_the_other_three_passing_is_qualified(failed: str) -> None:
    result = assess(shipped("anum"), {**ANUM_PASSING, failed: ANUM_FAILING[failed]})
    assert result.verdict is Verdict.qualified
    assert [f.question for f in result.failing] == [failed]
    assert result.missing == []
    assert result.completeness == 100.0


@pytest.mark.parametrize(
    "failed",
    [("authority", "money"), ("need", "urgency"), ("authority", "need", "urgency")],
)
def test_anum_two_or_more_failing_is_not_qualified(failed: tuple[str, ...]) -> None:
    answers = {**ANUM_PASSING, **{q: ANUM_FAILING[q] for q in failed}}
    result = assess(shipped("anum"), answers)
    assert result.verdict is Verdict.not_qualified
    assert [f.question for f in result.failing] == list(failed)


def test_anum_two_failing_is_not_qualified_before_the_rest_is_answered() -> None:
    result = assess(shipped("anum"), {"authority": "user", "money": 0})
    assert result.verdict is Verdict.not_qualified
    assert result.missing == ["need", "urgency"]


@pytest.mark.parametrize(
    ("failed", "unanswered"),
    [("money", "urgency"), ("authority", "need"), ("need", "money")],
)
def test_anum_one_failing_and_one_missing_is_incomplete(failed: str, unanswered: str) -> None:
    answers = {**ANUM_PASSING, failed: ANUM_FAILING[failed]}
    del answers[unanswered]
    result = assess(shipped("anum"), answers)
    assert result.verdict is Verdict.incomplete
    assert result.missing == [unanswered]
    assert [f.question for f in result.failing] == [failed]
    assert result.completeness == 75.0


@pytest.mark.parametrize("unanswered", ["authority", "need", "urgency", "money"])
def test_anum_three_passing_and_one_unanswered_is_still_incomplete(unanswered: str) -> None:
    """Enough answers pass, but every required question must be answered to qualify."""
    answers = {q: v for q, v in ANUM_PASSING.items() if q != unanswered}
    result = assess(shipped("anum"), answers)
    assert result.verdict is Verdict.incomplete
    assert result.missing == [unanswered]
    assert result.failing == []


def test_anum_one_failing_and_nothing_else_is_incomplete() -> None:
    result = assess(shipped("anum"), {"money": 500})
    assert result.verdict is Verdict.incomplete
    assert result.missing == ["authority", "need", "urgency"]
    assert [(f.question, f.reason) for f in result.failing] == [("money", "needs ≥ 10000")]


def test_without_min_passed_a_single_failure_disqualifies() -> None:
    """The contrast with ANUM: BANT has no ``min_passed``, so all four must pass."""
    answers = {"budget": 10000, "authority": "decision_maker", "need": True, "timing": 7}
    assert assess(shipped("bant"), answers).verdict is Verdict.not_qualified


# -- Question.answer: type checks ---------------------------------------------------------------

CHOICES = ["decision_maker", "influencer", "user", "gatekeeper"]


def question(kind: AnswerType) -> Question:
    return Question(id="q", label="Q", type=kind, choices=CHOICES if kind == "choice" else None)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        pytest.param("number", True, "expected a number", id="number-refuses-true"),
        pytest.param("number", False, "expected a number", id="number-refuses-false"),
        pytest.param("number", "10000", "expected a number", id="number-refuses-text"),
        pytest.param("number", [1], "expected a number", id="number-refuses-list"),
        pytest.param("number", math.nan, "expected a finite number", id="number-refuses-nan"),
        pytest.param("number", math.inf, "expected a finite number", id="number-refuses-inf"),
        pytest.param(
            "number", -math.inf, "expected a finite number", id="number-refuses-minus-inf"
        ),
        pytest.param("boolean", "yes", "expected true or false", id="boolean-refuses-yes"),
        pytest.param("boolean", "true", "expected true or false", id="boolean-refuses-true-text"),
        pytest.param("boolean", 1, "expected true or false", id="boolean-refuses-1"),
        pytest.param("boolean", 0, "expected true or false", id="boolean-refuses-0"),
        pytest.param(
            "choice",
            "ceo",
            "expected one of: decision_maker, influencer, user, gatekeeper",
            id="choice-refuses-unknown",
        ),
        pytest.param(
            "choice",
            "Decision_Maker",
            "expected one of: decision_maker, influencer, user, gatekeeper",
            id="choice-is-case-sensitive",
        ),
        pytest.param("choice", 1, "expected one of", id="choice-refuses-number"),
        pytest.param("text", 42, "expected text", id="text-refuses-number"),
        pytest.param("text", True, "expected text", id="text-refuses-bool"),
        pytest.param(
            "text", "x" * (MAX_TEXT_ANSWER + 1), "at most 2000 characters", id="text-too-long"
        ),
    ],
)
def test_answers_of_the_wrong_kind_are_refused(
    kind: AnswerType, value: object, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        question(kind).answer(value)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("number", 0),
        ("number", -3),
        ("number", 12.5),
        ("number", 10**12),
        ("boolean", True),
        ("boolean", False),
        ("choice", "decision_maker"),
        ("choice", "gatekeeper"),
        ("text", "x" * MAX_TEXT_ANSWER),
    ],
)
def test_answers_of_the_right_kind_are_kept_as_given(kind: AnswerType, value: object) -> None:
    kept = question(kind).answer(value)
    assert kept == value
    assert type(kept) is type(value)


def test_the_text_limit_is_2000_characters() -> None:
    assert MAX_TEXT_ANSWER == 2000


@pytest.mark.parametrize("kind", ["number", "boolean", "choice", "text"])
def test_none_means_unanswered_for_every_type(kind: AnswerType) -> None:
    assert question(kind).answer(None) is None


# -- documents that are refused -----------------------------------------------------------------

VALID = """\
name: custom
label: Custom
questions:
  - id: budget
    label: Budget
    type: number
    qualifies: {gte: 100}
  - id: notes
    label: Notes
    type: text
    required: false
"""


def test_the_base_document_of_the_refusals_is_itself_valid() -> None:
    """Every refusal below is VALID plus one mistake, so VALID must parse."""
    framework = parse_framework(VALID, "custom.yaml")
    assert [q.id for q in framework.questions] == ["budget", "notes"]


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        pytest.param(
            VALID + "  - id: role\n    label: Role\n    type: choice\n",
            "questions[2:role]",
            "choices are given exactly for questions of type choice",
            id="choice-without-choices",
        ),
        pytest.param(
            VALID + "  - id: size\n    label: Size\n    type: number\n    choices: [a, b]\n",
            "questions[2:size]",
            "choices are given exactly for questions of type choice",
            id="choices-on-a-number",
        ),
        pytest.param(
            VALID + "  - id: budget\n    label: Budget again\n    type: boolean\n",
            "-",
            "question ids must be unique: budget",
            id="duplicate-ids",
        ),
        pytest.param(
            VALID.replace("    qualifies: {gte: 100}\n", ""),
            "-",
            "at least one question needs 'qualifies'",
            id="no-qualifies",
        ),
        pytest.param(
            VALID + "min_passed: 2\n",
            "-",
            "min_passed exceeds the 1 questions with 'qualifies'",
            id="min-passed-too-large",
        ),
        pytest.param(
            VALID + "min_passed: 0\n",
            "min_passed",
            "greater than or equal to 1",
            id="min-passed-zero",
        ),
        pytest.param(
            VALID + "  - id: verdict\n    label: Verdict\n    type: boolean\n",
            "questions[2:verdict]",
            "'verdict' is reserved",
            id="reserved-verdict",
        ),
        pytest.param(
            VALID + "  - id: completeness\n    label: Done\n    type: number\n",
            "questions[2:completeness]",
            "'completeness' is reserved",
            id="reserved-completeness",
        ),
        pytest.param(VALID + "colour: red\n", "colour", "unknown key", id="unknown-key-at-the-top"),
        pytest.param(
            VALID + "    weight: 3\n",
            "questions[1:notes].weight",
            "unknown key",
            id="unknown-key-in-a-question",
        ),
        pytest.param(
            VALID.replace("id: notes", "id: Notes"),
            "questions[1:Notes].id",
            "should match pattern",
            id="id-not-a-slug",
        ),
        pytest.param(
            VALID.replace("type: text", "type: date"),
            "questions[1:notes].type",
            "Input should be 'number', 'boolean', 'choice' or 'text'",
            id="unknown-answer-type",
        ),
        pytest.param(
            "name: custom\nlabel: [unclosed\n",
            "line 3",
            "not valid YAML",
            id="malformed-yaml",
        ),
        pytest.param(
            "- just\n- a list\n",
            "-",
            "the document must be a mapping",
            id="not-a-mapping",
        ),
        pytest.param("name: custom\nlabel: a\ud800b\n", "-", "#xd800", id="lone-surrogate"),
        pytest.param("name: custom\nlabel: a\x01b\n", "-", "#x0001", id="control-character"),
    ],
)
def test_bad_documents_are_refused_with_the_place_and_reason(
    text: str, path: str, reason: str
) -> None:
    with pytest.raises(DocumentError) as refused:
        parse_framework(text, "custom.yaml")
    assert refused.value.file == "custom.yaml"
    assert refused.value.path == path
    assert reason in refused.value.reason
    assert "\n" not in refused.value.reason  # one line, as every refusal
    assert str(refused.value) == f"custom.yaml: {path}: {refused.value.reason}"


def test_the_fast_parser_reads_every_shipped_document_as_pyyaml_does() -> None:
    """Documents are read through libyaml where PyYAML has it: the same values as PyYAML's own
    parser, dates, numbers and quoting included."""
    documents = [f for f in files("leadq").rglob("*.yaml")]  # type: ignore[attr-defined]
    assert len(documents) >= 8
    for document in documents:
        text = document.read_text(encoding="utf-8")
        assert safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader), document.name


# -- completeness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "completeness"),
    [
        pytest.param({}, 0.0, id="none"),
        pytest.param({"problem": True}, 25.0, id="one-of-four"),
        pytest.param({"problem": True, "implication": "minor"}, 50.0, id="two-of-four"),
        pytest.param({"situation": "Paper", "need_payoff": False}, 50.0, id="optional-counts"),
        pytest.param(
            {"situation": "Paper", "problem": True, "implication": None, "need_payoff": None},
            50.0,
            id="none-values-do-not-count",
        ),
        pytest.param(
            {"problem": True, "budget": 10000, "verdict": "qualified"},
            25.0,
            id="unknown-keys-do-not-count",
        ),
        pytest.param(
            {"situation": "", "problem": False, "implication": "none", "need_payoff": False},
            100.0,
            id="failing-answers-still-count",
        ),
    ],
)
def test_completeness_is_the_per_cent_of_all_questions_answered(
    answers: Answers, completeness: float
) -> None:
    assert assess(shipped("spin"), answers).completeness == completeness


def test_none_values_are_unanswered_for_the_verdict_too() -> None:
    answers = {"budget": None, "authority": "decision_maker", "need": True, "timing": 2}
    result = assess(shipped("bant"), answers)
    assert result.verdict is Verdict.incomplete
    assert result.missing == ["budget"]
    assert result.completeness == 75.0


THREE_QUESTIONS = """\
name: three
label: Three
questions:
  - {id: a, label: A, type: boolean, qualifies: {eq: true}}
  - {id: b, label: B, type: boolean, required: false}
  - {id: c, label: C, type: boolean, required: false}
"""


@pytest.mark.parametrize(
    ("answers", "completeness"),
    [
        ({"a": True}, 33.3),
        ({"a": True, "b": False}, 66.7),
        ({"a": True, "b": True, "c": False}, 100.0),
    ],
)
def test_completeness_is_rounded_to_one_decimal(answers: Answers, completeness: float) -> None:
    framework = parse_framework(THREE_QUESTIONS, "three.yaml")
    assert assess(framework, answers).completeness == completeness


def test_blank_text_is_unanswered_and_huge_numbers_are_refused() -> None:
    assert question("text").answer("   ") is None
    assert question("text").answer("  no budget this year ") == "no budget this year"
    with pytest.raises(ValueError, match="finite number"):
        question("number").answer(10**400)
    with pytest.raises(ValueError, match="expected one of: "):
        question("choice").answer(1)
