"""The firm index: built from cached tokens, updated incrementally, saved and reloaded without re-tokenising."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
from conftest import make_code
from sqlalchemy import select

import matcher.analyze
import matcher.index
import matcher.rank
from matcher.index import FirmIndex, load_index
from matcher.ingest import ingest_dataframe
from matcher.rank import rank_leads
from matcher.store import Enterprise

NEW_FIRMS = pd.DataFrame([
    {"企业名称": "吉林冷链物流有限公司", "统一社会信用代码": make_code(101), "经营范围": "冷链物流服务；低温仓储。",
     "所属省份": "吉林省", "注册资本": "500万元"},
    {"企业名称": "山东塑编包装有限公司", "统一社会信用代码": make_code(102), "经营范围": "塑料编织袋、集装袋生产。",
     "所属省份": "山东省", "注册资本": "300万元"},
])


def _by_id(idx: FirmIndex, scores: np.ndarray) -> dict[int, float]:
    return {int(i): float(scores[r]) for r, i in enumerate(idx.ids) if idx.live[r]}


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No index kept in this process: every load_index reads the saved files, as a new process would."""
    monkeypatch.setattr(matcher.index, "_CACHE", {})


def test_adding_firms_appends_rows_without_rebuilding(tiny_store, monkeypatch) -> None:
    idx = load_index(tiny_store)
    n0, ids0, rev0 = idx.n_rows, idx.ids.copy(), idx.revision
    reads: list[int | None] = []
    real = matcher.index._read_rows
    monkeypatch.setattr(matcher.index, "_read_rows", lambda store, since: reads.append(since) or real(store, since))
    ingest_dataframe(tiny_store, NEW_FIRMS, source="new")
    idx2 = load_index(tiny_store)
    assert reads == [rev0]  # only the firms changed since the index's revision were read
    assert idx2.n_rows == n0 + 2 and idx2.n_live == n0 + 2
    assert (idx2.ids[:n0] == ids0).all()  # the old rows kept their places
    assert idx2.revision > rev0
    assert load_index(tiny_store) is idx2 and reads == [rev0]  # nothing changed: nothing read


def test_updating_a_firm_kills_its_old_row(tiny_store, tiny_frame) -> None:
    idx = load_index(tiny_store)
    n0 = idx.n_rows
    with tiny_store.engine.connect() as conn:
        fid = conn.execute(select(Enterprise.id).where(Enterprise.name == "上海鼎盛餐饮管理有限公司")).scalar_one()
    old_row = idx.row_of(fid)
    changed = tiny_frame.copy()
    changed.loc[1, "经营范围"] = "冷藏车、保温车改装；专用车制造。"
    assert ingest_dataframe(tiny_store, changed, source="v2").updated == 1
    idx = load_index(tiny_store)
    assert idx.n_rows == n0 + 1 and idx.n_live == n0
    assert not idx.live[old_row] and idx.row_of(fid) == n0 and idx.live[n0]
    scores = _by_id(idx, idx.bm25({"保温车": 1.0}, k1=1.5, b=0.75))
    assert scores[fid] > 0 and sum(v > 0 for v in scores.values()) == 1


def test_saved_index_is_reloaded_without_retokenising(tiny_store, fresh, monkeypatch) -> None:
    built = load_index(tiny_store)
    query = {"冷藏车": 1.0, "专用车": 0.5, "药品": 1.0}
    expected = _by_id(built, built.bm25(query, k1=1.5, b=0.75))
    meta = json.loads((tiny_store.index_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == matcher.index.INDEX_FORMAT and meta["live"] == built.n_live

    def forbidden(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the saved index was rebuilt or re-tokenised")

    monkeypatch.setattr(matcher.index, "_CACHE", {})  # a new process
    monkeypatch.setattr(matcher.index, "_read_rows", forbidden)
    monkeypatch.setattr(matcher.index, "refresh_analysis", forbidden)
    monkeypatch.setattr(matcher.analyze.Analyzer, "firm_tokens", forbidden)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matcher.analyze.Analyzer, "tokens", forbidden)
        loaded = load_index(tiny_store)
    assert loaded is not built and loaded.n_live == built.n_live
    assert _by_id(loaded, loaded.bm25(query, k1=1.5, b=0.75)) == pytest.approx(expected)
    leads = rank_leads({"name": "测试园", "description": "冷藏车"}, store=tiny_store, top=3, save=False)
    assert leads.iloc[0]["name"] == "山东宏达专用汽车有限公司"  # ranked on the loaded index, no firm re-tokenised


def test_old_format_or_damaged_files_are_rebuilt(tiny_store, fresh) -> None:
    idx = load_index(tiny_store)
    meta_path = tiny_store.index_dir / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "format": 1}), encoding="utf-8")
    assert FirmIndex.load(tiny_store.index_dir) is None
    (tiny_store.index_dir / "x_rows.npy").write_bytes(b"broken")
    matcher.index._CACHE.clear()
    again = load_index(tiny_store)
    assert again.n_live == idx.n_live and FirmIndex.load(tiny_store.index_dir) is not None


