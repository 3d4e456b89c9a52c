"""``leadq train`` and ``leadq predict``: predictive models from exports or the workspace."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadq.cli.support import ACTOR, err, out
from leadq.cli.support import database as _database
from leadq.cli.support import now as _now
from leadq.services.predictive import registry
from leadq.services.scoring import bulk

if TYPE_CHECKING:  # training pulls in scikit-learn and LightGBM: imported by the commands
    from leadq.predictive.training import Trained
    from leadq.services.scoring import backtest

Csv = Annotated[Path | None, typer.Option("--csv", help="CRM export to learn from (.csv)")]
Names = Annotated[str, typer.Option(help="Comma-separated column names")]


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _summary(trained: Trained, out_dir: Path) -> None:
    from leadq.services.predictive import files as predictive

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
    rows += [(f"baseline: {name} ROC AUC", f"{auc:.4f}")
             for name, auc in report["model"].get("baselines", {}).items()]  # fmt: skip
    rows += [(f"conversions in the {k.replace('_', ' ')} %", f"{v:.0%}")
             for k, v in metrics["captured"].items()]  # fmt: skip
    rows += [("columns used / left out", f"{len(report['columns'])} / {len(report['excluded'])}"),
             ("training time", f"{report['training_seconds']:.1f} s"),
             ("peak memory", f"{report['peak_memory_mb']:.0f} MB")]  # fmt: skip
    for name, value in rows:
        table.add_row(name, escape(str(value)))
    out.print(table)
    for entry in report.get("review", []):
        out.print(f"[yellow]kept, but check[/] {escape(entry['column'])}:"
                  f" {escape(entry['reason'].removeprefix('kept for review: '))}")  # fmt: skip
    out.print(f"Report: {out_dir / predictive.REPORT_HTML}")


def train(
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write")],
    csv: Csv = None,
    target: Annotated[str | None, typer.Option(help="Outcome column of the export")] = None,
    positive: Annotated[
        str | None, typer.Option(help="The outcome label meaning converted")
    ] = None,
    open_: Annotated[
        str,
        typer.Option(
            "--open",
            help="Outcome labels of records still open, comma-separated:"
            " left out of training, neither won nor lost",
        ),
    ] = "",
    exclude: Names = "",
    allow: Annotated[
        list[str] | None, typer.Option(help="Keep a column the guard left out")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Leave out the columns kept for review too")
    ] = False,
    id_column: Annotated[str | None, typer.Option("--id", help="Lead identifier column")] = None,
    time_column: Annotated[str | None, typer.Option(help="When each lead arrived")] = None,
    horizon_days: Annotated[
        int,
        typer.Option(
            min=0, max=3650, help="Workspace: learn from each lead as of N days after arrival"
        ),
    ] = 7,
    encoding: Annotated[str | None, typer.Option(help="File encoding [guessed]")] = None,
    separator: Annotated[str | None, typer.Option(help="Cell separator [guessed]")] = None,
) -> None:
    """Train a predictive model on a CRM export, or without --csv on the workspace's leads."""
    from leadq.predictive.training import TrainingPlan
    from leadq.services.predictive import files as predictive

    if csv is None:
        if target is not None:
            raise predictive.PredictiveError(
                "--target names a column of --csv FILE; the workspace's outcome is conversion"
            )
        trained = predictive.train_workspace(_database(), timedelta(days=horizon_days), out_dir,
                                             _now())  # fmt: skip
        _summary(trained, out_dir)
        return
    if target is None:
        raise predictive.PredictiveError("--target COLUMN is required with --csv")
    plan = TrainingPlan(target, positive, _names(exclude), tuple(allow or ()), id_column,
                        time_column, undecided=_names(open_), strict=strict)  # fmt: skip
    _summary(predictive.train_file(csv, plan, out_dir, encoding, separator), out_dir)


def predict(
    model: Annotated[Path, typer.Option(help="Model directory written by 'leadq train'")],
    csv: Annotated[Path, typer.Option("--csv", help="Leads to score (.csv)")],
    out_file: Annotated[Path, typer.Option("--out", help="Scored leads to write (.csv)")],
    encoding: Annotated[str | None, typer.Option(help="File encoding [guessed]")] = None,
    separator: Annotated[str | None, typer.Option(help="Cell separator [guessed]")] = None,
) -> None:
    """Add probability, score (1–100) and the top three reasons to each lead of a file."""
    from leadq.services.predictive import files as predictive

    predictions = predictive.predict_file(model, csv, out_file, encoding, separator)
    for warning in predictions.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    out.print(f"Scored {len(predictions.frame)} leads → {out_file}")


predictive_app = typer.Typer(help="Predictive models in the workspace: add, activate, roll back.",
                             no_args_is_help=True)  # fmt: skip


@predictive_app.command("add")
def add_model(
    model_dir: Annotated[Path, typer.Argument(help="Directory written by 'leadq train'")],
    name: Annotated[str, typer.Option(help="Name of the model in the registry")] = "predictive",
) -> None:
    """Store a trained model as the next version of NAME (not active yet)."""
    from leadq.services.predictive import files as predictive

    model = predictive.load(model_dir)
    with _database().unit_of_work() as session:
        row = registry.add(session, model, name, ACTOR, _now())
        ref = f"{row.name}@{row.version}"
    out.print(f"Added {ref} (out-of-fold ROC AUC {model.report['metrics']['roc_auc']:.4f})")


