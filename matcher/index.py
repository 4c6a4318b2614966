"""The firm index: a sparse firm-by-term matrix, a firm-by-industry matrix and the structured columns.

Built from the tokens and industry codes cached in the store at ingest (ranking never re-tokenises the
corpus), saved as plain versioned files beside the database (NPZ arrays + JSON, no pickle) and updated
incrementally: firms whose store ``revision`` is newer than the index's are appended, the rows they
replace are marked dead, and the files are rewritten. A change of analyzer or knowledge-base version
re-analyses the stale firms first (:func:`refresh_analysis`), with a progress bar.

Files in ``Store.index_dir``: ``meta.json`` (format version, analysis version, store revision, counts),
``terms.json``, ``codes.json``, ``matrix.npz`` (CSC term counts), ``industries.npz`` (CSR confidences),
``rows.npz`` (firm ids, live mask, document lengths, capital, insured, coordinates), ``cats.json``
(status / province / city of each row, as category tables).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import bindparam, func, select

from .store import Enterprise, Store

__all__ = ["FirmIndex", "analysis_version", "load_index", "refresh_analysis"]

INDEX_FORMAT = 1
_CHUNK = 20_000


def analysis_version() -> str:
    """Version of what ingest caches per firm: analyzer rules + dictionaries + industry knowledge."""
    from .analyze import get_analyzer
    from .industry import knowledge_fingerprint

    return f"{get_analyzer().version}+kb{knowledge_fingerprint()}"


@dataclass
class FirmIndex:
    ids: np.ndarray  # int64, enterprise id per row
    live: np.ndarray  # bool
    X: sp.csc_matrix  # rows x terms, term counts (float32)
    terms: list[str]
    C: sp.csr_matrix  # rows x codes, industry confidence (float32)
    codes: list[str]
    capital: np.ndarray  # float32 万元 (NaN unknown)
    insured: np.ndarray  # float32 (NaN unknown)
    lon: np.ndarray
    lat: np.ndarray
    status: np.ndarray  # int32 category index into cats["status"] (-1 unknown)
    province: np.ndarray
    city: np.ndarray
    cats: dict[str, list[str]]
    revision: int
    version: str
    _vocab: dict[str, int] = field(default_factory=dict, repr=False)
    _code_ix: dict[str, int] = field(default_factory=dict, repr=False)
    _row_of: dict[int, int] = field(default_factory=dict, repr=False)
    _df: np.ndarray | None = field(default=None, repr=False)
    _dl: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._vocab = {t: i for i, t in enumerate(self.terms)}
        self._code_ix = {c: i for i, c in enumerate(self.codes)}
        live_rows = np.flatnonzero(self.live)
        self._row_of = dict(zip(self.ids[live_rows].tolist(), live_rows.tolist(), strict=True))
        self._df = None
        self._dl = None

    # -- sizes -------------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_live(self) -> int:
        return int(self.live.sum())

    def row_of(self, enterprise_id: int) -> int | None:
        return self._row_of.get(int(enterprise_id))

    def term_id(self, term: str) -> int | None:
        return self._vocab.get(term)

    # -- BM25 --------------------------------------------------------------------------------------
    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if self._df is None or self._dl is None:
            livef = self.live.astype(np.float32)
            present = self.X.copy()
            present.data = np.ones_like(present.data)
            self._df = np.asarray(present.T @ livef).ravel()
            self._dl = np.asarray(self.X.sum(axis=1)).ravel().astype(np.float32)
        return self._df, self._dl

    def bm25(self, query: dict[str, float], *, k1: float, b: float) -> np.ndarray:
        """BM25 (Lucene idf ``ln(1 + (N - df + .5) / (df + .5))``) of every row for a weighted query."""
        df, dl = self._stats()
        n = max(self.n_live, 1)
        avgdl = float(dl[self.live].mean()) if self.n_live else 1.0
        norm = k1 * (1.0 - b + b * dl / max(avgdl, 1e-9))
        scores = np.zeros(self.n_rows, dtype=np.float64)
        indptr, indices, data = self.X.indptr, self.X.indices, self.X.data
        for term, qw in query.items():
            j = self._vocab.get(term)
            if j is None or qw <= 0:
                continue
            lo, hi = indptr[j], indptr[j + 1]
            if lo == hi:
                continue
            rows = indices[lo:hi]
            tf = data[lo:hi]
            idf = math.log(1.0 + (n - df[j] + 0.5) / (df[j] + 0.5))
            scores[rows] += qw * idf * tf * (k1 + 1.0) / (tf + norm[rows])
        scores[~self.live] = 0.0
        return scores

    def idf(self, term: str) -> float:
        df, _ = self._stats()
        j = self._vocab.get(term)
        n = max(self.n_live, 1)
        d = 0.0 if j is None else float(df[j])
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    # -- industries --------------------------------------------------------------------------------
    def industry_scores(self, wanted: dict[str, np.ndarray | float]) -> np.ndarray:
        """Per row: max over the firm's codes of confidence x ``wanted[code]`` (``wanted`` by code)."""
        w = np.zeros(len(self.codes), dtype=np.float32)
        for code, value in wanted.items():
            i = self._code_ix.get(code)
            if i is not None:
                w[i] = float(value)
        if not w.any() or self.C.nnz == 0:
            return np.zeros(self.n_rows, dtype=np.float64)
        prod = self.C.multiply(w.reshape(1, -1)).tocsr()
        out = np.asarray(prod.max(axis=1).todense()).ravel().astype(np.float64)
        out[~self.live] = 0.0
        return out

    # -- persistence -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".tmp"
        tmp.mkdir(exist_ok=True)
        X = self.X.tocsc()
        np.savez(tmp / "matrix.npz", data=X.data, indices=X.indices, indptr=X.indptr, shape=np.array(X.shape))
        C = self.C.tocsr()
        np.savez(tmp / "industries.npz", data=C.data, indices=C.indices, indptr=C.indptr, shape=np.array(C.shape))
        np.savez(tmp / "rows.npz", ids=self.ids, live=self.live, capital=self.capital, insured=self.insured,
                 lon=self.lon, lat=self.lat, status=self.status, province=self.province, city=self.city)
        (tmp / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        (tmp / "codes.json").write_text(json.dumps(self.codes), encoding="utf-8")
        (tmp / "cats.json").write_text(json.dumps(self.cats, ensure_ascii=False), encoding="utf-8")
        meta = {"format": INDEX_FORMAT, "version": self.version, "revision": self.revision,
                "rows": self.n_rows, "live": self.n_live, "terms": len(self.terms), "codes": len(self.codes)}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        for f in tmp.iterdir():  # meta.json last: a crash mid-way leaves an index that is rebuilt
            if f.name != "meta.json":
                os.replace(f, folder / f.name)
        os.replace(tmp / "meta.json", folder / "meta.json")
        tmp.rmdir()

    @classmethod
    def load(cls, folder: Path) -> FirmIndex | None:
        """The saved index, or None when absent, of another format, or unreadable (it is then rebuilt)."""
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != INDEX_FORMAT:
                return None
            m = np.load(folder / "matrix.npz")
            X = sp.csc_matrix((m["data"], m["indices"], m["indptr"]), shape=tuple(m["shape"]))
            c = np.load(folder / "industries.npz")
            C = sp.csr_matrix((c["data"], c["indices"], c["indptr"]), shape=tuple(c["shape"]))
            r = np.load(folder / "rows.npz")
            return cls(ids=r["ids"], live=r["live"], X=X, C=C, capital=r["capital"], insured=r["insured"],
                       lon=r["lon"], lat=r["lat"], status=r["status"], province=r["province"], city=r["city"],
                       terms=json.loads((folder / "terms.json").read_text(encoding="utf-8")),
                       codes=json.loads((folder / "codes.json").read_text(encoding="utf-8")),
                       cats=json.loads((folder / "cats.json").read_text(encoding="utf-8")),
                       revision=int(meta["revision"]), version=str(meta["version"]))
        except (OSError, ValueError, KeyError):
            return None

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def empty(cls, version: str) -> FirmIndex:
        z = np.zeros(0, dtype=np.float32)
        return cls(ids=np.zeros(0, dtype=np.int64), live=np.zeros(0, dtype=bool),
                   X=sp.csc_matrix((0, 0), dtype=np.float32), terms=[], C=sp.csr_matrix((0, 0), dtype=np.float32),
                   codes=[], capital=z, insured=z.copy(), lon=z.copy(), lat=z.copy(),
                   status=np.zeros(0, dtype=np.int32), province=np.zeros(0, dtype=np.int32),
                   city=np.zeros(0, dtype=np.int32), cats={"status": [], "province": [], "city": []},
                   revision=0, version=version)

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add firms (replacing the live rows of the same ids)."""
        if not rows:
            return
        for r in rows:
            old = self._row_of.get(int(r["id"]))
            if old is not None:
                self.live[old] = False
        # term block
        vocab = self._vocab
        terms = self.terms
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for r in rows:
            counts: dict[int, int] = {}
            for t in (r["tokens"] or "").split():
                j = vocab.get(t)
                if j is None:
                    j = vocab[t] = len(terms)
                    terms.append(t)
                counts[j] = counts.get(j, 0) + 1
            indices.extend(counts)
            data.extend(counts.values())
            indptr.append(len(indices))
        block = sp.csr_matrix((np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32),
                               np.array(indptr, dtype=np.int64)), shape=(len(rows), len(terms)))
        X = self.X
        X.resize((X.shape[0], len(terms)))
        self.X = sp.vstack([X, block], format="csc", dtype=np.float32)
        # industry block
        code_ix = self._code_ix
        codes = self.codes
        cptr = [0]
        cidx: list[int] = []
        cdat: list[float] = []
        for r in rows:
            for code, conf in (r.get("industry_codes") or {}).items():
                i = code_ix.get(code)
                if i is None:
                    i = code_ix[code] = len(codes)
                    codes.append(code)
                cidx.append(i)
                cdat.append(float(conf))
            cptr.append(len(cidx))
        cblock = sp.csr_matrix((np.array(cdat, dtype=np.float32), np.array(cidx, dtype=np.int32),
                                np.array(cptr, dtype=np.int64)), shape=(len(rows), len(codes)))
        C = self.C.tocsr()
        C.resize((C.shape[0], len(codes)))
        self.C = sp.vstack([C, cblock], format="csr", dtype=np.float32)

        def cat(name: str, values: list[str | None]) -> np.ndarray:
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

        def num(key: str) -> np.ndarray:
            return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=np.float32)

        self.ids = np.concatenate([self.ids, np.array([int(r["id"]) for r in rows], dtype=np.int64)])
        self.live = np.concatenate([self.live, np.ones(len(rows), dtype=bool)])
        self.capital = np.concatenate([self.capital, num("capital_wan_cny")])
        self.insured = np.concatenate([self.insured, num("insured")])
        self.lon = np.concatenate([self.lon, num("lon")])
        self.lat = np.concatenate([self.lat, num("lat")])
        self.status = np.concatenate([self.status, cat("status", [r.get("status") for r in rows])])
        self.province = np.concatenate([self.province, cat("province", [r.get("province") for r in rows])])
        self.city = np.concatenate([self.city, cat("city", [r.get("city") for r in rows])])
        self._reindex()

    def compact(self) -> None:
        """Drop dead rows (after many updates)."""
        keep = np.flatnonzero(self.live)
        self.X = self.X.tocsr()[keep].tocsc()
        self.C = self.C.tocsr()[keep]
        for name in ("ids", "live", "capital", "insured", "lon", "lat", "status", "province", "city"):
            setattr(self, name, getattr(self, name)[keep])
        self._reindex()


# Rough exchange rates to compare registered capital across currencies (size is a coarse factor).
_TO_CNY = {"CNY": 1.0, "USD": 7.1, "HKD": 0.91, "EUR": 7.7, "JPY": 0.048, "GBP": 9.0, "TWD": 0.22}

_ROW_COLUMNS = (Enterprise.id, Enterprise.tokens, Enterprise.industry_codes, Enterprise.status, Enterprise.province,
                Enterprise.city, Enterprise.reg_capital, Enterprise.reg_currency, Enterprise.insured)


def _row_dict(r: Any, coords: dict[tuple[str, str], tuple[float, float] | None]) -> dict[str, Any]:
    cap = r.reg_capital
    if cap is not None:
        cap = cap * _TO_CNY.get((r.reg_currency or "CNY").upper(), 1.0)
    lonlat = coords.get((r.province or "", r.city or ""))
    return {"id": r.id, "tokens": r.tokens, "industry_codes": r.industry_codes, "status": r.status,
            "province": r.province, "city": r.city, "capital_wan_cny": cap, "insured": r.insured,
            "lon": lonlat[0] if lonlat else None, "lat": lonlat[1] if lonlat else None}


def _coords_for(rows: Sequence[Any]) -> dict[tuple[str, str], tuple[float, float] | None]:
    try:
        from .normalize import city_coordinates
    except ImportError:  # pragma: no cover - normalize ships with the package
        return {}
    out: dict[tuple[str, str], tuple[float, float] | None] = {}
    for r in rows:
        key = (r.province or "", r.city or "")
        if key not in out:
            out[key] = city_coordinates(r.province, r.city) if (r.province or r.city) else None
    return out


def refresh_analysis(store: Store, *, progress: bool = False) -> int:
    """Re-analyse firms whose cached tokens were made by another analyzer or knowledge version."""
    from .ingest import analyze_rows

    version = analysis_version()
    cols = (Enterprise.id, Enterprise.name, Enterprise.scope, Enterprise.intro, Enterprise.industry)
    with store.engine.connect() as conn:
        stale = conn.execute(select(func.count()).select_from(Enterprise)
                             .where((Enterprise.analyzer_version != version) | Enterprise.analyzer_version.is_(None))
                             ).scalar_one()
    if not stale:
        return 0
    from tqdm import tqdm

    bar = tqdm(total=stale, desc="重新分析 re-analysing", unit="firm", disable=not progress)
    done = 0
    while True:
        with store.begin() as conn:
            rows = conn.execute(select(*cols).where(
                (Enterprise.analyzer_version != version) | Enterprise.analyzer_version.is_(None)
            ).limit(_CHUNK)).all()
            if not rows:
                break
            results = analyze_rows([dict(r._mapping) for r in rows])
            rev = store.next_revision(conn)
            table = Enterprise.__table__
            conn.execute(table.update().where(table.c.id == bindparam("_id")), [
                {"_id": r.id, "tokens": toks, "industry_codes": codes, "analyzer_version": version, "revision": rev}
                for r, (toks, codes) in zip(rows, results, strict=True)
            ])
        done += len(rows)
        bar.update(len(rows))
    bar.close()
    return done


_CACHE: dict[str, FirmIndex] = {}


def load_index(store: Store, *, progress: bool = False, save: bool = True) -> FirmIndex:
    """The up-to-date index of ``store``: loaded, then updated with what changed since it was saved."""
    refresh_analysis(store, progress=progress)
    version = analysis_version()
    with store.engine.connect() as conn:
        revision = conn.execute(select(func.max(Enterprise.revision))).scalar_one() or 0
        n_firms = conn.execute(select(func.count()).select_from(Enterprise)).scalar_one()
    idx = _CACHE.get(store.url)
    if idx is None or idx.version != version:
        idx = FirmIndex.load(store.index_dir)
    if idx is not None and (idx.version != version or idx.revision > revision):
        idx = None  # another analysis version, or a store that was replaced: rebuild
    if idx is None:
        idx = FirmIndex.empty(version)
    changed = False
    if idx.revision < revision or idx.n_live != n_firms:
        since = idx.revision if idx.n_live <= n_firms else -1
        if since < 0:
            idx = FirmIndex.empty(version)
        with store.engine.connect() as conn:
            result = conn.execution_options(yield_per=_CHUNK).execute(
                select(*_ROW_COLUMNS).where(Enterprise.revision > (since if since >= 0 else -1))
                .order_by(Enterprise.id))
            for part in result.partitions(_CHUNK):
                coords = _coords_for(part)
                idx.append([_row_dict(r, coords) for r in part])
        idx.revision = revision
        if idx.n_live != n_firms:  # firms deleted from the store: rebuild from scratch once
            idx = FirmIndex.empty(version)
            with store.engine.connect() as conn:
                rows = conn.execute(select(*_ROW_COLUMNS).order_by(Enterprise.id)).all()
            idx.append([_row_dict(r, _coords_for(rows)) for r in rows])
            idx.revision = revision
        if idx.n_rows > 1.3 * max(idx.n_live, 1):
            idx.compact()
        changed = True
    if changed and save:
        idx.save(store.index_dir)
    _CACHE[store.url] = idx
    return idx
