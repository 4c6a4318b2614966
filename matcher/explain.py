"""Why a firm matches a park: each query term's share of the BM25 score, registered capital in words, and
the one-line Chinese reason shown with every lead (``reason``) and stored with it (``matched``)."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from .config import MatchConfig
from .index import FirmIndex
from .industry import code_label

if TYPE_CHECKING:
    from .rank import ParkQuery


def _term_contributions(idx: FirmIndex, q: ParkQuery, tokens: list[str], config: MatchConfig) -> list[tuple[str, float]]:
    counts = Counter(tokens)
    dl = float(len(tokens))
    avgdl = idx.avgdl()
    norm = config.k1 * (1 - config.b + config.b * dl / max(avgdl, 1e-9))
    out = []
    for t, qw in q.terms.items():
        tf = counts.get(t)
        if tf:
            out.append((t, qw * idx.idf(t) * tf * (config.k1 + 1) / (tf + norm)))
    return sorted(out, key=lambda kv: -kv[1])


def _fmt_capital(amount: float | None, currency: str | None) -> str | None:
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return None
    unit = {"CNY": "万元", "USD": "万美元", "HKD": "万港元", "EUR": "万欧元", "JPY": "万日元", "GBP": "万英镑"}
    text = f"{amount / 10000:g}亿" if amount >= 10000 and (currency or "CNY") == "CNY" else f"{amount:g}"
    return f"注册资本{text}{'元' if text.endswith('亿') else unit.get(currency or 'CNY', '万' + (currency or ''))}"


#: industry relevance below which the reason does not name an industry match
_NAMED_INDUSTRY = 0.15


def _explain(firm: dict[str, Any], q: ParkQuery, contribs: list[tuple[str, float]], ind: tuple[float, str | None, str | None],
             region_hit: bool, dist: float, config: MatchConfig, *,
             say_unknown_region: bool = True) -> tuple[str, dict[str, Any]]:
    parts: list[str] = []
    shown = [t for t, _ in contribs[:4]]
    if shown:
        name_l = (firm.get("name") or "").lower()
        scope_l = (firm.get("scope") or "").lower()
        where = "名称" if all(t in name_l for t in shown[:2]) else ("经营范围" if any(t in scope_l for t in shown) else "简介")
        parts.append(f"{where}含" + "".join(f"“{t}”" for t in shown))
    ind_score, p_code, f_code = ind
    if f_code and ind_score < _NAMED_INDUSTRY:
        p_code = f_code = None  # a faint link (a sibling of a related industry) is not worth a reason
    if f_code:
        label = f"行业匹配：{code_label(f_code)}"
        if p_code and p_code != f_code and not f_code.startswith(p_code):
            label += f"（园区方向 {code_label(p_code)}）"
        parts.append(label)
    prov = firm.get("province")
    if q.regions:
        if prov and region_hit:
            parts.append(f"位于{prov}（目标区域）")
        elif not prov and say_unknown_region:
            parts.append("所在省份未知")
    cap = _fmt_capital(firm.get("reg_capital"), firm.get("reg_currency"))
    if cap:
        parts.append(cap)
    elif firm.get("insured") is not None:
        parts.append(f"参保{firm['insured']}人")
    if config.w_distance > 0 and not math.isnan(dist):
        parts.append(f"距园区约{dist:.0f}公里")
    matched = {"terms": [{"term": t, "weight": round(w, 4)} for t, w in contribs[:10]],
               "park_industry": code_label(p_code) if p_code else None,
               "firm_industry": code_label(f_code) if f_code else None}
    return "；".join(parts) if parts else "无明显匹配", matched
