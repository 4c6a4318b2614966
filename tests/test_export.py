from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from matcher.errors import InputError
from matcher.export import escape_formula, write_table


@pytest.mark.parametrize("cell", ["=1+1", "+86 123", "-2", "@SUM(A1)", "\tx"])
def test_formula_cells_escaped(cell: str) -> None:
    assert escape_formula(cell) == "'" + cell


def test_plain_cells_untouched() -> None:
    assert escape_formula("四平经开区") == "四平经开区" and escape_formula(3.5) == 3.5


def _frame() -> pd.DataFrame:
    return pd.DataFrame([{"rank": 1, "park": "园", "name": "=HYPERLINK(\"http://x\")", "credit_code": None,
                          "province": "山东", "city": "济南市", "score": 0.91, "text": 0.8, "industry": 1.0,
                          "reason": "+evil", "components": {"text": 0.8}}])


def test_xlsx_export_is_escaped_and_formatted(tmp_path) -> None:
    path = write_table(_frame(), tmp_path / "leads.xlsx")
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    values = [c.value for c in ws[2]]
    assert "'=HYPERLINK(\"http://x\")" in values and "'+evil" in values
    assert 0.91 in values  # scores stay numbers
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for v in values)


def test_csv_export_is_escaped(tmp_path) -> None:
    path = write_table(_frame(), tmp_path / "leads.csv")
    row = next(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert row["企业名称"].startswith("'=") and row["推荐理由"] == "'+evil"


def test_json_export_keeps_components(tmp_path) -> None:
    path = write_table(_frame(), tmp_path / "leads.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data[0]["components"] == {"text": 0.8}


def test_unknown_suffix_rejected_and_nothing_written(tmp_path) -> None:
    with pytest.raises(InputError, match="unknown file type"):
        write_table(_frame(), tmp_path / "leads.txt")
    assert list(tmp_path.iterdir()) == []
