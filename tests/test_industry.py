"""Industry knowledge: both sides mapped onto GB/T 4754-2017 codes, on hand-made examples."""

from __future__ import annotations

import pytest

from matcher.industry import (
    code_label,
    firm_industries,
    industry_field_codes,
    industry_similarity,
    knowledge_base,
    park_industries,
)


def _top(codes: dict[str, float]) -> str:
    return max(codes, key=codes.get)


def test_woven_bag_maker_maps_to_2923() -> None:
    codes = firm_industries("江苏恒远塑业有限公司", "塑料编织袋、集装袋、吨袋的生产和销售", "")
    assert _top(codes).startswith("C2923")


def test_pv_module_maker_maps_to_new_energy_equipment() -> None:
    codes = firm_industries("某新能源科技有限公司", "光伏组件、太阳能电池片的研发与生产", "")
    assert _top(codes).startswith(("C3825", "C382"))


@pytest.mark.parametrize(
    ("scope", "prefix"),
    [
        ("冷藏车、厢式运输车、罐式车改装制造", "C363"),
        ("汽车线束、车桥、制动器的生产", "C367"),
        ("化学原料药、中成药、片剂、胶囊剂制造", "C27"),
        ("道路普通货物运输、仓储服务、冷链物流", "G"),
        ("浮法玻璃、钢化玻璃、中空玻璃生产", "C304"),
        ("旅行社业务、景区游览服务、酒店管理", ("L729", "N78", "H61")),
    ],
)
def test_firm_text_maps_to_its_industry(scope: str, prefix: str | tuple[str, ...]) -> None:
    codes = firm_industries("", scope, "")
    assert codes, f"nothing read from {scope!r}"
    assert _top(codes).startswith(prefix), {code_label(c): w for c, w in codes.items()}


def test_car_rental_is_not_car_manufacturing() -> None:
    codes = firm_industries("", "汽车租赁；机动车驾驶员培训", "")
    assert not any(c.startswith("C36") for c in codes), codes


def test_park_text_agri_processing_maps_to_food_divisions() -> None:
    ev = park_industries("农产品精深加工")
    assert any(c[:3] in {"C13", "C14"} for c in ev.weights), ev.weights


@pytest.mark.parametrize(
    ("text", "expected"),
    [("塑编", "C2923"), ("专用车及零部件", "C3630"), ("玻璃生产及深加工", "C304")],
)
def test_park_text_reads_industries(text: str, expected: str) -> None:
    ev = park_industries(text)
    assert any(c.startswith(expected) or expected.startswith(c) for c in ev.weights), ev.weights
    assert max(ev.weights.values()) == 1.0


def test_pinned_codes_override_the_text() -> None:
    ev = park_industries("农产品精深加工", pinned=["C3630"])
    assert ev.weights == {"C3630": 1.0}


def test_industry_field_codes_and_names() -> None:
    assert industry_field_codes("C26化学原料和化学制品制造业") == {"C26": 1.0}
    assert industry_field_codes("汽车制造业") == {"C36": 1.0}
    assert industry_field_codes("2923") == {"C2923": 1.0}
    assert industry_field_codes("") == {}


def test_similarity_follows_the_code_tree() -> None:
    assert industry_similarity("C29", "C2923") == 1.0
    assert industry_similarity("C2923", "C2923") == 1.0
    assert 0 < industry_similarity("C2923", "C29") < 1
    assert industry_similarity("C2923", "C2922") > industry_similarity("C2923", "C2911") > 0
    assert industry_similarity("C2923", "G5951") == 0


def test_knowledge_base_covers_every_division() -> None:
    kb = knowledge_base()
    divisions = [c for c, ind in kb.industries.items() if ind.level == 2]
    assert len(divisions) == 97
    missing = [c for c in divisions if not any(k.startswith(c) and kb.keywords[k] for k in kb.keywords)]
    assert not missing, f"divisions without keywords: {missing}"
