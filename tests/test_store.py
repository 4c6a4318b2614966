from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from matcher.errors import StoreError
from matcher.migrate import current_revision
from matcher.store import SCHEMA_REVISION, default_db_url, open_store


def test_new_database_is_at_current_revision(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert current_revision(store) == SCHEMA_REVISION


def test_reopen_keeps_data(tmp_path, tiny_frame) -> None:
    from matcher.ingest import ingest_dataframe

    url = f"sqlite:///{tmp_path / 'a.db'}"
    ingest_dataframe(open_store(url), tiny_frame, source="t")
    from matcher.store import Enterprise

    assert open_store(url).count(Enterprise) == len(tiny_frame)


def test_foreign_database_refused(tmp_path) -> None:
    path = tmp_path / "other.db"
    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER)"))
    with pytest.raises(StoreError, match="no matcher schema version"):
        open_store(f"sqlite:///{path}")


def test_newer_schema_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = open_store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this matcher"):
        open_store(url)


def test_db_url_from_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MATCHER_DB", str(tmp_path / "env.db"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("MATCHER_DB", "postgresql://u@h/db")
    assert default_db_url() == "postgresql://u@h/db"


def test_missing_database_without_create(tmp_path) -> None:
    with pytest.raises(StoreError, match="no database"):
        open_store(f"sqlite:///{tmp_path / 'none.db'}", create=False)


def test_migrations_match_the_models(tmp_path) -> None:
    """A model change without its migration would strand existing databases: the migrated schema must
    equal what the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from matcher.store import Base

    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ (write a migration in matcher/migrations/versions): {diff}"


def test_downgrade_and_upgrade_round_trip(tmp_path) -> None:
    from alembic import command

    from matcher.migrate import _alembic_config, upgrade

    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    cfg = _alembic_config(store)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(store) is None
    upgrade(store)
    assert current_revision(store) == SCHEMA_REVISION
