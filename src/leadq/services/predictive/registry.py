"""The predictive model registry: versions with their reports, a champion and a challenger.

The champion scores every lead unless a challenger is deployed; then a fixed share of leads,
chosen by a hash of their id (so a lead never changes arm), is scored by the challenger, and
conversion by arm shows whether the new model earns its place.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadq.domain.consent import may_profile
from leadq.predictive.history import event_types_of, snapshot
from leadq.predictive.reasons import reasons
from leadq.services.errors import Conflict
from leadq.services.predictive.history import (
    CONVERTED_STAGE,
    CONVERTING_EVENT,
    lead_profile,
    touches,
)
from leadq.services.predictive.model import PredictiveModel, scores
from leadq.services.privacy import audit
from leadq.services.scoring.versions import every_version, find_version, next_version
from leadq.store.tables import AuditEntry, Event, Lead, PredictiveModelVersion

CHAMPION, CHALLENGER = "champion", "challenger"
ACTIVATED = "predictive.champion"
REASONS = 3


def _ref(row: PredictiveModelVersion) -> str:
    return f"{row.name}@{row.version}"


def add(session: Session, model: PredictiveModel, name: str, actor: str,
        now: datetime) -> PredictiveModelVersion:  # fmt: skip
    """Store a trained model as the next version of ``name``."""
    buffer = io.BytesIO()
    import joblib  # loads scikit-learn's helpers: only when a model is read or written

    joblib.dump(model.scorer, buffer)
    artifact = buffer.getvalue()
    version = next_version(session, PredictiveModelVersion, name)
    row = PredictiveModelVersion(name=name, version=version, artifact=artifact,
                                 digest=hashlib.sha256(artifact).hexdigest(), report=model.report,
                                 created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    details = {"model": _ref(row), "roc_auc": model.report["metrics"]["roc_auc"]}
    audit.record(session, actor, "predictive.added", "predictive_model", row.id, details, now)
    return row


def versions(session: Session) -> list[PredictiveModelVersion]:
    return every_version(session, PredictiveModelVersion)


def find(session: Session, reference: str) -> PredictiveModelVersion:
    """``name`` (newest version) or ``name@version``."""
    return find_version(session, PredictiveModelVersion, reference, "predictive model")


def activate(session: Session, reference: str, actor: str, now: datetime,
             challenger_share: int | None = None) -> PredictiveModelVersion:  # fmt: skip
    """Make a version the champion, or the challenger for ``challenger_share`` % of leads."""
    if challenger_share is not None and not 1 <= challenger_share <= 50:
        raise Conflict("share", f"{challenger_share}: a challenger takes 1 to 50 % of leads")
    row = find(session, reference)
    role = CHAMPION if challenger_share is None else CHALLENGER
    if role == CHALLENGER and row.role == CHAMPION:
        raise Conflict("model", f"{_ref(row)} is the champion; a challenger must be another")
    session.execute(update(PredictiveModelVersion).where(PredictiveModelVersion.role == role)
                    .values(role=None, share=None))  # fmt: skip
    row.role, row.share, row.activated_at = role, challenger_share, now
    session.flush()
    action = ACTIVATED if role == CHAMPION else "predictive.challenger"
    audit.record(session, actor, action, "predictive_model", row.id,
                 {"model": _ref(row), "share": challenger_share}, now)  # fmt: skip
    return row


def retire_challenger(session: Session, actor: str, now: datetime) -> None:
    session.execute(update(PredictiveModelVersion).where(PredictiveModelVersion.role == CHALLENGER)
                    .values(role=None, share=None))  # fmt: skip
    audit.record(session, actor, "predictive.challenger_retired", "predictive_model", "-", {}, now)


def rollback(session: Session, actor: str, now: datetime) -> PredictiveModelVersion:
    """Make the champion before the current one champion again."""
    current = session.scalars(select(PredictiveModelVersion)
                              .where(PredictiveModelVersion.role == CHAMPION)).first()  # fmt: skip
    earlier = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == ACTIVATED)
                              .order_by(AuditEntry.id.desc()))  # fmt: skip
    for entity_id in earlier:
        if entity_id and (current is None or entity_id != str(current.id)):
            row = session.get(PredictiveModelVersion, int(entity_id))
            if row is not None:
                return activate(session, _ref(row), actor, now)
    raise Conflict("model", "no earlier champion to roll back to")


_loaded: dict[str, PredictiveModel] = {}
KEPT_MODELS = 8


def model_of(row: PredictiveModelVersion) -> PredictiveModel:
    """The row's model, unpickled once per process (the artifact is read only on a miss)."""
    model = _loaded.get(row.digest)
    if model is None:
        if len(_loaded) >= KEPT_MODELS:
            _loaded.pop(next(iter(_loaded)))
        import joblib  # loads scikit-learn's helpers: only when a model is read or written

        model = PredictiveModel(joblib.load(io.BytesIO(row.artifact)), row.report)
        _loaded[row.digest] = model
    return model


