"""Ingest: formats, validation with one transaction per file, de-duplication, updates, errors, the CLI command."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import matcher.analyze
import matcher.ingest
import matcher.readers
from matcher.cli_ingest import ingest_command
from matcher.credit_code import check_character
from matcher.errors import InputError
from matcher.ingest import IngestError, ingest_dataframe, ingest_files, read_table
from matcher.store import Enterprise, IngestLog, Store, open_store


def code(n: int) -> str:
    """A valid 统一社会信用代码 built from a number."""
    first17 = f"91370100MA{n:07d}"
    return first17 + check_character(first17)


C1, C2, C3 = code(1), code(2), code(3)
BAD_CODE = C1[:17] + ("0" if C1[17] != "0" else "1")
HEADER = ["企业名称", "统一社会信用代码", "登记状态", "注册资本", "成立日期", "所属省份", "所属城市", "企业地址", "经营范围"]
ROWS = [
    ["山东甲科技有限公司", C1, "存续（在营、开业、在册）", "5000万元人民币", "2015-03-18", "山东省", "济南市",
     "济南市历下区经十路1号", "软件开发；信息系统集成服务"],
    ["四平乙换热器有限公司", C2, "在业", "1.2亿元", "2015/3/18", "", "", "吉林省四平市铁西区英雄大街2号", "板式换热器制造"],
    ["丙无码贸易有限公司", "", "-", "", "", "", "", "北京市海淀区中关村大街3号", "日用品销售"],
]


class _FakeAnalyzer:
    version = "test-fake"

    def firm_tokens(self, name: str | None, scope: str | None, intro: str | None) -> list[str]:
        return [t for t in (name, scope, intro) if t]


@pytest.fixture(autouse=True)
def _analysis_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the real analyzer and industry reader when their resources are in place, else a stand-in."""
    try:
        matcher.analyze.get_analyzer()
    except Exception:
        monkeypatch.setattr(matcher.analyze, "get_analyzer", lambda backend="auto": _FakeAnalyzer())
    if matcher.ingest.firm_industries is not None:
        try:
            matcher.ingest.firm_industries("甲公司", "软件开发", None, None)
        except Exception:
            monkeypatch.setattr(matcher.ingest, "firm_industries", None)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 't.db'}")


