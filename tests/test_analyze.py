from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.analyze import get_analyzer, normalize_text, strip_boilerplate


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("一般项目：汽车零部件制造；许可项目：道路货物运输（依法须经批准的项目，经相关部门批准后方可开展经营活动，"
         "具体经营项目以相关部门批准文件或许可证件为准）", "汽车零部件制造;道路货物运输"),
        ("塑料编织袋生产。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）", "塑料编织袋生产"),
        ("冷藏车销售（依法须经批准的项目，经相关部门批准后方可开展经营活动）", "冷藏车销售"),
        ("经营范围：药品生产", "药品生产"),
        ("仓储服务（不得从事危险化学品仓储业务）", "仓储服务"),
    ],
)
def test_boilerplate_removed(scope: str, expected: str) -> None:
    assert strip_boilerplate(scope).replace(" ", "") == expected


def test_normalize_full_width_and_brackets() -> None:
    assert normalize_text("ＡＢＣ１２３（有限）【公司】  　x") == "ABC123(有限)(公司) x"


@given(st.text(max_size=200))
def test_normalize_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_company_form_words_carry_no_weight_but_name_does() -> None:
    a = get_analyzer()
    toks = a.firm_tokens("四平市宏达专用车有限责任公司", "", "")
    assert "专用车" in toks
    assert not {"有限责任公司", "有限公司", "公司", "有限责任"} & set(toks)


@pytest.mark.parametrize("word", ["专用车", "塑编", "硅灰石", "线束", "精酿啤酒", "改性甲醇"])
def test_domain_dictionary_keeps_terms_whole(word: str) -> None:
    assert word in get_analyzer().tokens(f"主要生产{word}产品")


def test_stopwords_and_punctuation_dropped() -> None:
    toks = get_analyzer().tokens("一般项目：销售、生产和加工的，2023年。")
    assert "，" not in toks and "的" not in toks and "2023" not in toks
