"""Header recognition: which column of an export holds which field of :class:`matcher.store.Enterprise`.

Exports from 企查查, 天眼查, 启信宝, listed-company lists and hand-made sheets name the same field in many
ways; :data:`FIELD_ALIASES` lists the names we know (Chinese and English). Headers are compared after
NFKC, without spaces, underscores and hyphens, case-insensitively; a header with a bracketed note
(``注册资本(万元)``, ``企业(机构)类型``) also matches without the note. Columns nobody claims are kept in
``Enterprise.extra`` under their original header, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import InputError

__all__ = [
    "FIELD_ALIASES",
    "FIELDS",
    "HEADER_SEARCH_ROWS",
    "ColumnMapping",
    "find_header_row",
    "header_key",
    "is_name_header",
    "map_columns",
    "parse_map_options",
    "unique_headers",
]

#: field -> header names, most specific first (when two headers claim a field the earlier alias wins)
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("企业名称", "公司名称", "名称", "企业名", "公司名", "单位名称", "机构名称", "客户名称", "company name",
             "company", "enterprise name", "enterprise", "firm name", "firm", "name"),
    "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "uscc", "unified social credit code",
                    "social credit code", "credit code"),
    "external_id": ("证券代码", "股票代码", "stock code", "ticker", "code", "symbol"),
    "status": ("登记状态", "经营状态", "企业状态", "公司状态", "状态", "status", "registration status"),
    "legal_rep": ("法定代表人", "法人代表", "法人", "负责人", "legal representative", "legal rep", "legal person"),
    "reg_capital": ("注册资本", "注册资金", "registered capital", "reg capital", "capital"),
    "reg_currency": ("注册资本币种", "币种", "currency"),
    "paid_capital": ("实缴资本", "实缴资金", "paid-in capital", "paid in capital", "paid capital"),
    "founded": ("成立日期", "成立时间", "注册日期", "注册时间", "设立日期", "founded", "founded date",
                "establishment date", "date of establishment", "incorporation date", "established"),
    "province": ("所属省份", "省份", "所在省份", "所属省", "省", "province"),
    "city": ("所属城市", "城市", "所在城市", "所属地市", "地市", "市", "city"),
    "district": ("所属区县", "区县", "所在区县", "区", "县", "district", "county"),
    "address": ("企业地址", "注册地址", "地址", "通信地址", "公司地址", "办公地址", "住所", "address",
                "registered address", "office address"),
    "industry": ("所属行业", "行业", "国标行业", "行业分类", "industry", "sector"),
    "scope": ("经营范围", "业务范围", "business scope", "scope"),
    "intro": ("企业简介", "公司简介", "简介", "公司介绍", "企业介绍", "description", "introduction", "profile",
              "about", "company profile"),
    "company_type": ("企业类型", "公司类型", "企业机构类型", "机构类型", "company type", "entity type", "type"),
    "insured": ("参保人数", "社保人数", "insured", "insured employees", "number insured", "insured staff"),
    "website": ("网址", "官网", "网站", "官方网站", "website", "web site", "url", "homepage"),
    "phone": ("电话", "联系电话", "固定电话", "手机", "phone", "telephone", "tel", "phone number"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "mail"),
}

#: the fields a column can be mapped to (``--map 源列=field``); ``extra`` keeps a column verbatim
FIELDS: tuple[str, ...] = (*FIELD_ALIASES, "extra")

# industry columns with a level: the most specific non-empty one is the firm's `industry`
_INDUSTRY_LEVEL = re.compile(r"行业.*(门类|大类|中类|小类)|(门类|大类|中类|小类).*行业|^(门类|大类|中类|小类)$")
_LEVEL_RANK = {"小类": 0, "中类": 1, "大类": 2, "门类": 3}
_IGNORED_PREFIXES = ("企查查", "天眼查", "启信宝")  # their own industry schemes rank after the national one
#: the header is looked for in this many non-empty rows at the top of a sheet
HEADER_SEARCH_ROWS = 20
_DROP = re.compile(r"[\s_\-*:：·]+")
_BRACKETED = re.compile(r"\([^)]*\)")


def header_key(header: object) -> str:
    """The comparison form of a header: NFKC, no spaces/underscores/hyphens/asterisks, lower case."""
    return _DROP.sub("", unicodedata.normalize("NFKC", str(header))).lower()


_ALIAS_INDEX: dict[str, tuple[str, int]] = {}
for _field, _aliases in FIELD_ALIASES.items():
    for _rank, _alias in enumerate(_aliases):
        _ALIAS_INDEX.setdefault(header_key(_alias), (_field, _rank))


def _lookup(header: str) -> tuple[str, int] | None:
    key = header_key(header)
    hit = _ALIAS_INDEX.get(key)
    if hit is None:
        bare = _BRACKETED.sub("", key)
        if bare and bare != key:
            hit = _ALIAS_INDEX.get(bare)
            if hit is not None:
                hit = (hit[0], hit[1] + 100)  # a bracketed variant ranks after exact names
    return hit


def _industry_level(header: str) -> int | None:
    key = _BRACKETED.sub("", header_key(header))
    m = _INDUSTRY_LEVEL.search(key)
    if not m:
        return None
    level = next(g for g in m.groups() if g)
    own = any(key.startswith(p) for p in _IGNORED_PREFIXES)
    return _LEVEL_RANK[level] + (10 if own else 0)


def is_name_header(header: object) -> bool:
    """True when ``header`` is one of the names of the firm-name column."""
    hit = _lookup(str(header)) if header is not None else None
    return hit is not None and hit[0] == "name"


def find_header_row(rows: Sequence[tuple[int, Sequence[str | None]]], name_headers: Collection[str] = ()) -> int | None:
    """Index in ``rows`` (the first non-empty rows of a sheet) of the header: the first row with a firm-name
    column (a known name header or one of ``name_headers``); None when there is none."""
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(c is not None and (c in name_headers or is_name_header(c)) for c in cells):
            return i
    return None


def unique_headers(cells: Sequence[str | None], width: int) -> list[str]:
    """``width`` distinct header names: empty ones become ``列N``, repeats get ``.1``, ``.2`` (as pandas does)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        h = (cells[i] if i < len(cells) else None) or f"列{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}.{seen[h]}"
        seen.setdefault(h, 0)
        out.append(h)
    return out


