"""The firm index: a sparse firm-by-term matrix, a firm-by-industry matrix and the structured columns.

Built from the tokens and industry codes cached in the store at ingest (ranking never re-tokenises the
corpus), saved as plain versioned files beside the database (NumPy ``.npy`` arrays + JSON, no pickle) and
updated incrementally: firms whose store ``revision`` is newer than the index's are appended, the rows they
replace are marked dead, and the files are rewritten. A change of analyzer or knowledge-base version
re-analyses the stale firms first (:func:`refresh_analysis`), with a progress bar.

Files in ``Store.index_dir`` (:func:`save_index`, :func:`read_index`): ``meta.json`` (format version,
analysis version, store revision, counts; written last), ``terms.json``, ``codes.json``, ``cats.json``
(status / province / city category tables) and one ``.npy`` per array (memory-mapped on load).

:class:`FirmIndex` itself (the matrices as plain NumPy arrays, scoring, appending, compaction) is in
:mod:`matcher.index_matrix`; this module reads it from the store, writes and reads its files and keeps it
up to date (:func:`load_index`). Import the index from here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, Text, bindparam, func, select, type_coerce

from .index_matrix import FirmIndex
from .store import Enterprise, Store

__all__ = ["INDEX_FORMAT", "FirmIndex", "analysis_version", "load_index", "read_index", "refresh_analysis",
           "save_index"]

INDEX_FORMAT = 2
_CHUNK = 20_000
_ROW_ARRAYS = ("ids", "live", "capital", "insured", "lon", "lat", "status", "province", "city", "dl")


def analysis_version() -> str:
    """Version of what ingest caches per firm: analyzer rules + dictionaries + industry knowledge."""
    from .analyze import get_analyzer
    from .industry import knowledge_fingerprint

    return f"{get_analyzer().version}+kb{knowledge_fingerprint()}"


# -- the files: one .npy per array, the tables as JSON, meta.json written last ------------------
def _arrays(idx: FirmIndex) -> dict[str, np.ndarray]:
    df, dl = idx._stats()
    k_ptr, k_rows, k_conf = idx._by_code()
    if idx._weights is not None:  # the BM25 weights in use (else the default k1, b's) are saved too
        bm25_w = idx._bm25_weights(*idx._weights[0])
    else:
        from .config import MatchConfig

        default = MatchConfig()
        bm25_w = idx._bm25_weights(default.k1, default.b)
    return {"x_ptr": idx.x_ptr, "x_rows": idx.x_rows, "x_tf": idx.x_tf, "c_ptr": idx.c_ptr,
            "c_codes": idx.c_codes, "c_conf": idx.c_conf, "df": df, "k_ptr": k_ptr, "k_rows": k_rows,
            "k_conf": k_conf, "bm25_w": bm25_w,
            **{name: getattr(idx, name) for name in _ROW_ARRAYS if name != "dl"}, "dl": dl}


def save_index(idx: FirmIndex, folder: Path) -> None:
    """Write ``idx`` into ``folder`` (files of :data:`INDEX_FORMAT`; ``meta.json`` replaced last)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".tmp"
    tmp.mkdir(exist_ok=True)
    for name, arr in _arrays(idx).items():
        np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr))
    (tmp / "terms.json").write_text(json.dumps(idx.terms, ensure_ascii=False), encoding="utf-8")
    (tmp / "codes.json").write_text(json.dumps(idx.codes), encoding="utf-8")
    (tmp / "cats.json").write_text(json.dumps(idx.cats, ensure_ascii=False), encoding="utf-8")
    meta = {"format": INDEX_FORMAT, "version": idx.version, "revision": idx.revision,
            "rows": idx.n_rows, "live": idx.n_live, "terms": len(idx.terms), "codes": len(idx.codes),
            "bm25_k1_b": list(idx._weights[0]) if idx._weights else None}
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "meta.json").unlink(missing_ok=True)  # a crash from here on leaves an index that is rebuilt
    for f in tmp.iterdir():
        if f.name != "meta.json":
            os.replace(f, folder / f.name)
    os.replace(tmp / "meta.json", folder / "meta.json")
    tmp.rmdir()
    for old in ("matrix.npz", "industries.npz", "rows.npz"):  # files of format 1
        (folder / old).unlink(missing_ok=True)


