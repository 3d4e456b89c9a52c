"""A realistic sample workspace: ten weeks of leads from every channel, some arriving twice,
each living a dated story told through the real services — events of every standard type,
follow-up calls against the speed-to-lead SLA, sales accepting, rejecting and winning leads,
notes, and weekly campaign costs. Seeded, so every run builds the same story."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadq.domain.automation import TOUCHES
from leadq.domain.events import STANDARD_EVENT_TYPES, EventInput
from leadq.domain.leads import LeadInput
from leadq.domain.lifecycle import Stage
from leadq.services.analytics.costs import CostLine, record_costs
from leadq.services.automation.tasks import breach
from leadq.services.errors import FieldError, InvalidInput
from leadq.services.intake.events import record_events
from leadq.services.intake.leads import Outcome, upsert_lead
from leadq.services.intake.policy import IntakePolicy
from leadq.services.qualification.decisions import accept, answer, move_stage, reject
from leadq.services.qualification.notes import add_note
from leadq.services.qualification.rules import Rules, load_rules
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, active_model, add_model
from leadq.store.db import Database
from leadq.store.tables import CampaignCost, FollowUpTask, Lead

Gender = Literal["f", "m"]
Locale = Literal["en", "pl", "ro", "ru"]
"""The language markets the demo's people come from; leadq's languages."""


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    size: int
    industry: str
    country: str


@dataclass(frozen=True)
class Market:
    """Where one language's leads live: names whose forms agree in gender, the companies and
    cities of that market, its free mailboxes. Pairs are (masculine, feminine) forms, the same
    twice where the language does not inflect the word."""

    first_names: tuple[tuple[str, Gender], ...]
    surnames: tuple[tuple[str, str], ...]
    titles: tuple[tuple[str, str], ...]
    companies: tuple[Company, ...]
    cities: tuple[tuple[str, str, str], ...]
    """(city, region, country code)"""
    free_mail: tuple[str, ...]

    def gender(self, first_name: str) -> Gender:
        return dict(self.first_names)[first_name]


def _same(*words: str) -> tuple[tuple[str, str], ...]:
    """Words one form serves both genders with."""
    return tuple((word, word) for word in words)


def _named(gender: Gender, *names: str) -> tuple[tuple[str, Gender], ...]:
    return tuple((name, gender) for name in names)


MARKETS: dict[str, Market] = {
    "en": Market(
        first_names=(*_named("m", "James", "Oliver", "Noah", "Liam", "Harry", "Thomas"),
                     *_named("f", "Emma", "Ava", "Mia", "Grace", "Olivia", "Charlotte")),
        surnames=_same("Smith", "Brown", "Taylor", "Wilson", "Clarke", "Hughes", "Walker",
                       "Wright"),
        titles=_same("CEO", "Head of Marketing", "Sales Manager", "VP of Sales",
                     "Software Engineer", "Founder", "Marketing Specialist",
                     "Director of Operations", "CTO", "Analyst"),
        companies=(
            Company("Northwind Analytics Ltd", "northwind-analytics.co.uk", 320, "software", "GB"),
            Company("Riverbank Legal LLP", "riverbanklegal.co.uk", 45, "legal", "GB"),
            Company("Step Ahead Retail Ltd", "stepahead-retail.co.uk", 260, "retail", "GB"),
            Company("Oakridge Clinics Inc.", "oakridgeclinics.com", 900, "healthcare", "US"),
            Company("Kite Learning Inc.", "kitelearning.io", 7, "education", "US"),
            Company("Helios Energy Corp.", "helios-energy.com", 1200, "energy", "US"),
        ),
        cities=(("London", "England", "GB"), ("Manchester", "England", "GB"),
                ("Bristol", "England", "GB"), ("Edinburgh", "Scotland", "GB"),
                ("New York", "New York", "US"), ("Boston", "Massachusetts", "US"),
                ("Chicago", "Illinois", "US"), ("Austin", "Texas", "US")),
        free_mail=("gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk"),
    ),
    "pl": Market(
        first_names=(*_named("m", "Piotr", "Tomasz", "Michał", "Jan", "Krzysztof", "Paweł"),
                     *_named("f", "Anna", "Katarzyna", "Magdalena", "Agnieszka", "Joanna",
                             "Zofia")),
        surnames=(("Kowalski", "Kowalska"), ("Wiśniewski", "Wiśniewska"),
                  ("Kamiński", "Kamińska"), ("Lewandowski", "Lewandowska"),
                  ("Zieliński", "Zielińska"), ("Wysocki", "Wysocka"),
                  ("Zawadzki", "Zawadzka"), *_same("Nowak", "Wójcik", "Kowalczyk", "Mazur")),
        titles=(("Prezes Zarządu", "Prezes Zarządu"), ("Wiceprezes Zarządu", "Wiceprezes Zarządu"),
                ("Członek Zarządu", "Członkini Zarządu"),
                ("Dyrektor sprzedaży", "Dyrektorka sprzedaży"),
                ("Kierownik projektu", "Kierowniczka projektu"),
                ("Właściciel", "Właścicielka"),
                ("Specjalista ds. marketingu", "Specjalistka ds. marketingu"),
                ("Księgowy", "Księgowa")),
        companies=(
            Company("Kowalski i Wspólnicy sp. z o.o.", "kowalski-wspolnicy.pl", 45, "legal", "PL"),
            Company("Bałtyk Logistyka S.A.", "baltyk-logistyka.pl", 540, "logistics", "PL"),
            Company("Polsoft Systemy sp. z o.o.", "polsoft.com.pl", 320, "software", "PL"),
            Company("Mazowieckie Centrum Stomatologii sp. z o.o.", "mcstomatologia.pl", 18,
                    "healthcare", "PL"),
            Company("Wisła Capital sp. z o.o.", "wislacapital.pl", 12, "finance", "PL"),
            Company("Piekarnia Zielińscy s.c.", "piekarniazielinscy.pl", 7, "food", "PL"),
        ),
        cities=(("Warszawa", "mazowieckie", "PL"), ("Kraków", "małopolskie", "PL"),
                ("Wrocław", "dolnośląskie", "PL"), ("Poznań", "wielkopolskie", "PL"),
                ("Gdańsk", "pomorskie", "PL"), ("Łódź", "łódzkie", "PL"),
                ("Katowice", "śląskie", "PL")),
        free_mail=("gmail.com", "wp.pl", "o2.pl", "onet.pl", "interia.pl"),
    ),
    "ro": Market(
        first_names=(*_named("m", "Andrei", "Mihai", "Alexandru", "Ștefan", "Bogdan", "Radu"),
                     *_named("f", "Ioana", "Elena", "Maria", "Ana", "Andreea", "Cristina")),
        surnames=_same("Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Munteanu", "Constantin",
                       "Stoica"),
        titles=(("Director general", "Director general"), ("Vicepreședinte", "Vicepreședinte"),
                ("Director de vânzări", "Directoare de vânzări"),
                ("Manager de proiect", "Manager de proiect"), ("Fondator", "Fondatoare"),
                ("Șef de echipă", "Șefă de echipă"), ("Inginer software", "Inginer software"),
                ("Contabil", "Contabilă")),
        companies=(
            Company("Softline SRL", "softline.ro", 140, "software", "RO"),
            Company("Carpați Foods SA", "carpatifoods.ro", 540, "food", "RO"),
            Company("Dunărea Textile SRL", "dunareatextile.ro", 60, "manufacturing", "RO"),
            Company("Transilvania Logistic SRL", "transilvania-logistic.ro", 85, "logistics",
                    "RO"),
            Company("Ionescu & Asociații SCA", "ionescu-asociatii.ro", 12, "legal", "RO"),
            Company("Codex Educațional SRL", "codexedu.ro", 7, "education", "RO"),
        ),
        cities=(("București", "București", "RO"), ("Cluj-Napoca", "Cluj", "RO"),
                ("Timișoara", "Timiș", "RO"), ("Iași", "Iași", "RO"),
                ("Brașov", "Brașov", "RO"), ("Constanța", "Constanța", "RO")),
        free_mail=("gmail.com", "yahoo.com", "yahoo.ro"),
    ),
    "ru": Market(
        first_names=(*_named("m", "Алексей", "Дмитрий", "Сергей", "Иван", "Андрей", "Михаил"),
                     *_named("f", "Мария", "Анна", "Ольга", "Елена", "Татьяна", "Наталья")),
        surnames=(("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"),
                  ("Попов", "Попова"), ("Козлов", "Козлова"), ("Лебедев", "Лебедева"),
                  ("Ильин", "Ильина"), ("Покровский", "Покровская"),
                  *_same("Шевченко", "Бондаренко")),
        titles=(("Генеральный директор", "Генеральный директор"),
                ("Заместитель генерального директора", "Заместитель генерального директора"),
                ("Директор по продажам", "Директор по продажам"),
                ("Руководитель отдела маркетинга", "Руководитель отдела маркетинга"),
                ("Менеджер по продажам", "Менеджер по продажам"), ("Владелец", "Владелица"),
                ("Инженер", "Инженер"), ("Бухгалтер", "Бухгалтер")),
        companies=(
            Company("ООО «Альфа-Системы»", "alfa-systems.ru", 320, "software", "RU"),
            Company("АО «Сибирская энергия»", "sibenergy.ru", 1200, "energy", "RU"),
            Company("ООО «Волга Логистик»", "volga-logistic.ru", 85, "logistics", "RU"),
            Company("ООО «Северный хлеб»", "sevhleb.ru", 260, "food", "RU"),
            Company("ООО «Стоматология на Невском»", "nevsky-dent.ru", 18, "healthcare", "RU"),
            Company("АНО «Центр обучения „Профи“»", "profi-edu.ru", 7, "education", "RU"),
        ),
        cities=(("Москва", "Москва", "RU"), ("Санкт-Петербург", "Санкт-Петербург", "RU"),
                ("Новосибирск", "Новосибирская область", "RU"),
                ("Екатеринбург", "Свердловская область", "RU"),
                ("Казань", "Республика Татарстан", "RU"),
                ("Нижний Новгород", "Нижегородская область", "RU")),
        free_mail=("mail.ru", "yandex.ru", "bk.ru", "gmail.com"),
    ),
}  # fmt: skip
"""Every language market the demo draws people from, keyed by language."""
PHONES = {"PL": ("+48", "6", (3, 3, 3)), "RO": ("+40", "7", (3, 3, 3)),
          "RU": ("+7", "9", (3, 3, 2, 2)), "GB": ("+44", "7", (4, 6)),
          "US": ("+1", "2", (3, 3, 4))}  # fmt: skip
"""Per country: calling code, the national number's first digit, its digit groups."""
_HOMES = {country: [(city, region) for market in MARKETS.values()
                    for city, region, where in market.cities if where == country]
          for country in PHONES}  # fmt: skip
