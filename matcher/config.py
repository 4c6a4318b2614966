"""One configuration object for scoring and ranking, frozen, read from and written to TOML.

Every ranking run stores the ``MatchConfig`` it used (``MatchRun.config``), so a list can be
reproduced and two lists compared. Weights were chosen by measurement with ``matcher evaluate`` on
../shared/bench: a 3x3 grid of w_industry in {0.4, 0.55, 0.7} (w_text = 1 - w_industry) and
expansion_weight in {0.15, 0.3, 0.5}. The grid is flat within 0.05 NDCG@50; 0.7 / 0.3 was best in text
mode (NDCG@50 0.821) and kept every query above BM25 in both modes.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["MatchConfig", "EXCLUDED_STATUSES"]

#: 登记状态 values that mean a firm no longer operates (excluded by default).
EXCLUDED_STATUSES = ("注销", "吊销", "停业", "撤销", "清算", "歇业", "责令关闭")


@dataclass(frozen=True)
class MatchConfig:
    """Weights and parameters of the matching engine.

    Combined score = ``w_text`` * text relevance (BM25, scaled to the best firm for the park)
    + ``w_industry`` * industry relevance (0..1) + ``w_region`` * region match (0/1)
    + ``w_size`` * size (0..1) + ``w_distance`` * nearness to the park (0..1).
    Structured factors with missing data contribute ``missing_*`` instead (stated, never a silent 0).
    """

    # BM25 text relevance
    k1: float = 1.5
    b: float = 0.75
    # how strongly the park's industry keywords join its own words in the BM25 query (0 = not at all)
    expansion_weight: float = 0.3
    expansion_terms_per_industry: int = 40
    # combination
    w_text: float = 0.3
    w_industry: float = 0.7
    w_region: float = 0.05
    w_size: float = 0.03
    w_distance: float = 0.0
    # what a missing field contributes (0..1 of the factor)
    missing_size: float = 0.3
    missing_region: float = 0.0
    missing_distance: float = 0.0
    # size: registered capital (万元) that scores 1.0; log-scaled below it
    size_full_capital: float = 10000.0
    size_full_insured: int = 500
    # distance: km at which nearness falls to 0.5
    distance_half_km: float = 800.0
    # use the export's 所属行业 field when present
    use_industry_field: bool = True
    # firms whose status contains one of these are excluded (empty = keep all)
    exclude_statuses: tuple[str, ...] = EXCLUDED_STATUSES
    # a firm needs at least this much relevance (text or industry) to be a lead at all
    min_relevance: float = 0.02
    top: int = 50
    components_off: tuple[str, ...] = field(default=())  # ablations: "text", "industry", "structured"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"config {f.name} = {value}: must be >= 0")
        if not 0 <= self.b <= 1:
            raise ConfigError(f"config b = {self.b}: BM25 b must be between 0 and 1")
        unknown = set(self.components_off) - {"text", "industry", "structured", "expansion"}
        if unknown:
            raise ConfigError(
                f"unknown component {sorted(unknown)}: choose from text, industry, structured, expansion"
            )

    def replace(self, **changes: Any) -> MatchConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchConfig:
        names = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(names)
        if unknown:
            raise ConfigError(f"unknown config keys {sorted(unknown)}; known: {', '.join(names)}")
        clean: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        try:
            return cls(**clean)
        except TypeError as exc:
            raise ConfigError(f"bad config: {exc}") from exc

    @classmethod
    def from_toml(cls, path: str | Path) -> MatchConfig:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML ({exc})") from None
        return cls.from_dict(data.get("matcher", data))

    def to_toml(self, path: str | Path | None = None) -> str:
        import tomli_w

        text = tomli_w.dumps({"matcher": self.to_dict()})
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