def write_csv(path: Path, rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def firms(store: Store) -> dict[str, dict[str, Any]]:
    with store.engine.connect() as conn:
        return {r["name"]: dict(r) for r in conn.execute(select(Enterprise)).mappings()}


def counts(report: Any) -> tuple[int, ...]:
    return report.read, report.inserted, report.updated, report.unchanged, report.duplicates, report.rejected


def test_csv_ingest_maps_and_normalises(store: Store, tmp_path: Path) -> None:
    (report,) = ingest_files(store, [write_csv(tmp_path / "a.csv", ROWS)], progress=False)
    assert counts(report) == (3, 3, 0, 0, 0, 0)
    got = firms(store)
    a = got["山东甲科技有限公司"]
    assert (a["credit_code"], a["status"], a["reg_capital"], a["reg_currency"]) == (C1, "存续", 5000.0, "CNY")
    assert str(a["founded"]) == "2015-03-18"
    assert (a["province"], a["city"], a["district"]) == ("山东", "济南市", "历下区")
    b = got["四平乙换热器有限公司"]
    assert (b["province"], b["city"], b["district"], b["reg_capital"]) == ("吉林", "四平市", "铁西区", 12000.0)
    c = got["丙无码贸易有限公司"]
    assert c["credit_code"] is None and c["status"] is None and c["province"] == "北京"
    # analysis cache and bookkeeping
    assert a["tokens"] and a["analyzer_version"] and a["revision"] >= 1
    assert a["source_file"] == str((tmp_path / "a.csv").resolve())
    with store.engine.connect() as conn:
        log = conn.execute(select(IngestLog)).mappings().one()
    assert log["counts"]["inserted"] == 3 and len(log["sha256"]) == 64


def test_gbk_csv(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", ROWS, encoding="gbk")
    (report,) = ingest_files(store, [path], progress=False)
    assert report.inserted == 3
    assert "山东甲科技有限公司" in firms(store)


def test_utf8_with_bom_csv(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", ROWS, encoding="utf-8-sig")
    ingest_files(store, [path], progress=False)
    assert firms(store)["山东甲科技有限公司"]["credit_code"] == C1


def test_xlsx_with_two_title_rows(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["四平市招商线索 企查查导出"])
    ws.append(["导出时间：2024-05-01"])
    ws.append(HEADER)
    ws.append(ROWS[0][:4] + [pd.Timestamp("2015-03-18").to_pydatetime()] + ROWS[0][5:])
    ws.append([ROWS[1][0], ROWS[1][1], "在业", 3000, "20150318", "吉林", "四平市", "", ""])
    path = tmp_path / "firms.xlsx"
    wb.save(path)
    (report,) = ingest_files(store, [path], progress=False)
    assert report.inserted == 2
    got = firms(store)
    assert str(got["山东甲科技有限公司"]["founded"]) == "2015-03-18"
    assert got["四平乙换热器有限公司"]["reg_capital"] == 3000.0  # a bare number is 万元
    # row numbers are the sheet's own: header on row 3, first firm on row 4
    ws.append(["坏代码有限公司", BAD_CODE])
    wb.save(path)
    with pytest.raises(IngestError, match="row 6, column '统一社会信用代码'"):
        ingest_files(store, [path], progress=False)


def test_xlsx_without_header_and_sheet_choice(store: Store, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["公司全称", "地址"])
    wb.active.append(["甲公司", "济南"])
    wb.create_sheet("第二页").append(["企业名称"])
    wb["第二页"].append(["乙公司"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match="cannot find the header row.*--map"):
        ingest_files(store, [path], progress=False)
    assert ingest_files(store, [path], mapping={"公司全称": "name"}, progress=False)[0].inserted == 1
    assert ingest_files(store, [path], sheet="第二页", progress=False)[0].inserted == 1
    with pytest.raises(InputError, match="no sheet '第三页'; sheets: Sheet, 第二页"):
        ingest_files(store, [path], sheet="第三页", progress=False)


def test_jsonl(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "firms.jsonl"
    lines = [{"company name": "甲公司", "uscc": C1, "province": "山东", "registered capital": "100万美元"}, {},
             {"company name": "乙公司", "employees_note": "约50人", "insured": 12}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) if x else "" for x in lines), encoding="utf-8")
    (report,) = ingest_files(store, [path], progress=False)
    assert report.inserted == 2
    got = firms(store)
    assert (got["甲公司"]["reg_capital"], got["甲公司"]["reg_currency"]) == (100.0, "USD")
    assert got["乙公司"]["insured"] == 12 and got["乙公司"]["extra"] == {"employees_note": "约50人"}


def test_one_bad_row_rolls_back_the_file(store: Store, tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "first.csv", ROWS[:1])], progress=False)
    before = firms(store)
    rows = [ROWS[1], ["丁公司", BAD_CODE] + ROWS[2][2:], ["戊公司", "", "", "很多钱"] + ROWS[2][4:], ["", C3]]
    with pytest.raises(IngestError) as info:
        ingest_files(store, [write_csv(tmp_path / "bad.csv", rows)], progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert "bad.csv: row 3, column '统一社会信用代码'" in message and BAD_CODE in message
    assert "2 other bad row(s)" in message and "--skip-invalid" in message
    assert [(e.row, e.column) for e in info.value.rejects] == [(3, "统一社会信用代码"), (4, "注册资本"), (5, "企业名称")]
    assert firms(store) == before  # nothing from bad.csv, not even the good row


def test_skip_invalid_writes_good_rows_and_rejects_csv(store: Store, tmp_path: Path) -> None:
    rows = [ROWS[0], ["丁公司", BAD_CODE, "", "", "2015-02-30"], ROWS[1], ["=HYPERLINK(1)", "", "", "abc"]]
    (report,) = ingest_files(store, [write_csv(tmp_path / "mixed.csv", rows)], skip_invalid=True, progress=False)
    assert counts(report) == (4, 2, 0, 0, 0, 2)
    assert report.rejects_path == str(tmp_path / "mixed.rejects.csv")
    with open(report.rejects_path, encoding="utf-8-sig", newline="") as f:
        out = list(csv.DictReader(f))
    assert [r["行号"] for r in out] == ["3", "5"]
    assert out[0]["企业名称"] == "丁公司" and out[0]["列"] == "统一社会信用代码; 成立日期"
    assert "校验位" in out[0]["原因"] and "2015-02-30" in out[0]["原因"]
    assert out[1]["企业名称"] == "'=HYPERLINK(1)"  # not run as a formula when opened in a spreadsheet
    assert set(firms(store)) == {"山东甲科技有限公司", "四平乙换热器有限公司"}


def test_reingest_is_idempotent(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS)
    ingest_files(store, [path], progress=False)
    before = firms(store)
    (again,) = ingest_files(store, [path], progress=False)
    assert counts(again) == (3, 0, 0, 3, 0, 0)
    assert firms(store) == before


def test_newer_export_updates_without_wiping(store: Store, tmp_path: Path) -> None:
    ingest_files(store, [write_csv(tmp_path / "old.csv", ROWS)], progress=False)
    old = firms(store)["山东甲科技有限公司"]
    newer = [["山东甲科技股份有限公司", C1, "存续", "8000万元", "", "", "", "", ""], ROWS[1]]
    (report,) = ingest_files(store, [write_csv(tmp_path / "new.csv", newer)], progress=False)
    assert counts(report) == (2, 0, 1, 1, 0, 0)
    new = firms(store)["山东甲科技股份有限公司"]  # renamed, same code: the same firm
    assert new["id"] == old["id"] and new["reg_capital"] == 8000.0
    assert new["scope"] == old["scope"] and new["city"] == "济南市"  # empty cells keep what we knew
    assert new["source_file"].endswith("new.csv") and new["updated_at"] > old["updated_at"]
    assert new["revision"] > old["revision"] and new["tokens"] != old["tokens"]
    assert firms(store)["四平乙换热器有限公司"]["revision"] == old["revision"]
    assert len(firms(store)) == 3


def test_dedupe_within_a_file(store: Store, tmp_path: Path) -> None:
    rows = [ROWS[0], ["山东甲科技有限公司", C1, "", "", "", "", "", "", "人工智能"],  # same code
            ROWS[2], ["丙无码贸易有限公司", "", "", "300万元", "", "北京", "", "", ""],  # same name + province
            ["丙无码贸易有限公司", "", "", "", "", "广东", "", "", ""]]  # same name, another province: another firm
    (report,) = ingest_files(store, [write_csv(tmp_path / "dup.csv", rows)], progress=False)
    assert counts(report) == (5, 3, 0, 0, 2, 0)
    got = firms(store)
    assert got["山东甲科技有限公司"]["scope"] == "人工智能"
    assert got["山东甲科技有限公司"]["reg_capital"] == 5000.0
    with store.engine.connect() as conn:
        bing = conn.execute(select(Enterprise.province, Enterprise.reg_capital)
                            .where(Enterprise.name == "丙无码贸易有限公司").order_by(Enterprise.province)).all()
    assert [tuple(r) for r in bing] == [("北京", 300.0), ("广东", None)]


def test_dedupe_across_chunks(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher.ingest, "CHUNKSIZE", 2)
    monkeypatch.setattr(matcher.readers, "CHUNKSIZE", 2)
    rows = [ROWS[0], ROWS[1], ROWS[2], ["山东甲科技有限公司", C1, "", "", "", "", "", "", "新范围"], ROWS[1]]
    path = write_csv(tmp_path / "chunks.csv", rows)
    assert len(list(read_table(path))) == 3
    (report,) = ingest_files(store, [path], progress=False)
    assert counts(report) == (5, 3, 0, 0, 2, 0)
    assert firms(store)["山东甲科技有限公司"]["scope"] == "新范围"
    (again,) = ingest_files(store, [path], progress=False)
    assert counts(again) == (5, 0, 0, 3, 2, 0)


def test_code_learned_in_one_chunk_matches_a_renamed_row_in_the_next(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_files(store, [write_csv(tmp_path / "old.csv", [ROWS[2]])], progress=False)  # no code yet
    monkeypatch.setattr(matcher.ingest, "CHUNKSIZE", 2)
    monkeypatch.setattr(matcher.readers, "CHUNKSIZE", 2)
    rows = [["丙无码贸易有限公司", C3, "", "", "", "北京", "", "", ""], ROWS[0],
            ["丙新名称贸易有限公司", C3, "", "", "", "", "", "", ""]]
    (report,) = ingest_files(store, [write_csv(tmp_path / "new.csv", rows)], progress=False)
    assert counts(report) == (3, 1, 1, 0, 1, 0)
    assert firms(store)["丙新名称贸易有限公司"]["credit_code"] == C3 and len(firms(store)) == 2


def test_unknown_columns_are_kept_in_extra(store: Store, tmp_path: Path) -> None:
    header = [*HEADER, "英文名", "国标行业门类", "国标行业大类", "空列"]
    rows = [ROWS[0] + ["Jia Tech", "信息传输、软件和信息技术服务业", "软件和信息技术服务业", ""],
            ROWS[1] + ["", "制造业", "", ""]]
    ingest_files(store, [write_csv(tmp_path / "x.csv", rows, header=header)], progress=False)
    got = firms(store)
    a, b = got["山东甲科技有限公司"], got["四平乙换热器有限公司"]
    assert a["industry"] == "软件和信息技术服务业"
    assert a["extra"] == {"英文名": "Jia Tech", "国标行业门类": "信息传输、软件和信息技术服务业"}
    assert b["industry"] == "制造业" and b["extra"] == {}


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    (report,) = ingest_files(store, [write_csv(tmp_path / "a.csv", ROWS)], dry_run=True, progress=False)
    assert report.dry_run and counts(report) == (3, 3, 0, 0, 0, 0)
    assert firms(store) == {} and store.count(IngestLog) == 0


def test_ingest_dataframe(store: Store) -> None:
    df = pd.DataFrame({"企业名称": ["甲公司", "乙公司", None], "注册资本": [5000.0, float("nan"), "1万元"],
                       "成立日期": [pd.Timestamp("2015-03-18"), pd.NaT, None], "省份": ["山东", "吉林", "山东"]})
    with pytest.raises(IngestError, match=r"<dataframe>: row 4, column '企业名称'"):
        ingest_dataframe(store, df)
    report = ingest_dataframe(store, df.iloc[:2], source="bench")
    assert counts(report) == (2, 2, 0, 0, 0, 0)
    assert firms(store)["甲公司"]["reg_capital"] == 5000.0
    assert ingest_dataframe(store, df.iloc[:2]).unchanged == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("empty.csv", "", "the file is empty"),
     ("blank.csv", "\n\n  \n", "the file is empty"),
     ("header_only.csv", "企业名称,地址\n", "header but no data rows"),
     ("noname.csv", "公司全称,地址\n甲公司,济南\n", "no firm-name column.*columns seen: 公司全称, 地址; name it with --map"),
     ("firms.xls", "x", "save as .xlsx"),
     ("firms.parquet", "x", "unknown file type '.parquet'"),
     ("bad.jsonl", '{"name": "甲"}\nnot json\n', "line 2 is not JSON")],
)
def test_file_errors(store: Store, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        ingest_files(store, [path], progress=False)


def test_damaged_utf8_is_not_read_as_gb18030(store: Store, tmp_path: Path) -> None:
    data = ("企业名称,地址\n" + "甲公司,济南\n" * 5000).encode("utf-8")
    path = tmp_path / "damaged.csv"
    at = data.index(b"\n", 60000) + 1
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    with pytest.raises(InputError, match=f"as utf-8, byte {at} is invalid"):
        ingest_files(store, [path], progress=False)


def test_read_table_streams_row_numbered_frames(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("导出标题\n\n企业名称,地址\n甲,济南\n\n乙,四平,多出来的\n", encoding="gb18030")
    (frame,) = list(read_table(path))
    assert list(frame.index) == [4, 6]
    assert list(frame.columns) == ["企业名称", "地址", "列3"]
    assert frame.loc[6].tolist() == ["乙", "四平", "多出来的"] and frame.loc[4, "列3"] is None


def test_missing_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found: .*nope.csv"):
        ingest_files(store, [tmp_path / "nope.csv"], progress=False)


# ---------------------------------------------------------------- the click command

@click.group()
def _cli() -> None:
    """A stand-in for the main CLI group, which puts a store opener in ctx.obj."""


_cli.add_command(ingest_command)


def _invoke(tmp_path: Path, *args: str) -> Any:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    return runner.invoke(_cli, ["ingest", *args], obj={"store": lambda: open_store(url)})


def test_cli_ingest_prints_a_summary(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS)
    result = _invoke(tmp_path, str(path), "--no-progress")
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()[:2]
    assert header.split()[1:7] == ["read", "inserted", "updated", "unchanged", "duplicates", "rejected"]
    assert line.split()[1:7] == ["3", "3", "0", "0", "0", "0"]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matcher.cli import main

    bad = write_csv(tmp_path / "bad.csv", [["丁公司", BAD_CODE]])
    db = str(tmp_path / "cli.db")
    for args, expected in ((["--no-progress"], ("row 2", "--skip-invalid")), (["--map", "企业名称=nom"], ("valid fields",))):
        with pytest.raises(SystemExit) as exc:
            main(["--db", db, "ingest", str(bad), *args])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert all(e in err for e in expected), err


def test_cli_map_and_help(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text("公司全称,备注\n甲公司,做软件\n", encoding="utf-8")
    result = _invoke(tmp_path, str(path), "--map", "公司全称=name", "--map", "备注=intro", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "Example" in _invoke(tmp_path, "--help").output


# ---------------------------------------------------------------- external ids (stock codes, export ids)

EXT_HEADER = ["企业名称", "证券代码", "统一社会信用代码", "所属省份", "经营范围"]


def by_ext(store: Store) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(Enterprise).order_by(Enterprise.id)).mappings():
            out.setdefault(r["external_id"], []).append(dict(r))
    return out


def test_external_id_separates_firms_of_the_same_name(store: Store, tmp_path: Path) -> None:
    rows = [["甲科技有限公司", "600001", "", "山东", "软件开发"],
            ["甲科技有限公司", "600002", "", "山东", "软件开发"],  # same name + province, other id: another firm
            ["甲科技股份有限公司", "600001", "", "山东", "信息系统集成"],  # renamed, same id: the same firm
            ["乙有限公司", "", "", "山东", "贸易"], ["乙有限公司", "", "", "山东", "零售"]]  # no ids: name + province
    (report,) = ingest_files(store, [write_csv(tmp_path / "ext.csv", rows, header=EXT_HEADER)], progress=False)
    assert counts(report) == (5, 3, 0, 0, 2, 0)
    got = by_ext(store)
    assert [f["name"] for f in got["600001"]] == ["甲科技股份有限公司"]
    assert got["600001"][0]["scope"] == "信息系统集成"
    assert [f["name"] for f in got["600002"]] == ["甲科技有限公司"]
    assert [f["scope"] for f in got[None]] == ["零售"]


def test_external_id_matches_the_store_before_the_name(store: Store, tmp_path: Path) -> None:
    first = [["甲科技有限公司", "600001", "", "山东", "软件开发"], ["丙有限公司", "", "", "吉林", "贸易"]]
    ingest_files(store, [write_csv(tmp_path / "a.csv", first, header=EXT_HEADER)], progress=False)
    before = by_ext(store)
    later = [["甲科技集团有限公司", "600001", "", "山东", "软件开发"],  # renamed: found by its id
             ["甲科技有限公司", "600009", "", "山东", "软件开发"],  # the old name, another id: a new firm
             ["丙有限公司", "000777", "", "吉林", "贸易"]]  # no id stored: found by name + province, gets the id
    (report,) = ingest_files(store, [write_csv(tmp_path / "b.csv", later, header=EXT_HEADER)], progress=False)
    assert counts(report) == (3, 1, 2, 0, 0, 0)
    got = by_ext(store)
    assert got["600001"][0]["id"] == before["600001"][0]["id"] and got["600001"][0]["name"] == "甲科技集团有限公司"
    assert got["600009"][0]["id"] not in {f["id"] for fs in before.values() for f in fs}
    assert got["000777"][0]["id"] == before[None][0]["id"] and None not in got
    (again,) = ingest_files(store, [tmp_path / "b.csv"], progress=False)
    assert counts(again) == (3, 0, 0, 3, 0, 0)


def test_credit_code_comes_before_external_id(store: Store, tmp_path: Path) -> None:
    rows = [["甲公司", "600001", C1, "山东", "软件"], ["甲公司", "600001", C2, "山东", "软件"],  # two codes: two firms
            ["甲公司新名", "600099", C1, "山东", "软件开发"]]  # same code, other id: the first firm
    (report,) = ingest_files(store, [write_csv(tmp_path / "codes.csv", rows, header=EXT_HEADER)], progress=False)
    assert counts(report) == (3, 2, 0, 0, 1, 0)
    got = {f["credit_code"]: f for f in firms(store).values()}
    assert got[C1]["name"] == "甲公司新名" and got[C1]["external_id"] == "600099"
    assert got[C2]["external_id"] == "600001"


def test_external_id_across_chunks(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher.readers, "CHUNKSIZE", 2)
    ingest_files(store, [write_csv(tmp_path / "a.csv", [["甲公司", "600001", "", "山东", "软件"]],
                                   header=EXT_HEADER)], progress=False)
    rows = [["乙公司", "", "", "", ""], ["甲公司改名", "600001", "", "", "软件开发"],
            ["丁公司", "", "", "", ""], ["甲公司再改名", "600001", "", "", ""]]
    (report,) = ingest_files(store, [write_csv(tmp_path / "b.csv", rows, header=EXT_HEADER)], progress=False)
    assert counts(report) == (4, 2, 1, 0, 1, 0)
    (firm,) = by_ext(store)["600001"]
    assert firm["name"] == "甲公司再改名" and firm["scope"] == "软件开发"
