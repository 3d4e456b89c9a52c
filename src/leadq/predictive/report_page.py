"""The training report as one self-contained HTML page: figures, plots (inline SVG) and insights."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from leadq.predictive.scorer import BASELINES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_pages = Environment(loader=PackageLoader("leadq.predictive", "templates"),
                     autoescape=select_autoescape(["html", "j2"]))  # fmt: skip


def _plot(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure on the file-only backend; matplotlib loads on the first report, not with the CLI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _svg(figure: Figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _roc(metrics: dict[str, Any]) -> str:
    figure, axes = _plot(4.2, 4)
    axes.plot(metrics["roc_curve"]["fpr"], metrics["roc_curve"]["tpr"], label="model")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate",
             title=f"ROC curve (AUC {metrics['roc_auc']:.3f})")  # fmt: skip
    axes.legend(loc="lower right")
    return _svg(figure)


def _calibration(metrics: dict[str, Any]) -> str:
    figure, axes = _plot(4.2, 4)
    points = metrics["calibration"]
    axes.plot([p["predicted"] for p in points], [p["observed"] for p in points], marker="o")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set(xlabel="predicted probability", ylabel="observed conversion",
             title="Calibration (tenths of leads)")  # fmt: skip
    return _svg(figure)


def _lift(metrics: dict[str, Any]) -> str:
    figure, axes = _plot(5.5, 4)
    rows = metrics["deciles"]
    axes.bar([r["decile"] for r in rows], [r["conversion_rate"] for r in rows], color="#2b6cb0")
    axes.axhline(metrics["base_rate"], linestyle="--", color="grey", label="base rate")
    axes.set(xlabel="decile (1 = best scored)", ylabel="conversion rate",
             title="Conversion by score decile", xticks=[r["decile"] for r in rows])  # fmt: skip
    axes.legend()
    return _svg(figure)


def _importance(report: dict[str, Any]) -> str:
    top = report["importance"][:15][::-1]
    figure, axes = _plot(6, 0.35 * len(top) + 1)
    axes.barh([i["column"][:45] for i in top], [i["share"] for i in top], color="#2f855a")
    axes.set(xlabel="share of all contributions", title="What drives the score")
    return _svg(figure)


def render(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    plots = {"roc": _roc(metrics), "calibration": _calibration(metrics), "lift": _lift(metrics),
             "importance": _importance(report)}  # fmt: skip
    labels = {**BASELINES, "lightgbm": "LightGBM", "logistic": "spline logistic regression",
              "blend": "blend of LightGBM and spline logistic regression"}  # fmt: skip
    return _pages.get_template("report.html.j2").render(report=report, m=metrics, plots=plots,
                                                        labels=labels)  # fmt: skip
