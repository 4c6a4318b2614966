"""Ingest company-data exports (CSV, XLSX, JSON Lines) into the store: read, map columns, validate,
de-duplicate, upsert -- one transaction per file.

* A bad row makes the whole file change nothing: :class:`IngestError` names the file, the first bad row
  (row number as the user sees it, column, value, reason) and how many others are bad. With
  ``skip_invalid`` the good rows are written and the bad ones saved to ``<stem>.rejects.csv``.
* Firms are matched by 统一社会信用代码, else by external id (a stock code or an export's id column), else
  by normalised name + province, within the file and against the store: two rows with different codes or
  different external ids are two firms, whatever their names. Re-ingesting a file changes nothing; a newer export updates what changed; an empty cell never
  wipes a known value.
* Inserted and changed firms get their analysis cache (tokens, industry codes) and one store revision;
  a large file is analysed by worker processes (:class:`matcher.analyze.ChunkPool`), chunk by chunk.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from . import readers
from .columns import ColumnMapping, map_columns
from .errors import InputError
from .readers import CHUNKSIZE, RowError, read_table  # re-exported: `from matcher.ingest import read_table`
from .store import Enterprise, IngestLog, Store

try:
    from .industry import firm_industries
except ImportError:  # pragma: no cover - the industry module is optional
    firm_industries = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .analyze import ChunkPool

__all__ = ["IngestError", "IngestReport", "RowError", "analyze_rows", "ingest_dataframe", "ingest_files", "read_table"]

_T = cast(Table, Enterprise.__table__)
_IN_BATCH = 500
_ANALYSED = ("name", "scope", "intro", "industry")


@dataclass
class IngestReport:
    """What one ingest of one file did. ``read`` = inserted + updated + unchanged + duplicates + rejected."""

    path: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0  # rows merged into an earlier row of the same file (same code, or name + province)
    rejects: list[RowError] = field(default_factory=list)
    rejects_path: str | None = None
    dry_run: bool = False
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("read", "inserted", "updated", "unchanged", "duplicates", "rejected")}


class IngestError(InputError):
    """A file with bad rows: nothing from it was written. ``rejects`` lists every bad cell."""

    def __init__(self, message: str, rejects: list[RowError], report: IngestReport | None = None) -> None:
        super().__init__(message)
        self.rejects = rejects
        self.report = report


class _DryRun(Exception):
    pass


# ---------------------------------------------------------------- de-duplication and writing

def _conflict(a: str | None, b: str | None) -> bool:
    return bool(a and b and a != b)


def _pick(code: str | None, ext: str | None, province: str | None, candidates: Sequence[Any]) -> Any:
    """The firm among same-name ``candidates`` that is this one: same province (or one side unknown), and
    no conflicting credit code or external id."""
    ok = list({c.get("id") or id(c): c for c in candidates
               if not _conflict(code, c["credit_code"]) and not _conflict(ext, c.get("external_id"))}.values())
    same = [c for c in ok if c["province"] == province]
    if same:
        return same[0]
    if province is None and len(ok) == 1:
        return ok[0]
    unknown = [c for c in ok if c["province"] is None]
    return unknown[0] if len(unknown) == 1 else None


def _by_ext(code: str | None, candidates: Sequence[Any]) -> Any:
    """The first firm with the same external id whose credit code does not contradict ``code``."""
    return next((c for c in candidates if not _conflict(code, c.get("credit_code"))), None)


def _batches(items: Sequence[Any], n: int = _IN_BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def analyze_rows(rows: Sequence[Mapping[str, Any]], *, pool: ChunkPool | None = None,
                 progress: Callable[[int], object] | None = None) -> list[tuple[str, dict[str, float] | None]]:
    """(space-separated tokens, industry codes or None) for each firm (keys name, scope, intro, industry).

    With a ``pool`` the rows are analysed by its worker processes, chunk by chunk, with the same result.
    """
    if pool is not None:
        from .analyze import parallel_map

        slim = [{k: r.get(k) for k in _ANALYSED} for r in rows]
        return parallel_map(_analyze_chunk, slim, pool=pool, progress=progress)
    from .analyze import get_analyzer

    a = get_analyzer()
    out: list[tuple[str, dict[str, float] | None]] = []
    for r in rows:
        toks = " ".join(a.firm_tokens(r.get("name"), r.get("scope"), r.get("intro")))
        codes = (firm_industries(r.get("name"), r.get("scope"), r.get("intro"), r.get("industry"))
                 if firm_industries is not None else None)
        out.append((toks, dict(codes) if codes is not None else None))
    if progress is not None:
        progress(len(out))
    return out


def _analyze_chunk(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, float] | None]]:
    """The worker function of parallel analysis (importable, so worker processes can run it)."""
    return analyze_rows(rows)


def analysis_pool(n_firms: int, workers: int | None = None) -> ChunkPool | None:
    """Worker processes for analysing ``n_firms`` firms, or None when that is better done in this process
    (few firms: starting workers costs ~0.5 s; or one CPU). The caller closes the pool."""
    import os

    from . import analyze

    n = workers if workers is not None else (os.cpu_count() or 1)
    if n < 2 or n_firms < analyze.PARALLEL_MIN_FIRMS:
        return None
    analyze.get_analyzer()  # loaded once here, shared with forked workers
    if firm_industries is not None:
        firm_industries("", "", "", None)
    return analyze.ChunkPool(n, chunk_size=analyze.PARALLEL_CHUNK)


class _Writer:
    """Upserts the records of one file inside its transaction, chunk by chunk.

    New firms are inserted at once (later chunks find them in the store). Changes to known firms wait in
    ``pending`` until :meth:`flush` (end of file, or every ``FLUSH_EVERY`` firms), so a firm that appears in
    several chunks is compared with the store once, after all its rows are merged: a re-ingest then
    counts it unchanged instead of flapping between its rows.
    """

    FLUSH_EVERY = 50_000

    def __init__(self, store: Store, conn: Connection, source: str, report: IngestReport, analyze: bool, *,
                 expected: int | None = None, workers: int | None = None) -> None:
        self.store, self.conn, self.source, self.report, self.analyze = store, conn, source, report, analyze
        self.expected, self.workers = expected, workers  # rows in the file (None: unknown), worker processes
        self.pool: ChunkPool | None = None
        self.started: tuple[list[dict[str, Any]], Callable[[], list[Any]], bool] | None = None  # analysis running
        self.revision: int | None = None
        self.seen: set[int] = set()  # firms this file matched unchanged
        self.pending: dict[int, tuple[dict[str, Any], bool]] = {}  # id -> (new values, seen before in this file)
        self.pending_code: dict[str, int] = {}
        self.pending_ext: dict[str, list[dict[str, Any]]] = {}
        self.pending_name: dict[str, list[dict[str, Any]]] = {}

    def _merge_within(self, records: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        by_code: dict[str, dict[str, Any]] = {}
        by_ext: dict[str, list[dict[str, Any]]] = {}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for _, rec in records:
            code, ext = rec["credit_code"], rec["external_id"]
            prior = by_code.get(code) if code else None
            if prior is None and ext:
                prior = _by_ext(code, by_ext.get(ext, []))
            if prior is None:
                prior = _pick(code, ext, rec["province"], by_name.get(rec["name_norm"], []))
            if prior is not None:
                self.report.duplicates += 1
                prior.update(readers.overlay(prior, rec))
            else:
                out.append(rec)
                prior = rec
                by_name.setdefault(rec["name_norm"], []).append(rec)
            if prior["credit_code"]:
                by_code[prior["credit_code"]] = prior
            same_ext = by_ext.setdefault(prior["external_id"], []) if prior["external_id"] else None
            if same_ext is not None and not any(p is prior for p in same_ext):
                same_ext.append(prior)
        return out

    def _lookup(self, recs: list[dict[str, Any]]) -> list[Any]:
        cols = (_T.c.id, _T.c.credit_code, _T.c.external_id, _T.c.name_norm, _T.c.province, _T.c.content_hash,
                _T.c.revision)
        codes = sorted({r["credit_code"] for r in recs if r["credit_code"] and r["credit_code"] not in self.pending_code})
        by_code: dict[str, Any] = {c: {"id": i} for c, i in self.pending_code.items()}
        for batch in _batches(codes):
            for row in self.conn.execute(select(*cols).where(_T.c.credit_code.in_(batch))).mappings():
                by_code[row["credit_code"]] = row
        rest = [r for r in recs if r["credit_code"] not in by_code]
        by_ext: dict[str, list[Any]] = {}
        for batch in _batches(sorted({r["external_id"] for r in rest if r["external_id"]})):
            for row in self.conn.execute(select(*cols).where(_T.c.external_id.in_(batch)).order_by(_T.c.id)).mappings():
                if row["id"] not in self.pending:
                    by_ext.setdefault(row["external_id"], []).append(row)
        by_name: dict[str, list[Any]] = {}
        for batch in _batches(sorted({r["name_norm"] for r in rest})):
            for row in self.conn.execute(select(*cols).where(_T.c.name_norm.in_(batch))).mappings():
                if row["id"] not in self.pending:
                    by_name.setdefault(row["name_norm"], []).append(row)
        hits = []
        for r in recs:
            code, ext = r["credit_code"], r["external_id"]
            hit = by_code.get(code) if code else None
            if hit is None and ext:
                hit = _by_ext(code, self.pending_ext.get(ext, []) + by_ext.get(ext, []))
            if hit is None:
                candidates = by_name.get(r["name_norm"], []) + self.pending_name.get(r["name_norm"], [])
                hit = _pick(code, ext, r["province"], candidates)
            hits.append(hit)
        return hits

    def _defer(self, fid: int, rec: dict[str, Any], known: bool, stored: Any) -> None:
        if fid in self.pending:
            rec = readers.overlay(self.pending[fid][0], rec)
            known = self.pending[fid][1]
        self.pending[fid] = (rec, known)
        if rec["credit_code"]:
            self.pending_code[rec["credit_code"]] = fid
        province = rec["province"] if rec["province"] is not None else (stored or {}).get("province")
        code = rec["credit_code"] or (stored or {}).get("credit_code")
        ext = rec["external_id"] or (stored or {}).get("external_id")
        entry = {"id": fid, "credit_code": code, "external_id": ext, "province": province}
        self.pending_name.setdefault(rec["name_norm"], []).append(entry)
        if ext:
            self.pending_ext.setdefault(ext, []).insert(0, entry)

    def write(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        self._complete()  # the previous chunk's new firms are in the store before this chunk looks them up
        recs = self._merge_within(records)
        report = self.report
        inserts: list[dict[str, Any]] = []
        for rec, hit in zip(recs, self._lookup(recs), strict=True):
            rec["content_hash"] = readers.content_hash(rec)
            if hit is None:
                inserts.append(rec)
                continue
            fid = hit["id"]
            if fid in self.pending:
                report.duplicates += 1
                self._defer(fid, rec, True, None)
                continue
            known = fid in self.seen or (self.revision is not None and hit["revision"] == self.revision)
            report.duplicates += known
            if rec["content_hash"] == hit["content_hash"]:
                report.unchanged += not known
                self.seen.add(fid)
            else:
                self._defer(fid, rec, known, hit)
        report.inserted += len(inserts)
        self._save(inserts, insert_=True, defer=True)
        if len(self.pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Compare the waiting changes with the store and write the real ones."""
        self._complete()
        pending, self.pending, self.pending_code, self.pending_ext, self.pending_name = self.pending, {}, {}, {}, {}
        updates: list[dict[str, Any]] = []
        for batch in _batches(list(pending)):
            query = select(_T.c.id, _T.c.content_hash, *(_T.c[c] for c in readers.CONTENT)).where(_T.c.id.in_(batch))
            for row in self.conn.execute(query).mappings():
                new, known = pending[row["id"]]
                merged = readers.overlay({c: row[c] for c in readers.CONTENT}, new)
                merged["content_hash"] = readers.content_hash(merged)
                if merged["content_hash"] == row["content_hash"]:
                    self.report.unchanged += not known
                    self.seen.add(row["id"])
                    continue
                self.report.updated += not known
                merged["_id"] = row["id"]
                updates.append(merged)
        self._save(updates, insert_=False)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _save(self, recs: list[dict[str, Any]], *, insert_: bool, defer: bool = False) -> None:
        """Analyse and write ``recs``. With worker processes and ``defer``, the analysis runs while this
        process reads and validates the next chunk; :meth:`_complete` writes them (before the next lookup)."""
        if not recs:
            return
        if self.analyze and self.pool is None and self.workers != 1:
            # worker processes once the file is known (or seen) to be large; kept for the rest of the file
            self.pool = analysis_pool(max(self.expected or 0, self.report.read), self.workers)
        if not self.analyze:
            self._store(recs, [(None, None)] * len(recs), insert_=insert_)
        elif self.pool is not None and defer:
            slim = [{k: r.get(k) for k in _ANALYSED} for r in recs]
            self.started = (recs, self.pool.start(_analyze_chunk, slim), insert_)
        else:
            self._store(recs, analyze_rows(recs, pool=self.pool), insert_=insert_)

    def _complete(self) -> None:
        if self.started is not None:
            recs, result, insert_ = self.started
            self.started = None
            self._store(recs, result(), insert_=insert_)

    def _store(self, recs: list[dict[str, Any]], analysis: Sequence[tuple[Any, Any]], *, insert_: bool) -> None:
        if self.revision is None:
            self.revision = self.store.next_revision(self.conn, 1)
        now = datetime.now()
        from .index import analysis_version  # what the index checks the cache against

        version = analysis_version() if self.analyze else None
        for rec, (toks, codes) in zip(recs, analysis, strict=True):
            rec.update(tokens=toks, analyzer_version=version, industry_codes=codes, revision=self.revision,
                       source_file=self.source, updated_at=now)
            if insert_:
                rec["first_seen"] = now
        if insert_:
            self.conn.execute(insert(_T), recs)
        else:
            self.conn.execute(update(_T).where(_T.c.id == bindparam("_id")), recs)