@predictive_app.command("list")
def list_models() -> None:
    """Versions with their figures and roles."""
    table = Table("model", "role", "ROC AUC", "leads", "created")
    with _database().reading() as session:
        for row in registry.versions(session):
            role = f"{row.role} ({row.share} %)" if row.share else row.role or ""
            metrics = row.report["metrics"]
            created = row.created_at.strftime("%Y-%m-%d %H:%M")
            table.add_row(f"{row.name}@{row.version}", role, f"{metrics['roc_auc']:.4f}",
                          str(metrics["rows"]), created)  # fmt: skip
    out.print(table)


def _rescore_all(reason: str) -> None:
    total, _ = bulk.rescore_everyone(_database(), _now(), reason)
    out.print(f"{total} leads rescored")


@predictive_app.command("activate")
def activate_model(
    reference: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")],
    challenger_share: Annotated[
        int | None,
        typer.Option(help="Deploy as challenger for this % of leads (1–50) instead of champion"),
    ] = None,
) -> None:
    """Make a version the champion (or the challenger) and rescore every lead."""
    with _database().unit_of_work() as session:
        row = registry.activate(session, reference, ACTOR, _now(), challenger_share)
        out.print(f"{row.name}@{row.version} is now the {row.role}")
    _rescore_all("predictive model activated")


@predictive_app.command("rollback")
def rollback() -> None:
    """Bring back the previous champion and rescore every lead."""
    with _database().unit_of_work() as session:
        row = registry.rollback(session, ACTOR, _now())
        out.print(f"{row.name}@{row.version} is the champion again")
    _rescore_all("predictive model rolled back")


@predictive_app.command("retire-challenger")
def retire_challenger() -> None:
    """Stop the challenger: every lead goes back to the champion."""
    with _database().unit_of_work() as session:
        registry.retire_challenger(session, ACTOR, _now())
    _rescore_all("challenger retired")


@predictive_app.command("arms")
def arms() -> None:
    """Conversion of the leads each model scored (champion / challenger)."""
    table = Table("model", "arm", "leads", "conversions", "conversion")
    with _database().reading() as session:
        for arm in registry.arms(session):
            table.add_row(arm["model"], arm["arm"], str(arm["leads"]), str(arm["conversions"]),
                          f"{arm['conversion_rate']:.1%}")  # fmt: skip
    out.print(table)


def backtest_command(
    model: Annotated[
        list[str],
        typer.Option(
            help="Rules model (classic, a YAML file, a workspace model) or predictive model"
            " (registry name or model directory); repeat to compare"
        ),
    ],
    days: Annotated[
        int, typer.Option(min=0, max=3650, help="Score each lead N days after it arrived")
    ] = 7,
    capacity: Annotated[str, typer.Option(help="Leads sales can work: 40 or 20%")] = "20%",
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="Replay over this export instead of the workspace (model directories)"
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Outcome column of --csv")] = None,
    positive: Annotated[str | None, typer.Option(help="Outcome label meaning converted")] = None,
) -> None:
    """Replay models over the workspace's past leads as of arrival + N days, side by side (or
    over an export with an outcome column)."""
    from leadq.predictive.training import TrainingPlan
    from leadq.services.scoring import backtest

    limit = backtest.Capacity.parse(capacity)
    if csv is not None:
        if target is None:
            raise backtest.BacktestError("--target COLUMN is required with --csv")
        plan = TrainingPlan(target, positive)
        result = backtest.run_file(model, csv, plan, limit)
    else:
        result = backtest.run(_database(), model, timedelta(days=days), limit, _now())
    for item in result.results:
        for warning in item.warnings:
            err.print(f"[yellow]warning:[/] {escape(item.model)}: {escape(warning)}")
    _print_backtest(result)


def _print_backtest(result: backtest.Backtest) -> None:
    days = result.horizon_days
    when = f", each scored {days} days after arrival" if days is not None else ""
    out.print(f"{result.leads} past leads, {result.conversions} converted{when}")
    table = Table("figure", *(escape(r.model) for r in result.results))
    table.add_row("kind", *(r.kind for r in result.results))
    table.add_row("ROC AUC", *(f"{r.roc_auc:.4f}" for r in result.results))
    calls = result.results[0].calls
    table.add_row(f"conversions caught calling the top {calls}",
                  *(f"{r.captured:.0%}" for r in result.results))  # fmt: skip
    for decile in range(10):
        cells = [r.deciles[decile] if decile < len(r.deciles) else None for r in result.results]
        table.add_row(f"decile {decile + 1}: conversion (lift)",
                      *(f"{c['conversion_rate']:.0%} ({c['lift']:.1f}×)" if c else "—"
                        for c in cells))  # fmt: skip
    out.print(table)
    for item in result.results:
        if item.by_grade:
            grades = Table("grade", "leads", "conversions", "conversion",
                           title=f"{escape(item.model)} by grade")  # fmt: skip
            for row in item.by_grade:
                grades.add_row(row["grade"], str(row["leads"]), str(row["conversions"]),
                               f"{row['conversion_rate']:.0%}")  # fmt: skip
            out.print(grades)