@dataclass
class ColumnMapping:
    """Which header feeds which field.

    ``fields``: field -> header (one header per field). ``industry_columns``: headers that hold an industry,
    most specific first (门类/大类/中类/小类 levels and a plain 所属行业); per row the first non-empty one becomes
    ``industry`` and the others go to ``extra``. ``extra_columns``: headers kept verbatim in ``extra``.
    """

    headers: list[str]
    fields: dict[str, str] = field(default_factory=dict)
    industry_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{h}->{f}" for f, h in self.fields.items()]
        if self.industry_columns:
            parts.append(f"industry<-{'/'.join(self.industry_columns)}")
        if self.extra_columns:
            parts.append(f"extra: {', '.join(self.extra_columns)}")
        return "; ".join(parts)


def parse_map_options(options: Iterable[str]) -> dict[str, str]:
    """``["公司=name", "Code = credit_code"]`` -> ``{"公司": "name", "Code": "credit_code"}`` (checked)."""
    out: dict[str, str] = {}
    for opt in options:
        source, sep, target = opt.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise InputError(f"--map {opt!r}: write it as 源列=field, e.g. --map 公司全称=name")
        out[source.strip()] = target.strip()
    _check_fields(out)
    return out


def _check_fields(overrides: Mapping[str, str]) -> None:
    bad = sorted({f for f in overrides.values() if f not in FIELDS})
    if bad:
        raise InputError(f"--map: unknown field {', '.join(bad)}; valid fields: {', '.join(FIELDS)}")


def map_columns(headers: Sequence[object], overrides: Mapping[str, str] | None = None) -> ColumnMapping:
    """Map ``headers`` onto Enterprise fields; ``overrides`` (header -> field, from ``--map``) come first.

    Raises InputError for an override naming an unknown field or a header the table does not have.
    Does not require a name column (the ingest checks that, with the headers in its message).
    """
    overrides = dict(overrides or {})
    _check_fields(overrides)
    names = [("" if h is None else str(h)) for h in headers]
    by_key = {header_key(h): h for h in names}
    resolved: dict[str, str] = {}
    for source, target in overrides.items():
        header = source if source in names else by_key.get(header_key(source))
        if header is None:
            raise InputError(
                f"--map {source}={target}: the table has no column {source!r}; its columns are: {', '.join(names)}"
            )
        resolved[header] = target

    mapping = ColumnMapping(headers=names)
    claims: dict[str, tuple[int, str]] = {}  # field -> (rank, header)
    levels: list[tuple[int, int, str]] = []
    for pos, header in enumerate(names):
        if not header.strip():
            continue
        if header in resolved:
            target = resolved[header]
            if target == "industry":
                levels.append((-1, pos, header))
            elif target != "extra":
                claims[target] = (-1, header)
            continue
        level = _industry_level(header)
        if level is not None:
            levels.append((level, pos, header))
            continue
        hit = _lookup(header)
        if hit is None:
            continue
        fld, rank = hit
        if fld == "industry":
            levels.append((50 + rank, pos, header))
        elif fld not in claims or rank < claims[fld][0]:
            claims[fld] = (rank, header)
    mapping.fields = {fld: header for fld, (_, header) in sorted(claims.items(), key=lambda kv: names.index(kv[1][1]))}
    mapping.industry_columns = [h for _, _, h in sorted(levels)]
    used = set(mapping.fields.values()) | set(mapping.industry_columns)
    mapping.extra_columns = [h for h in names if h.strip() and h not in used]
    return mapping
