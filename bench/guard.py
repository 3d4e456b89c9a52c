"""The leakage guard against exports built to fool it, and against the real exports we hold.

Generated exports plant leaks under innocent names (``col_17``, ``notes_flag``, ``review``) and
legitimate columns under suspicious ones (``last_name``, ``previous_outcome``, ``profile_url``,
``rank_in_list``); the table shows, per data set, what the guard left out, what it kept for
review, and the out-of-fold ROC AUC of the model trained with default settings.

Run: .venv/bin/python bench/guard.py [--rows 5000] [--seeds 3] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from leadq.predictive.columns import TargetError
from leadq.predictive.training import TrainingPlan, train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL = (
    ("xeducation/Leads.csv", "Converted", None),
    ("crm-exports/salesforce-demo-Lead.csv", "IsConverted", None),
    ("crm-exports/salesforce-workshop-Lead.csv", "Status", "Qualified"),
    ("crm-exports/salesforce-workshop-Contact.csv", None, None),
)
"""Real exports and their outcome column (a Contact export has none)."""


@dataclass
class Planted:
    """A generated export with the columns that must be left out and those that must stay."""

    name: str
    frame: pl.DataFrame
    target: str
    leaks: set[str] = field(default_factory=set)
    legitimate: set[str] = field(default_factory=set)


@dataclass
class Outcome:
    name: str
    left_out: list[str]
    review: list[str]
    roc_auc: float | None
    note: str = ""


def planted(rows: int, seed: int, with_creation_date: bool = True) -> Planted:
    """Leads whose outcome follows size, source, visits and a previous campaign's result."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(3.5, 1.2, rows)
    source = rng.choice(["web", "event", "partner", "ads", "referral", "list"], rows)
    visits = rng.gamma(2.0, 2.0, rows)
    earlier = rng.choice(np.array(["success", "failure", ""]), rows, p=[0.08, 0.17, 0.75])
    rank = rng.integers(1, 51, rows)
    lift = {"web": 0.0, "event": 0.6, "partner": 0.9, "ads": -0.7, "referral": 1.1, "list": -1.2}
    logit = (0.5 * np.log1p(size) - 2.6 + 0.25 * visits + np.vectorize(lift.get)(source)
             + 1.0 * (earlier == "success") - 0.008 * rank)  # fmt: skip
    y = rng.random(rows) < 1 / (1 + np.exp(-logit))
    created = [datetime(2025, 1, 1) + timedelta(minutes=int(m))
               for m in rng.integers(0, 525_600, rows)]  # fmt: skip
    data: dict[str, list[str | None]] = {
        "company_size": [f"{s:.0f}" for s in size],
        "source": list(source),
        "visits": [f"{v:.1f}" for v in visits],
        "first_seen": [(c - timedelta(days=int(d))).strftime("%Y-%m-%d")
                       for c, d in zip(created, rng.integers(0, 30, rows), strict=True)],
        "newsletter_since": [(c - timedelta(days=int(d))).strftime("%d.%m.%Y")
                             for c, d in zip(created, rng.integers(30, 400, rows), strict=True)],
        "last_name": [_surname(int(k)) for k in rng.integers(0, 400, rows)],
        "previous_outcome": [e or None for e in earlier],
        "profile_url": [f"https://people.example.org/p/{k}" for k in rng.integers(0, rows // 4,
                                                                                   rows)],
        "rank_in_list": [str(r) for r in rank],
    }  # fmt: skip
    data |= _leaks(rng, y, created, with_creation_date)
    if with_creation_date:
        data["created_at"] = [c.strftime("%Y-%m-%d %H:%M:%S") for c in created]
    data["converted"] = ["yes" if v else "no" for v in y]
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    leaks = {"col_17", "notes_flag", "review", "extra_3", "group_x", "stamp"}
    if with_creation_date:
        leaks.add("when_2")
    legitimate = {"company_size", "source", "visits", "first_seen", "newsletter_since", "last_name",
                  "previous_outcome", "profile_url", "rank_in_list"}  # fmt: skip
    kind = "with" if with_creation_date else "without"
    return Planted(f"planted #{seed}, {kind} a creation date", frame, "converted", leaks,
                   legitimate)  # fmt: skip