"""Cities and regions of each country."""
_CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})  # fmt: skip
"""Russian letters in Latin, for e-mail addresses."""
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


SPAN = timedelta(weeks=10)
"""How far back the first leads arrived."""
REPS = {"anna": 18.0, "ben": 40.0, "chloe": 75.0}
"""The sales team, with each rep's typical minutes to the first call: some beat the SLA."""
SLA = timedelta(minutes=60)
SWEEP = timedelta(minutes=1)
"""How long after its due time the SLA check notices an open task."""
STORY_ONLY = frozenset({"purchase", *TOUCHES})
"""Event types only the story places: a purchase is a win, a touch completes a follow-up."""
REJECTIONS = ["not_ready", "not_ready", "bad_timing", "no_budget", "no_budget", "not_a_fit",
              "no_response", "no_response", "invalid_contact", "competitor"]  # fmt: skip
CALL_NOTES = [
    "Evaluating tools for next quarter; send the logistics case study.",
    "Scores leads in a spreadsheet today; wants a demo for the whole team.",
    "Left a voicemail, will try again tomorrow morning.",
    "Asked about pricing for 25 seats and the HubSpot import.",
    "Not the decision maker; introduced me to their head of sales.",
]
COSTS = {
    "spring-webinar": ("social", "email"),
    "lead-scoring-guide": ("paid_search", "social"),
    "retargeting-q3": ("paid_search", "social"),
}
"""Where each campaign spends: booked weekly, for cost per lead."""
SIGNALS = ["page_view", "webinar_attended", "content_download", "demo_requested",
           "pricing_requested"]  # fmt: skip
