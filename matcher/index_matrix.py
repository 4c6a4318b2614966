"""The in-memory firm index: a sparse firm-by-term matrix, a firm-by-industry matrix and the structured columns.

The matrices are held as plain NumPy arrays (CSC for terms: one contiguous posting list per term; CSR for
industries), so loading and querying need neither SciPy nor a rebuild; :attr:`FirmIndex.X` and
:attr:`FirmIndex.C` give SciPy views when wanted. :class:`FirmIndex` scores rows (BM25, industry
confidences) and grows by blocks of row dicts (replaced firms' rows are marked dead until
:meth:`FirmIndex.compact`). Reading it from the store and its files on disk are :mod:`matcher.index`'s job.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FirmIndex"]


def _counts_block(token_lists: Iterable[str | None], vocab: dict[str, int], terms: list[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays (indptr, term ids, counts) of space-separated token strings; new terms join ``vocab``."""
    indptr = [0]
    indices: list[int] = []
    data: list[int] = []
    get = vocab.get
    for text in token_lists:
        counts = Counter(text.split()) if text else {}
        for t in counts:
            j = get(t)
            if j is None:
                j = vocab[t] = len(terms)
                terms.append(t)
            indices.append(j)
        data.extend(counts.values())
        indptr.append(len(indices))
    return (np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int32),
            np.array(data, dtype=np.float32))


