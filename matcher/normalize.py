"""Pure value normalisers for company-data exports: capital, dates, names, status, counts, regions.

Every parser takes the raw cell (a string, None, or an Excel value) and returns a clean value or None for
"no data" (``""``, ``"-"``, ``"--"``, ``"—"``, ``"无"``, ``"未公开"`` ...). A cell that holds something but
cannot be read raises :class:`ValueError` with a message that shows the value and the expected forms; the
ingest adds the file, row and column.

Regions use the ``cpca`` package (Chinese province/city/area extraction) and its adcode table; provinces
are written in the short form used everywhere in the project (``山东``, ``内蒙古``, ``广西``, ``北京``),
cities as cpca names them (``济南市``; ``北京市`` for a municipality).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from .regions import province_short

__all__ = [
    "cell_text",
    "CURRENCIES",
    "city_coordinates",
    "derive_region",
    "derive_regions",
    "is_missing",
    "normalize_city",
    "normalize_name",
    "normalize_province",
    "normalize_status",
    "parse_capital",
    "parse_date",
    "parse_int",
]

_MISSING = frozenset({"", "-", "--", "---", "—", "——", "–", "/", "无", "暂无", "未公开", "未知", "null", "none",
                      "nan", "n/a", "na", "nat"})
_MISSING_MAX = max(map(len, _MISSING))


def _clean(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_missing(value: Any) -> bool:
    """True for None, NaN and the placeholders exports use for "no data" (``-``, ``--``, ``无`` ...)."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return len(text) <= _MISSING_MAX and (not text or unicodedata.normalize("NFKC", text).lower() in _MISSING)
    return isinstance(value, float) and math.isnan(value)