"""What keen leads do more of: the events the scoring model rewards, and buying intent."""
POLICY = IntakePolicy()
_TYPES = sorted(STANDARD_EVENT_TYPES - STORY_ONLY)
_WEIGHTS = [12 if t in ("page_view", "email_opened") else 4 if t.startswith("email") else 1
            for t in _TYPES]  # fmt: skip


@dataclass(frozen=True)
class DemoSummary:
    """What one run stored (a re-run adds nothing: every count but ``leads`` is zero)."""

    leads: int
    merged_arrivals: int
    events: int
    customers: int = 0
    rejected: int = 0
    tasks: int = 0
    notes: int = 0
    costs: int = 0


@dataclass
class _Tally:
    """What this run stored so far."""

    merged: int = 0
    events: int = 0
    customers: int = 0
    rejected: int = 0
    tasks: int = 0
    notes: int = 0


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().replace("ł", "l").translate(_CYRILLIC))
    return folded.encode("ascii", "ignore").decode().strip(".")


def _phone(rng: random.Random, index: int, country: str) -> str:
    """A possible number of the country, unique to the person: their index, shuffled, is in
    it (one-to-one below 100,000, the most leads a demo makes)."""
    code, first, groups = PHONES[country]
    digits = f"{first}{(index * 7919 + 40503) % 100_000:05d}"
    digits += "".join(str(rng.randint(0, 9)) for _ in range(sum(groups) - len(digits)))
    parts = [code]
    for size in groups:
        parts.append(digits[:size])
        digits = digits[size:]
    return " ".join(parts)


