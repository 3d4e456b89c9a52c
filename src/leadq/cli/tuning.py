"""``leadq monitor``: shift and calibration checks of the live models, with their alarms."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from leadq.cli.support import database, now, out
from leadq.config import get_settings
from leadq.services.monitoring import runs


def monitor() -> None:
    """Check the live models against their reference period (shift of scores, grades and input
    columns; calibration once outcomes matured); an alarm for each new breach."""
    run = runs.monitor(database(), now(), get_settings())
    if not run.reports:
        out.print("No live model to check: activate a scoring model first")
        return
    for report in run.reports:
        table = Table("check", "of", "value", "alarm above", "new leads", "", box=box.SIMPLE_HEAD,
                      title=f"{report.model} ({report.kind})")  # fmt: skip
        raised = {f.key for f in run.alarms.get(report.model, [])}
        for found in report.findings:
            state = "ALARM" if found.key in raised else "breached" if found.breached else "ok"
            table.add_row(found.kind, escape(found.subject or ""), f"{found.value:.3f}",
                          f"{found.limit:g}", str(found.leads), state)  # fmt: skip
        out.print(table)
        for note in report.notes:
            out.print(f"[dim]{escape(note)}[/]")
        for found in run.alarms.get(report.model, []):
            out.print(f"[red]alarm:[/] {escape(runs.describe(found))}")


def retrain() -> None:
    """Train a challenger on the workspace's history, judge it against the predictive champion
    on the newest matured leads, and promote it only when it wins by the margin without worse
    calibration ('leadq predictive rollback' undoes a promotion)."""
    from leadq.services.monitoring import retraining  # scikit-learn: only for this command

    decision = retraining.retrain(database(), now(), get_settings())
    judged_on = f"newest {decision.holdout} matured leads, {decision.conversions} converted"
    table = Table("model", "ROC AUC", "calibration error", box=box.SIMPLE_HEAD, title=judged_on)
    for name, judged in (
        ("champion", decision.champion),
        (decision.challenger_ref, decision.challenger),
    ):
        table.add_row(escape(name), f"{judged.roc_auc:.4f}", f"{judged.calibration_error:.4f}")
    out.print(table)
    for note in decision.notes:
        out.print(f"[dim]{escape(note)}[/]")
    out.print(escape(decision.reason[0].upper() + decision.reason[1:]))
