"""What the website tracking script sends (``/t.js`` → ``POST /api/v1/collect``): a batch of
hits from one browser, with or without the visitor's consent, and what each hit becomes.

Without consent a batch carries no visitor id and only page views count, as a cookieless
number per day and path; with consent, hits are kept for the visitor until they are known,
then moved to the lead at their original times."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from leadq.domain.boundary import EventMoment

SCRIPT_VERSION = 2
"""Raised with every change of ``t.js``: the snippet asks for ``/t.js?v=N``, past caches."""
MAX_HITS = 50
MAX_ENGAGED_SECONDS = 60.0
"""An engaged-time hit covers the seconds since the previous one, sent every 10 s while the
tab is visible: more is a machine waking from sleep (or a forged hit), counted as a minute."""
MAX_HELD = 1000
"""Hits kept for one browser not known yet: a real visitor is far below it."""
ENGAGED_TYPE = "engaged_time"
"""The event type of engaged seconds on a page: scoring models count or sum it."""
MAX_AGE = timedelta(days=7)
"""How old a hit may be: a browser sends within seconds, retries within hours."""

Text = Annotated[str, StringConstraints(max_length=500)]
Path = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^/[^\x00-\x1f]*$")]
HitId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,40}$")]
VisitorId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class _Hit(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: HitId
    at: EventMoment
    path: Path


class Utm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Text | None = None
    medium: Text | None = None
    campaign: Text | None = None
    term: Text | None = None
    content: Text | None = None


class PageView(_Hit):
    type: Literal["page_view"]
    title: Annotated[str, StringConstraints(max_length=300)] | None = None
    referrer: Text | None = None
    utm: Utm = Field(default_factory=Utm)


class Engaged(_Hit):
    type: Literal["engaged"]
    seconds: float = Field(gt=0, le=86_400)

    @field_validator("seconds")
    @classmethod
    def _at_most_a_minute(cls, value: float) -> float:
        return min(value, MAX_ENGAGED_SECONDS)


class Download(_Hit):
    type: Literal["download"]
    url: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Identify(_Hit):
    type: Literal["identify"]
    email: Annotated[str, StringConstraints(min_length=3, max_length=320)]
    first_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    last_name: Annotated[str, StringConstraints(max_length=100)] | None = None


Hit = Annotated[PageView | Engaged | Download | Identify, Field(discriminator="type")]
_HITS: TypeAdapter[PageView | Engaged | Download | Identify] = TypeAdapter(Hit)


class Collected(BaseModel):
    """One batch from one browser; its hits are read one by one (``hits``), so one odd hit
    costs only itself."""

    model_config = ConfigDict(extra="forbid")

    visitor: VisitorId | None = None
    consent: bool = False
    sent: EventMoment | None = None
    """The browser's clock when it sent the batch: hits are moved by its error."""
    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_HITS)

    def hits(self, now: datetime) -> tuple[list[PageView | Engaged | Download | Identify],
                                           list[tuple[int, str]]]:  # fmt: skip
        """The hits that read well, at the server's time (the browser's clock error taken
        out), and for the others their place and why."""
        shift = now - self.sent if self.sent is not None else timedelta(0)
        good, bad = [], []
        for place, raw in enumerate(self.events):
            try:
                hit = _HITS.validate_python(raw)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(p) for p in error["loc"][1:]) or "type"
                bad.append((place, f"{where}: {error['msg']}"))
                continue
            good.append(hit.model_copy(update={"at": hit.at + shift}))
        return good, bad


def event_of(hit: PageView | Engaged | Download) -> tuple[str, dict[str, Any]]:
    """The lead event a hit becomes: its type and properties."""
    if isinstance(hit, PageView):
        utm = {f"utm_{k}": v for k, v in hit.utm.model_dump().items() if v}
        shown = {"title": hit.title, "referrer": hit.referrer}
        return "page_view", {"path": hit.path, **{k: v for k, v in shown.items() if v}, **utm}
    if isinstance(hit, Engaged):
        return ENGAGED_TYPE, {"path": hit.path, "seconds": round(hit.seconds, 1)}
    return "content_download", {"path": hit.path, "url": hit.url}


def recent(at: datetime, now: datetime) -> bool:
    return now - MAX_AGE <= at


def truncated_address(address: str | None) -> str | None:
    """A client address with its host part dropped (IPv4 /24, IPv6 /48) before storage."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False).network_address)


_BOTS = ("bot", "crawl", "spider", "slurp", "facebookexternalhit", "embedly", "preview",
         "monitor", "pingdom", "lighthouse", "curl/", "wget", "python-", "go-http", "java/",
         "okhttp", "headlesschrome/0")  # fmt: skip


def is_bot(user_agent: str | None) -> bool:
    """Crawlers, link previews, monitors and scripts: no browser, no visit."""
    if not user_agent or len(user_agent) > 1000:
        return True
    agent = user_agent.lower()
    return any(mark in agent for mark in _BOTS) or not agent.startswith("mozilla/")


SNIPPET = (
    "<script>window.leadq=window.leadq||function(){{(leadq.q=leadq.q||[]).push(arguments)}};"
    "</script>\n"
    """<script async src="{host}/t.js?v={version}" data-leadq-host="{host}"></script>"""
)


def snippet(host: str) -> str:
    """The two tags a site puts on its pages to send hits to leadq at ``host`` (an origin)."""
    return SNIPPET.format(host=host.rstrip("/"), version=SCRIPT_VERSION)
