"""Parks: the default parks shipped with the package, park files (YAML, CSV, XLSX), and look-ups.

A park file has one row (or YAML item) per park. Column names, Chinese or English:
园区名称/name, 别名/aliases, 所在省份/province, 所在城市/city, 所在区县/district, 经度/longitude, 纬度/latitude,
主导产业/重点承接方向/description, 目标区域/target_regions, 指定行业/pinned_industries, 备注/notes.
Lists (aliases, regions, industries) are separated by ``、`` ``,`` ``;`` or ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from .errors import InputError, NotFoundError
from .regions import province_short
from .store import Park, Store

__all__ = ["default_parks", "ensure_default_parks", "find_park", "import_parks", "list_parks", "read_park_file"]

_FIELDS = {
    "name": ("园区名称", "园区", "开发区", "名称", "name", "park"),
    "aliases": ("别名", "aliases", "alias"),
    "province": ("所在省份", "省份", "province"),
    "city": ("所在城市", "城市", "city"),
    "district": ("所在区县", "区县", "district"),
    "longitude": ("经度", "longitude", "lon", "lng"),
    "latitude": ("纬度", "latitude", "lat"),
    "description": ("主导产业", "重点承接方向", "目标产业", "产业定位", "description", "industries"),
    "target_regions": ("目标区域", "招商区域", "target_regions", "regions"),
    "pinned_industries": ("指定行业", "行业代码", "pinned_industries"),
    "notes": ("备注", "notes", "note"),
}
_LIST_FIELDS = ("aliases", "target_regions", "pinned_industries")
_SPLIT = re.compile(r"[、,，;；/|]")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in _SPLIT.split(str(value)) if p.strip()]


def _clean(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Map a raw record's keys to park fields and check its values."""
    lookup = {alias.lower(): f for f, aliases in _FIELDS.items() for alias in aliases}
    park: dict[str, Any] = {}
    descriptions: list[str] = []
    for key, value in raw.items():
        f = lookup.get(str(key).strip().lower())
        if f is None:
            raise InputError(f"{where}: unknown park column {key!r}; known: {', '.join(a[0] for a in _FIELDS.values())}")
        if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
            continue
        if f == "description":
            descriptions.append(str(value).strip())
        elif f in _LIST_FIELDS:
            park[f] = _as_list(value)
        elif f in ("longitude", "latitude"):
            try:
                park[f] = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{where}: {key} = {value!r} is not a number") from None
        else:
            park[f] = str(value).strip()
    if not park.get("name"):
        raise InputError(f"{where}: a park needs a name (column 园区名称 or name)")
    if not descriptions:
        raise InputError(f"{where}: park {park['name']!r} has no target-industry text (column 主导产业 or description)")
    park["description"] = "；".join(descriptions)
    if park.get("province"):
        park["province"] = province_short(park["province"])
    return park


def read_park_file(path: str | Path) -> list[dict[str, Any]]:
    """Parks from a YAML, CSV or XLSX file, validated (nothing is written)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    suffix = p.suffix.lower()
    records: list[dict[str, Any]]
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"{p}: not valid YAML ({exc.__class__.__name__})") from None
        if isinstance(data, dict) and "parks" in data:
            data = data["parks"]
        if not isinstance(data, list):
            raise InputError(f"{p}: expected a list of parks")
        records = data
        where = [f"{p} item {i}" for i in range(1, len(records) + 1)]
    elif suffix in (".csv", ".xlsx", ".xlsm"):
        from .readers import read_table

        # the firm-export reader: encoding detection (UTF-8 / GBK), title rows above the header, row numbers
        frames = list(read_table(p, name_headers=_FIELDS["name"]))
        records, where = [], []
        for frame in frames:
            for row_number, row in zip(frame.index, frame.to_dict("records"), strict=True):
                records.append(row)
                where.append(f"{p} row {row_number}")
    else:
        raise InputError(f"{p}: unknown park file type {suffix!r}; use .yaml, .csv or .xlsx")
    if not records:
        raise InputError(f"{p}: no parks in the file")
    parks = [_clean(dict(r), w) for r, w in zip(records, where, strict=True)]
    seen: set[str] = set()
    for park, w in zip(parks, where, strict=True):
        if park["name"] in seen:
            raise InputError(f"{w}: park {park['name']!r} appears twice in the file")
        seen.add(park["name"])
    return parks


def default_parks() -> list[dict[str, Any]]:
    """The parks shipped with the package (Siping's development zones and specialised parks)."""
    with resources.as_file(resources.files("matcher") / "resources" / "parks.yaml") as path:
        return read_park_file(path)


def import_parks(store: Store, parks: Iterable[dict[str, Any]], *, source: str | None = None) -> tuple[int, int]:
    """Insert or update parks by name, in one transaction; returns (inserted, updated)."""
    inserted = updated = 0
    with store.begin() as conn:
        existing = {r.name: r.id for r in conn.execute(select(Park.id, Park.name))}
        for park in parks:
            values = {k: park.get(k) for k in _FIELDS if k in park}
            for f in _LIST_FIELDS:
                values.setdefault(f, [])
            values["source"] = source
            values["updated_at"] = datetime.now()
            if park["name"] in existing:
                conn.execute(update(Park).where(Park.id == existing[park["name"]]).values(**values))
                updated += 1
            else:
                conn.execute(insert(Park).values(**values))
                inserted += 1
    return inserted, updated


def ensure_default_parks(store: Store) -> bool:
    """Load the default parks into an empty parks table; True when it did."""
    if store.count(Park):
        return False
    import_parks(store, default_parks(), source="matcher/resources/parks.yaml")
    return True


def list_parks(store: Store) -> list[dict[str, Any]]:
    """Every park in the store as a dict of its columns, in the order they were added."""
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(*Park.__table__.c).order_by(Park.id))]


def find_park(store: Store, name: str) -> dict[str, Any]:
    """A park by exact name, alias, or unique partial name."""
    parks = list_parks(store)
    if not parks:
        raise NotFoundError("no parks in the database: run `matcher parks import FILE` (or any command to load the defaults)")
    key = name.strip()
    for p in parks:
        if p["name"] == key or key in (p["aliases"] or []):
            return p
    partial = [p for p in parks if key and (key in p["name"] or any(key in a for a in p["aliases"] or []))]
    if len(partial) == 1:
        return partial[0]
    names = "、".join(p["name"] for p in (partial or parks))
    if partial:
        raise NotFoundError(f"park {name!r} is ambiguous: {names}; give the full name")
    raise NotFoundError(f"no park named {name!r}; known parks: {names}")
