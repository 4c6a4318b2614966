"""Match quality on ../shared/bench: a floor well below the targets (NDCG@50 0.70, P@20 0.65, MAP 0.45 in
text mode) so noise cannot fail it, yet above what the engine reaches with the industry knowledge off
(measured: NDCG@50 0.45, P@20 0.41, MAP 0.21), so losing the knowledge base fails it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matcher.evaluate import evaluate_bench

BENCH_DIR = Path(os.environ.get("MATCHER_BENCH", Path(__file__).resolve().parents[2] / "shared" / "bench"))

FLOOR = {"ndcg@50": 0.60, "p@20": 0.55, "map": 0.40}


@pytest.mark.bench
@pytest.mark.slow
@pytest.mark.skipif(not (BENCH_DIR / "firms.csv").exists(), reason="../shared/bench is not here")
def test_quality_floor_needs_the_knowledge_base() -> None:
    report = evaluate_bench(BENCH_DIR, modes=("text",), without=("industry",))
    systems = report["text"]["systems"]
    engine = systems["engine"]["macro"]
    without = systems["engine_without_industry"]["macro"]
    for metric, floor in FLOOR.items():
        assert engine[metric] >= floor, f"engine {metric} {engine[metric]:.3f} below the floor {floor}"
        assert without[metric] < floor, f"without industry knowledge {metric} is {without[metric]:.3f}: floor too low"
    bm25 = systems["bm25"]["per_query"]
    worse = {q: round(v["ndcg@50"] - bm25[q]["ndcg@50"], 3) for q, v in systems["engine"]["per_query"].items()
             if v["ndcg@50"] < bm25[q]["ndcg@50"] - 0.10}
    assert not worse, f"queries far below BM25: {worse}"
