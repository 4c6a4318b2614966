"""Ingest company-data exports (CSV, XLSX, JSON Lines) into the store: read, map columns, validate,
de-duplicate, upsert -- one transaction per file.

* A bad row makes the whole file change nothing: :class:`IngestError` names the file, the first bad row
  (row number as the user sees it, column, value, reason) and how many others are bad. With
  ``skip_invalid`` the good rows are written and the bad ones saved to ``<stem>.rejects.csv``.
* Firms are matched by 统一社会信用代码, else by normalised name + province, within the file and against
  the store. Re-ingesting a file changes nothing; a newer export updates what changed; an empty cell never
  wipes a known value.
* Inserted and changed firms get their analysis cache (tokens, industry codes) and one store revision.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from .columns import HEADER_SEARCH_ROWS, ColumnMapping, find_header_row, map_columns, unique_headers
from .credit_code import credit_code_problem, normalize_credit_code
from .errors import InputError
from .normalize import (
    cell_text,
    derive_regions,
    is_missing,
    normalize_name,
    normalize_status,
    parse_capital_ex,
    parse_date,
    parse_int,
)
from .store import Enterprise, IngestLog, Store

try:
    from .industry import firm_industries
except ImportError:  # pragma: no cover - the industry module is optional
    firm_industries = None  # type: ignore[assignment]

__all__ = ["IngestError", "IngestReport", "RowError", "analyze_rows", "ingest_dataframe", "ingest_files", "read_table"]

CHUNKSIZE = 20_000
_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl"}
_TEXT_FIELDS = ("external_id", "legal_rep", "address", "scope", "intro", "company_type", "website", "phone", "email")
#: the mapped, normalised fields of a firm; their hash tells a real change from a re-export
CONTENT = ("name", "name_norm", "credit_code", "external_id", "status", "legal_rep", "reg_capital", "reg_currency",
           "paid_capital", "paid_currency", "founded", "province", "city", "district", "address", "industry", "scope",
           "intro", "company_type", "insured", "website", "phone", "email", "extra")
_T = cast(Table, Enterprise.__table__)
_IN_BATCH = 500
_NUMBER = re.compile(r"[-+]?[\d.,]+%?")


@dataclass
class RowError:
    """One bad cell: ``row`` as the user sees it in the file (header is row 1), column header, value, reason."""

    row: int
    column: str
    value: str | None
    reason: str


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


# ---------------------------------------------------------------- reading

def _file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old Excel format .xls is not supported; open it in Excel/WPS and save as .xlsx or CSV")
    if suffix not in _FORMATS:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; use CSV, XLSX or JSON Lines (.jsonl)")
    return _FORMATS[suffix]


def _scan(path: Path) -> tuple[str, str, int]:
    """(encoding, sha256, newline count) of a text file: strict decodes of a sample in the order UTF-8,
    UTF-8 with BOM, GB18030, then of the whole stream. A sample that is non-ASCII UTF-8 commits to UTF-8
    (a later bad byte is then a damaged file, not GB18030)."""
    with path.open("rb") as f:
        sample = f.read(65536)
    if not sample.strip():
        raise InputError(f"{path}: the file is empty; export the table again")
    candidates = [e for e in _ENCODINGS if e != "utf-8"] if sample.startswith(codecs.BOM_UTF8) else list(_ENCODINGS)
    bad_at = {e: _bad_byte(e, sample) for e in candidates}
    fits = [e for e in candidates if bad_at[e] is None]
    if fits and fits[0].startswith("utf-8") and not sample.isascii():
        fits = fits[:1]
    problem = f"as {candidates[0]}, byte {bad_at[candidates[0]]} is invalid"
    for enc in fits:
        h, lines, done = hashlib.sha256(), 0, 0
        decoder = codecs.getincrementaldecoder(enc)("strict")
        try:
            with path.open("rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
                    lines += block.count(b"\n")
                    decoder.decode(block)
                    done += len(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            problem = f"as {enc}, byte {done + max(exc.start - len(decoder.getstate()[0]), 0)} is invalid"
            continue
        return enc, h.hexdigest(), lines
    raise InputError(f"{path}: cannot read it as UTF-8 or GB18030 text ({problem}); save it again as CSV UTF-8")


def _bad_byte(enc: str, sample: bytes) -> int | None:
    """Offset of the first byte of ``sample`` that ``enc`` cannot decode (None: all fine)."""
    try:
        codecs.getincrementaldecoder(enc)("strict").decode(sample, final=False)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _chunked_frames(rows: Iterator[tuple[int, list[Any]]], path: Path, kind: str, chunksize: int,
                    name_headers: set[str]) -> Iterator[pd.DataFrame]:
    """Row-number-indexed frames of str/None from (row number, cells) with a header somewhere on top."""
    head: list[tuple[int, list[Any]]] = []
    for item in rows:
        cells = [cell_text(c) for c in item[1]]
        if any(c is not None for c in cells):
            head.append((item[0], cells))
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        raise InputError(f"{path}: the file is empty; export the table again")
    at = find_header_row(head, name_headers)
    if at is None:
        if kind == "xlsx":
            seen = ", ".join(c for c in head[0][1] if c)
            raise InputError(f"{path}: cannot find the header row in the first {HEADER_SEARCH_ROWS} rows (no column "
                             f"like 企业名称/公司名称); first row: {seen}; name the firm column with --map 列名=name")
        at = 0
    header_cells = head[at][1]
    headers = unique_headers(header_cells, max(len(c) for _, c in head[at:]))

    def frame(items: list[tuple[int, list[Any]]]) -> pd.DataFrame:
        nonlocal headers
        width = max([len(headers)] + [len(c) for _, c in items])
        if width > len(headers):  # a row longer than the header: keep its cells under 列N
            headers = unique_headers(header_cells, width)
        data = [(c + [None] * width)[:width] for _, c in items]
        return pd.DataFrame(data, columns=headers, index=[n for n, _ in items], dtype=object)

    def body() -> Iterator[tuple[int, list[str | None]]]:
        yield from head[at + 1:]
        for n, raw in rows:
            cells = [cell_text(c) for c in raw]
            if any(c is not None for c in cells):
                yield n, cells

    buffer: list[tuple[int, list[Any]]] = []
    yielded = False
    for item in body():
        buffer.append(item)
        if len(buffer) >= chunksize:
            yield frame(buffer)
            yielded, buffer = True, []
    if buffer or not yielded:
        yield frame(buffer)


def read_table(path: str | Path, *, sheet: str | None = None, chunksize: int | None = None,
               name_headers: Iterable[str] = (), encoding: str | None = None) -> Iterator[pd.DataFrame]:
    """Stream a CSV / XLSX / JSON Lines file as DataFrames of str/None, ``chunksize`` rows at a time.

    The index of each frame is the row number the user sees (header row = its own row number, usually 1;
    for JSON Lines the line number). Blank rows are skipped. For CSV and XLSX the header is the first row
    among the first 20 that has a firm-name column (title rows above it are skipped); ``name_headers`` adds
    header names that count as the name column (from ``--map X=name``).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found")
    kind = _file_format(p)
    chunksize = chunksize or CHUNKSIZE
    names = set(name_headers)
    if kind == "xlsx":
        yield from _chunked_frames(_xlsx_rows(p, sheet), p, kind, chunksize, names)
        return
    if encoding is None:
        encoding, _, _ = _scan(p)
    if kind == "jsonl":
        yield from _jsonl_frames(p, encoding, chunksize)
        return
    with p.open(encoding=encoding, newline="") as f:
        first = f.readline()
        f.seek(0)
        delimiter = "\t" if p.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
        reader = csv.reader(f, delimiter=delimiter)
        try:
            yield from _chunked_frames(((i, r) for i, r in enumerate(reader, 1)), p, kind, chunksize, names)
        except csv.Error as exc:
            raise InputError(f"{p}: not a readable CSV near row {reader.line_num}: {exc}") from None


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc.__class__.__name__}); save it again as .xlsx") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(wb.sheetnames):
            ws = wb.worksheets[int(sheet) - 1]
        else:
            raise InputError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        ws.reset_dimensions()
        for i, row in enumerate(ws.iter_rows(values_only=True), 1):
            yield i, list(row)
    finally:
        wb.close()


