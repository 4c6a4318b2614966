"""Trip plans for people: terminal text, Markdown, Excel (one sheet per view), JSON, and a route map (PNG).

The map is drawn offline on longitude / latitude (no tiles): every city with leads, the planned cities
labelled with their days, the home city, and the route coloured by day; Chinese labels use the CJK font
found by :func:`matcher.plotting.cjk_font`. Spreadsheet cells that would run as formulas are escaped
(:func:`matcher.export.escape_formula`); files are written through a temporary file, so a failure leaves
no half-written output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError
from .export import atomic_write, escape_formula
from .trips import TripPlan

__all__ = ["check_out_path", "draw_trip_map", "format_trip", "trip_markdown", "write_trip"]

_MODE = {"road": "公路", "rail": "高铁", "flight": "航班", "local": "市内"}
_SUFFIXES = (".xlsx", ".md", ".json")
_VISIT_COLS = [("order", "序"), ("city", "城市"), ("name", "企业名称"), ("park", "推介园区"), ("score", "得分"),
               ("reason", "推荐理由"), ("pitch", "为何推介此园区"), ("legal_rep", "法定代表人"), ("phone", "电话"),
               ("email", "邮箱"), ("website", "网址"), ("address", "地址"), ("credit_code", "统一社会信用代码")]


def check_out_path(path: str | Path, suffixes: tuple[str, ...] = _SUFFIXES) -> Path:
    """The output path, or InputError when its type is not one of ``suffixes``."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{p}: unknown file type {p.suffix!r}; use {', '.join(suffixes)}")
    return p


def _atomic(path: Path, write: Callable[[Path], object]) -> Path:
    return atomic_write(path, write)


def _leg_text(leg: dict[str, Any]) -> str:
    what = {"hop": "（当天换城）", "return": "（返程）"}.get(leg.get("kind", ""), "")
    return (f"{leg['from']} → {leg['to']}  {leg['km']:,.0f} 公里  {_MODE.get(leg['mode'], leg['mode'])} 约 "
            f"{leg['hours']:.1f} 小时{what}")


def _summary_lines(plan: TripPlan) -> list[str]:
    t, b = plan.totals, plan.baseline
    gain = f"（{t['vs_baseline']:.2f} 倍）" if t.get("vs_baseline") else ""
    return [
        f"共 {t['days']} 天、{t['cities']} 个城市、拜访 {t['visits']} 家，线索价值合计 {t['value']:.3f}，"
        f"每天 {plan.value_per_day:.3f}{gain}；交通 {t['travel_hours']:.1f} 小时 / {t['travel_km']:,.0f} 公里",
        f"基线（按排名逐城拜访）：{b['days']} 天、拜访 {b['visits']} 家，价值 {b['value']:.3f}，每天 {b['value_per_day']:.3f}；"
        f"交通 {b['travel_hours']:.1f} 小时（{'、'.join(b['cities'])}）",
    ]


def _left_counts(plan: TripPlan) -> str:
    whys: dict[str, int] = {}
    for r in plan.left_out:
        whys[r["why"]] = whys.get(r["why"], 0) + 1
    names = {"city_not_chosen": "城市未排入", "not_candidate": "城市未参与排程", "city_full": "所在城市已排满",
             "below_min_score": "低于最低分"}
    parts = [f"{names.get(k, k)} {v} 家" for k, v in whys.items()]
    if plan.unlocated:
        parts.append(f"无已知城市 {len(plan.unlocated)} 家（另列）")
    return "未安排：" + ("；".join(parts) if parts else "无")


