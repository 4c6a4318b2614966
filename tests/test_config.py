from __future__ import annotations

import pytest

from matcher.config import MatchConfig
from matcher.errors import ConfigError


def test_toml_round_trip(tmp_path) -> None:
    cfg = MatchConfig(k1=1.2, w_region=0.1, exclude_statuses=("注销",))
    path = tmp_path / "c.toml"
    cfg.to_toml(path)
    assert MatchConfig.from_toml(path) == cfg


def test_unknown_key_named(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[matcher]\nk3 = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="k3"):
        MatchConfig.from_toml(path)


@pytest.mark.parametrize("bad", [{"b": 2.0}, {"k1": -1.0}, {"components_off": ("colour",)}])
def test_invalid_values_rejected(bad: dict) -> None:
    with pytest.raises(ConfigError):
        MatchConfig(**bad)


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        MatchConfig().k1 = 2.0  # type: ignore[misc]
