"""The API's routers, one per capability, and what they share."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from leadq.api.schemas import LeadOut
from leadq.http.errors import error_response
from leadq.services.automation.reactions import settle
from leadq.services.errors import FieldError, InvalidInput
from leadq.store.tables import Lead


def committed(session: Session, lead: Lead) -> LeadOut:
    """The lead as its transaction will commit it: the automation rules the use case set off
    (an owner assigned, a stage moved) have run before the answer is written."""
    settle(session)
    return LeadOut.model_validate(lead)


async def uploaded_file(form: FormData, limit: int) -> bytes | JSONResponse:
    """The multipart field ``file``: refused when missing (422), or over ``limit`` bytes (413)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput([FieldError("file", "missing: send the CSV as the field 'file'")])
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return error_response(413, [FieldError("file", f"over {limit // 2**20} MB")])
    return data
