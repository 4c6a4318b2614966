"""Regions: province short names, the source regions investment offices target, and distances.

A park's ``target_regions`` may name provinces (山东, 广东省), municipalities, or the usual economic regions
(长三角, 珠三角, 京津冀, 成渝, 东北 ...); :func:`expand_regions` turns them into province short names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["REGION_GROUPS", "expand_regions", "haversine_km", "province_short"]

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)

#: economic regions by their provinces (a region a report names as a whole, e.g. 珠三角, is taken at
#: province level: a lead list is a starting point, not a border check)
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "长三角": ("上海", "江苏", "浙江", "安徽"),
    "长江三角洲": ("上海", "江苏", "浙江", "安徽"),
    "珠三角": ("广东",),
    "珠江三角洲": ("广东",),
    "粤港澳大湾区": ("广东", "香港", "澳门"),
    "大湾区": ("广东", "香港", "澳门"),
    "京津冀": ("北京", "天津", "河北"),
    "环渤海": ("北京", "天津", "河北", "辽宁", "山东"),
    "东北": ("辽宁", "吉林", "黑龙江"),
    "东北三省": ("辽宁", "吉林", "黑龙江"),
    "成渝": ("重庆", "四川"),
    "成渝地区": ("重庆", "四川"),
    "中部": ("山西", "河南", "湖北", "湖南", "江西", "安徽"),
    "华东": ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东"),
    "华南": ("广东", "广西", "海南"),
    "华北": ("北京", "天津", "河北", "山西", "内蒙古"),
    "西北": ("陕西", "甘肃", "青海", "宁夏", "新疆"),
    "西南": ("重庆", "四川", "贵州", "云南", "西藏"),
}

_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def province_short(name: str | None) -> str | None:
    """``山东省`` -> ``山东``, ``广西壮族自治区`` -> ``广西``; None/'' -> None; unknown names returned stripped."""
    if not name:
        return None
    name = str(name).strip()
    for p in PROVINCES:
        if name.startswith(p):
            return p
    for s in _SUFFIXES:
        if name.endswith(s):
            return name[: -len(s)] or name
    return name or None


def expand_regions(regions: Iterable[str]) -> set[str]:
    """Province short names covered by ``regions`` (provinces or economic regions)."""
    out: set[str] = set()
    for r in regions:
        r = (r or "").strip()
        if not r:
            continue
        if r in REGION_GROUPS:
            out.update(REGION_GROUPS[r])
        else:
            p = province_short(r)
            if p:
                out.add(p)
    return out


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = rlat2 - rlat1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))