def cell_text(value: Any) -> str | None:
    """Any table cell (str, number, Excel datetime, NaN/NaT/NA, dict ...) -> stripped text, or None when empty.

    Whole floats lose their ``.0`` (``5000.0`` -> ``5000``); a midnight datetime becomes ``2015-03-18``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    try:
        if value != value:  # NaN, NaT
            return None
    except TypeError:  # pandas.NA
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value).strip() or None


# ---------------------------------------------------------------- capital

#: currency words (after NFKC, brackets and spaces removed, lower-cased) -> ISO 4217 code
CURRENCIES: dict[str, str] = {
    "": "CNY", "元": "CNY", "人民币": "CNY", "元人民币": "CNY", "人民币元": "CNY", "rmb": "CNY", "cny": "CNY",
    "美元": "USD", "美金": "USD", "元美元": "USD", "usd": "USD", "us$": "USD", "$": "USD",
    "港元": "HKD", "港币": "HKD", "hkd": "HKD", "hk$": "HKD",
    "欧元": "EUR", "eur": "EUR", "€": "EUR",
    "日元": "JPY", "jpy": "JPY", "円": "JPY",
    "英镑": "GBP", "gbp": "GBP", "£": "GBP",
    "澳元": "AUD", "澳大利亚元": "AUD", "aud": "AUD",
    "加元": "CAD", "加拿大元": "CAD", "cad": "CAD",
    "新加坡元": "SGD", "sgd": "SGD",
    "瑞士法郎": "CHF", "chf": "CHF",
    "韩元": "KRW", "krw": "KRW",
    "新台币": "TWD", "台币": "TWD", "twd": "TWD",
    "澳门元": "MOP", "mop": "MOP",
}
_UNIT_WAN = {"": 1e-4, "元": 1e-4, "千": 0.1, "万": 1.0, "十万": 10.0, "百万": 100.0, "千万": 1000.0, "亿": 1e4,
             "万亿": 1e8}
_CAPITAL_RE = re.compile(r"^(?P<pre>[^\d.]*?)(?P<num>\d+(?:\.\d*)?|\.\d+)(?P<unit>万亿|十万|百万|千万|[千万亿])?(?P<post>.*)$")
_BRACKETS_SPACES = re.compile(r"[()\[\]{}\s]")


def _currency_of(text: str) -> str | None:
    word = _BRACKETS_SPACES.sub("", text).lower()
    if word in CURRENCIES:
        return CURRENCIES[word]
    if word[:1] == "元" and word[1:] in CURRENCIES:  # 100万元港币, 万元美元
        return CURRENCIES[word[1:]]
    if re.fullmatch(r"[a-z]{3}", word):  # any other ISO code
        return word.upper()
    return None


def parse_capital_ex(value: Any) -> tuple[float | None, str | None, bool]:
    """Like :func:`parse_capital`, plus whether the currency was written in the cell (not defaulted)."""
    if is_missing(value):
        return None, None, False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), "CNY", False  # a bare number: 万元 by convention of 注册资本 columns
    text = _clean(value).replace(",", "").replace("，", "").replace(" ", "")
    m = _CAPITAL_RE.match(text)
    if m:
        unit = m["unit"] or ""
        pre, post = m["pre"], m["post"]
        if not unit and post.startswith("元"):
            unit = "元"
        written = _BRACKETS_SPACES.sub("", pre + post)
        currency = _currency_of(pre + post)
        if currency is not None:
            number = float(m["num"])
            if not unit and not written:
                return number, "CNY", False  # bare "5000" in a 注册资本 column means 万元
            amount = number * _UNIT_WAN[unit]
            return round(amount, 6), currency, bool(written) and written not in ("元",)
    raise ValueError(
        f"cannot read capital {str(value)!r}: expected an amount like 5000万元人民币, 1.2亿元, 100万美元, 8000元"
    )


def parse_capital(value: Any) -> tuple[float | None, str | None]:
    """Registered/paid-in capital -> (amount in 万 of the currency, ISO currency code), or (None, None).

    ``5000万元人民币`` -> (5000.0, "CNY"); ``1,200万美元`` -> (1200.0, "USD"); ``1.2亿元`` -> (12000.0, "CNY");
    ``8000元`` -> (0.8, "CNY"); a bare number is taken as 万元. Raises ValueError for anything else.
    """
    amount, currency, _ = parse_capital_ex(value)
    return amount, currency


# ---------------------------------------------------------------- dates

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)


def _checked_date(y: int, m: int, d: int, raw: Any) -> date:
    try:
        result = date(y, m, d)
    except ValueError:
        raise ValueError(f"not a calendar date: {raw!r}") from None
    if not 1800 <= result.year <= 2100:
        raise ValueError(f"date {raw!r} is out of range (1800-2100)")
    return result


def parse_date(value: Any) -> date | None:
    """A date from ``2015-03-18``, ``2015/3/18``, ``20150318``, ``2015年3月18日``, a datetime/date object or an
    Excel serial number (``42081``); None for empty cells. Raises ValueError for anything else."""
    if isinstance(value, datetime):
        return _checked_date(value.year, value.month, value.day, value)
    if isinstance(value, date):
        return value
    if is_missing(value):
        return None
    text = _clean(value).replace(" 00:00:00", "")
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return _checked_date(int(m[1]), int(m[2]), int(m[3]), value)
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):  # Excel serial day number (1927..2173)
        return _EXCEL_EPOCH + timedelta(days=int(float(text)))
    raise ValueError(f"cannot read date {str(value)!r}: expected 2015-03-18, 2015/3/18, 20150318 or 2015年3月18日")


# ---------------------------------------------------------------- names, status, counts

_NAME_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")",
                                "〖": "(", "〗": ")", "﹙": "(", "﹚": ")"})
_WS = re.compile(r"\s+")


def normalize_name(name: Any) -> str:
    """The de-duplication form of a firm name: NFKC (full-width to half-width), one bracket style ``()``,
    no whitespace; otherwise the full name. Idempotent. None -> ''."""
    if name is None:
        return ""
    return _squeeze(unicodedata.normalize("NFKC", str(name)).translate(_NAME_BRACKETS))


def _squeeze(text: str) -> str:
    """No whitespace, NFKC again (removing a space can leave a composable pair, as NFKC of ``O¨``)."""
    return unicodedata.normalize("NFKC", _WS.sub("", text))


# first match wins: (substring, normalised status)
_STATUS_RULES = (
    ("吊销", "吊销"), ("注销", "注销"), ("撤销", "撤销"), ("责令关闭", "责令关闭"), ("停业", "停业"),
    ("歇业", "歇业"), ("清算", "清算"), ("迁出", "迁出"), ("迁入", "迁入"),
    ("存续", "存续"), ("在营", "存续"), ("在业", "存续"), ("开业", "存续"), ("在册", "存续"), ("正常", "存续"),
    ("revoked", "吊销"), ("deregistered", "注销"), ("cancelled", "注销"), ("canceled", "注销"),
    ("liquidat", "清算"), ("active", "存续"), ("operating", "存续"), ("existing", "存续"),
)


def normalize_status(value: Any) -> str | None:
    """登记状态 in one vocabulary: 存续 (also 在营/在业/开业/在册), 注销, 吊销, 撤销, 停业, 歇业, 清算, 责令关闭,
    迁出, 迁入; anything else is returned cleaned (NFKC, no spaces). None for empty cells."""
    if is_missing(value):
        return None
    text = _squeeze(_clean(value))
    low = text.lower()
    for needle, status in _STATUS_RULES:
        if needle in low:
            return status
    return text


_INT_RE = re.compile(r"^(?:约|大约|共)?(\d+)(?:\.0+)?(?:人|名|个)?$")


def parse_int(value: Any) -> int | None:
    """A count such as 参保人数: ``12``, ``12人``, ``1,200``, ``12.0``; None for empty cells."""
    if is_missing(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _clean(value).replace(",", "").replace(" ", "")
    m = _INT_RE.match(text)
    if not m:
        raise ValueError(f"cannot read a whole number from {str(value)!r}: expected e.g. 12 or 12人")
    return int(m[1])


# ---------------------------------------------------------------- regions

_PSEUDO_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_MUNICIPALITIES = frozenset({"北京", "上海", "天津", "重庆"})


def _short_province(full: str) -> str:
    return province_short(full) or full


@cache
def _region_tables() -> dict[str, Any]:
    """Provinces (short -> full), cities and coordinates from cpca's adcode table."""
    import cpca

    provinces: dict[str, str] = {}  # short -> full
    by_code: dict[str, Any] = {}
    for code, info in cpca.ad_2_addr_dict.items():
        by_code[code[:6]] = info
        if info.rank == 0:
            provinces[_short_province(info.name)] = info.name
    cities: dict[tuple[str, str], tuple[float, float] | None] = {}
    for code6, info in by_code.items():
        if info.rank == 0:
            continue
        prov = by_code.get(code6[:2] + "0000")
        if prov is None:
            continue
        short = _short_province(prov.name)
        parent = by_code.get(code6[:4] + "00") if info.rank == 2 else None
        # a real city, or a county-level city directly under a province (仙桃市) / municipality district
        if info.rank == 1 and info.name not in _PSEUDO_CITIES or (
            info.rank == 2 and parent is not None and parent.name in _PSEUDO_CITIES and short not in _MUNICIPALITIES
        ):
            coords = (float(info.longitude), float(info.latitude)) if info.longitude else None
            cities.setdefault((short, info.name), coords)
    for short, full in provinces.items():
        if short in _MUNICIPALITIES or short in ("香港", "澳门"):
            info = by_code[next(c for c, i in by_code.items() if i.rank == 0 and i.name == full)]
            cities[(short, full)] = (float(info.longitude), float(info.latitude))
    return {"provinces": provinces, "cities": cities}


