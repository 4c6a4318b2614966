"""Schema upgrades with Alembic, run from code when a store is opened.

The migration scripts live in ``matcher/migrations/versions``; each one changes the schema a step and
bumps :data:`matcher.store.SCHEMA_REVISION`. Opening a store at an older revision upgrades it in place;
a store at a revision this release does not know (made by a newer release) is refused.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from .errors import StoreError

if TYPE_CHECKING:
    from .store import Store

__all__ = ["current_revision", "upgrade"]


def current_revision(store: Store) -> str | None:
    """The Alembic revision recorded in the database, or None for an empty database."""
    from .store import table_names

    if "alembic_version" not in table_names(store.engine):
        return None
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def _alembic_config(store: Store) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("matcher") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return cfg


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (default: this release's newest)."""
    from .store import SCHEMA_REVISION, table_names

    have = current_revision(store)
    if have == SCHEMA_REVISION and revision == "head":
        return  # the common case: no Alembic import at start-up
    if have is None and table_names(store.engine) - {"alembic_version"}:
        raise StoreError(
            f"{store.url}: the database has tables but no matcher schema version; "
            "point --db at a new file or at a database made by matcher"
        )
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(store)
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if have is not None and have not in known:
        raise StoreError(
            f"{store.url}: schema revision {have} is newer than this matcher knows; upgrade the matcher package"
        )
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