def format_trip(plan: TripPlan, *, reasons: int = 5) -> str:
    """A plain-text itinerary for the terminal."""
    lines = [f"出访行程：从{plan.home['city']}出发，最多 {plan.params['days']} 天，每天至多 {plan.params['visits_per_day']} 家"]
    lines += [f"  线索来源 {s['text']}" for s in plan.sources]
    for d in plan.days:
        h = d["hours"]
        lines.append(f"\n第{d['day']}天  {' → '.join(d['cities'])}   价值 {d['value']:.3f}   交通 {h['travel']:.1f} h + "
                     f"拜访 {h['visits']:.1f} h = {h['total']:.1f} h")
        lines += [f"  [交通] {_leg_text(x)}" for x in d["travel"] if x.get("kind") != "return"]
        for v in d["visits"]:
            contact = "  ".join(str(v[k]) for k in ("legal_rep", "phone") if v.get(k))
            lines.append(f"  {v['order']}. {v['name']}（{v['city']}）  {v['score']:.3f}  → {v['park'] or ''}  {contact}")
            lines.append(f"     {v['reason'] or ''}" + (f"；{v['pitch']}" if v.get("pitch") and v.get("other_parks") else ""))
        if not d["visits"]:
            lines.append("  （交通日，无拜访）")
        lines += [f"  [交通] {_leg_text(x)}" for x in d["travel"] if x.get("kind") == "return"]
    lines += ["", *_summary_lines(plan), _left_counts(plan)]
    lines += [f"  - {c['reason']}" for c in plan.left_out_cities[:reasons]]
    lines += [f"注：{n}" for n in plan.notes]
    return "\n".join(lines)


def _md(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        value = "、".join(map(str, value))
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(_md(v) for v in r) + " |" for r in rows]


def trip_markdown(plan: TripPlan) -> str:
    """The itinerary as Markdown: summary, one section per day, what was left out and why, the model."""
    parks = "、".join(plan.params.get("parks") or sorted({v["park"] for d in plan.days for v in d["visits"] if v["park"]}))
    out = [f"# 出访行程：{parks or '线索'}（从{plan.home['city']}出发，{plan.totals['days']} 天）", ""]
    out += [f"- {line}" for line in _summary_lines(plan)]
    out += [f"- 线索来源：{s['text']}" for s in plan.sources]
    out += ["- 价值 = 所访企业综合得分之和（rank_leads 的 score）；一家企业只按最适合的园区推介一次", ""]
    cols = [c for c, _ in _VISIT_COLS]
    for d in plan.days:
        h = d["hours"]
        out += [f"## 第{d['day']}天：{' → '.join(d['cities'])}", "",
                f"价值 {d['value']:.3f}；时间 交通 {h['travel']:.1f} 小时 + 拜访 {h['visits']:.1f} 小时 = {h['total']:.1f} 小时", ""]
        before = [x for x in d["travel"] if x.get("kind") != "return"]
        out += [f"- 交通：{_leg_text(x)}" for x in before] + ([""] if before else [])
        if d["visits"]:
            out += _md_table([z for _, z in _VISIT_COLS], [[v.get(c) for c in cols] for v in d["visits"]]) + [""]
        else:
            out += ["（交通日，无拜访）", ""]
        out += [f"- 交通：{_leg_text(x)}\n" for x in d["travel"] if x.get("kind") == "return"]
    if plan.left_out_cities:
        out += ["## 未排入行程的城市及原因", ""]
        out += _md_table(["城市", "线索数", "价值合计", "最高分", "原因"],
                         [[c["city"], c["leads"], c["value"], c["top"], c["reason"]] for c in plan.left_out_cities])
        out.append("")
    full = [r for r in plan.left_out if r["why"] in ("city_full", "below_min_score")]
    if full:
        out += ["## 未安排的其他线索", ""]
        out += _md_table(["企业名称", "城市", "园区", "得分", "原因"],
                         [[r["name"], r["city"], r["park"], r["score"], r["reason_left_out"]] for r in full]) + [""]
    if plan.unlocated:
        out += ["## 无已知城市的线索（未排程，另列）", ""]
        out += _md_table(["企业名称", "园区", "得分", "地址", "原因"],
                         [[r["name"], r["park"], r["score"], r.get("address"), r["reason_left_out"]] for r in plan.unlocated])
        out.append("")
    m = plan.params["model"]
    out += ["## 出行模型", "",
            f"- 距离：城市中心间直线距离；每段取最快的方式：公路（{m['road_kmh']:.0f} 公里/小时，路程按直线 "
            f"{m['road_detour']} 倍，{m['road_max_km']:.0f} 公里以内）、高铁（{m['rail_kmh']:.0f} 公里/小时 + "
            f"{m['rail_overhead_h']} 小时进出站）、航班（{m['flight_min_km']:.0f} 公里起，{m['flight_kmh']:.0f} 公里/小时 + "
            f"{m['flight_overhead_h']} 小时）",
            f"- 每天 {m['day_hours']} 小时（交通 + 拜访），每次拜访 {m['visit_hours']} 小时；同一天两城须相距不超过 "
            f"{m['pair_max_hours']} 小时；返程计入最后一天",
            f"- 路线：{plan.params['route_method']}", *[f"- 注：{n}" for n in plan.notes], ""]
    return "\n".join(out)