def _csr_to_csc(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC arrays (column pointers, row ids, values) of a CSR matrix; rows stay sorted within a column."""
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    counts = np.bincount(indices, minlength=n_cols)
    colptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(counts, out=colptr[1:])
    return colptr, rows[order], data[order]


class FirmIndex:
    """Rows are firms (``ids``; a replaced firm's old row stays, dead, until :meth:`compact`)."""

    def __init__(self, *, ids: np.ndarray, live: np.ndarray, x: tuple[np.ndarray, np.ndarray, np.ndarray],
                 terms: list[str], c: tuple[np.ndarray, np.ndarray, np.ndarray], codes: list[str],
                 capital: np.ndarray, insured: np.ndarray, lon: np.ndarray, lat: np.ndarray, status: np.ndarray,
                 province: np.ndarray, city: np.ndarray, cats: dict[str, list[str]], revision: int, version: str,
                 dl: np.ndarray | None = None, df: np.ndarray | None = None) -> None:
        self.ids, self.live = ids, live
        self.x_ptr, self.x_rows, self.x_tf = x  # CSC: term j's postings are x_rows/x_tf[x_ptr[j]:x_ptr[j+1]]
        self.c_ptr, self.c_codes, self.c_conf = c  # CSR: row i's industries are c_codes/c_conf[c_ptr[i]:c_ptr[i+1]]
        self.terms, self.codes = terms, codes
        self.capital, self.insured, self.lon, self.lat = capital, insured, lon, lat  # 万元 CNY / staff / degrees
        self.status, self.province, self.city, self.cats = status, province, city, cats  # category ids (-1 unknown)
        self.revision, self.version = revision, version
        self._dl, self._df = dl, df  # document lengths per row; live document frequency per term
        self._vocab = {t: i for i, t in enumerate(terms)}
        self._code_ix = {c: i for i, c in enumerate(codes)}
        self._row_of: dict[int, int] | None = None
        self._avgdl: float | None = None
        self._n_live: int | None = None
        self._weights: tuple[tuple[float, float], np.ndarray] | None = None  # BM25 weights per posting
        self._codes_csc: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.memo: dict[Any, Any] = {}  # results derived from this state (cleared on every change)

    # -- sizes and lookups -------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_live(self) -> int:
        if self._n_live is None:
            self._n_live = int(np.count_nonzero(self.live))
        return self._n_live

    def row_of(self, enterprise_id: int) -> int | None:
        if self._row_of is None:
            live_rows = np.flatnonzero(self.live)
            self._row_of = dict(zip(self.ids[live_rows].tolist(), live_rows.tolist(), strict=True))
        return self._row_of.get(int(enterprise_id))

    def term_id(self, term: str) -> int | None:
        return self._vocab.get(term)

    @property
    def X(self) -> Any:  # noqa: N802 - the usual name of a document-term matrix
        """Term counts as a SciPy CSC matrix (rows x terms)."""
        import scipy.sparse as sp

        return sp.csc_matrix((self.x_tf, self.x_rows, self.x_ptr), shape=(self.n_rows, len(self.terms)))

    @property
    def C(self) -> Any:  # noqa: N802
        """Industry confidences as a SciPy CSR matrix (rows x codes)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.c_conf, self.c_codes, self.c_ptr), shape=(self.n_rows, len(self.codes)))

    # -- BM25 --------------------------------------------------------------------------------------
    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        """(live document frequency per term, length per row)."""
        if self._dl is None:
            self._dl = np.bincount(self.x_rows, weights=self.x_tf, minlength=self.n_rows).astype(np.float32)
        if self._df is None:
            self._df = _per_term(self.x_ptr, None if self.live.all() else self.live[self.x_rows]).astype(np.float64)
        return self._df, self._dl

    def avgdl(self) -> float:
        """Mean length of the live rows."""
        if self._avgdl is None:
            _, dl = self._stats()
            self._avgdl = float(dl[self.live].mean()) if self.n_live else 1.0
        return self._avgdl

    def _bm25_weights(self, k1: float, b: float) -> np.ndarray:
        """Per posting, its BM25 contribution to a query of weight 1: ``idf * tf (k1 + 1) / (tf + k1 (1 - b +
        b dl / avgdl))`` (float32, computed once per k1, b and index state, as bm25s does eagerly)."""
        if self._weights is None or self._weights[0] != (k1, b):
            df, dl = self._stats()
            n = max(self.n_live, 1)
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            norm = k1 * (1.0 - b + b * dl.astype(np.float64) / max(self.avgdl(), 1e-9))
            w = np.empty(self.x_tf.size, dtype=np.float32)
            ptr = np.asarray(self.x_ptr)
            bounds = np.unique(np.searchsorted(ptr, np.arange(0, w.size, 1 << 22), side="right") - 1)
            if not w.size:  # an empty index (no firms yet): nothing to weigh
                bounds = np.zeros(0, dtype=np.int64)
            for t0, t1 in zip(bounds.tolist(), [*bounds[1:].tolist(), len(self.terms)][: len(bounds)], strict=True):
                lo, hi = int(ptr[t0]), int(ptr[t1])  # terms t0..t1: slices keep the temporaries small
                tf = self.x_tf[lo:hi].astype(np.float64)
                w[lo:hi] = np.repeat(idf[t0:t1], np.diff(ptr[t0:t1 + 1])) * tf * (k1 + 1.0) / (tf + norm[self.x_rows[lo:hi]])
            self._weights = ((k1, b), w)
        return self._weights[1]

    def bm25(self, query: dict[str, float], *, k1: float, b: float) -> np.ndarray:
        """BM25 (Lucene idf ``ln(1 + (N - df + .5) / (df + .5))``) of every row for a weighted query.

        Each query term adds its precomputed posting weights (times the term's query weight) to the rows
        of its posting list, which are sorted: a near-sequential scatter, no per-query arithmetic on tf."""
        w = self._bm25_weights(k1, b)
        ptr, rows = self.x_ptr, self.x_rows
        scores = np.zeros(self.n_rows, dtype=np.float32)
        for term, qw in query.items():
            j = self._vocab.get(term)
            if j is None or qw <= 0:
                continue
            lo, hi = int(ptr[j]), int(ptr[j + 1])
            if lo < hi:
                np.add.at(scores, rows[lo:hi], w[lo:hi] if qw == 1.0 else w[lo:hi] * np.float32(qw))
        out = scores.astype(np.float64)
        out[self._dead()] = 0.0
        return out

    def _dead(self) -> np.ndarray:
        """Rows of replaced firms (kept until :meth:`compact`)."""
        if "dead" not in self.memo:
            self.memo["dead"] = np.flatnonzero(~self.live)
        return self.memo["dead"]

    def idf(self, term: str) -> float:
        df, _ = self._stats()
        j = self._vocab.get(term)
        n = max(self.n_live, 1)
        d = 0.0 if j is None else float(df[j])
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    # -- industries --------------------------------------------------------------------------------
    def industry_scores(self, wanted: Mapping[str, float]) -> np.ndarray:
        """Per row: max over the firm's codes of confidence x ``wanted[code]`` (``wanted`` by code)."""
        w = np.zeros(len(self.codes), dtype=np.float32)
        for code, value in wanted.items():
            i = self._code_ix.get(code)
            if i is not None:
                w[i] = float(value)
        if not w.any() or self.c_conf.size == 0:
            return np.zeros(self.n_rows, dtype=np.float64)
        ptr, rows, conf = self._by_code()
        best = np.zeros(self.n_rows, dtype=np.float32)  # confidences and weights are >= 0
        for i in np.flatnonzero(w).tolist():  # only the firms of the wanted codes are touched
            lo, hi = int(ptr[i]), int(ptr[i + 1])
            if lo < hi:
                np.maximum.at(best, rows[lo:hi], conf[lo:hi] * w[i])
        out = best.astype(np.float64)
        out[self._dead()] = 0.0
        return out

    def _by_code(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The industry matrix code by code (CSC: each code's rows and confidences), made once per state."""
        if self._codes_csc is None:
            self._codes_csc = _csr_to_csc(np.asarray(self.c_ptr), np.asarray(self.c_codes), np.asarray(self.c_conf),
                                          len(self.codes))
        return self._codes_csc

    # -- persistence (the file format is :mod:`matcher.index`'s) -----------------------------------
    def save(self, folder: Path) -> None:
        """Write the index files into ``folder`` (:func:`matcher.index.save_index`)."""
        from .index import save_index

        save_index(self, folder)

    @classmethod
    def load(cls, folder: Path) -> FirmIndex | None:
        """The saved index, or None when absent, of another format, or unreadable (it is then rebuilt).
        Arrays are memory-mapped: loading costs no more than reading the JSON tables."""
        from .index import read_index

        return read_index(folder, cls)

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def empty(cls, version: str) -> FirmIndex:
        z = np.zeros(0, dtype=np.float32)
        i32 = np.zeros(0, dtype=np.int32)
        return cls(ids=np.zeros(0, dtype=np.int64), live=np.zeros(0, dtype=bool),
                   x=(np.zeros(1, dtype=np.int64), i32, z), terms=[], c=(np.zeros(1, dtype=np.int64), i32, z),
                   codes=[], capital=z, insured=z.copy(), lon=z.copy(), lat=z.copy(), status=i32,
                   province=i32.copy(), city=i32.copy(), cats={"status": [], "province": [], "city": []},
                   revision=0, version=version)

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add firms (replacing the live rows of the same ids)."""
        self.extend([rows])

    def extend(self, blocks: Iterable[Sequence[dict[str, Any]]]) -> None:
        """Add firms given as blocks of row dicts (replacing the live rows of the same ids), merging them into
        the matrices once, however many blocks: a full build costs one pass, not one per block."""
        n0, t0 = self.n_rows, len(self.terms)
        dl_old = self._stats()[1] if n0 else np.zeros(0, dtype=np.float32)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ids", "cap", "ins", "lon", "lat", "st", "pr", "ci")}
        x_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        c_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        new_rows = 0
        for rows in blocks:
            if not rows:
                continue
            x_parts.append(_counts_block((r["tokens"] for r in rows), self._vocab, self.terms))
            c_parts.append(self._codes_block(rows))
            parts["ids"].append(np.array([int(r["id"]) for r in rows], dtype=np.int64))
            for key, name in (("cap", "capital_wan_cny"), ("ins", "insured"), ("lon", "lon"), ("lat", "lat")):
                parts[key].append(np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows],
                                           dtype=np.float32))
            for key, name in (("st", "status"), ("pr", "province"), ("ci", "city")):
                parts[key].append(self._categories(name, [r.get(name) for r in rows]))
            new_rows += len(rows)
        if not new_rows:
            return
        new_ids = np.concatenate(parts["ids"])
        live = np.array(self.live, dtype=bool)
        if n0:  # a firm already in the index: its old row dies
            live &= ~np.isin(self.ids, new_ids)
        x_ptr, x_idx, x_val = _stack_csr(x_parts)
        x_parts.clear()
        self._merge_terms(x_ptr, x_idx, x_val, n0, t0)
        del x_idx
        c_ptr, c_idx, c_val = _stack_csr(c_parts)
        c_parts.clear()
        self.c_ptr = np.concatenate([self.c_ptr[:-1], c_ptr + self.c_ptr[-1]])
        self.c_codes = np.concatenate([self.c_codes, c_idx])
        self.c_conf = np.concatenate([self.c_conf, c_val])
        self.ids = np.concatenate([self.ids, new_ids])
        self.live = np.concatenate([live, np.ones(new_rows, dtype=bool)])
        self.capital = np.concatenate([self.capital, *parts["cap"]])
        self.insured = np.concatenate([self.insured, *parts["ins"]])
        self.lon = np.concatenate([self.lon, *parts["lon"]])
        self.lat = np.concatenate([self.lat, *parts["lat"]])
        self.status = np.concatenate([self.status, *parts["st"]])
        self.province = np.concatenate([self.province, *parts["pr"]])
        self.city = np.concatenate([self.city, *parts["ci"]])
        dl_new = np.bincount(np.repeat(np.arange(new_rows), np.diff(x_ptr)), weights=x_val, minlength=new_rows)
        self._dl = np.concatenate([dl_old, dl_new.astype(np.float32)])
        self._df, self._avgdl, self._weights, self._row_of, self._n_live = None, None, None, None, None
        self._codes_csc = None
        self.memo.clear()

    def _merge_terms(self, ptr: np.ndarray, idx: np.ndarray, val: np.ndarray, n0: int, t0: int) -> None:
        """Append CSR rows (term ids may be new) to the CSC term matrix: each column keeps its old postings,
        then the new ones, so row ids stay sorted within a column."""
        n_terms = len(self.terms)
        if n0 == 0:
            self.x_ptr, self.x_rows, self.x_tf = _csr_to_csc(ptr, idx, val, n_terms)
            return
        old_counts = np.zeros(n_terms, dtype=np.int64)
        old_counts[:t0] = np.diff(self.x_ptr)
        b_ptr, b_rows, b_val = _csr_to_csc(ptr, idx, val, n_terms)
        new_counts = np.diff(b_ptr)
        x_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(old_counts + new_counts, out=x_ptr[1:])
        rows = np.empty(int(x_ptr[-1]), dtype=np.int32)
        tf = np.empty(int(x_ptr[-1]), dtype=np.float32)
        # old posting p of term j moves by the new postings of the terms before j
        shift_old = np.repeat(x_ptr[:t0] - self.x_ptr[:-1], old_counts[:t0])
        at_old = np.arange(self.x_rows.size, dtype=np.int64) + shift_old
        rows[at_old], tf[at_old] = self.x_rows, self.x_tf
        at_new = np.arange(b_rows.size, dtype=np.int64) + np.repeat(x_ptr[:-1] + old_counts - b_ptr[:-1], new_counts)
        rows[at_new], tf[at_new] = b_rows + n0, b_val
        self.x_ptr, self.x_rows, self.x_tf = x_ptr, rows, tf

    def _codes_block(self, rows: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ptr, idx, val = [0], [], []
        for r in rows:
            for code, conf in (r.get("industry_codes") or {}).items():
                i = self._code_ix.get(code)
                if i is None:
                    i = self._code_ix[code] = len(self.codes)
                    self.codes.append(code)
                idx.append(i)
                val.append(float(conf))
            ptr.append(len(idx))
        return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int32), np.array(val, dtype=np.float32)

    def _categories(self, name: str, values: list[str | None]) -> np.ndarray:
        table = self.cats.setdefault(name, [])
        pos = {v: i for i, v in enumerate(table)}
        out = np.empty(len(values), dtype=np.int32)
        for k, v in enumerate(values):
            if not v:
                out[k] = -1
                continue
            i = pos.get(v)
            if i is None:
                i = pos[v] = len(table)
                table.append(v)
            out[k] = i
        return out

    def compact(self) -> None:
        """Drop dead rows (after many updates)."""
        keep = np.flatnonzero(self.live)
        new_row = np.full(self.n_rows, -1, dtype=np.int64)
        new_row[keep] = np.arange(keep.size)
        alive = self.live[self.x_rows]
        per_term = _per_term(self.x_ptr, alive)
        x_ptr = np.zeros(len(self.terms) + 1, dtype=np.int64)
        np.cumsum(per_term, out=x_ptr[1:])
        self.x_ptr, self.x_rows, self.x_tf = x_ptr, new_row[self.x_rows[alive]].astype(np.int32), self.x_tf[alive]
        counts = np.diff(self.c_ptr)[keep]
        sel = np.repeat(self.live, np.diff(self.c_ptr))
        self.c_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.c_codes, self.c_conf = self.c_codes[sel], self.c_conf[sel]
        dl = self._stats()[1][keep]
        for name in ("ids", "live", "capital", "insured", "lon", "lat", "status", "province", "city"):
            setattr(self, name, np.asarray(getattr(self, name))[keep])
        self._dl, self._df, self._avgdl, self._weights, self._row_of, self._n_live = dl, None, None, None, None, None
        self._codes_csc = None
        self.memo.clear()


def _per_term(ptr: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Postings per column of a CSC matrix, counting only those where ``mask`` is true (all when None)."""
    counts = np.diff(ptr)
    if mask is None:
        return counts.astype(np.int64)
    out = np.zeros(counts.size, dtype=np.int64)
    nonempty = np.flatnonzero(counts > 0)
    if nonempty.size:
        out[nonempty] = np.add.reduceat(mask, ptr[nonempty], dtype=np.int64)
    return out


def _stack_csr(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One CSR matrix of row blocks."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [int(p[0][-1]) for p in parts[:-1]])
    ptr = np.concatenate([[0]] + [p[0][1:] + off for p, off in zip(parts, offsets, strict=True)])
    return ptr.astype(np.int64), np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