def _jsonl_frames(path: Path, encoding: str, chunksize: int) -> Iterator[pd.DataFrame]:
    rows: list[dict[str, Any]] = []
    index: list[int] = []
    keys: dict[str, None] = {}
    with path.open(encoding=encoding) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {n} is not JSON ({exc.msg}); each line must be one JSON object") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path}: line {n} is not a JSON object; each line must be one {{...}} record")
            keys.update(dict.fromkeys(obj))
            rows.append(obj)
            index.append(n)
            if len(rows) >= chunksize:
                yield _dict_frame(rows, list(keys), index)
                rows, index = [], []
    if not keys:
        raise InputError(f"{path}: the file is empty; export the table again")
    if rows:
        yield _dict_frame(rows, list(keys), index)


def _dict_frame(rows: list[dict[str, Any]], keys: list[str], index: list[int]) -> pd.DataFrame:
    return pd.DataFrame([[cell_text(r.get(k)) for k in keys] for r in rows], columns=keys, index=index, dtype=object)


# ---------------------------------------------------------------- validation

def _currency_cell(value: str | None) -> str | None:
    return None if value is None else parse_capital_ex(f"1万{value}")[1]


def _validate(df: pd.DataFrame, m: ColumnMapping) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """Mapped, normalised records of the good rows, and the errors of the bad ones."""
    pos = {h: i for i, h in enumerate(df.columns)}
    f = {k: pos[h] for k, h in m.fields.items() if h in pos}
    heads = m.fields
    industry = [(h, pos[h]) for h in m.industry_columns if h in pos]
    extra_cols = [(h, pos[h]) for h in m.extra_columns if h in pos]
    records: list[tuple[int, dict[str, Any]]] = []
    regions: list[tuple[Any, Any, Any, Any]] = []
    errors: list[RowError] = []
    for row_no, values in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        def get(key: str, values: tuple[Any, ...] = values) -> Any:
            i = f.get(key)
            return None if i is None or is_missing(values[i]) else values[i]

        bad: list[RowError] = []

        def parse(key: str, fn: Any, row_no: int = int(row_no), bad: list[RowError] = bad) -> Any:
            raw = get(key)
            try:
                return fn(raw)
            except ValueError as exc:
                bad.append(RowError(row_no, heads[key], raw, str(exc)))
                return fn(None)

        rec: dict[str, Any] = {k: get(k) for k in _TEXT_FIELDS}
        name = get("name")
        if name is None:
            bad.append(RowError(int(row_no), heads["name"], values[f["name"]], "企业名称为空 (a firm name is required)"))
        rec["name"] = name
        rec["name_norm"] = normalize_name(name)
        code = get("credit_code")
        if code is not None:
            code = normalize_credit_code(code)
            problem = credit_code_problem(code)
            if problem:
                bad.append(RowError(int(row_no), heads["credit_code"], get("credit_code"), problem))
        rec["credit_code"] = code
        rec["reg_capital"], rec["reg_currency"], explicit = parse("reg_capital", parse_capital_ex)
        if rec["reg_capital"] is not None and not explicit and get("reg_currency") is not None:
            rec["reg_currency"] = parse("reg_currency", _currency_cell)
        rec["paid_capital"], rec["paid_currency"], _ = parse("paid_capital", parse_capital_ex)
        rec["founded"] = parse("founded", parse_date)
        rec["insured"] = parse("insured", parse_int)
        rec["status"] = normalize_status(get("status"))
        found = [(h, values[i]) for h, i in industry if not is_missing(values[i])]
        rec["industry"] = found[0][1] if found else None
        extra = {h: values[i] for h, i in extra_cols if values[i] is not None}
        extra.update(found[1:])
        rec["extra"] = extra
        if bad:
            errors.extend(bad)
            continue
        records.append((int(row_no), rec))
        regions.append((rec["address"], get("province"), get("city"), get("district")))
    for (_, rec), (p, c, d) in zip(records, derive_regions(regions), strict=True):
        rec["province"], rec["city"], rec["district"] = p, c, d
    return records, errors