def _sheet(wb: Any, title: str, headers: list[str], rows: list[list[Any]], wrap: tuple[str, ...] = ()) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title[:31])
    ws.append(headers)
    for r in rows:
        ws.append([escape_formula("、".join(map(str, v)) if isinstance(v, list) else v) for v in r])
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="305496")
    ws.freeze_panes = "A2"
    for i, h in enumerate(headers, 1):
        width = max([len(str(h)) * 2] + [len(str(r[i - 1] or "")) * 2 for r in rows[:200]]) + 2
        ws.column_dimensions[get_column_letter(i)].width = min(max(width, 6), 50)
        if h in wrap:
            for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                c.alignment = Alignment(wrap_text=True, vertical="top")


def _write_xlsx(plan: TripPlan, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    cols = [c for c, _ in _VISIT_COLS]
    _sheet(wb, "行程", ["天", "当天城市", *[z for _, z in _VISIT_COLS]],
           [[d["day"], " → ".join(d["cities"]), *[v.get(c) for c in cols]] for d in plan.days for v in d["visits"]],
           wrap=("推荐理由", "为何推介此园区"))
    kinds = {"arrive": "前往", "hop": "当天换城", "return": "返程"}
    _sheet(wb, "交通", ["天", "出发", "到达", "直线公里", "小时", "方式", "类别"],
           [[d["day"], x["from"], x["to"], x["km"], x["hours"], _MODE.get(x["mode"], x["mode"]), kinds.get(x.get("kind"), "")]
            for d in plan.days for x in d["travel"]])
    _sheet(wb, "每日", ["天", "城市", "拜访家数", "价值", "交通小时", "拜访小时", "合计小时"],
           [[d["day"], " → ".join(d["cities"]), len(d["visits"]), d["value"], d["hours"]["travel"], d["hours"]["visits"],
             d["hours"]["total"]] for d in plan.days])
    t, b = plan.totals, plan.baseline
    summary = [["线索价值合计", t["value"]], ["每天价值", plan.value_per_day], ["基线每天价值", b["value_per_day"]],
               ["相对基线", t.get("vs_baseline")], ["天数", t["days"]], ["拜访家数", t["visits"]], ["城市数", t["cities"]],
               ["交通小时", t["travel_hours"]], ["交通公里（直线）", t["travel_km"]], ["基线价值", b["value"]],
               ["基线拜访家数", b["visits"]], ["基线交通小时", b["travel_hours"]], ["基线城市", b["cities"]],
               ["基线方法", b["method"]], ["出发城市", plan.home["city"]], ["路线方法", plan.params["route_method"]],
               ["价值定义", plan.params["value"]]]
    summary += [[f"模型 {k}", v] for k, v in plan.params["model"].items()]
    summary += [["线索来源", s["text"]] for s in plan.sources] + [["注", n] for n in plan.notes]
    _sheet(wb, "汇总", ["项目", "值"], summary)
    _sheet(wb, "未排入城市", ["城市", "线索数", "价值合计", "最高分", "距出发地公里", "原因"],
           [[c["city"], c["leads"], c["value"], c["top"], c["km_from_home"], c["reason"]] for c in plan.left_out_cities],
           wrap=("原因",))
    _sheet(wb, "未安排线索", ["企业名称", "城市", "园区", "得分", "类别", "原因", "地址", "电话", "统一社会信用代码"],
           [[r["name"], r["city"], r["park"], r["score"], r["why"], r["reason_left_out"], r.get("address"), r.get("phone"),
             r["credit_code"]] for r in [*plan.left_out, *plan.unlocated]], wrap=("原因",))
    wb.save(path)


def write_trip(plan: TripPlan, path: str | Path) -> Path:
    """Write the plan to ``.xlsx``, ``.md`` or ``.json`` (by suffix), atomically."""
    p = check_out_path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        text = json.dumps(plan.to_dict(), ensure_ascii=False, indent=1, default=str) + "\n"
        return _atomic(p, lambda t: t.write_text(text, encoding="utf-8"))
    if suffix == ".md":
        md = trip_markdown(plan)
        return _atomic(p, lambda t: t.write_text(md, encoding="utf-8"))
    return _atomic(p, lambda t: _write_xlsx(plan, t))


def _place_labels(fig: Any, ax: Any, items: list[tuple[float, float, float, str, dict[str, Any], bool]],
                  points: list[tuple[float, float, float]]) -> None:
    """Greedy label placement. ``items``: (x, y, marker radius in points, text, style, required), in
    priority order; ``points``: every marker (x, y, radius). A label takes the first position around its
    point, nearest ring first (the outer rings with a leader line), that overlaps no marker and no placed
    label; a required label takes the nearest position when none is free, the others are dropped."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72
    placed: list[Any] = []
    for x, y, r in points:
        cx, cy = ax.transData.transform((x, y))
        placed.append(Bbox([[cx - r * px, cy - r * px], [cx + r * px, cy + r * px]]))
    marks = list(placed)

    def crosses(x0: float, y0: float, x1: float, y1: float) -> bool:  # a leader line through another marker
        steps = [(x0 + (x1 - x0) * f / 10, y0 + (y1 - y0) * f / 10) for f in range(2, 10)]
        return any(b.contains(qx, qy) for b in marks for qx, qy in steps if not b.contains(x0, y0))
    sides = [(1, 0, "left", "center"), (0.7, 0.7, "left", "bottom"), (0.7, -0.7, "left", "top"),
             (-1, 0, "right", "center"), (-0.7, 0.7, "right", "bottom"), (-0.7, -0.7, "right", "top"),
             (0, 1, "center", "bottom"), (0, -1, "center", "top")]
    frame = ax.get_window_extent(renderer)
    for x, y, r0, text, style, required in items:
        for ring, gap in enumerate((3, 22, 40)):
            done = False
            for ux, uy, ha, va in sides:
                leader = {"arrowstyle": "-", "lw": 0.6, "color": "#555555", "shrinkA": 0, "shrinkB": r0} if ring else None
                ann = ax.annotate(text, (x, y), xytext=(ux * (r0 + gap), uy * (r0 + gap)), textcoords="offset points",
                                  ha=ha, va=va, arrowprops=leader, **style)
                ann.update_positions(renderer)
                box = Text.get_window_extent(ann, renderer).expanded(1.04, 1.15)
                inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                cx, cy = ax.transData.transform((x, y))
                tx, ty = cx + ux * (r0 + gap) * px, cy + uy * (r0 + gap) * px
                if inside and not any(box.overlaps(b) for b in placed) and not (ring and crosses(cx, cy, tx, ty)):
                    placed.append(box)
                    done = True
                    break
                ann.remove()
            if done:
                break
        else:
            if required:
                ann = ax.annotate(text, (x, y), xytext=(r0 + 3, 0), textcoords="offset points", va="center", **style)
                ann.update_positions(renderer)
                placed.append(Text.get_window_extent(ann, renderer))


def draw_trip_map(plan: TripPlan, path: str | Path, *, label_left_out: int = 15) -> Path:
    """Draw the route over the cities (lon/lat, no tiles) into a PNG."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import cjk_font

    p = check_out_path(path, (".png",))
    font = cjk_font()
    rc: Any = {"axes.unicode_minus": False}  # an rcParams dict (matplotlib types its keys as literals)
    if font:
        rc.update({"font.family": "sans-serif", "font.sans-serif": [font, *matplotlib.rcParams["font.sans-serif"]]})
    home = plan.home["city"]
    where = {c["city"]: (c["lon"], c["lat"]) for c in plan.cities}
    where[home] = (plan.home["lon"], plan.home["lat"])
    xs, ys = [x for x, _ in where.values()], [y for _, y in where.values()]
    pad_x, pad_y = max(1.0, 0.08 * (max(xs) - min(xs))), max(1.0, 0.08 * (max(ys) - min(ys)))
    xlim, ylim = (min(xs) - pad_x, max(xs) + pad_x), (min(ys) - pad_y, max(ys) + pad_y)
    aspect = 1 / math.cos(math.radians(sum(ylim) / 2))
    ratio = (xlim[1] - xlim[0]) / ((ylim[1] - ylim[0]) * aspect)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(min(18.0, max(7.0, 8.5 * ratio)) + 4.2, 9.0), dpi=110)
        FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.06, right=1 - 4.0 / fig.get_figwidth(), top=0.93, bottom=0.07)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect(aspect)
        top = max((c["value"] for c in plan.cities), default=1.0) or 1.0
        rest = [c for c in plan.cities if not c["planned"]]
        ax.scatter([c["lon"] for c in rest], [c["lat"] for c in rest], s=[30 + 220 * c["value"] / top for c in rest],
                   color="#b0b7bf", alpha=0.7, edgecolors="#7f8c8d", linewidths=0.5, zorder=2,
                   label="有线索、未排入的城市（大小 = 线索价值）")
        colors = matplotlib.colormaps["tab10"]
        for d in plan.days:
            col = colors((d["day"] - 1) % 10)
            for leg in d["travel"]:
                (x0, y0), (x1, y1) = where[leg["from"]], where[leg["to"]]
                ax.annotate("", (x1, y1), (x0, y0), zorder=3,
                            arrowprops={"arrowstyle": "-|>", "color": col, "lw": 2.0, "shrinkA": 7, "shrinkB": 7,
                                        "linestyle": "--" if leg["mode"] == "flight" else "-"})
            ax.plot([], [], color=col, lw=2, label=f"第{d['day']}天 {' → '.join(d['cities'])}（{len(d['visits'])}家，{d['value']:.2f}）")
        planned = [c for c in plan.cities if c["planned"]]
        ax.scatter([c["lon"] for c in planned], [c["lat"] for c in planned], s=[60 + 260 * c["value"] / top for c in planned],
                   color="#c0392b", edgecolors="black", linewidths=0.6, zorder=4, label="行程城市")
        ax.scatter([plan.home["lon"]], [plan.home["lat"]], marker="*", s=420, color="#f1c40f", edgecolors="black",
                   zorder=6, label=f"出发地 {home}")
        fig.canvas.draw()
        days_of = {c["city"]: c["days"] for c in planned}
        bold = {"fontsize": 9.5, "fontweight": "bold", "zorder": 7}
        size = {c["city"]: 0.5 * math.sqrt((60 if c["planned"] else 30) + 260 * c["value"] / top) for c in plan.cities}
        items = [(plan.home["lon"], plan.home["lat"], 11.0, f"{home}（出发地" + (f"，第{'、'.join(map(str, days_of[home]))}天）"
                  if home in days_of else "）"), bold, True)]
        items += [(c["lon"], c["lat"], size[c["city"]], f"{c['city']}（第{'、'.join(map(str, c['days']))}天）", bold, True)
                  for c in planned if c["city"] != home]
        items += [(c["lon"], c["lat"], size[c["city"]], f"{c['city']} {c['leads']}家", {"fontsize": 7.5, "color": "#6c7a89", "zorder": 5},
                   False) for c in sorted(rest, key=lambda c: -c["value"])[:label_left_out]]
        marks = [(c["lon"], c["lat"], size[c["city"]]) for c in plan.cities] + [(plan.home["lon"], plan.home["lat"], 11.0)]
        _place_labels(fig, ax, items, marks)
        ax.grid(alpha=0.3)
        ax.set_xlabel("经度 (°E)")
        ax.set_ylabel("纬度 (°N)")
        t, b = plan.totals, plan.baseline
        ax.set_title(f"出访路线：{t['days']} 天 {t['visits']} 家，价值 {t['value']:.2f}（每天 {plan.value_per_day:.2f}，"
                     f"基线 {b['value_per_day']:.2f}）；交通 {t['travel_hours']:.1f} 小时", fontsize=11)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5, framealpha=0.9,
                  title="实线 = 公路 / 高铁，虚线 = 航班", title_fontsize=8.5)
        p.parent.mkdir(parents=True, exist_ok=True)
        _atomic(p, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))
    return p