def _person(rng: random.Random, index: int, locale: str | None) -> dict[str, Any]:
    """A person of the locale's market (any market's without one), their names, title and
    company in the forms their gender takes, living where their company works."""
    market = MARKETS[locale or rng.choice(list(MARKETS))]
    gender: Gender = rng.choice(["f", "m"])
    first = rng.choice([name for name, of in market.first_names if of == gender])
    forms = 0 if gender == "m" else 1
    last, title = rng.choice(market.surnames)[forms], rng.choice(market.titles)[forms]
    company: Company | None = rng.choice(market.companies)
    if rng.random() < 0.25:
        company = None  # a free mailbox says nothing about where they work
    domain = company.domain if company else rng.choice(market.free_mail)
    homes = [place for place in market.cities if company is None or place[2] == company.country]
    city, region, country = rng.choice(homes)
    phone = _phone(rng, index, country)
    told = rng.random() < 0.7  # the rest may tell their city when they come again
    return {
        "email": f"{_ascii(f'{first}.{last}') or 'contact'}{index}@{domain}",
        "phone": phone if rng.random() < 0.6 else None,
        "first_name": first,
        "last_name": last,
        "company": company.name if company else None,
        "job_title": title,
        "company_size": company.size if company else None,
        "industry": company.industry if company else None,
        "country": country,
        "region": region if told else None,
        "city": city if told else None,
        "source": rng.choice(SOURCES),
        "campaign": rng.choice(CAMPAIGNS),
    }


def demo_people(count: int, seed: int = 7, locale: str | None = None) -> list[dict[str, Any]]:
    """The profiles the demo's leads first arrive with: from the locale's market, or from
    every market at random; the same for the same seed."""
    if locale is not None and locale not in MARKETS:
        allowed = ", ".join(MARKETS)
        raise InvalidInput([FieldError("locale", f"must be one of {allowed}: {locale!r}")])
    rng = random.Random(seed)
    return [_person(rng, index, locale) for index in range(count)]


