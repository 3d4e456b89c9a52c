"""Training on odd exports: what is read, what is left out, what the report says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from leadq.predictive.columns import Kind, clean, looks_open, profile
from leadq.predictive.exports import read_export
from leadq.predictive.features import LeadFeatures
from leadq.predictive.leakage import screen
from leadq.predictive.training import TrainingPlan
from leadq.services.predictive import files as predictive
from leadq.services.predictive.files import PredictiveError
from tests.predictive.exports import export_rows, write

PLAN = TrainingPlan("Bought?")


@pytest.fixture(scope="module")
def odd_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    header, body = export_rows(1500)
    return write(tmp_path_factory.mktemp("export") / "leady.csv", header, body)


@pytest.fixture(scope="module")
def trained(
    odd_export: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("model")
    predictive.train_file(odd_export, PLAN, out)
    return out, json.loads((out / "report.json").read_text())


def test_odd_export_is_read_as_written(trained: tuple[Path, dict[str, Any]]) -> None:
    _, report = trained
    assert report["source"] == {"file": "leady.csv", "encoding": "cp1250", "separator": ";"}
    kinds = {c["column"]: c["kind"] for c in report["columns"]}
    assert kinds == {"Źródło leada": "category", "Company size (employees)": "number",
                     "Visits / week": "number", "Newsletter?": "category",
                     "Signed up on": "date", "Last call (dd.mm.yyyy)": "date"}  # fmt: skip
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert why["Lead ID"].startswith("identifier-like")
    assert why["Fax"] == "empty on every row"
    assert why["Region"] == "the same value on every row"
    assert why["Lead Status"].startswith("leakage: predicts the outcome almost perfectly")
    assert why["Bought?"] == "the outcome"


def test_model_learns_the_signal_and_reports_it(trained: tuple[Path, dict[str, Any]]) -> None:
    out, report = trained
    metrics = report["metrics"]
    assert metrics["rows"] == 1500 and 0.2 < metrics["base_rate"] < 0.8
    assert 0.72 < metrics["roc_auc"] < 0.95, metrics["roc_auc"]
    assert report["model"]["chosen"] in report["model"]["cv_roc_auc"]
    candidates = report["model"]["cv_roc_auc"]
    assert set(candidates) == {"lightgbm", "logistic", "blend", "onehot_logistic",
                               "hist_gradient_boosting"}  # fmt: skip
    assert report["model"]["baselines"] == {
        "one-hot logistic regression": candidates["onehot_logistic"],
        "HistGradientBoosting": candidates["hist_gradient_boosting"]}  # fmt: skip
    assert candidates[report["model"]["chosen"]] == max(candidates.values())
    assert (
        metrics["captured"]["top_10"]
        < metrics["captured"]["top_20"]
        < metrics["captured"]["top_30"]
    )
    assert metrics["deciles"][0]["lift"] > 1.5 > metrics["deciles"][-1]["lift"]
    top = [i["column"] for i in report["importance"][:3]]
    assert "Źródło leada" in top and "Company size (employees)" in top
    assert any(s["insight"].startswith("Źródło leada = Polecenie converts at")
               for s in report["segments"])  # fmt: skip
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 4 and "Źródło leada = Polecenie converts at" in page
    assert "HistGradientBoosting" in page and "(chosen)" in page
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)  # nothing from outside


def test_dates_in_several_formats_become_features(odd_export: Path) -> None:
    frame = clean(read_export(odd_export).frame)
    iso, dotted = profile(frame["Signed up on"]), profile(frame["Last call (dd.mm.yyyy)"])
    assert (iso.kind, dotted.kind) == (Kind.DATE, Kind.DATE)
    assert dotted.date_format == "%d.%m.%Y"
    features = LeadFeatures((iso, dotted)).fit(frame)
    assert features.names == ["Signed up on: month", "Signed up on: weekday",
                              "Signed up on: age in days", "Signed up on: hour",
                              "Last call (dd.mm.yyyy): month", "Last call (dd.mm.yyyy): weekday",
                              "Last call (dd.mm.yyyy): age in days"]  # fmt: skip
    matrix = features.transform(frame)
    # ages count back from the newest date in training: the latest call is 0 days old
    assert np.nanmin(matrix[:, 6]) == 0 and np.nanmin(matrix[:, 2]) > 2
    assert set(np.unique(matrix[:, 1])) <= set(range(1, 8))


def test_label_target_needs_positive_and_takes_it(tmp_path: Path) -> None:
    header, body = export_rows(300)
    for row in body:
        row[-1] = "Klient" if row[-1] == "yes" else "Utracony"
    path = write(tmp_path / "labels.csv", header, body, separator=",", encoding="utf-8")
    with pytest.raises(PredictiveError, match="name the converted one with --positive"):
        predictive.train_file(path, PLAN, tmp_path / "m1")
    with pytest.raises(PredictiveError, match=r"--positive 'Wygrany' is not one of its values"):
        predictive.train_file(path, TrainingPlan("Bought?", "Wygrany"), tmp_path / "m2")
    trained = predictive.train_file(path, TrainingPlan("Bought?", "klient"), tmp_path / "m3")
    labels = [row[-1] for row in body]
    assert trained.report["metrics"]["conversions"] == labels.count("Klient")


def test_single_class_is_a_clear_error(tmp_path: Path) -> None:
    header, body = export_rows(200)
    for row in body:
        row[-1] = "no"
    path = write(tmp_path / "lost.csv", header, body)
    with pytest.raises(PredictiveError, match="single class"):
        predictive.train_file(path, PLAN, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_fifty_rows_train_with_a_warning(tmp_path: Path) -> None:
    header, body = export_rows(50, seed=3)
    path = write(tmp_path / "small.csv", header, body)
    trained = predictive.train_file(path, PLAN, tmp_path / "model")
    assert any(w.startswith("only 50 rows") for w in trained.warnings)
    assert trained.report["warnings"] == trained.warnings


def test_rows_without_an_outcome_are_left_out_with_a_warning(tmp_path: Path) -> None:
    header, body = export_rows(400)
    for row in body[:7]:
        row[-1] = "N/A"
    trained = predictive.train_file(
        write(tmp_path / "gaps.csv", header, body), PLAN, tmp_path / "m"
    )
    assert "7 rows have no 'Bought?' value and were left out" in trained.warnings
    assert trained.report["metrics"]["rows"] == 393


def _guard(columns: dict[str, list[str | None]], y: np.ndarray) -> dict[str, tuple[str, str]]:
    frame = clean(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)))
    profiles = [profile(frame[name]) for name in frame.columns]
    return {v.column: ("out" if v.left_out else "review", " ".join(v.evidence or v.review))
            for v in screen(frame, profiles, y)}  # fmt: skip


def test_leakage_guard_weighs_evidence_and_names_only_raise_a_review() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.4).astype(np.int8)
    noise = rng.random(3000)
    columns: dict[str, list[str | None]] = {
        # a strong legitimate signal, no hint in its name: kept
        "Employees": [str(int(50 + 300 * v + 150 * int(t))) for v, t in zip(noise, y, strict=True)],
        # filled in mostly for leads that went well, with a near-perfect value: left out
        "Notes after call": [
            ("good fit" if t else "no") if v < 0.96 else "maybe"
            for v, t in zip(noise, y, strict=True)
        ],
        # a CRM word and a weak signal: kept, but for review
        "Deal stage": [("b" if (t and v < 0.3) else "a") for v, t in zip(noise, y, strict=True)],
        # no signal at all, CRM word or not: harmless, kept
        "Rating": [str(int(v * 5)) for v in rng.random(3000)],
    }
    hidden = rng.random(3000) < 0.3
    columns["Call quality"] = [None if h else ("hi" if t else "lo") if v < 0.7 else "mid"
                               for h, t, v in zip(hidden, y, noise, strict=True)]  # fmt: skip
    # filled in on the same rows as a column kept for review: reviewed with it
    columns["Rep initials"] = [None if h else "JK" if v < 0.5 else "AB"
                               for h, v in zip(hidden, rng.random(3000), strict=True)]  # fmt: skip
    found = _guard(columns, y)
    assert set(found) == {"Notes after call", "Deal stage", "Call quality", "Rep initials"}
    assert found["Notes after call"][0] == "out"
    assert "almost perfectly" in found["Notes after call"][1]
    assert found["Deal stage"][0] == "review" and "(deal, stage)" in found["Deal stage"][1]
    # its values predict the outcome, but nothing shows when it was written: only its name
    assert found["Call quality"][0] == "review"
    assert found["Rep initials"] == (
        "review",
        "it is filled in on the same rows as 'Call quality', a column kept for review",
    )


def test_allow_keeps_a_suspect_and_sensitive_columns_need_it(tmp_path: Path) -> None:
    header, body = export_rows(600)
    rng = np.random.default_rng(2)
    header = [*header[:-1], "Age", "Gender", header[-1]]
    body = [[*row[:-1], str(int(rng.integers(20, 60))), "F" if rng.random() < .5 else "M", row[-1]]
            for row in body]  # fmt: skip
    path = write(tmp_path / "people.csv", header, body)
    report = predictive.train_file(path, PLAN, tmp_path / "m1").report
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert why["Age"].startswith("sensitive") and why["Gender"].startswith("sensitive")
    allowed = TrainingPlan("Bought?", allow=("Lead Status", "Age"))
    report = predictive.train_file(path, allowed, tmp_path / "m2").report
    used = {c["column"] for c in report["columns"]}
    assert {"Lead Status", "Age"} <= used and "Gender" not in used
    assert {k["column"] for k in report["kept_by_allow"]} == {"Lead Status", "Age"}
    assert report["metrics"]["roc_auc"] > 0.95  # what leakage looks like


def test_exclude_and_id_columns_are_honoured(odd_export: Path, tmp_path: Path) -> None:
    plan = TrainingPlan("Bought?", exclude=("Visits / week",), id_column="Lead ID")
    report = predictive.train_file(odd_export, plan, tmp_path / "m").report
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert why["Visits / week"] == "excluded with --exclude"
    assert why["Lead ID"] == "the lead identifier (--id)"
    assert "Visits / week" not in {c["column"] for c in report["columns"]}


def test_time_column_gives_a_newest_leads_holdout(odd_export: Path, tmp_path: Path) -> None:
    plan = TrainingPlan("Bought?", time_column="Signed up on")
    report = predictive.train_file(odd_export, plan, tmp_path / "m").report
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert why["Signed up on"] == "the time column (--time-column)"
    holdout = report["newest_holdout"]
    assert (holdout["train_rows"], holdout["holdout_rows"]) == (1200, 300)
    assert 0.65 < holdout["roc_auc"] < 0.95
    not_dates = TrainingPlan("Bought?", time_column="Źródło leada")
    report = predictive.train_file(odd_export, not_dates, tmp_path / "m2").report
    assert report["newest_holdout"] == {"error": "'Źródło leada' does not hold dates"}


def test_more_category_columns_than_numbers_train(tmp_path: Path) -> None:
    """A CRM deals export: agents, products, accounts and a yes/no outcome — the one-hot block
    outweighs the numbers, which once made the linear model's scaler refuse a sparse matrix."""
    rng = np.random.default_rng(7)
    rows = 600
    agent = rng.integers(0, 30, rows)
    account = rng.integers(0, 85, rows)
    product = rng.integers(0, 7, rows)
    won = (agent % 3 == 0) ^ (rng.random(rows) < 0.2)
    frame = pl.DataFrame({"Agent": [f"agent {a}" for a in agent],
                          "Account": [f"account {a}" for a in account],
                          "Product": [f"product {p}" for p in product],
                          "Won": ["yes" if w else "no" for w in won]})  # fmt: skip
    path = tmp_path / "deals.csv"
    frame.write_csv(path)
    trained = predictive.train_file(path, TrainingPlan("Won"), tmp_path / "model")
    assert trained.report["metrics"]["roc_auc"] > 0.6
    explained = predictive.load(tmp_path / "model").scorer.explain(frame.drop("Won").head(5))
    assert explained.contributions.shape == (5, 3) and explained.columns == [
        "Agent", "Account", "Product"]  # fmt: skip