def arm(lead_id: int, share: int) -> str:
    """The lead's arm: stable for its id, ``challenger`` for ``share`` % of ids."""
    bucket = int.from_bytes(hashlib.sha256(f"lead:{lead_id}".encode()).digest()[:4], "big") % 100
    return CHALLENGER if bucket < share else CHAMPION


@dataclass(frozen=True)
class Deployment:
    champion: PredictiveModelVersion | None
    challenger: PredictiveModelVersion | None

    def for_lead(self, lead_id: int) -> PredictiveModelVersion | None:
        if self.challenger is not None and arm(lead_id, self.challenger.share or 0) == CHALLENGER:
            return self.challenger
        return self.champion


def deployment(session: Session) -> Deployment:
    deployed = select(PredictiveModelVersion).where(PredictiveModelVersion.role.is_not(None))
    rows = {row.role: row for row in session.scalars(deployed)}
    return Deployment(rows.get(CHAMPION), rows.get(CHALLENGER))


def predict_leads(session: Session, leads: list[Lead], as_of: datetime,
                  deployed: Deployment | None = None) -> None:  # fmt: skip
    """Score leads with their arm's model as of ``as_of`` and store probability and reasons.
    A lead who withdrew their profiling consent is not scored, and keeps no predictive score."""
    deployed = deployed or deployment(session)
    groups: dict[int, tuple[PredictiveModelVersion, list[Lead]]] = {}
    for lead in leads:
        if lead.erased_at is not None:
            continue  # an erased lead's probability stays as it was
        if not may_profile(lead.consents):
            forget_prediction(lead)
            continue
        row = deployed.for_lead(lead.id)
        if row is not None:
            groups.setdefault(row.id, (row, []))[1].append(lead)
    for row, members in groups.values():
        _predict(session, row, members, as_of)


def forget_prediction(lead: Lead) -> None:
    """Empty the lead's predictive fields (its profiling consent was withdrawn)."""
    lead.probability = lead.predictive_score = None
    lead.predictive_reasons = lead.predictive_model = None


def _predict(session: Session, row: PredictiveModelVersion, leads: list[Lead],
             as_of: datetime) -> None:  # fmt: skip
    model = model_of(row)
    ids = [lead.id for lead in leads]
    frame = snapshot({lead.id: lead_profile(lead) for lead in leads}, touches(session, ids, as_of),
                     dict.fromkeys(ids, as_of), event_types_of(model.columns))  # fmt: skip
    explanation = model.scorer.explain(frame)
    probability = model.scorer.calibrated(explanation.raw)
    phrases = reasons(explanation, frame, REASONS)
    for index, lead in enumerate(leads):
        lead.probability = float(np.round(probability[index], 4))
        lead.predictive_score = scores(probability[index : index + 1])[0]
        lead.predictive_reasons = [{"column": r.column, "reason": r.text,
                                    "contribution": round(r.contribution, 4)}
                                   for r in phrases[index]]  # fmt: skip
        lead.predictive_model = _ref(row)


def arms(session: Session) -> list[dict[str, Any]]:
    """Conversion of the leads each model scored: the evidence to adopt a challenger or not."""
    deployed = deployment(session)
    roles = {_ref(r): r.role for r in (deployed.champion, deployed.challenger) if r is not None}
    bought = set(session.scalars(select(Event.lead_id).where(Event.type == CONVERTING_EVENT)))
    tally: dict[str, list[int]] = {}
    scored = select(Lead.id, Lead.predictive_model, Lead.stage).where(
        Lead.predictive_model.is_not(None)
    )
    for lead_id, model, stage in session.execute(scored):
        counts = tally.setdefault(model or "", [0, 0])
        counts[0] += 1
        counts[1] += int(stage == CONVERTED_STAGE or lead_id in bought)
    return [{"model": model, "arm": roles.get(model, "retired"), "leads": leads,
             "conversions": won, "conversion_rate": won / leads}
            for model, (leads, won) in sorted(tally.items())]  # fmt: skip
