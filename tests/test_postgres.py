"""The same store on PostgreSQL, when a server is given: MATCHER_TEST_PG=postgresql+psycopg://user:pw@host/db
(.ci/run starts one when the machine has PostgreSQL). The database is emptied first: use a scratch one."""

from __future__ import annotations

import os

import pytest

URL = os.environ.get("MATCHER_TEST_PG")
pytestmark = pytest.mark.skipif(not URL, reason="MATCHER_TEST_PG not set (no PostgreSQL server for this run)")


@pytest.fixture
def pg_store(tmp_path, monkeypatch):
    pytest.importorskip("psycopg")
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(URL)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()
    monkeypatch.setenv("MATCHER_HOME", str(tmp_path / "home"))
    from matcher.store import open_store

    return open_store(URL)


def test_postgres_ingest_rank_score(pg_store, tiny_frame) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from matcher.ingest import ingest_dataframe
    from matcher.parks import ensure_default_parks
    from matcher.rank import rank_leads, score_profile
    from matcher.runs import list_runs, run_leads
    from matcher.store import Base

    with pg_store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    first = ingest_dataframe(pg_store, tiny_frame, source="tiny")
    again = ingest_dataframe(pg_store, tiny_frame, source="tiny")
    assert first.inserted == len(tiny_frame) and again.unchanged == len(tiny_frame)
    ensure_default_parks(pg_store)
    leads = rank_leads({"name": "专用车测试园", "description": "专用车及零部件", "target_regions": ["山东"]},
                       store=pg_store, top=5)
    assert leads.iloc[0]["name"] == "山东宏达专用汽车有限公司"
    assert "河北已注销专用车有限公司" not in set(leads["name"])
    stored = run_leads(pg_store, int(list_runs(pg_store).iloc[0]["run_id"]))
    assert list(stored["name"]) == list(leads["name"])
    parks = score_profile("塑料编织袋、集装袋的生产", store=pg_store)
    assert parks.iloc[0]["park"] in {"四平梨树经开区", "农产品加工产业园"}