def _deals(tmp_path: Path) -> Path:
    """Won and lost deals, and deals still open whose recent dates would look predictive."""
    rng = np.random.default_rng(3)
    stages = rng.choice(["Won", "Lost", "Engaging", "Prospecting"], 800, p=[0.3, 0.4, 0.15, 0.15])
    size = rng.integers(1, 500, 800)
    frame = pl.DataFrame({"deal_stage": stages, "Seats": size,
                          "Region": rng.choice(["north", "south", "east"], 800),
                          "Converted on": [("2024-05-01" if s == "Won" else None)
                                           for s in stages]})  # fmt: skip
    path = tmp_path / "deals.csv"
    frame.write_csv(path)
    return path


def test_open_records_are_left_out_or_named(tmp_path: Path) -> None:
    path = _deals(tmp_path)
    blind = predictive.train_file(path, TrainingPlan("deal_stage", "Won"), tmp_path / "a")
    warned = " ".join(blind.report["warnings"])
    assert "'engaging', 'prospecting'" in warned and "--open engaging,prospecting" in warned
    assert blind.report["metrics"]["rows"] == 800
    plan = TrainingPlan("deal_stage", "Won", undecided=("Engaging", "Prospecting"))
    honest = predictive.train_file(path, plan, tmp_path / "b")
    decided = int(pl.read_csv(path)["deal_stage"].is_in(["Won", "Lost"]).sum())
    assert honest.report["metrics"]["rows"] == decided
    assert any("are still open (Engaging, Prospecting) and were left out" in w
               for w in honest.report["warnings"])  # fmt: skip
    won = int(pl.read_csv(path)["deal_stage"].is_in(["Won"]).sum())
    # one date where filled, filled exactly on the won deals: whether it is filled is the leak
    excluded = {e["column"]: e["reason"] for e in honest.report["excluded"]}
    assert excluded["Converted on"].startswith("leakage: predicts the outcome almost perfectly")
    assert "whether it is filled in predicts the outcome (ROC AUC 1.00)" in excluded["Converted on"]
    assert won < decided


