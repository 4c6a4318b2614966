"""Outreach trips: small made-up lead lists whose best plan is obvious, plan validity, exports, CLI errors."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest
from conftest import make_code

from matcher.errors import InputError, MatcherError, NotFoundError
from matcher.normalize import city_coordinates
from matcher.regions import haversine_km
from matcher.trips import TravelModel, assign_parks, plan_trip


def _leads(rows: list[tuple], park: str = "四平经开区") -> pd.DataFrame:
    """rows: (name, province, city, score) or (name, province, city, score, park)."""
    out = []
    for i, r in enumerate(rows, 1):
        name, prov, city, score = r[:4]
        out.append({"rank": i, "park": r[4] if len(r) > 4 else park, "name": name, "credit_code": make_code(1000 + i),
                    "province": prov, "city": city, "score": score, "reason": f"理由{i}",
                    "address": f"{city or ''}某路{i}号" if city else None, "phone": f"0431-{i:07d}"})
    return pd.DataFrame(out)


def _check_valid(plan, days: int, visits_per_day: int, model: TravelModel) -> None:
    """Limits respected, no firm twice, every visit in its day's cities, the route continuous from home and back."""
    d = plan.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert 1 <= len(d["days"]) <= days
    seen: set[str] = set()
    where = d["home"]["city"]
    for day in d["days"]:
        assert len(day["visits"]) <= visits_per_day
        hours = sum(x["hours"] for x in day["travel"]) + len(day["visits"]) * model.visit_hours
        assert hours <= model.day_hours + 1e-9
        assert 1 <= len(day["cities"]) <= 2
        for v in day["visits"]:
            assert v["city"] in day["cities"]
            assert v["credit_code"] not in seen
            seen.add(v["credit_code"])
        for leg in day["travel"]:
            assert leg["from"] == where
            where = leg["to"]
    assert where == d["home"]["city"]
    assert d["totals"]["value"] == pytest.approx(sum(v["score"] for day in d["days"] for v in day["visits"]), abs=1e-3)
    assert d["value_per_day"] >= d["baseline"]["value_per_day"] - 1e-9
    assert not seen & {r["credit_code"] for r in d["left_out"] + d["unlocated"]}


def test_cluster_of_strong_leads_beats_a_single_stronger_lead_far_away() -> None:
    leads = _leads([("广州南粤装备有限公司", "广东", "广州市", 0.95)]
                   + [(f"长春一汽配套{i}有限公司", "吉林", "长春市", 0.6) for i in range(4)])
    model = TravelModel()
    plan = plan_trip(leads, home="四平", days=2, visits_per_day=4, model=model)
    _check_valid(plan, 2, 4, model)
    assert [d["cities"] for d in plan.days] == [["长春市"]]
    assert len(plan.days[0]["visits"]) == 4 and plan.totals["value"] == pytest.approx(2.4)
    gone = plan.left_out_cities[0]
    assert gone["city"] == "广州市" and gone["why"] == "city_not_chosen" and "广州" in gone["reason"]
    assert [r["name"] for r in plan.left_out] == ["广州南粤装备有限公司"]
    # the naive baseline flies to the top lead first and reaches less per day
    assert plan.baseline["cities"][0] == "广州市" and plan.baseline["value_per_day"] < plan.value_per_day / 2


def test_two_close_cities_share_a_day() -> None:
    leads = _leads([("铁岭甲公司", "辽宁", "铁岭市", 0.8), ("铁岭乙公司", "辽宁", "铁岭市", 0.7),
                    ("抚顺丙公司", "辽宁", "抚顺市", 0.75), ("抚顺丁公司", "辽宁", "抚顺市", 0.65)])
    model = TravelModel()
    plan = plan_trip(leads, home="沈阳", days=1, visits_per_day=4, model=model)
    _check_valid(plan, 1, 4, model)
    assert sorted(plan.days[0]["cities"]) == ["抚顺市", "铁岭市"] and len(plan.days[0]["visits"]) == 4
    assert [leg["to"] for leg in plan.days[0]["travel"]][-1] == "沈阳市"