def _leaks(rng: np.random.Generator, y: np.ndarray, created: list[datetime],
           with_creation_date: bool) -> dict[str, list[str | None]]:  # fmt: skip
    """Columns the sales team fills in during and after the conversation, innocently named."""
    rows = len(y)
    noise = rng.random(rows)
    written = np.where(y, rng.random(rows) < 0.65, rng.random(rows) < 0.2)
    flagged = np.where(y, rng.random(rows) < 0.85, rng.random(rows) < 0.04)
    rated = np.where(y, noise < 0.8, noise < 0.25)
    changed = [c + timedelta(days=int(d), minutes=int(m)) for c, d, m in zip(
        created, rng.integers(0, 90, rows), rng.integers(1, 600, rows), strict=True)]  # fmt: skip
    leaks: dict[str, list[str | None]] = {
        "col_17": [("A" if t else "B") if n > 0.03 else "C" for t, n in zip(y, noise, strict=True)],
        "notes_flag": ["x" if f else None for f in flagged],
        "review": [
            ("good" if r else "poor") if w else None for w, r in zip(written, rated, strict=True)
        ],
        "group_x": [
            str(int(k)) if w else None
            for w, k in zip(written, rng.integers(1, 6, rows), strict=True)
        ],
        "extra_3": [
            rng.choice(["p", "q", "r"]) if f and n < 0.7 else None
            for f, n in zip(flagged, rng.random(rows), strict=True)
        ],
        "stamp": [c.strftime("%Y-%m-%d %H:%M:%S") for c in changed],
    }
    if with_creation_date:
        later = rng.integers(1, 60, rows)
        leaks["when_2"] = [
            (c + timedelta(days=int(d))).strftime("%Y-%m-%d") if n < 0.5 else None
            for c, d, n in zip(created, later, rng.random(rows), strict=True)
        ]
    return leaks


def _surname(key: int) -> str:
    syllables = ("ko", "wal", "ska", "no", "vak", "pe", "tro", "va", "mi", "hai", "lu", "cu")
    return "".join(syllables[(key >> shift) % len(syllables)] for shift in (0, 3, 6)).title()


def judge(name: str, frame: pl.DataFrame, plan: TrainingPlan) -> Outcome:
    """Train with default settings and report what the guard decided."""
    try:
        report = train(frame, plan).report
    except TargetError as exc:
        return Outcome(name, [], [], None, str(exc))
    left_out = [e["column"] for e in report["excluded"] if e["reason"].startswith("leakage")]
    review = [e["column"] for e in report["review"]]
    return Outcome(name, left_out, review, report["metrics"]["roc_auc"])


def real(data: Path) -> list[Outcome]:
    found = []
    for relative, target, positive in REAL:
        path = data / relative
        if not path.is_file():
            continue
        if target is None:
            found.append(Outcome(relative, [], [], None, "no outcome column to train on"))
            continue
        frame = pl.read_csv(path, infer_schema_length=0, encoding="utf8-lossy")
        found.append(judge(relative, frame, TrainingPlan(target, positive)))
    return found


def table(outcomes: list[Outcome]) -> str:
    lines = []
    for item in outcomes:
        auc = f"{item.roc_auc:.3f}" if item.roc_auc is not None else "–"
        note = f"  {item.note}" if item.note else ""
        lines.append(f"{item.name}\n  ROC AUC (out of fold) {auc}{note}"
                     f"\n  left out:  {', '.join(item.left_out) or '–'}"
                     f"\n  to review: {', '.join(item.review) or '–'}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Outcome]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    outcomes = []
    for seed in range(args.seeds):
        case = planted(args.rows, seed, with_creation_date=seed % 2 == 0)
        outcomes.append(judge(case.name, case.frame, TrainingPlan(case.target)))
    outcomes += real(args.data)
    print(table(outcomes))
    return outcomes


if __name__ == "__main__":
    main(sys.argv[1:])
