"""With a predictive model in force, the inbox can rank by probability and the card shows the
probability with the reasons behind it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from markupsafe import escape
from sqlalchemy import select

from leadq.i18n import Language
from leadq.services.scoring import bulk
from leadq.store.db import Database
from leadq.store.tables import Lead
from tests.predictive.workspace import activate_trained
from tests.web.conftest import Browser


def test_probability_order_and_reasons_on_the_card(
    browser: Browser, db: Database, now: datetime, tmp_path: Path
) -> None:
    activate_trained(db, now, tmp_path / "model", leads=240)
    bulk.rescore_everyone(db, now, "model activated")
    with db.reading() as session:
        best = session.scalars(
            select(Lead).order_by(Lead.probability.desc(), Lead.id.desc()).limit(1)
        ).one()
    assert best.probability is not None and best.predictive_reasons
    inbox = browser.get("/inbox?order=probability")
    assert inbox.split('data-lead="')[1].startswith(f'{best.id}"')
    card = browser.get(f"/leads/{best.id}")
    # in the reader's form: Babel rounds 0.6315 half to even (63.2%), Python's float 63.1
    percent = Language().percent(best.probability, 1)
    shown = f'<span class="figure">{percent}</span></strong> likely to convert'
    assert shown in card
    assert "buyers@1" in card
    for reason in best.predictive_reasons:
        assert str(escape(reason["reason"])) in card
