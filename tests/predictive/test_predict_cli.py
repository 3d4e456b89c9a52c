"""``leadq train`` and ``leadq predict`` as a user runs them, including their mistakes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli import Result, invoke, spawn
from tests.predictive.exports import export_rows, write


def leadq(cwd: Path, *args: str, ok: bool = True, process: bool = False) -> Result:
    """``leadq ARGS`` on ``cwd/w.db``; ``ok=False`` expects a one-line refusal."""
    env = {"LEADQ_DATABASE_URL": f"sqlite:///{cwd / 'w.db'}"}
    result = (spawn if process else invoke)(cwd, list(args), env)
    if ok:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and result.stderr.startswith("leadq: ")
    return result


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("cli")
    header, body = export_rows(800)
    write(where / "history.csv", header, body)
    result = leadq(where, "train", "--csv", "history.csv", "--target", "Bought?", "--id",
                   "Lead ID", "--out", "model")  # fmt: skip
    assert "ROC AUC" in result.stdout and "Lead Status" in result.stderr  # the guard's warning
    return where / "model"


def test_predict_adds_probability_score_and_three_reasons(model_dir: Path, tmp_path: Path) -> None:
    header, body = export_rows(40, seed=9)
    header, body = header[:-2], [row[:-2] for row in body]  # new leads: no status, no outcome
    write(tmp_path / "new.csv", header, body, separator=",", encoding="utf-8")
    leadq(tmp_path, "predict", "--model", str(model_dir), "--csv", "new.csv", "--out", "s.csv")
    with (tmp_path / "s.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40 and rows[0]["Lead ID"] == body[0][0]
    for row in rows:
        probability = float(row["probability"])
        assert 0 < probability < 1
        assert int(row["score"]) == max(1, min(100, round(probability * 100)))
        assert all(row[f"reason_{i}"] for i in (1, 2, 3))
        assert row["reason_1"].rsplit(" (", 1)[1][0] in "+-"
    best = max(rows, key=lambda r: float(r["probability"]))
    worst = min(rows, key=lambda r: float(r["probability"]))
    assert "(+" in best["reason_1"] and "(-" in worst["reason_1"]


def test_predict_warns_about_missing_columns_and_refuses_foreign_files(
        model_dir: Path, tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "part.csv").write_text("Lead ID,Źródło leada\nL-1,Polecenie\nL-2,Targi\n")
    result = leadq(tmp_path, "predict", "--model", str(model_dir), "--csv", "part.csv",
                   "--out", "s.csv")  # fmt: skip
    assert "not in the file, treated as empty: 'Company size (employees)'" in result.stderr
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    result = leadq(tmp_path, "predict", "--model", str(model_dir), "--csv", "other.csv",
                   "--out", "t.csv", ok=False)  # fmt: skip
    assert "none of the model's columns is in the file" in result.stderr
    assert not (tmp_path / "t.csv").exists()


def _train(cwd: Path, *args: str) -> str:
    return leadq(cwd, "train", "--out", "m", *args, ok=False).stderr


BAD_FILES = {
    "missing": (None, "no such file"),
    "empty": (b"", "the file is empty"),
    "header only": (b"a,b,Bought?\n", "no rows under the header"),
    "binary": (b"PK\x03\x04\x00\x00binary", "not a text file"),
    "ragged": (b"a,Bought?\n1,yes\n2,no,extra,cells\n", "line 3 has 4 cells, the header 2"),
    "not utf-8 when told": (b"a,Bought?\n\xff\xfe,yes\n", "not utf-8 text at byte"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_are_refused_with_the_reason(case: str, tmp_path: Path) -> None:
    content, reason = BAD_FILES[case]
    if content is not None:
        (tmp_path / "f.csv").write_bytes(content)
    encoding = ["--encoding", "utf-8"] if case == "not utf-8 when told" else []
    stderr = _train(tmp_path, "--csv", "f.csv", "--target", "Bought?", *encoding)
    assert reason in stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(("args", "reason"), [
    (["--target", "Nope"], "no column 'Nope' in the file"),
    (["--target", "Bought?", "--exclude", "Ghost"], "no column 'Ghost' in the file"),
    (["--target", "Źródło leada"], "are not 1/0, yes/no or true/false"),
    (["--target", "Bought?", "--encoding", "klingon"], "unknown encoding"),
    (["--target", "Bought?", "--positive", "x" * 5000], "is not one of its values"),
    ([], "--target COLUMN is required"),
])  # fmt: skip
def test_bad_options_are_refused_with_the_reason(args: list[str], reason: str,
                                                 tmp_path: Path) -> None:  # fmt: skip
    header, body = export_rows(60)
    write(tmp_path / "h.csv", header, body)
    assert reason in _train(tmp_path, "--csv", "h.csv", *args)
    assert not (tmp_path / "m").exists()


def test_hostile_cells_are_data_not_code(tmp_path: Path) -> None:
    header, body = export_rows(300)
    for row in body[:30]:
        row[1] = '=HYPERLINK("http://evil")<script>alert(1)</script>'
    write(tmp_path / "h.csv", header, body, separator=",", encoding="utf-8")
    leadq(tmp_path, "train", "--csv", "h.csv", "--target", "Bought?", "--out", "m")
    page = (tmp_path / "m" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in page  # escaped wherever it is shown
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["metrics"]["rows"] == 300


def test_a_damaged_model_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.joblib").write_bytes(b"not a model")
    (tmp_path / "m" / "report.json").write_text("{}")
    (tmp_path / "x.csv").write_text("a\n1\n")
    result = leadq(
        tmp_path, "predict", "--model", "m", "--csv", "x.csv", "--out", "o.csv", ok=False
    )
    assert "cannot read the model" in result.stderr
    result = leadq(tmp_path, "predict", "--model", "nowhere", "--csv", "x.csv", "--out", "o.csv",
                   ok=False)  # fmt: skip
    assert "not a model directory" in result.stderr


def test_backtest_over_an_export_compares_model_directories(
    model_dir: Path, tmp_path: Path
) -> None:
    header, body = export_rows(500, seed=21)
    write(tmp_path / "later.csv", header, body)
    (tmp_path / "m2").symlink_to(model_dir, target_is_directory=True)
    result = leadq(tmp_path, "backtest", "--model", str(model_dir), "--model", "m2", "--csv",
                   "later.csv", "--target", "Bought?", "--capacity", "10%")  # fmt: skip
    assert "500 past leads" in result.stdout and "calling the top 50" in result.stdout
    assert result.stdout.count("predictive") == 2 and "in-sample" not in result.stderr
    history = model_dir.parent / "history.csv"
    again = leadq(tmp_path, "backtest", "--model", str(model_dir), "--csv", str(history),
                  "--target", "Bought?")  # fmt: skip
    assert "its figures here are in-sample" in again.stderr
    refused = leadq(tmp_path, "backtest", "--model", "classic", "--csv", "later.csv", "--target",
                    "Bought?", ok=False)  # fmt: skip
    assert "over a file, give model directories" in refused.stderr
    missing = leadq(tmp_path, "backtest", "--model", "m2", "--csv", "later.csv", ok=False)
    assert "--target COLUMN is required with --csv" in missing.stderr


def test_train_leaves_open_records_out_when_told(tmp_path: Path) -> None:
    from tests.predictive.test_training import _deals

    _deals(tmp_path)
    common = ["train", "--csv", "deals.csv", "--target", "deal_stage", "--positive", "Won"]
    warned = leadq(tmp_path, *common, "--out", "a")
    assert "--open engaging,prospecting" in warned.stdout + warned.stderr
    honest = leadq(tmp_path, *common, "--open", "Engaging, Prospecting", "--out", "b")
    assert "still open (Engaging, Prospecting)" in honest.stdout + honest.stderr
    wrong = leadq(tmp_path, *common, "--open", "Pending", "--out", "c", ok=False)
    assert "--open 'pending' is not one of its values" in wrong.stderr