def _properties(rng: random.Random, kind: str, keen: bool) -> dict[str, Any]:
    """What an event says; a keen lead reads pricing pages and whitepapers."""
    if kind == "page_view":
        return {"path": rng.choice(PATHS[1:3] if keen else PATHS), "seconds": rng.randint(5, 400)}
    if kind == "content_download":
        return {"asset_type": "whitepaper" if keen else rng.choice(ASSETS)}
    if kind.startswith("webinar"):
        return {"webinar": "Scoring leads that sales trust"}
    return {}


def _chances(score: float) -> tuple[float, float, float, float]:
    """Chances to be accepted, then reach sql, opportunity and customer, for the score when
    sales first looks: what makes hot leads convert more than warm ones, and cold ones not."""
    keen = min(1.0, max(0.0, (score - 8) / 14))
    return 0.4 + 0.55 * keen, 0.3 + 0.55 * keen, 0.3 + 0.5 * keen, 0.3 + 0.45 * keen


def _plan(lead: Lead) -> int:
    """What a customer paid: bigger companies buy bigger plans."""
    size = lead.company_size or 0
    return 12000 if size >= 250 else 2400 if size >= 50 else 990


@dataclass
class _Story:
    """One lead's life told in time order through the services, never past ``now``. Its own
    random stream keeps each story the same whatever happened to the others."""

    session: Session
    rules: Rules
    rng: random.Random
    index: int
    now: datetime
    tally: _Tally
    lead: Lead = field(init=False)
    at: datetime = field(init=False)
    interest: float = 0.0
    keys: int = 0
    market: str = ""
    """The locale the demo ran for, in event keys: another locale's people are other leads."""

    def tell(self, person: dict[str, Any], forced: list[str]) -> None:
        """Arrival, the first call, early engagement, what sales made of it, activity since."""
        arrival = self.now - SPAN * self.rng.random() ** 1.3  # more leads lately
        owner = None if self.rng.random() < 0.15 else self.rng.choice(list(REPS))
        data = LeadInput.model_validate({**person, "owner": owner})
        upsert = upsert_lead(self.session, data, "demo", arrival, POLICY)
        if upsert.outcome is not Outcome.created:
            return  # an earlier run told this lead's story
        self.lead, self.at, self.interest = upsert.lead, arrival, self.rng.random()
        called = self.follow_up(owner)
        first_look = arrival + timedelta(days=self.rng.uniform(0.25, 4))
        decided = min(self.now, max(first_look, called or arrival))
        self.merge_arrival(person, decided)
        early = [
            *self.engagement(arrival, decided, 12, forced),
            *self.touches(owner, called, decided),
        ]
        self.record(early, decided)
        self.at = decided
        if called is not None or owner is None:  # nobody works a lead its owner never reached
            self.qualify(owner)
        self.record(self.engagement(self.at, self.now, 5, []), self.now)

    def later(self, low_days: float, high_days: float) -> datetime | None:
        """The story's next moment, or None when it would lie in the future."""
        at = self.at + timedelta(days=self.rng.uniform(low_days, high_days))
        if at > self.now:
            return None
        self.at = at
        return at

    def event(
        self, kind: str, at: datetime, properties: dict[str, Any] | None = None
    ) -> EventInput:
        self.keys += 1
        if properties is None:
            properties = _properties(self.rng, kind, self.rng.random() < self.interest)
        key = f"demo:{self.market}{self.index}:{self.keys}"
        return EventInput(lead_id=self.lead.id, type=kind, occurred_at=at, properties=properties,
                          idempotency_key=key)  # fmt: skip

    def engagement(self, start: datetime, end: datetime, most: float,
                   forced: list[str]) -> list[EventInput]:  # fmt: skip
        """Up to ``most`` events at random moments, as many more as the lead is keen."""
        count = self.rng.randint(0, round(most * (0.2 + self.interest)))
        kinds = [*forced, *(self.kind() for _ in range(count))]
        span = (end - start).total_seconds()
        return [self.event(k, start + timedelta(seconds=self.rng.uniform(0, span))) for k in kinds]

    def kind(self) -> str:
        """Keen leads send buying signals; everyone opens e-mails and browses."""
        if self.rng.random() < 0.4 * self.interest:
            return self.rng.choice(SIGNALS)
        return self.rng.choices(_TYPES, _WEIGHTS)[0]

    def record(self, events: list[EventInput], as_of: datetime) -> None:
        """Store events in the order they happened, so the first touch completes the task."""
        if not events:
            return
        events.sort(key=lambda e: e.occurred_at)
        recorded = record_events(self.session, events, as_of, POLICY.clock_skew)
        self.tally.events += recorded.accepted

    def merge_arrival(self, person: dict[str, Any], before: datetime) -> None:
        """One in five people comes again through another channel, before sales looks."""
        if self.rng.random() >= 0.2:
            return
        city, region = person["city"], person["region"]
        if city is None:  # now tells where they live
            city, region = self.rng.choice(_HOMES[person["country"]])
        again = {"email": person["email"].upper(), "source": self.rng.choice(SOURCES),
                 "city": city, "region": region}  # fmt: skip
        at = self.at + (before - self.at) * self.rng.random()
        upsert_lead(self.session, LeadInput.model_validate(again), "demo", at, POLICY)
        self.tally.merged += 1

    def follow_up(self, owner: str | None) -> datetime | None:
        """The owner's speed-to-lead task; returns when the owner called, if they did yet.
        The call event completes the task (automation's first touch); the SLA check would
        have marked it breached a minute after its due time if it was still open."""
        if owner is None:
            return None
        due, swept = self.at + SLA, self.at + SLA + SWEEP
        called = self.at + timedelta(minutes=REPS[owner] * self.rng.lognormvariate(0, 0.8))
        reached = self.rng.random() >= 0.06 and called <= self.now  # else never, or not yet
        breached = swept if swept <= self.now and (not reached or called > swept) else None
        task = FollowUpTask(lead_id=self.lead.id, kind="first_touch", owner=owner,
                            rule="speed_to_lead", created_at=self.at, due_at=due)  # fmt: skip
        self.session.add(task)
        self.tally.tasks += 1
        if breached is not None:
            self.session.flush()
            breach(self.session, task, breached)
        return called if reached else None

    def touches(self, owner: str | None, called: datetime | None,
                until: datetime) -> list[EventInput]:  # fmt: skip
        """The owner's call, sometimes a note about it, sometimes a reply by e-mail."""
        if owner is None or called is None:
            return []
        outcome = self.rng.choice(["connected", "connected", "voicemail"])
        touches = [self.event("call_logged", called, {"by": owner, "outcome": outcome})]
        if self.rng.random() < 0.4:
            touches.append(self.event("email_replied", called + (until - called) / 2))
        if self.rng.random() < 0.35:
            add_note(self.session, self.lead.id, self.rng.choice(CALL_NOTES), owner, called)
            self.tally.notes += 1
        return touches

    def qualify(self, owner: str | None) -> None:
        """Sales looks at a MQL: the hotter it was then, the further it is likely to get."""
        if self.lead.stage != Stage.mql:
            return
        chances = _chances(self.lead.score or 0)
        at = self.later(0.05, 3)
        if at is None:
            return
        rep = owner or self.rng.choice(list(REPS))
        if self.rng.random() > chances[0]:
            self.turn_down(rep, REJECTIONS)
            return
        accept(self.session, self.rules, self.lead.id, rep, at, owner=rep)
        for stage, chance in zip(
            (Stage.sql, Stage.opportunity, Stage.customer), chances[1:], strict=True
        ):
            if self.later(1, 8) is None:
                return
            if self.rng.random() > chance:
                self.lose(rep)
                return
            self.advance(stage, rep)
        self.tally.customers += 1

    def turn_down(self, rep: str, reasons: list[str]) -> None:
        reject(self.session, self.rules, self.lead.id, self.rng.choice(reasons), None, rep, self.at)
        self.tally.rejected += 1

    def lose(self, rep: str) -> None:
        """Most leads that stop short are lost; the rest are still being worked."""
        if self.rng.random() < 0.4:
            return
        if self.lead.stage == Stage.sal:
            self.turn_down(rep, ["no_budget", "no_response", "bad_timing"])
        else:
            move_stage(self.session, self.rules, self.lead.id, "unqualified", "lost", rep, self.at)

    def advance(self, stage: Stage, rep: str) -> None:
        """A buyer looks at prices again as the deal moves. A meeting and a qualified BANT
        make a SQL (the lifecycle's own rule moves it); a won deal is a customer with its
        purchase."""
        at, signal = self.at, {Stage.sql: "meeting_booked", Stage.opportunity: "quote_requested"}
        pricing = {"path": "/pricing", "seconds": self.rng.randint(30, 400)}
        if stage in signal:
            asked = self.event(signal[stage], at - timedelta(hours=20), {"by": rep})
            self.record([asked, self.event("page_view", at - timedelta(hours=2), pricing)], at)
        if stage is Stage.sql:
            answers = {"budget": self.rng.choice([12000, 25000, 60000]),
                       "authority": "decision_maker", "need": True,
                       "timing": self.rng.choice([1, 3, 6])}  # fmt: skip
            answer(self.session, self.rules, self.lead.id, "bant", answers, rep, at)
        move_stage(self.session, self.rules, self.lead.id, stage.value, None, rep, at)
        if stage is Stage.customer:
            bought = {"amount": _plan(self.lead), "currency": "EUR"}
            self.record([self.event("purchase", at, bought)], at)


