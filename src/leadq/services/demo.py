"""A realistic sample workspace: leads from every channel, some arriving twice, and a few
weeks of events of every standard type. Seeded, so every run builds the same story."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadq.domain.events import STANDARD_EVENT_TYPES, EventInput
from leadq.domain.leads import LeadInput
from leadq.services.events import record_events
from leadq.services.leads import upsert_lead
from leadq.services.policy import IntakePolicy
from leadq.services.scoring import activate, active_model, add_model, read_model
from leadq.store.db import Database

PEOPLE = {
    "en": (
        ["James", "Emma", "Oliver", "Ava", "Noah", "Mia", "Liam", "Grace"],
        ["Smith", "Brown", "Taylor", "Wilson", "Clarke", "Hughes", "Walker", "Wright"],
        [
            "CEO",
            "Head of Marketing",
            "Sales Manager",
            "VP of Sales",
            "Software Engineer",
            "Founder",
            "Marketing Specialist",
            "Director of Operations",
            "CTO",
            "Analyst",
        ],
        ["GB", "US", "IE"],
    ),
    "pl": (
        ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Michał", "Agnieszka", "Jan"],
        ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska"],
        [
            "Prezes Zarządu",
            "Dyrektor sprzedaży",
            "Kierownik",
            "Właściciel",
            "Specjalista ds. marketingu",
            "Wiceprezes",
            "Kierownik projektu",
            "Księgowa",
        ],
        ["PL"],
    ),
    "ro": (
        ["Andrei", "Ioana", "Mihai", "Elena", "Alexandru", "Maria", "Ștefan", "Ana"],
        ["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Munteanu", "Constantin"],
        [
            "Director General",
            "Director vânzări",
            "Manager de proiect",
            "Fondator",
            "Inginer software",
            "Șef echipă",
            "Contabil",
        ],
        ["RO", "MD"],
    ),
    "ru": (
        ["Алексей", "Мария", "Дмитрий", "Анна", "Сергей", "Ольга", "Иван", "Елена"],
        ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов"],
        [
            "Генеральный директор",
            "Директор по продажам",
            "Менеджер по продажам",
            "Руководитель отдела маркетинга",
            "Владелец",
            "Инженер",
            "Бухгалтер",
        ],
        ["KZ", "AM", "GE"],
    ),
}
COMPANIES = [
    ("Northwind Analytics", "northwind-analytics.com", 320, "software"),
    ("Baltic Freight", "balticfreight.pl", 85, "logistics"),
    ("Carpathia Foods", "carpathiafoods.ro", 540, "food"),
    ("Helios Energy", "helios-energy.eu", 1200, "energy"),
    ("Mazovia Dental", "mazoviadental.pl", 18, "healthcare"),
    ("Riverbank Legal", "riverbanklegal.co.uk", 45, "legal"),
    ("Step Ahead Retail", "stepahead-retail.com", 260, "retail"),
    ("Tundra Systems", "tundrasystems.kz", 140, "software"),
    ("Danube Textiles", "danubetextiles.ro", 60, "manufacturing"),
    ("Vistula Capital", "vistulacapital.pl", 12, "finance"),
    ("Oakridge Clinics", "oakridgeclinics.com", 900, "healthcare"),
    ("Kite Learning", "kitelearning.io", 7, "education"),
]
FREE_MAIL = ["gmail.com", "wp.pl", "o2.pl", "yahoo.com", "mail.ru", "yandex.ru", "outlook.com"]
SOURCES = [
    "website",
    "referral",
    "social",
    "paid_search",
    "organic_search",
    "event",
    "messenger",
    "phone",
    "email",
    "partner",
]
PATHS = [
    "/",
    "/pricing",
    "/pricing/enterprise",
    "/product",
    "/blog/lead-scoring-101",
    "/case-studies/logistics",
    "/docs/api",
    "/compare/hubspot",
]
ASSETS = ["whitepaper", "ebook", "guide", "checklist"]
CAMPAIGNS = ["spring-webinar", "lead-scoring-guide", "retargeting-q3", None]


@dataclass(frozen=True)
class DemoSummary:
    leads: int
    merged_arrivals: int
    events: int


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return folded.encode("ascii", "ignore").decode().strip(".")


def _person(rng: random.Random, index: int) -> dict[str, Any]:
    language = rng.choice(list(PEOPLE))
    first_names, last_names, titles, countries = PEOPLE[language]
    first, last = rng.choice(first_names), rng.choice(last_names)
    company, domain, size, industry = rng.choice(COMPANIES)
    if rng.random() < 0.25:
        company, domain, size, industry = None, rng.choice(FREE_MAIL), None, None  # type: ignore[assignment]
    local = _ascii(f"{first}.{last}") or "contact"
    phone = f"+48 6{index:02d} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return {
        "email": f"{local}{index}@{domain}",
        "phone": phone if rng.random() < 0.6 else None,
        "first_name": first,
        "last_name": last,
        "company": company,
        "job_title": rng.choice(titles),
        "company_size": size,
        "industry": industry,
        "country": rng.choice(countries),
        "source": rng.choice(SOURCES),
        "campaign": rng.choice(CAMPAIGNS),
    }


def _events(
    rng: random.Random, lead_id: int, index: int, now: datetime, forced: list[str]
) -> list[EventInput]:
    types = sorted(STANDARD_EVENT_TYPES)
    weights = [
        12 if t in ("page_view", "email_opened") else 4 if t.startswith("email") else 1
        for t in types
    ]
    count = rng.randint(0, 14)
    chosen = [*forced, *rng.choices(types, weights, k=count)]
    events = []
    for j, kind in enumerate(chosen):
        at = now - timedelta(days=rng.uniform(0, 42), minutes=rng.randint(0, 600))
        properties: dict[str, Any] = {}
        if kind == "page_view":
            properties = {"path": rng.choice(PATHS), "seconds": rng.randint(5, 400)}
        elif kind == "content_download":
            properties = {"asset_type": rng.choice(ASSETS)}
        elif kind.startswith("webinar"):
            properties = {"webinar": "Scoring leads that sales trust"}
        elif kind == "purchase":
            properties = {"amount": rng.choice([990, 2400, 12000]), "currency": "EUR"}
        events.append(
            EventInput(
                lead_id=lead_id,
                type=kind,
                occurred_at=at,
                properties=properties,
                idempotency_key=f"demo:{index}:{j}",
            )
        )
    return events


def build_demo(db: Database, now: datetime, leads: int = 200, seed: int = 7) -> DemoSummary:
    """Fill the workspace through the same intake the API uses, so dedup and merge show."""
    rng = random.Random(seed)
    policy = IntakePolicy()
    people = [_person(rng, i) for i in range(leads)]
    pending = sorted(STANDARD_EVENT_TYPES)  # every standard type appears at least once
    merged = stored_events = 0
    with db.unit_of_work() as session:
        if active_model(session) is None:  # score in real time, as a workspace would
            _, text = read_model("classic")
            activate(session, add_model(session, text, "classic", now).name, now)
        for index, person in enumerate(people):
            lead = upsert_lead(session, LeadInput.model_validate(person), "demo", now, policy).lead
            if rng.random() < 0.2:  # the same person again, through another channel
                again = {
                    "email": person["email"].upper(),
                    "source": rng.choice(SOURCES),
                    "city": rng.choice(["Warszawa", "London", "Cluj", "Almaty"]),
                }
                upsert_lead(session, LeadInput.model_validate(again), "demo", now, policy)
                merged += 1
            forced = pending[:1] if pending else []
            pending = pending[1:]
            batch = _events(rng, lead.id, index, now, forced)
            stored_events += record_events(session, batch, now, policy.clock_skew).accepted
    return DemoSummary(leads, merged, stored_events)
