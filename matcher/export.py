"""Exports of lead lists and park scores: CSV (UTF-8 with BOM, opens in Excel), XLSX formatted for people,
JSON. Every text cell that a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, or a
tab / carriage return) is escaped with a leading apostrophe-free single quote character ``'``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

__all__ = ["atomic_write", "display_width", "escape_formula", "lead_records", "write_leads", "write_table"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: columns shown to people, with their Chinese headers, in order
HEADERS = {
    "rank": "排名", "park": "园区", "name": "企业名称", "credit_code": "统一社会信用代码", "province": "省份",
    "city": "城市", "score": "综合得分", "text": "文本相关", "industry": "行业相关", "region": "目标区域",
    "size": "规模", "distance_km": "距离(公里)", "industry_match": "匹配行业", "reason": "推荐理由",
    "status": "登记状态", "reg_capital": "注册资本(万)", "reg_currency": "币种", "insured": "参保人数",
    "legal_rep": "法定代表人", "address": "地址", "phone": "电话", "email": "邮箱", "website": "网址",
    "matched_terms": "匹配词", "external_id": "外部编号", "enterprise_id": "企业ID",
}
_NUMERIC = {"rank", "score", "text", "industry", "region", "size", "distance_km", "reg_capital", "insured",
            "enterprise_id"}


def escape_formula(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would evaluate with ``'`` so it stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def lead_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN -> null; components stay an object)."""
    out = []
    for row in frame.to_dict("records"):
        rec = {}
        for k, v in row.items():
            if k.startswith("_"):
                continue
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "item"):  # numpy scalar
                v = v.item()
            rec[k] = v
        out.append(rec)
    return out


def _people_frame(frame: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    cols = columns or [c for c in HEADERS if c in frame.columns and c not in ("enterprise_id", "external_id")]
    view = frame[[c for c in cols if c in frame.columns]].copy()
    for c in view.columns:
        if c not in _NUMERIC:
            view[c] = view[c].map(lambda v: escape_formula(_clean(v)))
    return view.rename(columns={c: HEADERS.get(c, c) for c in view.columns})


def atomic_write(path: Path, write: Any) -> Path:
    """Write ``path`` through ``write(tmp_path)`` on a temporary file in the same folder, then rename it
    into place, so a failure leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_xlsx(view: pd.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(list(view.columns))
    for row in view.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) else v for v in row])
    head_font = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="305496")
    for cell in ws[1]:
        cell.font = head_font
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, col in enumerate(view.columns, 1):
        values = [str(col)] + [str(v) for v in view[col].head(200) if v is not None]
        width = max(display_width(v) for v in values) + 2
        ws.column_dimensions[get_column_letter(i)].width = min(max(width, 6), 60)
        if col in ("综合得分", "文本相关", "行业相关", "目标区域", "规模"):
            for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                for c in cell:
                    c.number_format = "0.000"
        if col == "推荐理由":
            for cell in ws.iter_cols(min_col=i, max_col=i, min_row=2):
                for c in cell:
                    c.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


def display_width(text: str) -> int:
    """Terminal / spreadsheet width of ``text``: CJK (wide) characters count two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_table(frame: pd.DataFrame, path: str | Path, *, sheet: str = "leads", columns: list[str] | None = None,
                json_records: list[dict[str, Any]] | None = None) -> Path:
    """Write ``frame`` to ``.csv``, ``.xlsx`` or ``.json`` (by suffix), atomically."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        records = json_records if json_records is not None else lead_records(frame)
        text = json.dumps(records, ensure_ascii=False, indent=1, default=str)
        atomic_write(p, lambda t: t.write_text(text + "\n", encoding="utf-8"))
    elif suffix == ".csv":
        view = _people_frame(frame, columns)
        atomic_write(p, lambda t: view.to_csv(t, index=False, encoding="utf-8-sig"))
    elif suffix in (".xlsx", ".xlsm"):
        view = _people_frame(frame, columns)
        atomic_write(p, lambda t: _write_xlsx(view, t, sheet))
    else:
        raise InputError(f"--out {p}: unknown file type {suffix!r}; use .xlsx, .csv or .json")
    return p


def write_leads(frames: list[tuple[str, pd.DataFrame]], path: str | Path) -> list[Path]:
    """Write one or several parks' lead lists: one sheet per park in an .xlsx, one file per park otherwise."""
    p = Path(path)
    if len(frames) == 1:
        return [write_table(frames[0][1], p, sheet=frames[0][0])]
    if p.suffix.lower() == ".json":
        records = [rec for _, f in frames for rec in lead_records(f)]
        return [write_table(pd.DataFrame(), p, json_records=records)]
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        views = [(name, _people_frame(f, None)) for name, f in frames]

        def write(t: Path) -> None:
            with pd.ExcelWriter(t, engine="openpyxl") as xw:
                for name, view in views:
                    view.to_excel(xw, sheet_name=name[:31], index=False)
                for ws in xw.book.worksheets:
                    ws.freeze_panes = "A2"
                    for col in ws.columns:
                        width = max(display_width(str(c.value or "")) for c in list(col)[:200]) + 2
                        ws.column_dimensions[col[0].column_letter].width = min(max(width, 6), 60)

        atomic_write(p, write)
        return [p]
    return [write_table(f, p.with_name(f"{p.stem}_{name}{p.suffix}")) for name, f in frames]