def test_route_is_the_shortest_round_trip_for_four_cities() -> None:
    cities = [("黑龙江", "哈尔滨市"), ("辽宁", "大连市"), ("北京", "北京市"), ("内蒙古", "呼和浩特市")]
    leads = _leads([(f"{c}企业{k}", p, c, 0.7 - 0.01 * k) for p, c in cities for k in range(2)])
    model = TravelModel(pair_max_hours=0.5)
    plan = plan_trip(leads, home="四平", days=4, visits_per_day=2, model=model)
    _check_valid(plan, 4, 2, model)
    assert plan.totals["visits"] == 8
    order = [d["cities"][0] for d in plan.days]
    xy = {c: city_coordinates(p, c) for p, c in cities}
    xy["四平市"] = city_coordinates("吉林", "四平市")

    def tour_hours(seq: tuple[str, ...]) -> float:
        stops = ["四平市", *seq, "四平市"]
        return sum(model.leg(haversine_km(*xy[a], *xy[b]))[0] for a, b in itertools.pairwise(stops))

    best = min(tour_hours(p) for p in itertools.permutations(xy.keys() - {"四平市"}))
    assert tour_hours(tuple(order)) == pytest.approx(best)
    assert plan.totals["travel_hours"] == pytest.approx(best)


def test_a_firm_is_pitched_for_one_park_only() -> None:
    a = _leads([("共享专用车有限公司", "吉林", "长春市", 0.9), ("甲园区企业", "吉林", "长春市", 0.5)], park="甲园区")
    b = _leads([("共享专用车有限公司", "吉林", "长春市", 0.6), ("乙园区企业", "辽宁", "沈阳市", 0.7)], park="乙园区")
    b.loc[0, "credit_code"] = a.loc[0, "credit_code"]
    b.loc[1, "credit_code"] = make_code(2001)
    both = pd.concat([a, b], ignore_index=True)
    firms = assign_parks(both)
    assert len(firms) == 3
    shared = firms[firms["name"] == "共享专用车有限公司"].iloc[0]
    assert shared["park"] == "甲园区" and "乙园区 0.600" in shared["pitch"]
    model = TravelModel()
    plan = plan_trip(both, home="四平", days=2, visits_per_day=4, model=model)
    _check_valid(plan, 2, 4, model)
    visits = [v for d in plan.days for v in d["visits"]]
    assert sorted(v["name"] for v in visits) == sorted(set(firms["name"]))
    assert next(v for v in visits if v["name"] == "共享专用车有限公司")["park"] == "甲园区"
    assert all(v["park"] and v["pitch"] for v in visits)


def test_firms_without_a_known_city_are_listed_apart_not_lost() -> None:
    leads = _leads([("长春甲公司", "吉林", "长春市", 0.8), ("无城市公司", None, None, 0.99),
                    ("怪城市公司", "吉林", "不存在市", 0.9)])
    plan = plan_trip(leads, days=1)
    assert {r["name"]: r["why"] for r in plan.unlocated} == {"无城市公司": "no_city", "怪城市公司": "unknown_city"}
    placed = [v["name"] for d in plan.days for v in d["visits"]] + [r["name"] for r in plan.left_out]
    assert sorted(placed + [r["name"] for r in plan.unlocated]) == sorted(leads["name"])


def test_min_score_and_capacity_leave_out_with_reasons() -> None:
    leads = _leads([(f"长春{i}公司", "吉林", "长春市", 0.9 - 0.1 * i) for i in range(6)])
    plan = plan_trip(leads, days=1, visits_per_day=3, min_score=0.45)
    whys = {r["name"]: r["why"] for r in plan.left_out}
    assert whys == {"长春3公司": "city_full", "长春4公司": "city_full", "长春5公司": "below_min_score"}
    assert all(r["reason_left_out"] for r in plan.left_out)


def test_longer_trips_use_their_days_and_stay_valid() -> None:
    rows = [(f"{c}企业{k}", p, c, round(0.9 - 0.05 * k - 0.01 * j, 3)) for j, (p, c) in enumerate(
        [("江苏", "南京市"), ("江苏", "苏州市"), ("江苏", "无锡市"), ("山东", "济南市"), ("山东", "青岛市"),
         ("广东", "深圳市"), ("辽宁", "沈阳市"), ("吉林", "长春市")]) for k in range(3)]
    model = TravelModel()
    plan = plan_trip(_leads(rows), days=5, visits_per_day=4, model=model)
    _check_valid(plan, 5, 4, model)
    assert plan.totals["days"] == 5 and plan.value_per_day > plan.baseline["value_per_day"]