def _scoring_model(session: Session, at: datetime) -> None:
    """Score in real time, as a workspace would, with the classic model since ``at``."""
    if active_model(session) is None:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic", at).name, at)


def _costs(session: Session, rng: random.Random, now: datetime) -> int:
    """Weekly spend per campaign and source over the demo's weeks. Booked once: a re-run on
    another day would book other weeks."""
    booked = select(CampaignCost.id).where(CampaignCost.campaign.in_(COSTS)).limit(1)
    if session.scalar(booked) is not None:
        return 0
    monday = now.date() - timedelta(days=now.weekday())
    weeks = [monday - timedelta(weeks=w) for w in range(SPAN // timedelta(weeks=1))]
    spend = [(campaign, source) for campaign, sources in COSTS.items() for source in sources]
    lines = [CostLine(campaign, week, round(rng.uniform(150, 900), 2), source, "EUR")
             for campaign, source in spend for week in weeks]  # fmt: skip
    return record_costs(session, lines, now)


def build_demo(db: Database, now: datetime, leads: int = 200, seed: int = 7,
               locale: str | None = None) -> DemoSummary:  # fmt: skip
    """Fill the workspace through the services the API and web UI use, so merges, scores,
    stage history, tasks and dashboards all have a past; a lead already there keeps its story,
    so a re-run stores nothing twice. The people come from the ``locale``'s market, or from
    all of them."""
    people = demo_people(leads, seed, locale)
    market = f"{locale}:" if locale else ""
    pending = sorted(STANDARD_EVENT_TYPES - STORY_ONLY)  # each such type at least once
    rules, tally = load_rules(None, None), _Tally()
    with db.unit_of_work() as session:
        _scoring_model(session, now - SPAN - timedelta(days=1))
        for index, person in enumerate(people):
            story = _Story(session, rules, random.Random(f"{seed}:{index}"), index, now, tally,
                           market=market)  # fmt: skip
            story.tell(person, pending[index : index + 1])
        costs = _costs(session, random.Random(f"{seed}:costs"), now)
    return DemoSummary(leads, tally.merged, tally.events, tally.customers, tally.rejected,
                       tally.tasks, tally.notes, costs)  # fmt: skip
