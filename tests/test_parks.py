"""Parks: the shipped defaults, park files in YAML / CSV / XLSX, and look-ups by name or alias."""

from __future__ import annotations

import pandas as pd
import pytest

from matcher.errors import InputError, NotFoundError
from matcher.parks import default_parks, ensure_default_parks, find_park, import_parks, list_parks, read_park_file

SIPING = {"四平经开区", "四平新型工业化经开区", "四平梨树经开区", "四平伊通经开区", "四平双辽经开区", "四平红嘴经济技术开发区",
          "农产品加工产业园", "生态化工产业园", "硅灰石产业园"}


def test_default_parks_are_sipings() -> None:
    parks = default_parks()
    assert {p["name"] for p in parks} == SIPING
    for p in parks:
        assert p["description"] and p["city"] == "四平市" and p["province"] == "吉林"
        assert p["longitude"] and p["latitude"] and p["target_regions"]


def test_defaults_loaded_once(store) -> None:
    assert ensure_default_parks(store) is True
    assert ensure_default_parks(store) is False
    assert len(list_parks(store)) == len(SIPING)


def test_find_by_alias_and_partial_name(store) -> None:
    ensure_default_parks(store)
    assert find_park(store, "新开区")["name"] == "四平新型工业化经开区"
    assert find_park(store, "双辽")["name"] == "四平双辽经开区"
    with pytest.raises(NotFoundError, match="ambiguous"):
        find_park(store, "产业园")
    with pytest.raises(NotFoundError, match="no park named"):
        find_park(store, "火星园")


def test_csv_and_xlsx_park_files(tmp_path, store) -> None:
    frame = pd.DataFrame([{"园区名称": "测试园", "所在城市": "长春市", "主导产业": "汽车零部件、精细化工",
                           "目标区域": "长三角、山东", "指定行业": "C3670;C266", "备注": "测试"}])
    frame.to_csv(tmp_path / "p.csv", index=False, encoding="gbk")
    frame.to_excel(tmp_path / "p.xlsx", index=False)
    for name in ("p.csv", "p.xlsx"):
        (park,) = read_park_file(tmp_path / name)
        assert park["target_regions"] == ["长三角", "山东"] and park["pinned_industries"] == ["C3670", "C266"]
    assert import_parks(store, read_park_file(tmp_path / "p.csv")) == (1, 0)
    assert import_parks(store, read_park_file(tmp_path / "p.xlsx")) == (0, 1)


def test_yaml_park_file(tmp_path) -> None:
    (tmp_path / "p.yaml").write_text("- name: 甲园\n  description: 冶金建材\n  target_regions: [京津冀]\n",
                                     encoding="utf-8")
    (park,) = read_park_file(tmp_path / "p.yaml")
    assert park["name"] == "甲园" and park["target_regions"] == ["京津冀"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("园区名称,主导产业\n测试园,\n", "no target-industry text"),
        ("园区名称,颜色\n测试园,红\n", "unknown park column"),
        ("园区名称,主导产业\n甲,化工\n甲,玻璃\n", "appears twice"),
    ],
)
def test_bad_park_files_name_the_problem(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_park_file(path)


def test_unknown_park_file_type(tmp_path) -> None:
    path = tmp_path / "parks.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="unknown park file type"):
        read_park_file(path)


def test_xlsx_park_sheet_with_a_title_row(tmp_path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["四平市重点园区一览"])
    ws.append(["园区名称", "主导产业"])
    ws.append(["乙园", "玻璃生产及深加工"])
    wb.save(tmp_path / "titled.xlsx")
    (park,) = read_park_file(tmp_path / "titled.xlsx")
    assert park["name"] == "乙园" and park["description"] == "玻璃生产及深加工"
