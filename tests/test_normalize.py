"""Value normalisers: capital, dates, names, status, counts, regions and city coordinates."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.normalize import (
    cell_text,
    city_coordinates,
    derive_region,
    derive_regions,
    normalize_city,
    normalize_name,
    normalize_province,
    normalize_status,
    parse_capital,
    parse_date,
    parse_int,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5000万元人民币", (5000.0, "CNY")),
        ("1,200万美元", (1200.0, "USD")),
        ("1.2亿元", (12000.0, "CNY")),
        ("500万(元)", (500.0, "CNY")),
        ("500万（元）", (500.0, "CNY")),
        ("300万元", (300.0, "CNY")),
        ("50万人民币", (50.0, "CNY")),
        ("2000万港元", (2000.0, "HKD")),
        ("100万元港币", (100.0, "HKD")),
        ("20万(美元)", (20.0, "USD")),
        ("100万欧元", (100.0, "EUR")),
        ("8000元", (0.8, "CNY")),
        ("100万日元", (100.0, "JPY")),
        ("10万英镑", (10.0, "GBP")),
        ("人民币5000万元", (5000.0, "CNY")),
        ("5000", (5000.0, "CNY")),  # a bare number in a 注册资本 column is 万元
        (" 5000 万元 ", (5000.0, "CNY")),
        ("-", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("--", (None, None)),
    ],
)
def test_parse_capital(raw: str | None, expected: tuple[float | None, str | None]) -> None:
    amount, currency = parse_capital(raw)
    assert currency == expected[1]
    if expected[0] is None:
        assert amount is None
    else:
        assert amount == pytest.approx(expected[0])


@pytest.mark.parametrize("raw", ["abc", "五千万元", "5000万火星币", "12-34"])
def test_parse_capital_garbage_says_what_it_expected(raw: str) -> None:
    with pytest.raises(ValueError, match="cannot read capital.*5000万元人民币"):
        parse_capital(raw)


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_parse_capital_round_trips_wan_yuan(x) -> None:  # type: ignore[no-untyped-def]
    amount, currency = parse_capital(f"{x}万元")
    assert currency == "CNY"
    assert amount == pytest.approx(float(x))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-03-18", date(2015, 3, 18)),
        ("2015/3/18", date(2015, 3, 18)),
        ("20150318", date(2015, 3, 18)),
        ("2015年3月18日", date(2015, 3, 18)),
        ("2015-03-18 00:00:00", date(2015, 3, 18)),
        (datetime(2015, 3, 18, 10, 30), date(2015, 3, 18)),
        (date(2015, 3, 18), date(2015, 3, 18)),
        ("42081", date(2015, 3, 18)),  # Excel serial day
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2015-02-30", "yesterday", "3/18/2015", "2015-13-01"])
def test_parse_date_garbage(raw: str) -> None:
    with pytest.raises(ValueError, match=repr(raw).strip("'")):
        parse_date(raw)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_parse_date_round_trips_all_forms(d: date) -> None:
    for text in (d.isoformat(), f"{d.year}/{d.month}/{d.day}", d.strftime("%Y%m%d"), f"{d.year}年{d.month}月{d.day}日"):
        assert parse_date(text) == d


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("12人", 12), ("1,200", 1200), ("12.0", 12), ("-", None),
                                               ("", None), (None, None), (7, 7)])
def test_parse_int(raw: object, expected: int | None) -> None:
    assert parse_int(raw) == expected


def test_parse_int_garbage() -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_int("十二")


def test_normalize_name() -> None:
    assert normalize_name("四平市巨元瀚洋板式换热器有限公司（分公司）") == "四平市巨元瀚洋板式换热器有限公司(分公司)"
    assert normalize_name(" ＡＢＣ 科技 【北京】有限公司 ") == "ABC科技(北京)有限公司"
    assert normalize_name(None) == ""


@given(st.text(max_size=40))
def test_normalize_name_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once
    assert not any(ch.isspace() for ch in once)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("存续（在营、开业、在册）", "存续"), ("在业", "存续"), ("开业", "存续"), ("注销", "注销"), ("吊销，未注销", "吊销"),
     ("停业", "停业"), ("迁出", "迁出"), ("Active", "存续"), ("-", None), ("其他 状态", "其他状态")],
)
def test_normalize_status(raw: str, expected: str | None) -> None:
    assert normalize_status(raw) == expected


@given(st.text(max_size=20))
def test_normalize_status_is_idempotent(s: str) -> None:
    once = normalize_status(s)
    assert once is None or normalize_status(once) == once


def test_cell_text() -> None:
    assert cell_text(5000.0) == "5000"
    assert cell_text(float("nan")) is None
    assert cell_text("  x ") == "x"
    assert cell_text("   ") is None
    assert cell_text(datetime(2015, 3, 18)) == "2015-03-18"


@pytest.mark.parametrize(("raw", "short"), [("山东省", "山东"), ("山东", "山东"), ("吉林省", "吉林"), ("北京市", "北京"),
                                            ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("新疆维吾尔自治区", "新疆"),
                                            ("黑龙江省", "黑龙江"), ("香港特别行政区", "香港"), ("-", None)])
def test_normalize_province(raw: str, short: str | None) -> None:
    assert normalize_province(raw) == short


def test_normalize_city() -> None:
    assert normalize_city("济南", "山东") == "济南市"
    assert normalize_city("四平市", None) == "四平市"


def test_derive_region_fills_only_missing_parts() -> None:
    assert derive_region("济南市历下区经十路1号", None, None, None) == ("山东", "济南市", "历下区")
    assert derive_region("山东省济南市历下区经十路1号", "山东省", None, None) == ("山东", "济南市", "历下区")
    assert derive_region("北京市海淀区中关村大街1号") == ("北京", "北京市", "海淀区")
    assert derive_region("内蒙古自治区呼和浩特市新城区") == ("内蒙古", "呼和浩特市", "新城区")
    # the given columns win; the address only fills gaps
    assert derive_region("铁西区某路", "吉林", "四平市", None) == ("吉林", "四平市", "铁西区")
    assert derive_region("", "山东", "济南市", None) == ("山东", "济南市", None)
    assert derive_region(None) == (None, None, None)
    # an address in another province does not overwrite the province column
    assert derive_region("广州市天河区", "山东", None, None) == ("山东", None, None)


def test_derive_regions_batch_matches_single_calls() -> None:
    rows = [("济南市历下区", None, None, None), ("深圳市南山区科技园", None, None, None), ("", "吉林省", None, None)]
    assert derive_regions(rows) == [derive_region(*r) for r in rows]


def test_city_coordinates() -> None:
    lon, lat = city_coordinates("吉林", "四平市")  # type: ignore[misc]
    assert math.isclose(lon, 124.35, abs_tol=0.1) and math.isclose(lat, 43.17, abs_tol=0.1)
    assert city_coordinates("山东省", "济南") is not None
    assert city_coordinates("北京", "北京市") is not None
    assert city_coordinates(None, "仙桃市") is not None  # a county-level city directly under its province
    assert city_coordinates("山东", "不存在市") is None
    assert city_coordinates("山东", None) is None
