"""Fill a PostgreSQL workspace with generated leads and events at the sizes the scale goals speak
of, with PostgreSQL's COPY: minutes, not hours.

The people, companies, sources, paths and assets are the demo's; stages, owners and event types
follow skewed, realistic shares; every lead is stored with its `classic` score as of now
(computed by the vectorised engine over its own events), and `classic` is the active model.

    python bench/populate.py --url postgresql+psycopg://postgres@127.0.0.1:5432/big \
        [--leads 1000000] [--events 10000000] [--chunk 200000]

The database must exist and be empty (the schema is created here).
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl
import psycopg

from leadq.domain.events import STANDARD_EVENT_TYPES
from leadq.domain.scoring.vectorised import score_frame
from leadq.services.demo import ASSETS, CAMPAIGNS, MARKETS, PATHS, SOURCES
from leadq.services.qualification import outcomes
from leadq.services.scoring.documents import read_model
from leadq.services.scoring.rescoring import activate, add_model
from leadq.store.db import Database

STAGES = {"iql": 0.45, "mql": 0.2, "sal": 0.08, "sql": 0.07, "opportunity": 0.04,
          "customer": 0.03, "nurture": 0.08, "unqualified": 0.03, "disqualified": 0.02}  # fmt: skip
OWNERS = [None, "anna", "piotr", "ioana", "mihai", "olga", "ivan", "emma", "james"]
TYPE_SHARE = {"page_view": 0.55, "email_opened": 0.15, "email_clicked": 0.06,
              "content_download": 0.05, "form_submitted": 0.04, "webinar_attended": 0.02,
              "pricing_page_viewed": 0.03, "purchase": 0.003}  # fmt: skip
DAYS = 365
LEAD_COLUMNS = ("id", "email", "first_name", "last_name", "company", "job_title", "seniority",
                "seniority_inferred", "industry", "company_size", "country", "source",
                "campaign", "owner", "stage", "pql", "channels", "attributes", "score", "grade",
                "fit_grade", "engagement_grade", "scoring_model", "scored_at", "created_at",
                "updated_at", "last_activity_at", "engagement_points", "do_not_email",
                "do_not_call")  # fmt: skip
EVENT_COLUMNS = ("lead_id", "type", "occurred_at", "received_at", "properties", "channel")


def _pick(rng: np.random.Generator, values: list[str | None], size: int,
          shares: list[float] | None = None) -> pl.Series:  # fmt: skip
    index = rng.choice(len(values), size, p=shares)
    return pl.Series([values[i] for i in index], dtype=pl.String)


def _moments(milliseconds: np.ndarray) -> pl.Series:
    """Naive UTC times (as the schema stores them) from epoch milliseconds."""
    return pl.Series(milliseconds).cast(pl.Datetime("ms"))


def leads_chunk(rng: np.random.Generator, first: int, size: int, now: datetime) -> pl.DataFrame:
    """People of the demo's four markets, first name, surname and title agreeing in gender,
    each working for a company of their market."""
    markets = list(MARKETS.values())
    firsts, lasts, titles, companies = [], [], [], []
    for index in rng.integers(0, len(markets), size):
        market = markets[index]
        name, gender = market.first_names[rng.integers(len(market.first_names))]
        form = 0 if gender == "m" else 1
        firsts.append(name)
        lasts.append(market.surnames[rng.integers(len(market.surnames))][form])
        titles.append(market.titles[rng.integers(len(market.titles))][form])
        companies.append(market.companies[rng.integers(len(market.companies))])
    ids = np.arange(first, first + size)
    now_ms = int(now.timestamp() * 1000)
    created = _moments(now_ms - rng.integers(0, DAYS * 86_400, size) * 1000)
    return pl.DataFrame({
        "id": ids,
        "email": [f"lead{i}@{c.domain}" for i, c in zip(ids, companies, strict=True)],
        "first_name": firsts, "last_name": lasts,
        "company": [c.name for c in companies],
        "job_title": titles,
        "seniority": _pick(rng, ["c_level", "vp", "director", "manager", "individual", None],
                           size, [0.05, 0.05, 0.1, 0.25, 0.4, 0.15]),
        "seniority_inferred": True,
        "industry": [c.industry for c in companies],
        "company_size": [c.size for c in companies],
        "country": [c.country for c in companies],
        "source": _pick(rng, list(SOURCES), size),
        "campaign": _pick(rng, list(CAMPAIGNS), size),
        "owner": _pick(rng, list(OWNERS), size),
        "stage": _pick(rng, list(STAGES), size, list(STAGES.values())),
        "pql": rng.random(size) < 0.05,
        "created_at": created,
    })  # fmt: skip


def events_chunk(rng: np.random.Generator, leads: pl.DataFrame, size: int,
                 now: datetime) -> pl.DataFrame:  # fmt: skip
    """Events skewed to a minority of engaged leads, each after its lead's creation."""
    weights = rng.pareto(1.5, leads.height) + 0.05
    chosen = rng.choice(leads.height, size, p=weights / weights.sum())
    types = [t for t in TYPE_SHARE if t in STANDARD_EVENT_TYPES]
    shares = np.array([TYPE_SHARE[t] for t in types])
    kind = pl.Series(types).gather(rng.choice(len(types), size, p=shares / shares.sum()))
    created = leads["created_at"].gather(chosen).dt.epoch("ms").to_numpy()
    now_ms = int(now.timestamp() * 1000)
    occurred = _moments(created + ((now_ms - created) * rng.random(size)).astype(np.int64))
    viewed = kind.is_in(["page_view", "pricing_page_viewed"])
    nothing = pl.Series([None], dtype=pl.String)
    path = pl.Series(PATHS).gather(rng.integers(0, len(PATHS), size))
    asset = pl.Series(ASSETS).gather(rng.integers(0, len(ASSETS), size))
    amount = pl.Series(rng.integers(50, 5000, size)).cast(pl.Float64)
    no_amount = pl.Series([None], dtype=pl.Float64)
    frame = pl.DataFrame({"lead_id": leads["id"].gather(chosen), "type": kind,
                          "occurred_at": occurred, "received_at": occurred,
                          "channel": _pick(rng, ["web", "email", "sms", None], size),
                          "path": path.zip_with(viewed, nothing),
                          "asset_type": asset.zip_with(kind == "content_download", nothing),
                          "amount": amount.zip_with(kind == "purchase", no_amount)})  # fmt: skip
    return frame.with_columns(
        properties=pl.struct("path", "asset_type", "amount")
        .struct.json_encode()
        .str.replace_all(r'"[a-z_]+":null,?', "")
        .str.replace(",}", "}")
    )


