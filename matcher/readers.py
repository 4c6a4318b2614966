"""Reading company-data exports: CSV / XLSX / JSON Lines files into row-numbered frames, frames into
validated records, and the rejects file of bad rows.

* :func:`read_table` streams a file as DataFrames of str/None, ``chunksize`` rows at a time, whose index is
  the row number the user sees (title rows above the header are skipped; the encoding is detected).
* :func:`validate_frame` maps and normalises one frame's cells into records, and lists every bad cell as a
  :class:`RowError` (row, column, value, reason).
* :func:`content_hash` and :func:`overlay` compare and merge records (an empty cell never wipes a value).
* :func:`write_rejects` saves the bad rows beside the input, with cells a spreadsheet would run as formulas
  escaped.

:mod:`matcher.ingest` chains these with de-duplication and the store; ``from matcher.ingest import
read_table`` keeps working.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .columns import HEADER_SEARCH_ROWS, ColumnMapping, find_header_row, unique_headers
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

__all__ = ["CHUNKSIZE", "CONTENT", "RowError", "content_hash", "overlay", "dataframe_frames", "file_format", "read_table", "scan_text_file", "validate_frame", "write_rejects"]

#: rows per frame read from a file (the unit of memory and of progress)
CHUNKSIZE = 20_000
_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl"}
_TEXT_FIELDS = ("external_id", "legal_rep", "address", "scope", "intro", "company_type", "website", "phone", "email")
_NUMBER = re.compile(r"[-+]?[\d.,]+%?")


@dataclass
class RowError:
    """One bad cell: ``row`` as the user sees it in the file (header is row 1), column header, value, reason."""

    row: int
    column: str
    value: str | None
    reason: str



# ---------------------------------------------------------------- reading

def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old Excel format .xls is not supported; open it in Excel/WPS and save as .xlsx or CSV")
    if suffix not in _FORMATS:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'!r}; use CSV, XLSX or JSON Lines (.jsonl)")
    return _FORMATS[suffix]


def scan_text_file(path: Path) -> tuple[str, str, int]:
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
    kind = file_format(p)
    chunksize = chunksize or CHUNKSIZE
    names = set(name_headers)
    if kind == "xlsx":
        yield from _chunked_frames(_xlsx_rows(p, sheet), p, kind, chunksize, names)
        return
    if encoding is None:
        encoding, _, _ = scan_text_file(p)
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


def dataframe_frames(df: pd.DataFrame, chunksize: int | None = None) -> Iterator[pd.DataFrame]:
    """An in-memory table as the frames :func:`read_table` yields: str/None cells, unique headers, the row
    number (header = row 1) as index, ``chunksize`` rows at a time."""
    chunksize = chunksize or CHUNKSIZE
    columns = unique_headers([None if c is None else str(c) for c in df.columns], len(df.columns))
    for start in range(0, max(len(df), 1), chunksize):
        part = df.iloc[start:start + chunksize]
        data = [[cell_text(v) for v in row] for row in part.itertuples(index=False, name=None)]
        index = range(start + 2, start + 2 + len(part))
        yield pd.DataFrame(data, columns=columns, index=index, dtype=object)


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


def validate_frame(df: pd.DataFrame, m: ColumnMapping) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
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


# ---------------------------------------------------------------- records

#: the mapped, normalised fields of a firm; their hash tells a real change from a re-export
CONTENT = ("name", "name_norm", "credit_code", "external_id", "status", "legal_rep", "reg_capital", "reg_currency",
           "paid_capital", "paid_currency", "founded", "province", "city", "district", "address", "industry", "scope",
           "intro", "company_type", "insured", "website", "phone", "email", "extra")


def content_hash(rec: Mapping[str, Any]) -> str:
    """Hash of a record's :data:`CONTENT` fields: tells a real change from a re-export."""
    payload = json.dumps([rec.get(k) for k in CONTENT], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def overlay(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` updated with the non-empty values of ``new`` (an empty cell never wipes a known value)."""
    out = dict(old)
    for k, v in new.items():
        if k == "extra":
            out["extra"] = {**(old.get("extra") or {}), **(v or {})}
        elif v is not None:
            out[k] = v
    return out



# ---------------------------------------------------------------- rejects

def _escape(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (``-5`` stays a number)."""
    if isinstance(value, str) and len(value) > 1 and value[0] in "=+@-" and not _NUMBER.fullmatch(value):
        return "'" + value
    return value



def write_rejects(path: Path, headers: list[str], rejects: list[RowError], bad_rows: dict[int, dict[str, Any]]) -> None:
    """The bad rows, with their cells as read and the row number, columns, values and reasons of their errors."""
    by_row: dict[int, list[RowError]] = {}
    for e in rejects:
        by_row.setdefault(e.row, []).append(e)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([*headers, "行号", "列", "值", "原因"])
        for row, errs in sorted(by_row.items()):
            cells = bad_rows.get(row, {})
            w.writerow([_escape(cells.get(h)) for h in headers] + [
                row, "; ".join(e.column for e in errs), "; ".join(_escape(str(e.value)) for e in errs),
                "; ".join(e.reason for e in errs)])

