"""The scorer as a scikit-learn classifier: explanations add up, probabilities are calibrated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from leadq.predictive.columns import clean, outcomes, profile
from leadq.predictive.exports import read_export
from leadq.predictive.scorer import LeadScorer
from tests.predictive.exports import export_rows, write

USED = ("Źródło leada", "Company size (employees)", "Visits / week", "Newsletter?", "Signed up on")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, np.ndarray]:
    header, body = export_rows(4000, seed=11)
    frame = read_export(write(tmp_path_factory.mktemp("h") / "h.csv", header, body)).frame
    y = outcomes(clean(frame.select("Bought?")).to_series()).to_numpy().astype(np.int8)
    return frame, y


def _scorer(frame: pl.DataFrame, candidates: tuple[str, ...]) -> LeadScorer:
    profiles = tuple(profile(clean(frame.select(c)).to_series()) for c in USED)
    return LeadScorer(profiles, candidates=candidates)


@pytest.mark.parametrize("candidates", [("lightgbm",), ("logistic",), ("blend",)])
def test_reasons_add_up_to_the_raw_output(history: tuple[pl.DataFrame, np.ndarray],
                                          candidates: tuple[str, ...]) -> None:  # fmt: skip
    frame, y = history
    scorer = _scorer(frame, candidates).fit(frame, y)
    assert scorer.kind_ == candidates[0]
    sample = frame.head(300)
    explanation = scorer.explain(sample)
    matrix = scorer.features_.transform(sample)
    learners = []  # each learner's own raw output, computed without the explanation code
    if scorer.booster_ is not None:
        learners.append(scorer.booster_.predict(matrix, raw_score=True))
    if scorer.linear_ is not None:
        learners.append(scorer.linear_.decision_function(matrix))
    raw = np.mean(learners, axis=0)
    assert explanation.contributions.shape == (300, len(USED))
    assert explanation.columns == list(USED)
    np.testing.assert_allclose(explanation.base + explanation.contributions.sum(axis=1), raw,
                               rtol=1e-9, atol=1e-9)  # fmt: skip
    probability = scorer.predict_proba(sample)[:, 1]
    slope, intercept = scorer.calibration_
    np.testing.assert_allclose(probability, 1 / (1 + np.exp(-(slope * raw + intercept))))


def test_out_of_fold_probabilities_are_calibrated(history: tuple[pl.DataFrame, np.ndarray]) -> None:
    frame, y = history
    scorer = _scorer(frame, ("lightgbm", "logistic", "blend")).fit(frame, y)
    probability = scorer.oof_probability_
    assert abs(probability.mean() - y.mean()) < 0.01
    order = np.argsort(probability)
    for part in np.array_split(order, 5):  # 800 leads per bin
        assert abs(probability[part].mean() - y[part].mean()) < 0.05
    # calibration slope and intercept of the out-of-fold probabilities: ideal is 1 and 0
    logit = np.log(probability / (1 - probability)).reshape(-1, 1)
    refit = LogisticRegression(C=1e6).fit(logit, y)
    assert 0.85 < refit.coef_[0][0] < 1.15 and abs(refit.intercept_[0]) < 0.1


def test_follows_scikit_learn_conventions(history: tuple[pl.DataFrame, np.ndarray]) -> None:
    frame, y = history
    scorer = _scorer(frame, ("logistic",))
    assert clone(scorer).get_params() == scorer.get_params()
    fitted = scorer.fit(frame.head(1000), y[:1000])
    assert list(fitted.classes_) == [0, 1]
    proba = fitted.predict_proba(frame.tail(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(fitted.predict(frame.tail(50))) <= {0, 1}


def test_unseen_categories_and_missing_values_still_score(
        history: tuple[pl.DataFrame, np.ndarray], tmp_path: Path) -> None:  # fmt: skip
    frame, y = history
    scorer = _scorer(frame, ("blend",)).fit(frame, y)
    odd = pl.DataFrame({"Źródło leada": ["Nowe źródło", None],
                        "Company size (employees)": ["x", ""],
                        "Visits / week": [None, "1,5"], "Newsletter?": ["maybe", "Tak"],
                        "Signed up on": ["not a date", "2025-05-01T10:00:00Z"]})  # fmt: skip
    probability = scorer.predict_proba(odd)[:, 1]
    assert np.isfinite(probability).all() and ((probability > 0) & (probability < 1)).all()
