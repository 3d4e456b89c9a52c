"""Who is already here, for a batch of arrivals: the leads their e-mails and phones name and the
accounts their domains name, read in a few statements per batch instead of several per row, and
kept up to date as the batch creates and merges leads — so each arrival finds exactly the lead,
the possible duplicates and the account it would have found arriving on its own.

The rules are ``find`` and ``others_on``: the e-mail is the identity; a phone finds only a lead
that has no e-mail; a number on ``SHARED_LINE`` leads is a shared line that pairs no more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from leadq.domain.leads import LeadInput
from leadq.services.intake.duplicates import SHARED_LINE
from leadq.store.sql import insert_unnested, one_of
from leadq.store.tables import Company, Lead

Known = Lead | int
"""A lead of the batch (its id comes when it is stored) or the id of one stored before."""


@dataclass
class Account:
    """A company by domain: stored already (``id``), or new, stored when the batch is."""

    domain: str
    name: str | None
    created_at: datetime
    id: int | None = None


@dataclass
class Directory:
    by_email: dict[str, Lead] = field(default_factory=dict)
    phone_only: dict[str, list[Lead]] = field(default_factory=dict)
    """Leads with the phone and no e-mail, oldest first."""
    on_phone: dict[str, list[Known]] = field(default_factory=dict)
    """Leads with the phone that are not erased (of those stored before: ``SHARED_LINE``)."""
    merged_into: dict[int, Lead] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, arrivals: Sequence[LeadInput],
             domains: Sequence[str]) -> Directory:  # fmt: skip
        """The leads the arrivals name, locked in id order (PostgreSQL, ``FOR NO KEY UPDATE``:
        concurrent batches merge one after another and never deadlock), with the leads a person
        merged them into; the accounts of ``domains``."""
        emails = sorted({a.email for a in arrivals if a.email})
        phones = sorted({a.phone for a in arrivals if a.phone})
        found = cls()
        if emails or phones:
            found._read_leads(session, emails, phones)
        if phones:
            found._read_lines(session, phones)
        if domains:
            query = select(Company.id, Company.domain, Company.name, Company.created_at)
            named = one_of(session, Company.domain, sorted(set(domains)))
            for row in session.execute(query.where(named)):
                found.accounts[row.domain] = Account(row.domain, row.name, row.created_at, row.id)
        return found

    def _read_leads(self, session: Session, emails: list[str], phones: list[str]) -> None:
        named = or_(one_of(session, Lead.email, emails),
                    (one_of(session, Lead.phone, phones)) & Lead.email.is_(None))  # fmt: skip
        query = select(Lead).where(named).order_by(Lead.id).with_for_update(key_share=True)
        leads = list(session.scalars(query))
        for lead in leads:
            self._file(lead)
        onward = sorted({x.merged_into_id for x in leads if x.merged_into_id is not None})
        if onward:
            query = (select(Lead).where(Lead.id.in_(onward)).order_by(Lead.id)
                     .with_for_update(key_share=True))  # fmt: skip
            self.merged_into = {lead.id: lead for lead in session.scalars(query)}

    def _read_lines(self, session: Session, phones: list[str]) -> None:
        rank = func.row_number().over(partition_by=Lead.phone, order_by=Lead.id)
        ranked = (select(Lead.id, Lead.phone, rank.label("rank"))
                  .where(one_of(session, Lead.phone, phones), Lead.erased_at.is_(None))
                  .subquery())  # fmt: skip
        query = select(ranked.c.id, ranked.c.phone).where(ranked.c.rank <= SHARED_LINE)
        for lead_id, phone in session.execute(query.order_by(ranked.c.id)):
            self.on_phone.setdefault(phone, []).append(lead_id)

    def _file(self, lead: Lead) -> None:
        if lead.email:
            self.by_email[lead.email] = lead
        elif lead.phone:
            self.phone_only.setdefault(lead.phone, []).append(lead)

    def find(self, email: str | None, phone: str | None) -> Lead | None:
        """The lead this person already is: that e-mail's lead, else a lead with the phone and
        no e-mail — never a lead with another e-mail, whatever the phone (colleagues share a
        switchboard, a household a line). A lead a person merged into another leads to that one."""
        lead = self.by_email.get(email) if email else None
        if lead is None and phone:
            lead = next(iter(self.phone_only.get(phone, ())), None)
        if lead is not None and lead.merged_into_id is not None:
            return self.merged_into.get(lead.merged_into_id)
        return lead

    def admit(self, lead: Lead) -> None:
        """A new lead: later arrivals find it, and later numbers pair with it."""
        self._file(lead)
        if lead.phone:
            self.on_phone.setdefault(lead.phone, []).append(lead)

    def filled(self, lead: Lead, email: bool, phone: bool) -> None:
        """A merge gave ``lead`` the e-mail or phone it lacked."""
        if email and lead.email:
            if lead.phone and lead in self.phone_only.get(lead.phone, ()):
                self.phone_only[lead.phone].remove(lead)
            self.by_email[lead.email] = lead
        if phone and lead.phone:
            self.on_phone.setdefault(lead.phone, []).append(lead)

    def others_on(self, lead: Lead) -> list[Known]:
        """The leads ``lead`` may be the same person as (they share its phone), none on a shared
        line."""
        if not lead.phone:
            return []
        others = [x for x in self.on_phone.get(lead.phone, ()) if x is not lead][:SHARED_LINE]
        return [] if len(others) >= SHARED_LINE else others

    def account(self, domain: str, name: str | None, at: datetime) -> Account:
        """The account of a business domain; a new one is stored with the batch."""
        if domain not in self.accounts:
            self.accounts[domain] = Account(domain, name, at)
        return self.accounts[domain]

    def store_accounts(self, session: Session) -> None:
        """Store the new accounts in the order they were first needed; a concurrent batch that
        stored one first wins, and its id is taken."""
        new = [a for a in self.accounts.values() if a.id is None]
        if not new:
            return
        rows = [{"domain": a.domain, "name": a.name, "created_at": a.created_at} for a in new]
        insert_unnested(session, Company, rows, "domain")
        query = select(Company.domain, Company.id)
        named = one_of(session, Company.domain, [a.domain for a in new])
        stored: dict[str, int] = {d: i for d, i in session.execute(query.where(named))}
        for account in new:
            account.id = stored[account.domain]