# ---------------------------------------------------------------- entry points

def _failure(label: str, report: IngestReport, stem: str) -> str:
    e = report.rejects[0]
    value = e.value if e.value is None or len(e.value) <= 60 else e.value[:57] + "..."
    others = f"; {report.rejected - 1} other bad row(s)" if report.rejected > 1 else ""
    return (f"{label}: row {e.row}, column {e.column!r}, value {value!r}: {e.reason}{others}; nothing was written "
            f"-- fix the file, or use --skip-invalid to load the good rows and save the bad ones to {stem}.rejects.csv")


def _run(store: Store, frames: Iterable[pd.DataFrame], *, label: str, source: str, overrides: Mapping[str, str],
         skip_invalid: bool, dry_run: bool, progress: bool, total: int | None, sha256: str | None,
         require_rows: bool, workers: int | None = None) -> tuple[IngestReport, list[str], dict[int, dict[str, Any]]]:
    from tqdm import tqdm

    t0 = time.perf_counter()
    report = IngestReport(path=label, dry_run=dry_run)
    headers: dict[str, None] = {}
    bad_rows: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=total, desc=Path(label).name, unit="row", file=sys.stderr, leave=False,
               disable=not progress or not sys.stderr.isatty())
    writer: _Writer | None = None
    try:
        with store.begin() as conn:
            writer = _Writer(store, conn, source, report, analyze=not dry_run, expected=total, workers=workers)
            mapping: ColumnMapping | None = None
            for df in frames:
                if mapping is None or list(df.columns) != mapping.headers:
                    mapping = map_columns(list(df.columns), overrides)
                    if "name" not in mapping.fields:
                        raise InputError(f"{label}: no firm-name column (企业名称/公司名称/company name); columns seen: "
                                         f"{', '.join(map(str, df.columns))}; name it with --map 列名=name")
                headers.update(dict.fromkeys(df.columns))
                records, errors = readers.validate_frame(df, mapping)
                report.read += len(df)
                if errors:
                    report.rejects.extend(errors)
                    rows = sorted({e.row for e in errors})
                    report.rejected += len(rows)
                    if skip_invalid:
                        bad_rows.update((r, df.loc[r].to_dict()) for r in rows)
                if skip_invalid or not report.rejects:
                    writer.write(records)
                bar.update(len(df))
            if skip_invalid or not report.rejects:
                writer.flush()
            if require_rows and report.read == 0:
                raise InputError(f"{label}: the table has a header but no data rows; export the table again")
            if report.rejects and not skip_invalid:
                raise IngestError(_failure(label, report, Path(label).stem), report.rejects, report)
            if dry_run:
                raise _DryRun
            log = {"path": source, "sha256": sha256 or "", "counts": report.counts(), "started_at": datetime.now()}
            conn.execute(insert(cast(Table, IngestLog.__table__)), [log])
    except _DryRun:
        pass
    finally:
        if writer is not None:
            writer.close()
        bar.close()
    report.seconds = time.perf_counter() - t0
    return report, list(headers), bad_rows


