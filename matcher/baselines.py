"""Baseline systems for :mod:`matcher.evaluate`: BM25 and TF-IDF over plain jieba tokens.

The baselines see name + description (in every evaluation mode), tokenised by a private
``jieba.Tokenizer`` with the default dictionary (no user dictionary, no stopwords),
``lcut(name + description)``, whitespace-only tokens dropped; the query is the raw text cut the same way
(repeated query tokens count repeatedly).

- **bm25**: Okapi BM25, k1 = 1.5, b = 0.75, term-frequency saturation
  ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))`` and the Lucene (non-negative) idf
  ``idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5))`` (N firms, n_t firms containing t), as Lucene and
  bm25s' ``lucene`` method (which leave out the constant factor k1 + 1: same ranking). On ../shared/bench it gives NDCG@50 0.408, P@20 0.359, MAP 0.252 in text mode (the
  bench README: about 0.41, 0.37, 0.25); rank_bm25's ``BM25Okapi`` (idf ``ln((N - n + 0.5) / (n + 0.5))``,
  negative values floored at 0.25 x mean idf) gives 0.416, 0.363, 0.253, within 0.01 of it.
- **tfidf**: cosine of scikit-learn ``TfidfVectorizer`` (defaults: smooth idf, l2 norm) vectors of the
  same tokens.

Ties (mostly firms with score 0) keep the order of ``firms.csv``; every baseline ranks every firm.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .evaluate import Bench

__all__ = ["BM25Baseline", "TfidfBaseline", "baseline_tokens"]


@cache
def _baseline_tokenizer() -> Any:
    """A private jieba tokenizer with the default dictionary; its cache lives in the project's data folder."""
    from .analyze import private_jieba

    return private_jieba("jieba.default.cache")


def baseline_tokens(text: str) -> list[str]:
    """jieba ``lcut`` of ``text`` with the default dictionary, whitespace-only tokens dropped."""
    return [t for t in _baseline_tokenizer().lcut(text) if t.strip()]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class BM25Baseline:
    """Okapi BM25 with the Lucene idf over pre-tokenised documents (see the module docstring)."""

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, docs: Sequence[list[str]]) -> BM25Baseline:
        from sklearn.feature_extraction.text import CountVectorizer

        if self.k1 < 0 or not 0 <= self.b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={self.k1}, b={self.b}")
        self.vectorizer_ = CountVectorizer(analyzer=_identity)
        tf = self.vectorizer_.fit_transform(docs).tocsr().astype(np.float64)
        n_docs = tf.shape[0]
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = lengths.mean() if n_docs and lengths.mean() > 0 else 1.0
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        self.idf_ = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1 - self.b + self.b * lengths / avg)
        rows = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
        tf.data = self.idf_[tf.indices] * tf.data * (self.k1 + 1) / (tf.data + norm[rows])
        self.weights_ = tf.tocsc()
        return self

    def scores(self, query: Iterable[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (repeated tokens count repeatedly)."""
        if not hasattr(self, "weights_"):
            raise RuntimeError("BM25Baseline is not fitted: call fit(docs) first")
        vocab = self.vectorizer_.vocabulary_
        counts: dict[int, int] = {}
        for t in query:
            j = vocab.get(t)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(self.weights_.shape[0])
        cols = np.fromiter(counts, dtype=np.int64)
        q = np.fromiter(counts.values(), dtype=np.float64)
        return np.asarray(self.weights_[:, cols] @ q).ravel()


class TfidfBaseline:
    """Cosine similarity of scikit-learn TF-IDF vectors (default settings) over pre-tokenised documents."""

    def fit(self, docs: Sequence[list[str]]) -> TfidfBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer_ = TfidfVectorizer(analyzer=_identity)
        self.matrix_ = self.vectorizer_.fit_transform(docs).tocsr()
        return self

    def scores(self, query: list[str]) -> np.ndarray:
        if not hasattr(self, "matrix_"):
            raise RuntimeError("TfidfBaseline is not fitted: call fit(docs) first")
        q = self.vectorizer_.transform([query])
        return np.asarray((self.matrix_ @ q.T).todense()).ravel()


def _rank_all(scores: np.ndarray, codes: np.ndarray) -> list[str]:
    return codes[np.argsort(-scores, kind="stable")].tolist()


def _run_baselines(bench: Bench, say: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    import sklearn.feature_extraction.text  # noqa: F401 - imported here so that no timing includes it

    say(f"baselines: tokenising {len(bench.firms)} firms with jieba")
    _baseline_tokenizer().initialize()  # dictionary load, not counted as analysis time
    t0 = time.perf_counter()
    docs = [baseline_tokens(n + d) for n, d in zip(bench.firms["name"], bench.firms["description"], strict=True)]
    t_tok = time.perf_counter() - t0
    codes = bench.firms["code"].to_numpy()
    out = {}
    for name, model in (("bm25", BM25Baseline(k1=1.5, b=0.75)), ("tfidf", TfidfBaseline())):
        t0 = time.perf_counter()
        model.fit(docs)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        rankings = {q: _rank_all(model.scores(baseline_tokens(text)), codes)
                    for q, text in zip(bench.queries["query_id"], bench.queries["text"], strict=True)}
        t_rank = time.perf_counter() - t0
        out[name] = {"rankings": rankings, "speed": {
            "firms": len(docs), "analyse_seconds": t_tok, "firms_per_second": len(docs) / max(t_tok, 1e-9),
            "index_seconds": t_fit, "rank_seconds": t_rank, "queries": len(rankings),
            "seconds_per_query": t_rank / max(len(rankings), 1)}}
    return out