@pytest.mark.parametrize(
    ("undecided", "positive", "message"),
    [(("Pending",), "Won", "--open 'pending' is not one of its values"),
     (("Won",), "Won", "is both --positive and --open")],
)  # fmt: skip
def test_open_labels_are_checked(
    tmp_path: Path, undecided: tuple[str, ...], positive: str, message: str
) -> None:
    with pytest.raises(PredictiveError, match=message):
        predictive.train_file(
            _deals(tmp_path),
            TrainingPlan("deal_stage", positive, undecided=undecided),
            tmp_path / "m",
        )


@pytest.mark.parametrize(
    ("label", "open_"),
    [("In Progress", True), ("Open - Not Contacted", True), ("Prospecting", True),
     ("Opened", False), ("Closed Lost", False), ("Renewal", False), ("news", False)],
)  # fmt: skip
def test_open_stage_words_are_whole_words(label: str, open_: bool) -> None:
    assert looks_open(label) is open_


def test_stand_ins_for_gender_are_left_out_unless_allowed(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    rows = 700
    woman = rng.random(rows) < 0.5
    frame = pl.DataFrame({
        "Salutation": np.where(woman, rng.choice(["Ms.", "Mrs", "Pani"], rows),
                               rng.choice(["Mr.", "MR", "Pan"], rows)),
        "Given Name": np.where(woman, rng.choice(["Anna", "Olga", "Ioana"], rows),
                               rng.choice(["Piotr", "Ivan", "Mihai"], rows)),
        "City": rng.choice(["Gdańsk", "Cluj", "Kazan", "Lyon"], rows),
        "Visits": rng.integers(0, 30, rows),
        "Bought": np.where(rng.random(rows) < 0.3, "yes", "no"),
    })  # fmt: skip
    path = tmp_path / "people.csv"
    frame.write_csv(path)
    report = predictive.train_file(path, TrainingPlan("Bought"), tmp_path / "a").report
    why = {e["column"]: e["reason"] for e in report["excluded"]}
    assert "titles of address" in why["Salutation"] and "gender" in why["Salutation"]
    assert "first names" in why["Given Name"]
    assert "City" not in why and "Visits" not in why  # a column of places is not a proxy
    allowed = TrainingPlan("Bought", allow=("Salutation",))
    kept = predictive.train_file(path, allowed, tmp_path / "b").report
    assert "Salutation" in {c["column"] for c in kept["kept_by_allow"]}
