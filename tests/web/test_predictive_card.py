"""With a predictive model in force, the inbox can rank by probability and the card shows the
probability with the reasons behind it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from markupsafe import escape
from sqlalchemy import select

from leadq.services import predictive, registry, scoring
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.predictive.workspace import build_history
from tests.web.conftest import Browser


def test_probability_order_and_reasons_on_the_card(
    browser: Browser, db: Database, now: datetime, tmp_path: Path
) -> None:
    build_history(db, now, leads=240)
    predictive.train_workspace(db, timedelta(days=7), tmp_path / "model", now)
    with db.unit_of_work() as session:
        registry.add(session, predictive.load(tmp_path / "model"), "buyers", "tests", now)
        registry.activate(session, "buyers@1", "tests", now)
    scoring.rescore_everyone(db, now, "model activated")
    with db.reading() as session:
        best = session.scalars(
            select(Lead).order_by(Lead.probability.desc(), Lead.id.desc()).limit(1)
        ).one()
    assert best.probability is not None and best.predictive_reasons
    inbox = browser.get("/inbox?order=probability")
    assert inbox.split('data-lead="')[1].startswith(f'{best.id}"')
    card = browser.get(f"/leads/{best.id}")
    assert f"{best.probability * 100:.1f} %</strong> likely to convert" in card
    assert "buyers@1" in card
    for reason in best.predictive_reasons:
        assert str(escape(reason["reason"])) in card
