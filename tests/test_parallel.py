"""Analysis backends and parallel analysis: pure jieba can be forced and is the fallback; large batches are
analysed by worker processes with exactly the serial result."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import matcher.analyze as analyze
import matcher.ingest as ingest
import matcher.readers as readers
from matcher.analyze import ChunkPool, get_analyzer, parallel_map
from matcher.ingest import analyze_rows, ingest_files
from matcher.store import Enterprise, open_store

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_firms.csv"


@pytest.fixture
def fresh_analyzers():
    """Analyzers built anew in the test, and again after it (a test may build one under odd conditions)."""
    analyze._analyzer_for.cache_clear()
    yield
    analyze._analyzer_for.cache_clear()


def test_env_var_forces_pure_jieba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_TOKENIZER", "jieba")
    forced = get_analyzer()
    assert forced.backend == "jieba" and get_analyzer("jieba") is forced
    monkeypatch.delenv("MATCHER_TOKENIZER")
    auto = get_analyzer()
    assert auto.version == forced.version
    text = "一般项目：冷藏车、厢式运输车改装；汽车零部件制造（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
    assert forced.firm_tokens("山东宏达专用汽车有限公司", text, "专业生产冷藏车") == \
        auto.firm_tokens("山东宏达专用汽车有限公司", text, "专业生产冷藏车")
    with pytest.raises(ValueError, match="unknown analysis backend"):
        get_analyzer("nonsense")


def test_auto_falls_back_to_jieba_without_rjieba(monkeypatch: pytest.MonkeyPatch, fresh_analyzers: None) -> None:
    monkeypatch.setitem(sys.modules, "rjieba", None)  # `import rjieba` raises ImportError
    monkeypatch.delitem(sys.modules, "rjieba.rjieba", raising=False)
    monkeypatch.delenv("MATCHER_TOKENIZER", raising=False)
    a = get_analyzer("auto")
    assert a.backend == "jieba"
    assert "冷藏车" in a.tokens("主要生产冷藏车")
    with pytest.raises(ImportError):
        get_analyzer("rjieba")


def _sample_rows(n: int) -> list[dict[str, str | None]]:
    with SAMPLE.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))[:n]
    return [{"name": r["企业名称"], "scope": r["经营范围"], "intro": r["企业简介"], "industry": r["所属行业"]}
            for r in rows]


def test_parallel_analysis_equals_serial() -> None:
    rows = _sample_rows(120)
    serial = analyze_rows(rows)
    done: list[int] = []
    with ChunkPool(2, chunk_size=25) as pool:
        parallel = analyze_rows(rows, pool=pool, progress=done.append)
        lazy = list(pool.map(ingest._analyze_chunk, iter(rows)))  # an iterator, consumed chunk by chunk
    assert parallel == serial and lazy == serial
    assert done == [25, 25, 25, 25, 20]
    # below the threshold, or with one worker: in this process
    assert parallel_map(ingest._analyze_chunk, rows, workers=2, min_items=10_000) == serial
    assert parallel_map(ingest._analyze_chunk, rows, workers=1, min_items=1) == serial


def test_large_ingest_uses_workers_with_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyze, "PARALLEL_MIN_FIRMS", 50)
    pools: list[ChunkPool] = []
    real_pool = ingest.analysis_pool

    def spy(n_firms: int, workers: int | None = None) -> ChunkPool | None:
        pool = real_pool(n_firms, workers)
        pools.append(pool) if pool is not None else None
        return pool

    monkeypatch.setattr(ingest, "analysis_pool", spy)
    monkeypatch.setattr(analyze, "PARALLEL_CHUNK", 40)
    monkeypatch.setattr(readers, "CHUNKSIZE", 150)  # several chunks: analysis overlaps the next chunk's reading
    results = []
    for workers in (2, 1):
        store = open_store(f"sqlite:///{tmp_path / f'w{workers}.db'}")
        (report,) = ingest_files(store, [SAMPLE], progress=False, workers=workers)
        assert report.inserted == 600
        with store.engine.connect() as conn:
            results.append(conn.execute(select(Enterprise.credit_code, Enterprise.name, Enterprise.tokens,
                                               Enterprise.industry_codes).order_by(Enterprise.id)).all())
    assert len(pools) == 1  # the 2-worker ingest made one pool for the file; the 1-worker one none
    assert results[0] == results[1]


def test_normalize_text_equals_plain_nfkc() -> None:
    """normalize_text maps full-width ASCII before NFKC for speed: the same result as NFKC alone."""
    import random
    import unicodedata

    from matcher.analyze import _BRACKETS, _SPACE, normalize_text

    def reference(text: str) -> str:
        return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_BRACKETS)).strip()

    alphabet = ([chr(c) for c in range(0xFF01, 0xFF5F)] + [chr(c) for c in range(0x300, 0x370)]
                + list("\u3000\u3099\u309a\u2460\ufb01\uff61\uff76\u00bd 中文制造ａＡeé、【】（）；：，。"))
    rng = random.Random(11)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    texts += [chr(c) + m for c in range(0xFF01, 0xFF5F) for m in ("\u0301", "\u0308", "\u3099", "a")]
    assert [normalize_text(t) for t in texts] == [reference(t) for t in texts]
