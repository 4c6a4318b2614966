"""One enterprise profile for ``score``: from free text, a JSON / one-row CSV file, or a stored firm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from .errors import InputError, NotFoundError
from .store import Enterprise, Store

__all__ = ["load_profile"]


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not valid UTF-8 JSON ({exc})") from None
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected one JSON object with export columns (企业名称, 经营范围 ...)")
        return data
    from .ingest import read_table

    frames = list(read_table(path))
    rows = [r for f in frames for r in f.to_dict("records")]
    if len(rows) != 1:
        raise InputError(f"{path}: a profile file holds exactly one firm; this one has {len(rows)} rows")
    return {k: v for k, v in rows[0].items() if v is not None}


def _from_store(store: Store, key: str) -> dict[str, Any]:
    from .normalize import normalize_name

    key = key.strip()
    cols = (Enterprise.name, Enterprise.credit_code, Enterprise.scope, Enterprise.intro, Enterprise.industry,
            Enterprise.province, Enterprise.city, Enterprise.reg_capital, Enterprise.reg_currency, Enterprise.status)
    with store.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(or_(Enterprise.credit_code == key.upper(),
                                                    Enterprise.name_norm == normalize_name(key)))).all()
        if not rows:
            rows = conn.execute(select(*cols).where(Enterprise.name.contains(key)).limit(6)).all()
    if not rows:
        raise NotFoundError(f"no stored firm named or coded {key!r}: check `matcher info` or ingest it first")
    if len(rows) > 1:
        names = "、".join(r.name for r in rows[:5])
        raise NotFoundError(f"{key!r} matches several firms ({names}…): give the full name or the credit code")
    r = rows[0]
    capital = None if r.reg_capital is None else f"{r.reg_capital:g}万{r.reg_currency or 'CNY'}"
    return {"企业名称": r.name, "统一社会信用代码": r.credit_code, "经营范围": r.scope, "企业简介": r.intro,
            "所属行业": r.industry, "所属省份": r.province, "所属城市": r.city, "注册资本": capital,
            "登记状态": r.status}


def load_profile(store: Store, *, text: str | None = None, file: str | Path | None = None,
                 firm: str | None = None) -> str | dict[str, Any]:
    """The profile named by exactly one of ``text``, ``file`` or ``firm``."""
    if text is not None:
        if not text.strip():
            raise InputError("--text is empty: give the firm's 经营范围 or 简介")
        return text
    if file is not None:
        return _from_file(Path(file))
    if firm is not None:
        return _from_store(store, firm)
    raise InputError("give a profile: --text, --file or --firm")
