"""Ranking on tiny hand-made data whose right answers are obvious."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from matcher.config import MatchConfig
from matcher.errors import NotFoundError
from matcher.index import load_index
from matcher.rank import rank_leads, rank_text, score_profile
from matcher.store import Enterprise, Lead, MatchRun

SPECIAL_VEHICLES = {"name": "专用车测试园", "description": "专用车及零部件", "target_regions": ["山东"],
                    "pinned_industries": [], "longitude": 124.35, "latitude": 43.17}


def test_cold_chain_truck_maker_ranks_first_for_special_vehicle_park(tiny_store) -> None:
    leads = rank_leads(SPECIAL_VEHICLES, store=tiny_store, top=5)
    assert leads.iloc[0]["name"] == "山东宏达专用汽车有限公司"
    top = leads.iloc[0]
    assert "专用车" in top["reason"] or "冷藏车" in top["reason"]
    assert "山东" in top["reason"] and "目标区域" in top["reason"]
    assert set(top["components"]) >= {"text", "industry", "region", "size", "distance"}


def test_deregistered_firm_never_appears(tiny_store) -> None:
    leads = rank_leads(SPECIAL_VEHICLES, store=tiny_store, top=50)
    assert "河北已注销专用车有限公司" not in set(leads["name"])
    kept = rank_leads(SPECIAL_VEHICLES, store=tiny_store, top=50, config=MatchConfig(exclude_statuses=()))
    assert "河北已注销专用车有限公司" in set(kept["name"])


def test_unrelated_firms_are_not_leads(tiny_store) -> None:
    leads = rank_leads({**SPECIAL_VEHICLES, "description": "塑编"}, store=tiny_store, top=50)
    assert leads.iloc[0]["name"] == "江苏恒远塑业有限公司"
    assert "上海鼎盛餐饮管理有限公司" not in set(leads["name"])


def test_run_and_leads_are_stored(tiny_store) -> None:
    leads = rank_leads("四平经开区", store=tiny_store, top=3)
    run_id = leads.attrs["run_id"]
    with tiny_store.engine.connect() as conn:
        run = conn.execute(select(MatchRun).where(MatchRun.id == run_id)).one()
        n = conn.execute(select(func.count()).select_from(Lead).where(Lead.run_id == run_id)).scalar_one()
    assert run.park_name == "四平经开区" and run.config["k1"] == 1.5
    assert n == len(leads)


def test_unknown_park_is_a_clear_error(tiny_store) -> None:
    with pytest.raises(NotFoundError, match="no park named"):
        rank_leads("不存在的园区", store=tiny_store)


def test_empty_database_is_a_clear_error(store) -> None:
    with pytest.raises(NotFoundError, match="no firms"):
        rank_leads("四平经开区", store=store)


def test_text_change_reanalyses_only_that_firm(tiny_store, tiny_frame) -> None:
    from matcher.ingest import ingest_dataframe

    load_index(tiny_store)
    with tiny_store.engine.connect() as conn:
        before = {r[0]: r[1] for r in conn.execute(select(Enterprise.name, Enterprise.revision))}
    changed = tiny_frame.copy()
    changed.loc[1, "经营范围"] = "冷藏车、保温车改装；专用车制造。"
    report = ingest_dataframe(tiny_store, changed, source="tiny v2")
    assert report.updated == 1 and report.unchanged == len(changed) - 1
    with tiny_store.engine.connect() as conn:
        after = {r[0]: r[1] for r in conn.execute(select(Enterprise.name, Enterprise.revision))}
    moved = [n for n in after if after[n] != before[n]]
    assert moved == ["上海鼎盛餐饮管理有限公司"]
    idx = load_index(tiny_store)
    assert idx.n_live == len(changed)
    names = rank_text(tiny_store, "冷藏车", explain=True)["name"].tolist()
    assert "上海鼎盛餐饮管理有限公司" in names


def test_ranking_does_not_retokenize(tiny_store, monkeypatch) -> None:
    load_index(tiny_store)
    import matcher.analyze as analyze

    calls = []
    real = analyze.Analyzer.firm_tokens

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(a)
        return real(self, *a, **k)

    monkeypatch.setattr(analyze.Analyzer, "firm_tokens", spy)
    rank_leads(SPECIAL_VEHICLES, store=tiny_store, top=5, save=False)
    assert calls == []


def test_bm25_matches_reference_implementation(tiny_store) -> None:
    rank_bm25 = pytest.importorskip("rank_bm25")
    idx = load_index(tiny_store)
    with tiny_store.engine.connect() as conn:
        rows = conn.execute(select(Enterprise.id, Enterprise.tokens).order_by(Enterprise.id)).all()
    docs = [r.tokens.split() for r in rows]
    query = ["冷藏车", "专用车", "药品"]
    ours = idx.bm25({t: 1.0 for t in query}, k1=1.5, b=0.75)
    ours_by_id = {int(i): ours[r] for i, r in zip(idx.ids, range(idx.n_rows), strict=True) if idx.live[r]}

    class Lucene(rank_bm25.BM25Okapi):  # same tf part; idf as Lucene: ln(1 + (N - df + .5) / (df + .5))
        def _calc_idf(self, nd):  # type: ignore[no-untyped-def]
            self.idf = {w: math.log(1 + (self.corpus_size - f + 0.5) / (f + 0.5)) for w, f in nd.items()}

    ref = Lucene(docs, k1=1.5, b=0.75).get_scores(query)
    np.testing.assert_allclose([ours_by_id[r.id] for r in rows], ref, rtol=1e-5)


def test_score_profile_ranks_every_park(tiny_store) -> None:
    frame = score_profile("塑料编织袋、集装袋、吨袋的生产", store=tiny_store)
    assert list(frame["rank"]) == list(range(1, len(frame) + 1))
    assert frame.iloc[0]["park"] in {"四平梨树经开区", "农产品加工产业园"}
    assert frame["score"].is_monotonic_decreasing
    assert isinstance(frame.iloc[0]["components"], dict) and frame.iloc[0]["reason"]


def test_score_profile_of_stored_columns(tiny_store) -> None:
    frame = score_profile({"企业名称": "某制药有限公司", "经营范围": "化学原料药、中成药制造", "所属省份": "山东省"},
                          store=tiny_store)
    assert isinstance(frame, pd.DataFrame) and len(frame) >= 6


def test_score_profile_on_an_empty_database(store) -> None:
    """A firm that comes forward can be scored before any export is loaded (industry knowledge only)."""
    frame = score_profile("塑料编织袋、集装袋、吨袋的生产", store=store)
    assert frame.iloc[0]["park"] in {"四平梨树经开区", "农产品加工产业园"}
    assert (frame["text"] == 0).all() and frame.iloc[0]["industry"] > 0.5


def test_profile_without_province_says_so_once(tiny_store) -> None:
    frame = score_profile("冷藏车、厢式车改装制造", store=tiny_store)
    assert not frame["reason"].str.contains("所在省份未知").any()
    assert frame.attrs["notes"] and "省份" in frame.attrs["notes"][0]
    with_prov = score_profile({"经营范围": "冷藏车、厢式车改装制造", "所属省份": "山东省"}, store=tiny_store)
    assert with_prov.attrs["notes"] == []