def normalize_province(value: Any) -> str | None:
    """``山东省``/``山东`` -> ``山东``, ``内蒙古自治区`` -> ``内蒙古``, ``广西壮族自治区`` -> ``广西``; an unknown name is
    returned cleaned; None for empty cells."""
    return None if is_missing(value) else _province_of(_squeeze(_clean(value)))


@lru_cache(maxsize=4096)
def _province_of(text: str) -> str:
    short = _short_province(text)  # also 山东省济南市 in a province column -> 山东
    return short if short in _region_tables()["provinces"] else text


def normalize_city(value: Any, province: str | None = None) -> str | None:
    """A city as cpca names it: ``济南`` -> ``济南市`` (when one city of that name exists in ``province`` or,
    without a province, in the country); other names are returned cleaned; None for empty cells."""
    return None if is_missing(value) else _city_of(_squeeze(_clean(value)), province)


@lru_cache(maxsize=16384)
def _city_of(text: str, province: str | None) -> str:
    cities = _region_tables()["cities"]
    if (province, text) in cities:
        return text
    hits = {c for (p, c) in cities if (province is None or p == province) and (c == text or c.startswith(text))}
    if len(hits) == 1 and len(text) >= 2:
        return hits.pop()
    return text


def _cpca_city(prov_short: str | None, city: Any, county: Any) -> str | None:
    if not isinstance(city, str) or not city:
        return None
    if city in _PSEUDO_CITIES:
        if prov_short in _MUNICIPALITIES:
            return _region_tables()["provinces"][prov_short]
        return county if isinstance(county, str) and county else None
    return city


