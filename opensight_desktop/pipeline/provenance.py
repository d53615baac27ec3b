"""The case's record of the detector model its results and tile scans come from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit, digests
from opensight_desktop.case.models import DetectorModel
from opensight_desktop.detector.model import LoadedDetector
from opensight_desktop.errors import ModelError


def register_model(session: Session, detector: LoadedDetector) -> DetectorModel:
    """The case's record of this model (provenance), made and audit-logged on first use."""
    identity = detector.identity
    model = session.scalar(select(DetectorModel).where(DetectorModel.sha256 == identity.id))
    recorded = (model.details or {}).get("identity_sha256") if model is not None else None
    if recorded and recorded != identity.identity_sha256:
        raise ModelError(
            f"this case's results from weights {identity.id[:16]}... were made with other "
            f"model files (identity {recorded[:16]}...) than the model now in use "
            f"(identity {identity.identity_sha256[:16]}...: its configuration files differ). "
            "Use the model files the case was analysed with"
        )
    if model is None:
        details = detector.record()
        model = DetectorModel(
            sha256=identity.id,
            name=identity.name,
            format=identity.format,
            source=identity.source,
            details=details,
        )
        session.add(model)
        session.flush()
        audit.append(
            session,
            "model.registered",
            {
                "model_sha256": identity.id,
                "name": identity.name,
                "format": identity.format,
                "source": identity.source,
                "published_match": identity.published_match,
                "identity_sha256": identity.identity_sha256,
                "details": digests.json_value(details),
            },
        )
    return model