def read_index(folder: Path, cls: type[FirmIndex] = FirmIndex) -> FirmIndex | None:
    """The index saved in ``folder``, or None when absent, of another format, or unreadable (it is then
    rebuilt). Arrays are memory-mapped: loading costs no more than reading the JSON tables."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != INDEX_FORMAT:
            return None
        a = {name: _mapped(folder / f"{name}.npy")
             for name in ("x_ptr", "x_rows", "x_tf", "c_ptr", "c_codes", "c_conf", "df", *_ROW_ARRAYS)}
        idx = cls(ids=a["ids"], live=np.array(a["live"]), x=(a["x_ptr"], a["x_rows"], a["x_tf"]),
                  c=(a["c_ptr"], a["c_codes"], a["c_conf"]), capital=a["capital"], insured=a["insured"],
                  lon=a["lon"], lat=a["lat"], status=a["status"], province=a["province"], city=a["city"],
                  terms=json.loads((folder / "terms.json").read_text(encoding="utf-8")),
                  codes=json.loads((folder / "codes.json").read_text(encoding="utf-8")),
                  cats=json.loads((folder / "cats.json").read_text(encoding="utf-8")),
                  revision=int(meta["revision"]), version=str(meta["version"]), dl=a["dl"], df=a["df"])
        if idx.n_rows != meta["rows"] or len(idx.terms) != meta["terms"] or idx.x_ptr.size != len(idx.terms) + 1:
            return None
        extra = {name: _mapped(folder / f"{name}.npy")
                 for name in ("k_ptr", "k_rows", "k_conf", "bm25_w") if (folder / f"{name}.npy").exists()}
        if {"k_ptr", "k_rows", "k_conf"} <= extra.keys() and extra["k_ptr"].size == len(idx.codes) + 1:
            idx._codes_csc = (extra["k_ptr"], extra["k_rows"], extra["k_conf"])
        if meta.get("bm25_k1_b") and "bm25_w" in extra and extra["bm25_w"].size == idx.x_tf.size:
            k1, b = meta["bm25_k1_b"]
            idx._weights = ((float(k1), float(b)), extra["bm25_w"])
        return idx
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mapped(path: Path) -> np.ndarray:
    """A saved array, memory-mapped read-only (pages are read when used), as a plain ndarray view."""
    return np.asarray(np.load(path, mmap_mode="r"))


# -- reading the store --------------------------------------------------------------------------
# Rough exchange rates to compare registered capital across currencies (size is a coarse factor).
_TO_CNY = {"CNY": 1.0, "USD": 7.1, "HKD": 0.91, "EUR": 7.7, "JPY": 0.048, "GBP": 9.0, "TWD": 0.22}

# industry codes read as stored (JSON text in SQLite) and decoded a block at a time: one json.loads per block
_ROW_COLUMNS = (Enterprise.id, Enterprise.tokens, type_coerce(Enterprise.industry_codes, Text).label("codes_json"),
                Enterprise.status, Enterprise.province, Enterprise.city, Enterprise.reg_capital, Enterprise.reg_currency,
                Enterprise.insured)


def _decode_codes(values: Sequence[Any]) -> list[Any]:
    """JSON texts (or values a driver already decoded) as Python values, the texts in one ``json.loads``."""
    texts = [v for v in values if isinstance(v, str)]
    decoded = iter(json.loads("[" + ",".join(texts) + "]")) if texts else iter(())
    return [next(decoded) if isinstance(v, str) else v for v in values]


def _row_dict(r: Any, codes: Any, coords: dict[tuple[str, str], tuple[float, float] | None]) -> dict[str, Any]:
    cap = r.reg_capital
    if cap is not None:
        cap = cap * _TO_CNY.get((r.reg_currency or "CNY").upper(), 1.0)
    lonlat = coords.get((r.province or "", r.city or ""))
    return {"id": r.id, "tokens": r.tokens, "industry_codes": codes, "status": r.status,
            "province": r.province, "city": r.city, "capital_wan_cny": cap, "insured": r.insured,
            "lon": lonlat[0] if lonlat else None, "lat": lonlat[1] if lonlat else None}


def _coords_for(rows: Sequence[Any], known: dict[tuple[str, str], tuple[float, float] | None] | None = None
                ) -> dict[tuple[str, str], tuple[float, float] | None]:
    out = known if known is not None else {}
    todo = {(r.province or "", r.city or "") for r in rows} - out.keys()
    if todo:
        from .normalize import city_coordinates

        for province, city in todo:
            out[(province, city)] = city_coordinates(province or None, city or None) if (province or city) else None
    return out


def _stale_filter(version: str, since: int | None) -> Any:
    cond = (Enterprise.analyzer_version != version) | Enterprise.analyzer_version.is_(None)
    return cond if since is None else cond & (Enterprise.revision > since)


def refresh_analysis(store: Store, *, progress: bool | None = None, since: int | None = None,
                     workers: int | None = None) -> int:
    """Re-analyse firms whose cached tokens were made by another analyzer or knowledge version (only those
    changed after store revision ``since``, when given); in worker processes when there are many."""
    from .ingest import analysis_pool, analyze_rows

    version = analysis_version()
    cols = (Enterprise.id, Enterprise.name, Enterprise.scope, Enterprise.intro, Enterprise.industry)
    with store.engine.connect() as conn:
        stale = conn.execute(select(func.count()).select_from(Enterprise).where(_stale_filter(version, since))
                             ).scalar_one()
    if not stale:
        return 0
    from tqdm import tqdm

    # progress None: a bar on a terminal only (tqdm's own test), so a CLI user sees long re-analyses
    bar = tqdm(total=stale, desc="重新分析 re-analysing", unit="firm", disable=None if progress is None else not progress)
    pool = analysis_pool(stale, workers)
    done = 0
    try:
        while True:
            with store.begin() as conn:
                rows = conn.execute(select(*cols).where(_stale_filter(version, since)).limit(_CHUNK)).all()
                if not rows:
                    break
                results = analyze_rows([dict(r._mapping) for r in rows], pool=pool, progress=bar.update)
                rev = store.next_revision(conn)
                table = cast(Table, Enterprise.__table__)
                conn.execute(table.update().where(table.c.id == bindparam("_id")), [
                    {"_id": r.id, "tokens": toks, "industry_codes": codes, "analyzer_version": version, "revision": rev}
                    for r, (toks, codes) in zip(rows, results, strict=True)
                ])
            done += len(rows)
    finally:
        if pool is not None:
            pool.close()
        bar.close()
    return done


_CACHE: dict[str, FirmIndex] = {}


def _store_state(store: Store, *, count: bool = True) -> tuple[int, int | None]:
    """(highest firm revision, number of firms): an index lookup, and a count when asked."""
    with store.engine.connect() as conn:
        revision = conn.execute(select(func.max(Enterprise.revision))).scalar_one() or 0
        n = conn.execute(select(func.count()).select_from(Enterprise)).scalar_one() if count else None
    return int(revision), n


def _read_rows(store: Store, since: int | None) -> Iterable[list[dict[str, Any]]]:
    """Row dicts of the firms changed after revision ``since`` (all when None), in blocks, by id."""
    query = select(*_ROW_COLUMNS).order_by(Enterprise.id)
    if since is not None:
        query = query.where(Enterprise.revision > since)
    coords: dict[tuple[str, str], tuple[float, float] | None] = {}
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=_CHUNK).execute(query)
        for part in result.partitions(_CHUNK):
            _coords_for(part, coords)
            codes = _decode_codes([r.codes_json for r in part])
            yield [_row_dict(r, c, coords) for r, c in zip(part, codes, strict=True)]


def load_index(store: Store, *, progress: bool | None = None, save: bool = True) -> FirmIndex:
    """The up-to-date index of ``store``: loaded, then updated with what changed since it was saved.

    A loaded index whose analysis version and store revision are current is used as is, after one indexed
    query (the highest revision; the number of firms is checked too on the first load in a process and
    whenever the revision moved). Otherwise stale firms are re-analysed, changed firms appended (their old
    rows marked dead), and the files rewritten; a store with fewer firms than the index is rebuilt.
    """
    version = analysis_version()
    cached = _CACHE.get(store.url)
    revision, n_firms = _store_state(store, count=cached is None)
    if cached is not None and cached.version == version and cached.revision == revision:
        return cached
    if n_firms is None:
        revision, n_firms = _store_state(store)
    idx = cached if cached is not None and cached.version == version else read_index(store.index_dir)
    if idx is not None and (idx.version != version or idx.revision > revision):
        idx = None  # another analysis version, or a store that was replaced: rebuild
    if idx is not None and idx.revision == revision and idx.n_live == n_firms:
        _CACHE[store.url] = idx
        return idx
    if refresh_analysis(store, progress=progress, since=None if idx is None else idx.revision):
        revision, n_firms = _store_state(store)
    if idx is None or idx.n_live > (n_firms or 0):
        idx = FirmIndex.empty(version)  # new, or firms were deleted from the store: build from scratch
    idx.extend(_read_rows(store, None if idx.n_rows == 0 else idx.revision))
    idx.revision = revision
    if idx.n_live != n_firms:  # firms deleted from the store in the meantime: rebuild once
        idx = FirmIndex.empty(version)
        idx.extend(_read_rows(store, None))
        idx.revision = revision
    if idx.n_rows > 1.3 * max(idx.n_live, 1):
        idx.compact()
    if save:
        save_index(idx, store.index_dir)
    _CACHE[store.url] = idx
    return idx
