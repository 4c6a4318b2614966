"""The store: SQLAlchemy 2.0 models for parks, enterprises, ingests, ranking runs and leads.

Default database: an SQLite file ``matcher.db`` in the user data folder (``$MATCHER_HOME``, else
``~/.local/share/matcher``); any SQLAlchemy URL through ``--db`` or ``MATCHER_DB``. The SQL is portable
(no SQLite-only statements); the schema is versioned and upgraded with Alembic (``matcher/migrations``)
when a store is opened, so an existing database is never stranded by a new release.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .errors import StoreError

__all__ = [
    "Base",
    "Enterprise",
    "IngestLog",
    "Lead",
    "MatchRun",
    "Park",
    "Store",
    "default_db_url",
    "open_store",
]

#: Alembic revision the models below describe; bump with each migration.
SCHEMA_REVISION = "0001"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Park(Base):
    """A development zone or industrial park and what it wants to attract."""

    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")  # 主导产业 / 重点承接方向, as worded
    target_regions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 长三角, 山东 ...
    pinned_industries: Mapped[list[Any]] = mapped_column(JSON, default=list)  # GB/T 4754 codes overriding the text
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)


class Enterprise(Base):
    """One firm, as merged from company-data exports. Capital is in 万 of ``*_currency``."""

    __tablename__ = "enterprises"
    __table_args__ = (Index("ix_enterprises_name_province", "name_norm", "province"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_norm: Mapped[str] = mapped_column(String(300), index=True)
    external_id: Mapped[str | None] = mapped_column(String(100), index=True)  # e.g. a stock code
    status: Mapped[str | None] = mapped_column(String(50))
    legal_rep: Mapped[str | None] = mapped_column(String(100))
    reg_capital: Mapped[float | None] = mapped_column(Float)  # 万 (of reg_currency)
    reg_currency: Mapped[str | None] = mapped_column(String(10))
    paid_capital: Mapped[float | None] = mapped_column(Float)
    paid_currency: Mapped[str | None] = mapped_column(String(10))
    founded: Mapped[Any | None] = mapped_column(Date)
    province: Mapped[str | None] = mapped_column(String(50), index=True)
    city: Mapped[str | None] = mapped_column(String(50))
    district: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(String(300))  # 所属行业 as exported
    scope: Mapped[str | None] = mapped_column(Text)  # 经营范围
    intro: Mapped[str | None] = mapped_column(Text)  # 企业简介
    company_type: Mapped[str | None] = mapped_column(String(200))
    insured: Mapped[int | None] = mapped_column(Integer)  # 参保人数
    website: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # columns we do not know, kept verbatim
    content_hash: Mapped[str] = mapped_column(String(64))  # of the mapped fields, to detect real changes
    source_file: Mapped[str | None] = mapped_column(String(500))
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    # analysis cache: tokens of name + scope + intro, computed at ingest (see matcher.analyze)
    tokens: Mapped[str | None] = mapped_column(Text)  # space-separated
    analyzer_version: Mapped[str | None] = mapped_column(String(64))
    industry_codes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {code: weight} read from text + 所属行业
    revision: Mapped[int] = mapped_column(Integer, default=0, index=True)  # store-wide change counter


class IngestLog(Base):
    """One ingest of one file: when, what, and the counts it printed."""

    __tablename__ = "ingests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MatchRun(Base):
    """One ranking run for one park, with the configuration it used."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="SET NULL"))
    park_name: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    n_candidates: Mapped[int] = mapped_column(Integer, default=0)
    n_leads: Mapped[int] = mapped_column(Integer, default=0)


class Lead(Base):
    """One ranked firm of a run, with its explanation."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    matched: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)


class Meta(Base):
    """Key/value facts about the store (the revision counter)."""

    __tablename__ = "matcher_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def data_home() -> Path:
    """The folder for the default database and its index: ``$MATCHER_HOME`` or ``~/.local/share/matcher``."""
    home = os.environ.get("MATCHER_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "matcher"


def default_db_url() -> str:
    """``$MATCHER_DB`` when set, else the SQLite file ``matcher.db`` under :func:`data_home`."""
    url = os.environ.get("MATCHER_DB")
    if url:
        return url if "://" in url else f"sqlite:///{Path(url).expanduser().resolve()}"
    return f"sqlite:///{data_home() / 'matcher.db'}"


@dataclass
class Store:
    """An open database: the engine, and the folder where derived files (the term index) live."""

    engine: Engine
    url: str
    index_dir: Path

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction (committed on success, rolled back on any error)."""
        with self.engine.begin() as conn:
            yield conn

    def next_revision(self, conn: Connection, n: int = 1) -> int:
        """Reserve ``n`` store revisions and return the first; revisions order every firm change."""
        row = conn.execute(select(Meta.value).where(Meta.key == "revision")).scalar_one_or_none()
        current = int(row) if row is not None else 0
        new = current + n
        if row is None:
            conn.execute(insert(Meta).values(key="revision", value=str(new)))
        else:
            conn.execute(update(Meta).where(Meta.key == "revision").values(value=str(new)))
        return current + 1

    def count(self, model: type[Base]) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _index_dir_for(url: str) -> Path:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_path = Path(url.removeprefix("sqlite:///"))
        return db_path.with_name(db_path.name + ".index")
    # a server database: keep derived files in the user data folder, one folder per URL
    import hashlib

    return data_home() / "index" / hashlib.sha256(url.encode()).hexdigest()[:16]


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open (and create or upgrade) the store at ``url`` (default: :func:`default_db_url`)."""
    url = url or default_db_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists() and not create:
            raise StoreError(f"no database at {path}: run `matcher ingest FILE` or `matcher demo` first")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
    except Exception as exc:  # driver missing, bad URL, server down
        raise StoreError(f"cannot open database {url!r}: {exc.__class__.__name__}: {exc}") from exc
    store = Store(engine=engine, url=url, index_dir=_index_dir_for(url))
    from .migrate import upgrade

    upgrade(store)
    return store


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
