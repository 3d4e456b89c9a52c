"""``leadq train`` and ``leadq predict``: predictive models from exports or the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadq.predictive.training import Trained, TrainingPlan
from leadq.services import predictive

out = Console()
err = Console(stderr=True)

Csv = Annotated[Path | None, typer.Option("--csv", help="CRM export to learn from (.csv)")]
Names = Annotated[str, typer.Option(help="Comma-separated column names")]


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _summary(trained: Trained, out_dir: Path) -> None:
    report, metrics = trained.report, trained.report["metrics"]
    for warning in trained.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    table = Table(title=f"Model for {escape(report['target'])} → {escape(str(out_dir))}")
    table.add_column("figure (out-of-fold)")
    table.add_column("value", justify="right")
    rows = [("chosen model", report["model"]["chosen"]),
            ("leads / converted", f"{metrics['rows']} / {metrics['conversions']}"),
            ("ROC AUC", f"{metrics['roc_auc']:.4f}"), ("PR AUC", f"{metrics['pr_auc']:.4f}"),
            ("Brier score", f"{metrics['brier']:.4f}")]  # fmt: skip
    rows += [(f"conversions in the {k.replace('_', ' ')} %", f"{v:.0%}")
             for k, v in metrics["captured"].items()]  # fmt: skip
    rows += [("columns used / left out", f"{len(report['columns'])} / {len(report['excluded'])}"),
             ("training time", f"{report['training_seconds']:.1f} s"),
             ("peak memory", f"{report['peak_memory_mb']:.0f} MB")]  # fmt: skip
    for name, value in rows:
        table.add_row(name, escape(str(value)))
    out.print(table)
    out.print(f"Report: {out_dir / predictive.REPORT_HTML}")


def train(
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    csv: Csv = None,
    target: Annotated[str | None, typer.Option(help="Outcome column of the export")] = None,
    positive: Annotated[
        str | None, typer.Option(help="The outcome label meaning converted")
    ] = None,
    exclude: Names = "",
    allow: Annotated[
        list[str] | None, typer.Option(help="Keep a column the guard left out")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Lead identifier column")] = None,
    time_column: Annotated[str | None, typer.Option(help="When each lead arrived")] = None,
    encoding: Annotated[str | None, typer.Option(help="File encoding [guessed]")] = None,
    separator: Annotated[str | None, typer.Option(help="Cell separator [guessed]")] = None,
) -> None:
    """Train a predictive model on a CRM export (or on the workspace's own leads)."""
    if csv is None:
        raise predictive.PredictiveError("--csv FILE is required here (with --target COLUMN)")
    if target is None:
        raise predictive.PredictiveError("--target COLUMN is required with --csv")
    plan = TrainingPlan(target, positive, _names(exclude), tuple(allow or ()), id_column,
                        time_column)  # fmt: skip
    _summary(predictive.train_file(csv, plan, out_dir, encoding, separator), out_dir)


def predict(
    model: Annotated[Path, typer.Option(help="Model directory written by 'leadq train'")],
    csv: Annotated[Path, typer.Option("--csv", help="Leads to score (.csv)")],
    out_file: Annotated[Path, typer.Option("--out", help="Scored leads to write (.csv)")],
    encoding: Annotated[str | None, typer.Option(help="File encoding [guessed]")] = None,
    separator: Annotated[str | None, typer.Option(help="Cell separator [guessed]")] = None,
) -> None:
    """Add probability, score (1–100) and the top three reasons to each lead of a file."""
    predictions = predictive.predict_file(model, csv, out_file, encoding, separator)
    for warning in predictions.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    out.print(f"Scored {len(predictions.frame)} leads → {out_file}")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(predict)
