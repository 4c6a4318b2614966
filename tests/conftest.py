"""Shared fixtures: every test runs with its own data folder (no writes to the user's home)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.credit_code import check_character


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.getbasetemp() / "matcher_home"
    monkeypatch.setenv("MATCHER_HOME", str(home))
    monkeypatch.delenv("MATCHER_DB", raising=False)


def make_code(seed: int, region: str = "220300") -> str:
    """A valid 统一社会信用代码 for tests."""
    body = f"91{region}{seed:09d}"[:17]
    return body + check_character(body)


@pytest.fixture
def store(tmp_path: Path):
    from matcher.store import open_store

    return open_store(f"sqlite:///{tmp_path / 'test.db'}")


TINY_FIRMS = [
    # name, scope, intro, province, city, status, capital
    ("山东宏达专用汽车有限公司", "一般项目：专用车、冷藏车、厢式运输车制造；汽车零部件销售。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
     "专业生产冷藏车和厢式车。", "山东省", "济南市", "存续", "5000万元人民币"),
    ("上海鼎盛餐饮管理有限公司", "餐饮服务；食品经营；餐饮管理。", "连锁中餐厅。", "上海市", "上海市", "存续", "100万元"),
    ("江苏恒远塑业有限公司", "塑料编织袋、集装袋、吨袋的生产和销售。", "", "江苏省", "南通市", "存续", "800万元"),
    ("广东凯锐软件科技有限公司", "软件开发；信息系统集成服务；信息技术咨询服务。", "", "广东省", "深圳市", "存续", "200万元"),
    ("河北已注销专用车有限公司", "专用车、冷藏车制造。", "", "河北省", "石家庄市", "注销", "300万元"),
    ("浙江安康制药有限公司", "药品生产；化学原料药、中成药、片剂、胶囊剂制造。", "", "浙江省", "杭州市", "存续", "3000万元"),
]


@pytest.fixture
def tiny_frame() -> pd.DataFrame:
    rows = []
    for i, (name, scope, intro, prov, city, status, cap) in enumerate(TINY_FIRMS, 1):
        rows.append({"企业名称": name, "统一社会信用代码": make_code(i), "经营范围": scope, "企业简介": intro,
                     "所属省份": prov, "所属城市": city, "登记状态": status, "注册资本": cap})
    return pd.DataFrame(rows)


@pytest.fixture
def tiny_store(store, tiny_frame):
    from matcher.ingest import ingest_dataframe
    from matcher.parks import ensure_default_parks

    ingest_dataframe(store, tiny_frame, source="tiny")
    ensure_default_parks(store)
    return store
