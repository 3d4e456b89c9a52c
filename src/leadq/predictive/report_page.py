"""The training report as one self-contained HTML page: figures, plots (inline SVG) and insights."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from leadq.i18n import Language
from leadq.i18n.templates import install
from leadq.predictive.scorer import BASELINES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_pages = Environment(loader=PackageLoader("leadq.predictive", "templates"),
                     autoescape=select_autoescape(["html", "j2"]))  # fmt: skip
install(_pages)


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


def _roc(metrics: dict[str, Any], lang: Language) -> str:
    figure, axes = _plot(4.2, 4)
    axes.plot(metrics["roc_curve"]["fpr"], metrics["roc_curve"]["tpr"], label=lang.gettext("model"))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label=lang.gettext("chance"))
    title = lang.gettext("ROC curve (AUC %(auc)s)") % {"auc": lang.number(metrics["roc_auc"], 3)}
    axes.set(xlabel=lang.gettext("false positive rate"),
             ylabel=lang.gettext("true positive rate"), title=title)  # fmt: skip
    axes.legend(loc="lower right")
    return _svg(figure)


def _calibration(metrics: dict[str, Any], lang: Language) -> str:
    figure, axes = _plot(4.2, 4)
    points = metrics["calibration"]
    axes.plot([p["predicted"] for p in points], [p["observed"] for p in points], marker="o")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set(xlabel=lang.gettext("predicted probability"),
             ylabel=lang.gettext("observed conversion"),
             title=lang.gettext("Calibration (tenths of leads)"))  # fmt: skip
    return _svg(figure)


def _lift(metrics: dict[str, Any], lang: Language) -> str:
    figure, axes = _plot(5.5, 4)
    rows = metrics["deciles"]
    axes.bar([r["decile"] for r in rows], [r["conversion_rate"] for r in rows], color="#2b6cb0")
    axes.axhline(metrics["base_rate"], linestyle="--", color="grey",
                 label=lang.gettext("base rate"))  # fmt: skip
    axes.set(xlabel=lang.gettext("decile (1 = best scored)"),
             ylabel=lang.gettext("conversion rate"),
             title=lang.gettext("Conversion by score decile"),
             xticks=[r["decile"] for r in rows])  # fmt: skip
    axes.legend()
    return _svg(figure)


def _importance(report: dict[str, Any], lang: Language) -> str:
    top = report["importance"][:15][::-1]
    figure, axes = _plot(6, 0.35 * len(top) + 1)
    axes.barh([i["column"][:45] for i in top], [i["share"] for i in top], color="#2f855a")
    axes.set(xlabel=lang.gettext("share of all contributions"),
             title=lang.gettext("What drives the score"))  # fmt: skip
    return _svg(figure)


def _moment(text: object) -> datetime | None:
    """When the model was trained (``created_at``, ISO), if the report says."""
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def render(report: dict[str, Any], lang: Language | None = None) -> str:
    """The page in ``lang``: words, figures and times in its local forms. English by
    default: this pure core reads no settings, the caller passes the workspace's language."""
    lang = lang or Language()
    metrics = report["metrics"]
    plots = {"roc": _roc(metrics, lang), "calibration": _calibration(metrics, lang),
             "lift": _lift(metrics, lang), "importance": _importance(report, lang)}  # fmt: skip
    labels = {**BASELINES, "onehot_logistic": lang.gettext("one-hot logistic regression"),
              "lightgbm": "LightGBM", "logistic": lang.gettext("spline logistic regression"),
              "blend": lang.gettext("blend of LightGBM and spline logistic regression"),
              }  # fmt: skip
    # "top_10": the best-scored 10 % of the leads
    captured = [(int(name.removeprefix("top_")) / 100, share)
                for name, share in metrics["captured"].items()]  # fmt: skip
    return _pages.get_template("report.html.j2").render(
        report=report, m=metrics, plots=plots, labels=labels, captured=captured,
        trained=_moment(report.get("created_at")), lang=lang,
    )  # fmt: skip
