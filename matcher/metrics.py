"""Ranking-quality metrics with binary relevance, as pure functions of (ranked ids, relevant ids).

Conventions (the usual ``trec_eval`` ones):

- ``ranked`` is the ranking best first; ids must not repeat (``ValueError`` otherwise).
- a relevant id that is not in ``ranked`` was not retrieved: it is never in a top k and adds zero
  precision to AP, but it counts in every denominator that uses the number of relevant ids.
- ``relevant`` empty: the metrics are undefined; these functions return 0.0 and callers that average
  over queries should leave such queries out (:func:`matcher.evaluate.evaluate_bench` does).

NDCG@k uses the log2 discount ``1 / log2(rank + 1)`` (rank 1 counts fully) and the ideal DCG of
``min(k, len(relevant))`` relevant ids at the top.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Sequence

__all__ = [
    "average_precision",
    "dcg_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_metrics",
    "recall_at_k",
    "METRIC_KEYS",
]


def _check(ranked: Sequence[Hashable], k: int | None = None) -> None:
    if k is not None and k < 1:
        raise ValueError(f"cut-off k = {k}: must be a positive integer")
    seen: set[Hashable] = set()
    for x in ranked:
        if x in seen:
            raise ValueError(f"ranking lists id {x!r} more than once: each id may appear once")
        seen.add(x)


def _hits(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> int:
    return sum(1 for x in ranked[:k] if x in relevant)


def dcg_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Discounted cumulative gain of the top ``k``: sum of ``1 / log2(rank + 1)`` over relevant hits."""
    _check(ranked, k)
    return sum(1.0 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in relevant)


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """DCG@k divided by the DCG of an ideal ranking (all relevant ids first); 0.0 when nothing is relevant."""
    n_ideal = min(k, len(relevant))
    if n_ideal == 0:
        _check(ranked, k)
        return 0.0
    ideal = sum(1.0 / math.log2(i + 2) for i in range(n_ideal))
    return dcg_at_k(ranked, relevant, k) / ideal


def precision_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Relevant ids among the top ``k``, divided by ``k`` (also when fewer than ``k`` ids were ranked)."""
    _check(ranked, k)
    return _hits(ranked, relevant, k) / k


def recall_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Relevant ids among the top ``k``, divided by the number of relevant ids; 0.0 when there are none."""
    _check(ranked, k)
    if not relevant:
        return 0.0
    return _hits(ranked, relevant, k) / len(relevant)


def average_precision(ranked: Sequence[Hashable], relevant: Collection[Hashable]) -> float:
    """Mean over all relevant ids of the precision at the rank where each is found (0 when not ranked)."""
    _check(ranked)
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for i, x in enumerate(ranked, 1):
        if x in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


#: keys of :func:`ranking_metrics` for the default cut-off (NDCG@50)
METRIC_KEYS = ("ndcg@50", "p@20", "recall@100", "map")


def ranking_metrics(ranked: Sequence[Hashable], relevant: Collection[Hashable], *, k: int = 50) -> dict[str, float]:
    """The benchmark's four figures for one query: ``ndcg@{k}``, ``p@20``, ``recall@100`` and ``map`` (AP)."""
    rel = relevant if isinstance(relevant, set | frozenset) else set(relevant)
    return {
        f"ndcg@{k}": ndcg_at_k(ranked, rel, k),
        "p@20": precision_at_k(ranked, rel, 20),
        "recall@100": recall_at_k(ranked, rel, 100),
        "map": average_precision(ranked, rel),
    }
