"""Accounts: the companies whose leads score together, best first, and one account's score
line by line with its people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from leadq.http.params import AccountPath
from leadq.services.errors import NotFound
from leadq.services.scoring import accounts
from leadq.store.db import Database
from leadq.web.auth import Signed
from leadq.web.render import page, reader

router = APIRouter(include_in_schema=False)
Grade = Annotated[str | None, Query(max_length=20, pattern=r"^[\w-]+$")]


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, viewer: Signed, grade: Grade = None) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        found = accounts.visible_accounts(session, viewer.access, grade)
    return page(request, "accounts.html.j2", viewer, accounts=found, grade=grade)


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, account_id: AccountPath, viewer: Signed) -> HTMLResponse:
    db: Database = request.app.state.db
    with db.reading() as session:
        try:
            company, members = accounts.visible_account(session, viewer.access, account_id)
        except NotFound:
            what = reader(request, viewer).gettext("Account %(id)s") % {"id": account_id}
            return page(request, "missing.html.j2", viewer, 404, what=what)
    return page(request, "account.html.j2", viewer, company=company, members=members)
