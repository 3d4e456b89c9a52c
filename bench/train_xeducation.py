"""Train on X Education's leads as a user would and print the figures (no assertions).

Run: .venv/bin/python bench/train_xeducation.py [path/to/Leads.csv]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from leadq.predictive.training import TrainingPlan
from leadq.services.predictive import files as predictive

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "xeducation" / "Leads.csv"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    with tempfile.TemporaryDirectory() as out:
        report = predictive.train_file(path, TrainingPlan("Converted"), Path(out)).report
    metrics = report["metrics"]
    print(f"leads {metrics['rows']}, base rate {metrics['base_rate']:.3f}")
    print("left out:", "; ".join(f"{e['column']}" for e in report["excluded"]))
    print(
        "cross-validated ROC AUC per candidate:",
        {k: round(v, 4) for k, v in report["model"]["cv_roc_auc"].items()},
    )
    print(
        f"chosen {report['model']['chosen']}: out-of-fold ROC AUC {metrics['roc_auc']:.4f},"
        f" PR AUC {metrics['pr_auc']:.4f}, Brier {metrics['brier']:.4f}"
    )
    print("conversions captured:", {k: f"{v:.0%}" for k, v in metrics["captured"].items()})
    print(
        f"training {report['training_seconds']:.1f} s, peak memory"
        f" {report['peak_memory_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