@pytest.mark.parametrize("kwargs, error, text", [
    ({"days": 0}, InputError, "at least 1 day"),
    ({"visits_per_day": 0}, InputError, "at least 1"),
    ({"home": "火星基地"}, NotFoundError, "home city"),
])
def test_bad_arguments_are_clear_errors(kwargs, error, text) -> None:
    with pytest.raises(error, match=text):
        plan_trip(_leads([("长春甲公司", "吉林", "长春市", 0.8)]), **kwargs)


def test_no_usable_leads_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="no leads"):
        plan_trip(_leads([]).reindex(columns=["name", "score", "city"]))
    with pytest.raises(InputError, match="no known city"):
        plan_trip(_leads([("无城市公司", None, None, 0.99)]))
    with pytest.raises(InputError, match="TravelModel.road_kmh"):
        TravelModel(road_kmh=0)


def test_exports_and_map(tmp_path) -> None:
    from openpyxl import load_workbook

    from matcher.trip_export import draw_trip_map, format_trip, write_trip

    leads = _leads([("=HYPERLINK(1)公司", "辽宁", "沈阳市", 0.8), ("长春乙公司", "吉林", "长春市", 0.7),
                    ("深圳丙公司", "广东", "深圳市", 0.9)])
    plan = plan_trip(leads, days=2)
    data = json.loads(write_trip(plan, tmp_path / "t.json").read_text(encoding="utf-8"))
    assert {"days", "left_out", "totals", "baseline", "value_per_day"} <= set(data)
    assert {"day", "cities", "visits", "travel"} <= set(data["days"][0])
    assert {"name", "credit_code", "city", "park", "score", "reason"} <= set(data["days"][0]["visits"][0])
    assert {"from", "to", "km", "hours"} <= set(data["days"][0]["travel"][0])
    md = write_trip(plan, tmp_path / "t.md").read_text(encoding="utf-8")
    assert "## 第1天" in md and "深圳" in md and "基线" in md
    wb = load_workbook(write_trip(plan, tmp_path / "t.xlsx"))
    assert {"行程", "交通", "汇总", "未安排线索"} <= set(wb.sheetnames)
    assert not any(str(c.value).startswith("=") for row in wb["行程"].iter_rows() for c in row if c.value)
    assert draw_trip_map(plan, tmp_path / "t.png").stat().st_size > 10_000
    assert "第1天" in format_trip(plan)
    with pytest.raises(InputError, match="unknown file type"):
        write_trip(plan, tmp_path / "t.pdf")


def test_park_with_no_leads_and_cli(tiny_store, tmp_path, capsys) -> None:
    from matcher.cli import main
    from matcher.parks import import_parks
    from matcher.trips import plan_for_parks

    import_parks(tiny_store, [{"name": "航天园", "description": "运载火箭回收与卫星测控"}])
    with pytest.raises(MatcherError, match="no leads"):
        plan_for_parks(tiny_store, ["航天园"])
    first = plan_for_parks(tiny_store, ["四平经开区", "航天园"], days=2)
    # the failed call above stored 航天园's empty run: it is read back, and skipped with a note
    assert [s["kind"] for s in first.sources] == ["fresh", "stored"] and any("航天园" in n for n in first.notes)
    assert plan_for_parks(tiny_store, "四平经开区", days=2).sources[0]["kind"] == "stored"

    db = str(tiny_store.url).removeprefix("sqlite:///")
    out = tmp_path / "trip.json"

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            main(["--db", db, "trips", *args])
        cap = capsys.readouterr()
        return int(exc.value.code or 0), cap.out, cap.err

    code, stdout, err = run("--parks", "all", "--days", "2", "--out", str(out))
    assert code == 0, err
    assert "第1天" in stdout and json.loads(out.read_text(encoding="utf-8"))["days"]
    for args, text in ((["--park", "四平经开区", "--days", "0"], "at least 1 day"),
                       (["--park", "四平经开区", "--from", "火星"], "home city"),
                       (["--park", "航天园"], "no leads"),
                       (["--park", "四平经开区", "--out", "x.pdf"], "unknown file type")):
        code, _, err = run(*args)
        assert code == 2 and text in err and len(err.strip().splitlines()) == 1
