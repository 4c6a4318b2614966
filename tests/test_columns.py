"""Header recognition for the export layouts we know, overrides, and what happens to unknown columns."""

from __future__ import annotations

import pytest

from matcher.columns import FIELDS, find_header_row, header_key, map_columns, parse_map_options, unique_headers
from matcher.errors import InputError

QICHACHA = ["企业名称", "登记状态", "法定代表人", "注册资本", "实缴资本", "成立日期", "核准日期", "所属省份", "所属城市",
            "所属区县", "电话", "更多电话", "邮箱", "统一社会信用代码", "参保人数", "企业(机构)类型", "国标行业门类",
            "国标行业大类", "国标行业中类", "国标行业小类", "官网", "企业地址", "经营范围"]
TIANYANCHA = ["公司名称", "经营状态", "法定代表人", "注册资本", "成立日期", "省份", "城市", "区县", "电话", "邮箱",
              "统一社会信用代码", "公司类型", "行业", "网址", "注册地址", "经营范围", "曾用名"]
QIXINBAO = ["企业名称", "法人代表", "注册资本", "成立时间", "企业状态", "所在省份", "所在城市", "信用代码", "企业类型",
            "所属行业", "联系电话", "电子邮箱", "网址", "地址", "经营范围", "企业简介"]
ENGLISH = ["Company Name", "USCC", "Status", "Legal Representative", "Registered Capital", "Founded", "Province",
           "City", "Address", "Industry", "Business Scope", "Description", "Stock Code", "Website", "E-mail", "Phone"]


def test_qichacha_layout() -> None:
    m = map_columns(QICHACHA)
    assert m.fields["name"] == "企业名称"
    assert m.fields["credit_code"] == "统一社会信用代码"
    assert m.fields["status"] == "登记状态"
    assert m.fields["reg_capital"] == "注册资本" and m.fields["paid_capital"] == "实缴资本"
    assert m.fields["founded"] == "成立日期"
    assert (m.fields["province"], m.fields["city"], m.fields["district"]) == ("所属省份", "所属城市", "所属区县")
    assert m.fields["company_type"] == "企业(机构)类型"
    assert m.fields["insured"] == "参保人数"
    assert m.fields["website"] == "官网" and m.fields["address"] == "企业地址" and m.fields["scope"] == "经营范围"
    # the most specific industry level first
    assert m.industry_columns == ["国标行业小类", "国标行业中类", "国标行业大类", "国标行业门类"]
    assert set(m.extra_columns) == {"核准日期", "更多电话"}


def test_tianyancha_layout() -> None:
    m = map_columns(TIANYANCHA)
    assert m.fields["name"] == "公司名称"
    assert m.fields["status"] == "经营状态"
    assert (m.fields["province"], m.fields["city"], m.fields["district"]) == ("省份", "城市", "区县")
    assert m.fields["company_type"] == "公司类型" and m.fields["website"] == "网址"
    assert m.fields["address"] == "注册地址"
    assert m.industry_columns == ["行业"]
    assert m.extra_columns == ["曾用名"]


def test_qixinbao_layout() -> None:
    m = map_columns(QIXINBAO)
    assert m.fields["legal_rep"] == "法人代表" and m.fields["founded"] == "成立时间"
    assert m.fields["credit_code"] == "信用代码" and m.fields["status"] == "企业状态"
    assert m.fields["phone"] == "联系电话" and m.fields["email"] == "电子邮箱"
    assert m.fields["intro"] == "企业简介" and m.fields["address"] == "地址"
    assert m.industry_columns == ["所属行业"]
    assert m.extra_columns == []


def test_english_layout() -> None:
    m = map_columns(ENGLISH)
    expected = {"name": "Company Name", "credit_code": "USCC", "status": "Status", "legal_rep": "Legal Representative",
                "reg_capital": "Registered Capital", "founded": "Founded", "province": "Province", "city": "City",
                "address": "Address", "scope": "Business Scope", "intro": "Description", "external_id": "Stock Code",
                "website": "Website", "email": "E-mail", "phone": "Phone"}
    assert m.fields == expected
    assert m.industry_columns == ["Industry"]


def test_listed_company_list() -> None:
    m = map_columns(["code", "name", "industry", "province"])
    assert m.fields == {"external_id": "code", "name": "name", "province": "province"}


def test_matching_ignores_width_case_and_spaces() -> None:
    m = map_columns(["企业 名称", "ＵＳＣＣ", "注册资本（万元）", "company_name"])
    assert m.fields["name"] == "企业 名称"
    assert m.fields["credit_code"] == "ＵＳＣＣ"
    assert m.fields["reg_capital"] == "注册资本（万元）"
    assert header_key("Company_Name") == header_key("company name")


def test_first_alias_wins_and_the_other_is_kept() -> None:
    m = map_columns(["地址", "企业地址", "名称"])
    assert m.fields["address"] == "企业地址"
    assert m.extra_columns == ["地址"]


def test_overrides() -> None:
    m = map_columns(["公司全称", "Code", "备注"], {"公司全称": "name", "Code": "credit_code", "备注": "intro"})
    assert m.fields == {"name": "公司全称", "credit_code": "Code", "intro": "备注"}
    m = map_columns(["企业名称", "企业地址"], {"企业地址": "extra"})
    assert m.extra_columns == ["企业地址"] and "address" not in m.fields


def test_override_errors_list_what_is_valid() -> None:
    with pytest.raises(InputError, match="unknown field nam; valid fields: name, credit_code"):
        map_columns(["公司全称"], {"公司全称": "nam"})
    with pytest.raises(InputError, match="no column '公司'; its columns are: 公司全称"):
        map_columns(["公司全称"], {"公司": "name"})


def test_parse_map_options() -> None:
    assert parse_map_options(["公司全称=name", " Code = credit_code "]) == {"公司全称": "name", "Code": "credit_code"}
    with pytest.raises(InputError, match="源列=field"):
        parse_map_options(["公司全称"])
    with pytest.raises(InputError, match="valid fields"):
        parse_map_options(["x=bogus"])
    assert "extra" in FIELDS


def test_find_header_row_skips_title_rows() -> None:
    rows = [(1, ["2024年四平市招商线索", None]), (2, ["导出时间: 2024-05-01", None]), (3, ["序号", "企业名称"])]
    assert find_header_row(rows) == 2
    assert find_header_row([(1, ["序号", "公司全称"])]) is None
    assert find_header_row([(1, ["序号", "公司全称"])], {"公司全称"}) == 0


def test_unique_headers() -> None:
    assert unique_headers(["电话", None, "电话", "x"], 5) == ["电话", "列2", "电话.1", "x", "列5"]