def _random_rows(rng: random.Random, ids: range) -> list[dict]:
    words = [f"词{i}" for i in range(40)]
    return [{"id": i, "tokens": " ".join(rng.choice(words) for _ in range(rng.randint(0, 9))),
             "industry_codes": {rng.choice(["C36", "C3630", "C27", "G54"]): round(rng.random(), 3)
                                for _ in range(rng.randint(0, 3))},
             "status": rng.choice([None, "存续", "注销"]), "province": rng.choice([None, "山东", "吉林"]),
             "city": None, "capital_wan_cny": rng.choice([None, 500.0]), "insured": None, "lon": None, "lat": None}
            for i in ids]


def test_incremental_updates_and_compaction_equal_a_fresh_build() -> None:
    rng = random.Random(3)
    first = _random_rows(rng, range(300))
    updates = _random_rows(rng, rng.sample(range(300), 90)) + _random_rows(rng, range(300, 340))
    inc = FirmIndex.empty("v")
    inc.append(first[:100])
    inc.extend([first[100:250], first[250:]])
    inc.append(updates)
    final = {r["id"]: r for r in first + updates}
    full = FirmIndex.empty("v")
    full.append([final[i] for i in sorted(final)])
    assert (inc.n_rows, inc.n_live, full.n_live) == (430, 340, 340)
    query = {"词1": 1.0, "词7": 0.5, "词33": 2.0, "没有": 1.0}
    wanted = {"C36": 1.0, "C27": 0.4}
    for _ in range(2):  # before and after dropping the dead rows
        assert _by_id(inc, inc.bm25(query, k1=1.5, b=0.75)) == pytest.approx(_by_id(full, full.bm25(query, k1=1.5, b=0.75)))
        assert _by_id(inc, inc.industry_scores(wanted)) == pytest.approx(_by_id(full, full.industry_scores(wanted)))
        inc.compact()
    assert inc.n_rows == 340


def test_matrices_agree_with_scipy() -> None:
    sp = pytest.importorskip("scipy.sparse")
    rows = _random_rows(random.Random(5), range(50))
    idx = FirmIndex.empty("v")
    idx.append(rows)
    dense = idx.X.toarray()
    for r, row in enumerate(rows):
        for t in set(row["tokens"].split()):
            assert dense[r, idx.term_id(t)] == row["tokens"].split().count(t)
    assert dense.sum() == sum(len(r["tokens"].split()) for r in rows)
    wanted = {"C36": 1.0, "C27": 0.4}
    w = np.array([wanted.get(c, 0.0) for c in idx.codes], dtype=np.float32)
    ref = np.asarray(sp.csr_matrix(idx.C).multiply(w.reshape(1, -1)).tocsr().max(axis=1).todense()).ravel()
    np.testing.assert_allclose(idx.industry_scores(wanted), ref)


def test_park_readings_are_saved_beside_the_index(tiny_store) -> None:
    park = {"name": "测试园", "description": "专用车及零部件、冷链物流", "target_regions": ["山东"]}
    first = rank_leads(park, store=tiny_store, top=3, save=False)
    assert (tiny_store.index_dir / "park_queries.json").exists()
    with pytest.MonkeyPatch.context() as mp:  # a new process reads the saved reading ...
        mp.setattr(matcher.rank, "_QUERIES", {})
        mp.setattr(matcher.rank, "park_query", lambda *a, **k: pytest.fail("park read again"))
        again = rank_leads(park, store=tiny_store, top=3, save=False)
    assert again["name"].tolist() == first["name"].tolist() and again["score"].tolist() == first["score"].tolist()
    # ... and another description is read anew
    other = rank_leads({**park, "description": "塑编"}, store=tiny_store, top=1, save=False)
    assert other.iloc[0]["name"] == "江苏恒远塑业有限公司"