def derive_regions(
    rows: Sequence[tuple[Any, Any, Any, Any]],
) -> list[tuple[str | None, str | None, str | None]]:
    """For many ``(address, province, city, district)`` at once: :func:`derive_region` with one cpca call."""
    known: list[tuple[str | None, str | None, str | None]] = []
    queries: list[str] = []
    todo: list[int] = []
    for i, (address, province, city, district) in enumerate(rows):
        p = normalize_province(province)
        c = normalize_city(city, p)
        d = None if is_missing(district) else _WS.sub("", _clean(district))
        known.append((p, c, d))
        addr = "" if is_missing(address) else _WS.sub("", _clean(address))
        if (p and c and d) or not (addr or c or d):
            continue
        prefix = "".join(x for x in (p, c, d) if x and x not in addr)
        queries.append(prefix + addr)
        todo.append(i)
    if not queries:
        return known
    import cpca

    found = cpca.transform(queries)
    out = list(known)
    for i, (fp, fc, fd) in zip(todo, found[["省", "市", "区"]].itertuples(index=False, name=None), strict=True):
        p, c, d = known[i]
        if not isinstance(fp, str) or not fp:
            continue
        dp = _short_province(fp)
        if p is not None and p != dp:
            continue  # the address points elsewhere than the province column: trust the column, fill nothing
        dc = _cpca_city(dp, fc, fd)
        if c is not None and dc is not None and c != dc:
            out[i] = (p or dp, c, d)
            continue
        dd = fd if isinstance(fd, str) and fd and dc != fd else None
        out[i] = (p or dp, c or dc, d or dd)
    return out


def derive_region(
    address: Any, province: Any = None, city: Any = None, district: Any = None
) -> tuple[str | None, str | None, str | None]:
    """(province, city, district), the given ones normalised and only the missing ones read from ``address``.

    ``derive_region("济南市历下区经十路1号", None, None, None)`` -> ``("山东", "济南市", "历下区")``.
    Calls cpca once; for many rows use :func:`derive_regions`.
    """
    return derive_regions([(address, province, city, district)])[0]


def city_coordinates(province: str | None, city: str | None) -> tuple[float, float] | None:
    """(longitude, latitude) of a city from cpca's adcode table, or None when unknown.

    ``province`` may be short or full (``山东``/``山东省``) or None; ``city`` as cpca names it or without ``市``.
    A municipality (``北京``) or a province alone gives its seat's coordinates only when ``city`` names it.
    """
    tables = _region_tables()
    cities: dict[tuple[str, str], tuple[float, float] | None] = tables["cities"]
    p = normalize_province(province)
    if is_missing(city):
        return None
    c = _WS.sub("", _clean(city))
    if p in _MUNICIPALITIES and c in (p, p + "市"):
        return cities.get((p, p + "市"))
    if p is not None and (p, c) in cities:
        return cities[(p, c)]
    hits = [xy for (pp, cc), xy in cities.items() if (p is None or pp == p) and (cc == c or cc.startswith(c))]
    if len(hits) == 1 and len(c) >= 2:
        return hits[0]
    return None
