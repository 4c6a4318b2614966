"""Metric functions against hand-computed values (binary relevance)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.metrics import (
    average_precision,
    dcg_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)

# ranking a b c d e; relevant a, c and x (x never retrieved)
RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"a", "c", "x"}
L3, L4 = math.log2(3), math.log2(4)  # discounts of ranks 2 and 3


def test_precision_at_k_by_hand() -> None:
    assert precision_at_k(RANKED, RELEVANT, 1) == 1.0
    assert precision_at_k(RANKED, RELEVANT, 2) == 0.5
    assert precision_at_k(RANKED, RELEVANT, 3) == pytest.approx(2 / 3)
    assert precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    # fewer ranked than k: the denominator stays k
    assert precision_at_k(RANKED, RELEVANT, 10) == pytest.approx(2 / 10)


def test_recall_at_k_by_hand() -> None:
    assert recall_at_k(RANKED, RELEVANT, 1) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 3) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, RELEVANT, 100) == pytest.approx(2 / 3)  # x is never found


def test_average_precision_by_hand() -> None:
    # hits at ranks 1 and 3: (1/1 + 2/3) / 3 relevant; the unretrieved x adds zero precision
    assert average_precision(RANKED, RELEVANT) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision(RANKED, {"a", "c"}) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(["b", "a"], {"a"}) == pytest.approx(0.5)
    assert average_precision(["b", "d"], {"a"}) == 0.0


def test_dcg_and_ndcg_by_hand() -> None:
    assert dcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(1 + 1 / L4)  # ranks 1 and 3
    ideal5 = 1 + 1 / L3 + 1 / L4  # three relevant ids at the top
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx((1 + 1 / L4) / ideal5)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(0.703918, abs=1e-6)
    # k = 2: only rank 1 hits; the ideal holds min(k, 3) = 2 relevant ids
    assert ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / (1 + 1 / L3))
    # one relevant id at rank 2
    assert ndcg_at_k(["b", "a", "c"], {"a"}, 10) == pytest.approx(1 / L3)


def test_perfect_and_empty_rankings() -> None:
    assert ndcg_at_k(["a", "c", "b"], {"a", "c"}, 50) == pytest.approx(1.0)
    assert average_precision(["a", "c", "b"], {"a", "c"}) == pytest.approx(1.0)
    assert ndcg_at_k([], {"a"}, 50) == 0.0
    assert average_precision([], {"a"}) == 0.0
    # nothing relevant: undefined, reported as 0.0 (callers leave such queries out)
    assert ndcg_at_k(RANKED, set(), 5) == 0.0
    assert recall_at_k(RANKED, set(), 5) == 0.0
    assert average_precision(RANKED, set()) == 0.0


def test_ranking_metrics_keys_and_values() -> None:
    m = ranking_metrics(RANKED, RELEVANT)
    assert list(m) == ["ndcg@50", "p@20", "recall@100", "map"]
    assert m["p@20"] == pytest.approx(2 / 20)
    assert m["recall@100"] == pytest.approx(2 / 3)
    assert m["map"] == pytest.approx((1 + 2 / 3) / 3)
    assert m["ndcg@50"] == pytest.approx((1 + 1 / L4) / (1 + 1 / L3 + 1 / L4))
    assert list(ranking_metrics(RANKED, RELEVANT, k=10)) == ["ndcg@10", "p@20", "recall@100", "map"]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        average_precision(["a", "b", "a"], {"a"})
    with pytest.raises(ValueError, match="positive"):
        precision_at_k(RANKED, RELEVANT, 0)


@given(st.lists(st.integers(0, 30), unique=True, max_size=30), st.sets(st.integers(0, 40), max_size=20),
       st.integers(1, 40))
def test_metric_invariants(ranked: list[int], relevant: set[int], k: int) -> None:
    for value in (ndcg_at_k(ranked, relevant, k), precision_at_k(ranked, relevant, k),
                  recall_at_k(ranked, relevant, k), average_precision(ranked, relevant)):
        assert 0.0 <= value <= 1.0 + 1e-12
    hits = len(set(ranked[:k]) & relevant)
    assert precision_at_k(ranked, relevant, k) * k == pytest.approx(hits)
    if relevant:
        assert recall_at_k(ranked, relevant, k) * len(relevant) == pytest.approx(hits)
        ideal = sorted(ranked, key=lambda x: x not in relevant)  # relevant first: best possible order
        assert ndcg_at_k(ideal, relevant, k) >= ndcg_at_k(ranked, relevant, k) - 1e-12
        assert average_precision(ideal, relevant) >= average_precision(ranked, relevant) - 1e-12