# ---------------------------------------------------------------- de-duplication and writing

def _content_hash(rec: Mapping[str, Any]) -> str:
    payload = json.dumps([rec.get(k) for k in CONTENT], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _overlay(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` updated with the non-empty values of ``new`` (an empty cell never wipes a known value)."""
    out = dict(old)
    for k, v in new.items():
        if k == "extra":
            out["extra"] = {**(old.get("extra") or {}), **(v or {})}
        elif v is not None:
            out[k] = v
    return out


def _pick(code: str | None, province: str | None, candidates: Sequence[Any]) -> Any:
    """The firm among same-name ``candidates`` that is this one: same province (or one side unknown), and
    no conflicting credit code."""
    ok = list({c.get("id") or id(c): c for c in candidates
               if not (code and c["credit_code"] and c["credit_code"] != code)}.values())
    same = [c for c in ok if c["province"] == province]
    if same:
        return same[0]
    if province is None and len(ok) == 1:
        return ok[0]
    unknown = [c for c in ok if c["province"] is None]
    return unknown[0] if len(unknown) == 1 else None


def _batches(items: Sequence[Any], n: int = _IN_BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def analyze_rows(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, float] | None]]:
    """(space-separated tokens, industry codes or None) for each firm (keys name, scope, intro, industry)."""
    from .analyze import get_analyzer

    a = get_analyzer()
    out: list[tuple[str, dict[str, float] | None]] = []
    for r in rows:
        toks = " ".join(a.firm_tokens(r.get("name"), r.get("scope"), r.get("intro")))
        codes = (firm_industries(r.get("name"), r.get("scope"), r.get("intro"), r.get("industry"))
                 if firm_industries is not None else None)
        out.append((toks, dict(codes) if codes is not None else None))
    return out


def _analyzer_version() -> str:
    """What the index checks the cache against: analyzer rules + dictionaries (+ industry knowledge)."""
    try:
        from .index import analysis_version
    except ImportError:  # pragma: no cover - an install without the index
        from .analyze import get_analyzer

        return get_analyzer().version
    return analysis_version()


class _Writer:
    """Upserts the records of one file inside its transaction, chunk by chunk.

    New firms are inserted at once (later chunks find them in the store). Changes to known firms wait in
    ``pending`` until :meth:`flush` (end of file, or every ``FLUSH_EVERY`` firms), so a firm that appears in
    several chunks is compared with the store once, after all its rows are merged: a re-ingest then
    counts it unchanged instead of flapping between its rows.
    """

    FLUSH_EVERY = 50_000

    def __init__(self, store: Store, conn: Connection, source: str, report: IngestReport, analyze: bool) -> None:
        self.store, self.conn, self.source, self.report, self.analyze = store, conn, source, report, analyze
        self.revision: int | None = None
        self.seen: set[int] = set()  # firms this file matched unchanged
        self.pending: dict[int, tuple[dict[str, Any], bool]] = {}  # id -> (new values, seen before in this file)
        self.pending_code: dict[str, int] = {}
        self.pending_name: dict[str, list[dict[str, Any]]] = {}

    def _merge_within(self, records: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        by_code: dict[str, dict[str, Any]] = {}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for _, rec in records:
            code = rec["credit_code"]
            prior = by_code.get(code) if code else None
            if prior is None:
                prior = _pick(code, rec["province"], by_name.get(rec["name_norm"], []))
            if prior is not None:
                self.report.duplicates += 1
                prior.update(_overlay(prior, rec))
            else:
                out.append(rec)
                prior = rec
                by_name.setdefault(rec["name_norm"], []).append(rec)
            if prior["credit_code"]:
                by_code[prior["credit_code"]] = prior
        return out

    def _lookup(self, recs: list[dict[str, Any]]) -> list[Any]:
        cols = (_T.c.id, _T.c.credit_code, _T.c.name_norm, _T.c.province, _T.c.content_hash, _T.c.revision)
        codes = sorted({r["credit_code"] for r in recs if r["credit_code"] and r["credit_code"] not in self.pending_code})
        by_code: dict[str, Any] = {c: {"id": i} for c, i in self.pending_code.items()}
        for batch in _batches(codes):
            for row in self.conn.execute(select(*cols).where(_T.c.credit_code.in_(batch))).mappings():
                by_code[row["credit_code"]] = row
        names = sorted({r["name_norm"] for r in recs if r["credit_code"] not in by_code})
        by_name: dict[str, list[Any]] = {}
        for batch in _batches(names):
            for row in self.conn.execute(select(*cols).where(_T.c.name_norm.in_(batch))).mappings():
                if row["id"] not in self.pending:
                    by_name.setdefault(row["name_norm"], []).append(row)
        hits = []
        for r in recs:
            hit = by_code.get(r["credit_code"]) if r["credit_code"] else None
            if hit is None:
                candidates = by_name.get(r["name_norm"], []) + self.pending_name.get(r["name_norm"], [])
                hit = _pick(r["credit_code"], r["province"], candidates)
            hits.append(hit)
        return hits

    def _defer(self, fid: int, rec: dict[str, Any], known: bool, stored: Any) -> None:
        if fid in self.pending:
            rec = _overlay(self.pending[fid][0], rec)
            known = self.pending[fid][1]
        self.pending[fid] = (rec, known)
        if rec["credit_code"]:
            self.pending_code[rec["credit_code"]] = fid
        province = rec["province"] if rec["province"] is not None else (stored or {}).get("province")
        code = rec["credit_code"] or (stored or {}).get("credit_code")
        self.pending_name.setdefault(rec["name_norm"], []).append({"id": fid, "credit_code": code, "province": province})

    def write(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        recs = self._merge_within(records)
        report = self.report
        inserts: list[dict[str, Any]] = []
        for rec, hit in zip(recs, self._lookup(recs), strict=True):
            rec["content_hash"] = _content_hash(rec)
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
        self._save(inserts, insert_=True)
        if len(self.pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Compare the waiting changes with the store and write the real ones."""
        pending, self.pending, self.pending_code, self.pending_name = self.pending, {}, {}, {}
        updates: list[dict[str, Any]] = []
        for batch in _batches(list(pending)):
            query = select(_T.c.id, _T.c.content_hash, *(_T.c[c] for c in CONTENT)).where(_T.c.id.in_(batch))
            for row in self.conn.execute(query).mappings():
                new, known = pending[row["id"]]
                merged = _overlay({c: row[c] for c in CONTENT}, new)
                merged["content_hash"] = _content_hash(merged)
                if merged["content_hash"] == row["content_hash"]:
                    self.report.unchanged += not known
                    self.seen.add(row["id"])
                    continue
                self.report.updated += not known
                merged["_id"] = row["id"]
                updates.append(merged)
        self._save(updates, insert_=False)

    def _save(self, recs: list[dict[str, Any]], *, insert_: bool) -> None:
        if not recs:
            return
        if self.revision is None:
            self.revision = self.store.next_revision(self.conn, 1)
        now = datetime.now()
        analysis = analyze_rows(recs) if self.analyze else [(None, None)] * len(recs)
        version = _analyzer_version() if self.analyze else None
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

def _escape(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (``-5`` stays a number)."""
    if isinstance(value, str) and len(value) > 1 and value[0] in "=+@-" and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _failure(label: str, report: IngestReport, stem: str) -> str:
    e = report.rejects[0]
    value = e.value if e.value is None or len(e.value) <= 60 else e.value[:57] + "..."
    others = f"; {report.rejected - 1} other bad row(s)" if report.rejected > 1 else ""
    return (f"{label}: row {e.row}, column {e.column!r}, value {value!r}: {e.reason}{others}; nothing was written "
            f"-- fix the file, or use --skip-invalid to load the good rows and save the bad ones to {stem}.rejects.csv")


def _run(store: Store, frames: Iterable[pd.DataFrame], *, label: str, source: str, overrides: Mapping[str, str],
         skip_invalid: bool, dry_run: bool, progress: bool, total: int | None, sha256: str | None,
         require_rows: bool) -> tuple[IngestReport, list[str], dict[int, dict[str, Any]]]:
    from tqdm import tqdm

    t0 = time.perf_counter()
    report = IngestReport(path=label, dry_run=dry_run)
    headers: dict[str, None] = {}
    bad_rows: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=total, desc=Path(label).name, unit="row", file=sys.stderr, leave=False,
               disable=not progress or not sys.stderr.isatty())
    try:
        with store.begin() as conn:
            writer = _Writer(store, conn, source, report, analyze=not dry_run)
            mapping: ColumnMapping | None = None
            for df in frames:
                if mapping is None or list(df.columns) != mapping.headers:
                    mapping = map_columns(list(df.columns), overrides)
                    if "name" not in mapping.fields:
                        raise InputError(f"{label}: no firm-name column (企业名称/公司名称/company name); columns seen: "
                                         f"{', '.join(map(str, df.columns))}; name it with --map 列名=name")
                headers.update(dict.fromkeys(df.columns))
                records, errors = _validate(df, mapping)
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
        bar.close()
    report.seconds = time.perf_counter() - t0
    return report, list(headers), bad_rows


def _write_rejects(path: Path, headers: list[str], report: IngestReport, bad_rows: dict[int, dict[str, Any]]) -> None:
    by_row: dict[int, list[RowError]] = {}
    for e in report.rejects:
        by_row.setdefault(e.row, []).append(e)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([*headers, "行号", "列", "值", "原因"])
        for row, errs in sorted(by_row.items()):
            cells = bad_rows.get(row, {})
            w.writerow([_escape(cells.get(h)) for h in headers] + [
                row, "; ".join(e.column for e in errs), "; ".join(_escape(str(e.value)) for e in errs),
                "; ".join(e.reason for e in errs)])


def ingest_files(store: Store, paths: Iterable[str | Path], *, mapping: Mapping[str, str] | None = None,
                 sheet: str | None = None, skip_invalid: bool = False, dry_run: bool = False,
                 progress: bool = True) -> list[IngestReport]:
    """Ingest each file in its own transaction; returns one report per file.

    ``mapping``: header -> field overrides (``--map``). Raises :class:`IngestError` for a file with bad rows
    (unless ``skip_invalid``; files before it stay ingested) and InputError for unreadable files.
    """
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise InputError(f"file not found: {', '.join(missing)}; check the path")
    overrides = dict(mapping or {})
    name_headers = [h for h, fld in overrides.items() if fld == "name"]
    reports = []
    for p in files:
        kind = _file_format(p)
        if kind == "xlsx":
            sha, total, encoding = hashlib.sha256(p.read_bytes()).hexdigest(), None, None
        else:
            encoding, sha, total = _scan(p)
        frames = read_table(p, sheet=sheet, name_headers=name_headers, encoding=encoding)
        report, headers, bad_rows = _run(store, frames, label=str(p), source=str(p.resolve()), overrides=overrides,
                                         skip_invalid=skip_invalid, dry_run=dry_run, progress=progress, total=total,
                                         sha256=sha, require_rows=True)
        if skip_invalid and report.rejects and not dry_run:
            out = p.with_name(f"{p.stem}.rejects.csv")
            _write_rejects(out, headers, report, bad_rows)
            report.rejects_path = str(out)
        reports.append(report)
    return reports


def ingest_dataframe(store: Store, df: pd.DataFrame, *, source: str = "<dataframe>",
                     mapping: Mapping[str, str] | None = None, skip_invalid: bool = False,
                     dry_run: bool = False) -> IngestReport:
    """Ingest an in-memory table (one transaction); row numbers in errors count the header as row 1."""
    columns = unique_headers([None if c is None else str(c) for c in df.columns], len(df.columns))

    def frames() -> Iterator[pd.DataFrame]:
        for start in range(0, max(len(df), 1), CHUNKSIZE):
            part = df.iloc[start:start + CHUNKSIZE]
            data = [[cell_text(v) for v in row] for row in part.itertuples(index=False, name=None)]
            index = range(start + 2, start + 2 + len(part))
            yield pd.DataFrame(data, columns=columns, index=index, dtype=object)

    report, _, _ = _run(store, frames(), label=source, source=source, overrides=dict(mapping or {}),
                        skip_invalid=skip_invalid, dry_run=dry_run, progress=False, total=len(df), sha256=None,
                        require_rows=False)
    return report
