"""The fast backend (rjieba) gives token-for-token jieba's output with the same dictionaries."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from matcher.analyze import Analyzer, get_analyzer, strip_boilerplate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_firms.csv"


def _corpus() -> list[str]:
    texts: list[str] = []
    if SAMPLE.exists():
        with SAMPLE.open(encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                texts += [row["企业名称"], strip_boilerplate(row["经营范围"]), row["企业简介"]]
    # generated text: shuffled fragments, mixed scripts, digits, punctuation, dictionary words
    rng = random.Random(7)
    pieces = [t for t in texts if t] + ["ABC公司2023年产值1.5亿元", "Low-E玻璃", "PVC管材", "5G基站", "锂电池正极材料",
                                        "年产500万吨改性甲醇", "超细针状硅灰石", "冷链物流园区（一期）"]
    for _ in range(3000):
        k = rng.randint(1, 4)
        texts.append("，".join(rng.choice(pieces)[rng.randint(0, 5):] for _ in range(k)))
    return [Analyzer.prepare(t) for t in texts if t]


def test_rjieba_tokens_identical_to_jieba() -> None:
    pytest.importorskip("rjieba")
    fast = get_analyzer("rjieba")
    slow = get_analyzer("jieba")
    assert fast.version == slow.version
    corpus = _corpus()
    assert len(corpus) > 3000
    mismatches = [(t, fast.cut(t), slow.cut(t)) for t in corpus if fast.cut(t) != slow.cut(t)]
    assert not mismatches, f"{len(mismatches)} texts differ, e.g. {mismatches[:2]}"


def test_auto_backend_reports_itself() -> None:
    a = get_analyzer()
    assert a.backend in {"rjieba", "jieba"}
