"""The predictive lead scorer: a scikit-learn classifier that explains every lead it scores.

Two learners compete in cross-validation — LightGBM with native categories, and a regularised
logistic regression over spline-shaped numbers and one-hot categories — and so does their blend
in log-odds, against two plain scikit-learn baselines on the same rows and columns (a one-hot
logistic regression and a HistGradientBoosting classifier, with their defaults). The best
out-of-fold ROC AUC wins, baseline or not, and is refitted on every row. A Platt scaling fitted
on the out-of-fold output turns it into a calibrated probability. Every prediction splits into a
base value plus one signed contribution per export column (TreeSHAP for LightGBM, coefficient ×
centred input for the logistic regressions; for HistGradientBoosting, the change in output as
each input is switched from a typical lead's value to the row's, averaged over two orders), which
add up exactly to the raw output.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Self

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    SplineTransformer,
    StandardScaler,
)

from leadq.predictive.columns import ColumnProfile
from leadq.predictive.features import LeadFeatures
from leadq.predictive.reasons import Explanation

BASELINES = {"onehot_logistic": "one-hot logistic regression",
             "hist_gradient_boosting": "HistGradientBoosting"}  # fmt: skip
"""scikit-learn's plain learners, scored beside leadq's: a model that loses to them is not kept."""
CANDIDATES = ("lightgbm", "logistic", "blend", *BASELINES)
LEARNERS = ("lightgbm", "logistic", *BASELINES)
MAX_BINS = 255
BOOSTING: dict[str, Any] = {
    "n_estimators": 400, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 20,
    "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0,
    "cat_smooth": 10.0, "verbose": -1,
}  # fmt: skip
Matrix = NDArray[np.float64]
Folds = list[tuple[NDArray[np.intp], NDArray[np.intp]]]


class TrainingError(ValueError):
    """The history cannot train a model (one class only, too few rows of a class)."""


def _threads() -> int | None:
    """The standard ``OMP_NUM_THREADS`` when set: LightGBM's scikit-learn wrapper would
    otherwise take every core, whatever the operator (or a parallel test run) asked for."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def signed_log(values: Matrix) -> Matrix:
    """Compress long tails (visits, seconds on site) before the splines see them."""
    return np.asarray(np.sign(values) * np.log1p(np.abs(values)), dtype=np.float64)