def scored(leads: pl.DataFrame, events: pl.DataFrame, now: datetime) -> pl.DataFrame:
    model, _ = read_model("classic")
    cards = (
        score_frame(model, leads.lazy(), events.lazy(), now)
        .select("id", "score", "grade", "fit_grade", "engagement_grade", "engagement_points")
        .collect()
    )
    last = events.group_by("lead_id").agg(pl.col("occurred_at").max().alias("last_activity_at"))
    stamp = now.replace(tzinfo=None)
    return (leads.join(cards, on="id", how="left")
            .join(last, left_on="id", right_on="lead_id", how="left")
            .with_columns(channels=pl.lit('["web"]'), attributes=pl.lit("{}"),
                          scoring_model=pl.lit(f"{model.name}@1"), scored_at=pl.lit(stamp),
                          updated_at=pl.lit(stamp), do_not_email=False, do_not_call=False)
            .select(LEAD_COLUMNS))  # fmt: skip


def copy(connection: psycopg.Connection, table: str, frame: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.f")
    columns = ", ".join(frame.columns)
    with connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as out:
        out.write(buffer.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=200_000)
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    db = Database(args.url)
    db.upgrade()
    with db.unit_of_work() as session:
        _, text = read_model("classic")
        activate(session, add_model(session, text, "classic", now).name, now)
    rng = np.random.default_rng(1)
    plain = args.url.replace("+psycopg", "")
    start = time.perf_counter()
    per_lead = args.events / args.leads
    with psycopg.connect(plain) as connection:
        for first in range(1, args.leads + 1, args.chunk):
            size = min(args.chunk, args.leads - first + 1)
            leads = leads_chunk(rng, first, size, now)
            events = events_chunk(rng, leads, round(size * per_lead), now)
            copy(connection, "leads", scored(leads, events, now))
            copy(connection, "events", events.select(EVENT_COLUMNS))
            connection.commit()
            done = first + size - 1
            print(f"{done:,} leads, {round(done * per_lead):,} events"
                  f" ({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        connection.execute("SELECT setval(pg_get_serial_sequence('leads', 'id'),"
                           " (SELECT max(id) FROM leads))")  # fmt: skip
        connection.commit()
    with db.unit_of_work() as session:
        outcomes.refresh(session, None)  # what analytics reads, from the history just loaded
    print(f"analytics facts ({time.perf_counter() - start:.0f} s)", flush=True)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