def ingest_files(store: Store, paths: Iterable[str | Path], *, mapping: Mapping[str, str] | None = None,
                 sheet: str | None = None, skip_invalid: bool = False, dry_run: bool = False,
                 progress: bool = True, workers: int | None = None) -> list[IngestReport]:
    """Ingest each file in its own transaction; returns one report per file.

    ``mapping``: header -> field overrides (``--map``). Raises :class:`IngestError` for a file with bad rows
    (unless ``skip_invalid``; files before it stay ingested) and InputError for unreadable files.
    ``workers``: processes that analyse the firms of a large file (more than
    :data:`matcher.analyze.PARALLEL_MIN_FIRMS` rows); default one per CPU, 1 analyses in this process.
    """
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise InputError(f"file not found: {', '.join(missing)}; check the path")
    overrides = dict(mapping or {})
    name_headers = [h for h, fld in overrides.items() if fld == "name"]
    reports = []
    for p in files:
        kind = readers.file_format(p)
        if kind == "xlsx":
            sha, total, encoding = hashlib.sha256(p.read_bytes()).hexdigest(), None, None
        else:
            encoding, sha, total = readers.scan_text_file(p)
        frames = read_table(p, sheet=sheet, name_headers=name_headers, encoding=encoding)
        report, headers, bad_rows = _run(store, frames, label=str(p), source=str(p.resolve()), overrides=overrides,
                                         skip_invalid=skip_invalid, dry_run=dry_run, progress=progress, total=total,
                                         sha256=sha, require_rows=True, workers=workers)
        if skip_invalid and report.rejects and not dry_run:
            out = p.with_name(f"{p.stem}.rejects.csv")
            readers.write_rejects(out, headers, report.rejects, bad_rows)
            report.rejects_path = str(out)
        reports.append(report)
    return reports


def ingest_dataframe(store: Store, df: pd.DataFrame, *, source: str = "<dataframe>",
                     mapping: Mapping[str, str] | None = None, skip_invalid: bool = False,
                     dry_run: bool = False, workers: int | None = None) -> IngestReport:
    """Ingest an in-memory table (one transaction); row numbers in errors count the header as row 1.
    ``workers`` as for :func:`ingest_files`."""
    report, _, _ = _run(store, readers.dataframe_frames(df, CHUNKSIZE), label=source, source=source,
                        overrides=dict(mapping or {}),
                        skip_invalid=skip_invalid, dry_run=dry_run, progress=False, total=len(df), sha256=None,
                        require_rows=False, workers=workers)
    return report