class LeadScorer(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Fit on a frame of export text and 0/1 outcomes; ``predict_proba`` gives calibrated odds."""

    def __init__(self, profiles: tuple[ColumnProfile, ...] = (),
                 candidates: tuple[str, ...] = CANDIDATES, folds: int = 5,
                 random_state: int = 0, min_category_rows: int = 10) -> None:  # fmt: skip
        self.profiles = profiles
        self.candidates = candidates
        self.folds = folds
        self.random_state = random_state
        self.min_category_rows = min_category_rows

    # -- fitting -----------------------------------------------------------------------------

    def fit(self, X: pl.DataFrame, y: NDArray[Any]) -> Self:
        target = np.asarray(y, dtype=np.int8)
        self.classes_ = np.array([0, 1])
        folds = self._folds(target)
        self.features_ = LeadFeatures(self.profiles, self.min_category_rows).fit(X)
        matrix = self.features_.transform(X)
        raw = self._out_of_fold(matrix, target, folds)
        self.cv_auc_ = {name: float(roc_auc_score(target, raw[name])) for name in raw}
        self.kind_ = max(self.cv_auc_, key=self.cv_auc_.__getitem__)
        self.oof_raw_ = raw[self.kind_]
        self.calibration_ = _platt(self.oof_raw_, target)
        self.oof_probability_ = _cross_calibrated(self.oof_raw_, target, folds)
        self.reference_ = _typical(matrix, self.features_.categorical)
        self.booster_, self.linear_, self.baseline_ = self._learners(matrix, target)
        return self

    def _folds(self, target: NDArray[np.int8]) -> Folds:
        fewest = int(min((target == 1).sum(), (target == 0).sum()))
        if fewest == 0:
            raise TrainingError("the outcome has a single class: a model needs converted and"
                                " not converted leads")  # fmt: skip
        if fewest < 2:
            raise TrainingError("only one lead of a class: too few to cross-validate")
        splitter = StratifiedKFold(min(self.folds, fewest), shuffle=True,
                                   random_state=self.random_state)  # fmt: skip
        return list(splitter.split(np.zeros(len(target)), target))

    def _uses(self, learner: str) -> bool:
        blended = "blend" in self.candidates and learner in ("lightgbm", "logistic")
        return learner in self.candidates or blended

    def _out_of_fold(self, matrix: Matrix, target: NDArray[np.int8],
                     folds: Folds) -> dict[str, Matrix]:  # fmt: skip
        raw: dict[str, Matrix] = {}
        for learner in LEARNERS:
            if not self._uses(learner):
                continue
            raw[learner] = np.zeros(len(target))
            for train, held in folds:
                fitted = self._fit_one(learner, matrix[train], target[train])
                raw[learner][held] = _raw(fitted, matrix[held])
        if "blend" in self.candidates:
            raw["blend"] = (raw["lightgbm"] + raw["logistic"]) / 2
        return {name: values for name, values in raw.items() if name in self.candidates}

    def _fit_one(self, learner: str, matrix: Matrix, target: NDArray[np.int8]) -> Any:
        if learner == "lightgbm":
            import lightgbm as lgb  # imported when a model is fitted: the CLI starts faster

            booster = lgb.LGBMClassifier(random_state=self.random_state, n_jobs=_threads(),
                                         **BOOSTING)  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                booster.fit(matrix, target, categorical_feature=self.features_.categorical)
            return booster
        if learner == "hist_gradient_boosting":
            return _histogram_boosting(self.features_.categorical, self.random_state).fit(
                matrix, target
            )
        plain = learner == "onehot_logistic"
        linear = _linear(self.features_.categorical, matrix.shape[1], curves=not plain)
        return linear.fit(matrix, target)

    def _learners(self, matrix: Matrix, target: NDArray[np.int8]) -> tuple[Any, Any, Any]:
        uses = {"lightgbm": self.kind_ in ("lightgbm", "blend"),
                "logistic": self.kind_ in ("logistic", "blend"),
                "baseline": self.kind_ in BASELINES}  # fmt: skip
        fitted = {name: self._fit_one(self.kind_ if name == "baseline" else name, matrix, target)
                  if used else None for name, used in uses.items()}  # fmt: skip
        return fitted["lightgbm"], fitted["logistic"], fitted["baseline"]

    # -- predicting --------------------------------------------------------------------------

    def decision_function(self, X: pl.DataFrame) -> Matrix:
        """The raw output in log-odds, before calibration."""
        return self.explain(X).raw

    def predict_proba(self, X: pl.DataFrame) -> Matrix:
        probability = self.calibrated(self.decision_function(X))
        return np.column_stack([1.0 - probability, probability])

    def predict(self, X: pl.DataFrame) -> NDArray[np.int8]:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)

    def calibrated(self, raw: Matrix) -> Matrix:
        slope, intercept = self.calibration_
        return 1.0 / (1.0 + np.exp(-(slope * raw + intercept)))

    def explain(self, X: pl.DataFrame) -> Explanation:
        """Each row's raw output split into a base value and one contribution per export column."""
        matrix = self.features_.transform(X)
        parts = []
        baseline = getattr(self, "baseline_", None)  # absent from models saved before baselines
        if baseline is not None and self.kind_ == "onehot_logistic":
            parts.append(_linear_parts(baseline, matrix))
        elif baseline is not None:
            parts.append(_switched_parts(baseline, matrix, self.reference_))
        if self.booster_ is not None:
            parts.append(self._tree_parts(matrix))
        if self.linear_ is not None:
            parts.append(_linear_parts(self.linear_, matrix))
        weight = 1.0 / len(parts)
        base = sum(part[0] for part in parts) * weight
        per_feature = sum(part[1] for part in parts) * weight
        return Explanation(np.asarray(base), *self._by_column(np.asarray(per_feature)))

    def _tree_parts(self, matrix: Matrix) -> tuple[Matrix, Matrix]:
        contributions = self.booster_.predict(matrix, pred_contrib=True)
        return contributions[:, -1], contributions[:, :-1]

    def _by_column(self, per_feature: Matrix) -> tuple[Matrix, list[str]]:
        columns = list(dict.fromkeys(f.column for f in self.features_.features_))
        position = {name: i for i, name in enumerate(columns)}
        summed = np.zeros((len(per_feature), len(columns)))
        for index, feature in enumerate(self.features_.features_):
            summed[:, position[feature.column]] += per_feature[:, index]
        return summed, columns


def _linear_parts(linear: Pipeline, matrix: Matrix) -> tuple[Matrix, Matrix]:
    """Coefficient × centred input, summed back onto the input each block came from."""
    shaping, scaler, model = (step for _, step in linear.steps)
    inputs = scaler.transform(shaping.transform(matrix)) * model.coef_[0]
    per_feature = np.zeros((len(matrix), matrix.shape[1]))
    for index in range(matrix.shape[1]):
        block = shaping.output_indices_[f"f{index}"]
        per_feature[:, index] = inputs[:, block].sum(axis=1)
    return np.full(len(matrix), model.intercept_[0]), per_feature


def _switched_parts(model: Any, matrix: Matrix, reference: Matrix) -> tuple[Matrix, Matrix]:
    """Switch the inputs one by one from a typical lead's values to the row's: each step's
    change in output is that input's part. Averaged over the forward and the reverse order, the
    parts still add up exactly to the output minus the typical lead's."""
    base = _raw(model, reference.reshape(1, -1))[0]
    per_feature = np.zeros(matrix.shape)
    width = matrix.shape[1]
    for order in (range(width), range(width - 1, -1, -1)):
        current = np.repeat(reference.reshape(1, -1), len(matrix), axis=0)
        before = np.full(len(matrix), base)
        for index in order:
            current[:, index] = matrix[:, index]
            after = _raw(model, current)
            per_feature[:, index] += (after - before) / 2
            before = after
    return np.full(len(matrix), base), per_feature


def _typical(matrix: Matrix, categorical: list[int]) -> Matrix:
    """A typical lead: the median of each number, the commonest code of each category."""
    typical = np.full(matrix.shape[1], np.nan)
    for index in range(matrix.shape[1]):
        filled = matrix[:, index][~np.isnan(matrix[:, index])]
        if not len(filled):
            continue
        if index in categorical:
            codes, counts = np.unique(filled, return_counts=True)
            typical[index] = codes[np.argmax(counts)]
        else:
            typical[index] = np.median(filled)
    return typical


def _raw(fitted: Any, matrix: Matrix) -> Matrix:
    import lightgbm as lgb  # loaded with the fitted model already

    if isinstance(fitted, lgb.LGBMClassifier):
        return np.asarray(fitted.predict(matrix, raw_score=True), dtype=np.float64)
    return np.asarray(fitted.decision_function(matrix), dtype=np.float64)


MAX_LEVELS = 40
"""Values of a category the linear model tells apart; the rarer ones share one level (the trees
see every value). Keeps the dense matrix small for many-valued columns."""


def _linear(categorical: list[int], width: int, curves: bool = True) -> Pipeline:
    """One small pipeline per input so that contributions can be added back per column; with
    ``curves`` numbers are shaped by splines (leadq's), without they stay straight lines and the
    model keeps scikit-learn's defaults (the baseline)."""
    number = [SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)]
    if curves:
        number += [FunctionTransformer(signed_log), SplineTransformer(n_knots=5, degree=3)]
    curve = make_pipeline(*number)
    code = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=-1.0),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=MAX_LEVELS, sparse_output=False
        ),
    )
    shaping = ColumnTransformer(
        [(f"f{i}", code if i in categorical else curve, [i]) for i in range(width)],
        sparse_threshold=0.0,  # dense whatever the mix of columns: the scaler centres it
    )
    return Pipeline(
        [
            ("shape", shaping),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=0.5 if curves else 1.0, max_iter=5000)),
        ]
    )


def _histogram_boosting(categorical: list[int], random_state: int) -> Pipeline:
    """scikit-learn's HistGradientBoosting with its defaults and native categories (codes past
    its bin count share the last one)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(categorical_features=categorical or None,
                                           random_state=random_state)  # fmt: skip
    capping = FunctionTransformer(_capped, kw_args={"categorical": categorical})
    return make_pipeline(capping, model)


def _capped(matrix: Matrix, categorical: list[int]) -> Matrix:
    capped = matrix.copy()
    capped[:, categorical] = np.minimum(capped[:, categorical], MAX_BINS - 2)
    return capped


def _platt(raw: Matrix, target: NDArray[np.int8]) -> tuple[float, float]:
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), target)
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


def _cross_calibrated(raw: Matrix, target: NDArray[np.int8], folds: Folds) -> Matrix:
    """Out-of-fold probabilities: each fold calibrated by a scaling the fold did not train."""
    probability = np.zeros(len(raw))
    for train, held in folds:
        slope, intercept = _platt(raw[train], target[train])
        probability[held] = 1.0 / (1.0 + np.exp(-(slope * raw[held] + intercept)))
    return probability
