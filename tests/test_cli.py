"""The command line: every command has help with an example; errors are one clear line, exit 2."""

from __future__ import annotations

import json

import click
import pytest

from matcher.cli import cli, main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_command_has_help_with_example(path: tuple[str, ...], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Usage:" in out
    cmd = cli
    for p in path:
        cmd = cmd.commands[p]  # type: ignore[attr-defined]
    if not isinstance(cmd, click.Group):
        assert "matcher " in out and "xample" in out, f"{' '.join(path)} --help shows no example"


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return int(exc.value.code or 0), cap.out, cap.err


def test_unknown_park_one_line_error(tmp_path, tiny_frame, capsys) -> None:
    db = str(tmp_path / "c.db")
    csv_path = tmp_path / "firms.csv"
    tiny_frame.to_csv(csv_path, index=False)
    code, _, _ = _run(["--db", db, "ingest", str(csv_path), "--no-progress"], capsys)
    assert code == 0
    code, out, err = _run(["--db", db, "rank", "--park", "火星开发区"], capsys)
    assert code == 2 and "no park named" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_rank_on_empty_database(tmp_path, capsys) -> None:
    code, _, err = _run(["--db", str(tmp_path / "e.db"), "rank", "--park", "四平经开区"], capsys)
    assert code == 2 and "no firms" in err and len(err.strip().splitlines()) == 1


def test_rank_and_score_outputs(tmp_path, tiny_frame, capsys) -> None:
    db = str(tmp_path / "c.db")
    csv_path = tmp_path / "firms.csv"
    tiny_frame.to_csv(csv_path, index=False)
    _run(["--db", db, "ingest", str(csv_path), "--no-progress"], capsys)
    out_json = tmp_path / "leads.json"
    code, _, err = _run(["--db", db, "rank", "--park", "四平经开区", "--top", "3", "--out", str(out_json)], capsys)
    assert code == 0, err
    leads = json.loads(out_json.read_text(encoding="utf-8"))
    assert leads and {"rank", "park", "name", "credit_code", "province", "city", "score", "components",
                      "reason"} <= set(leads[0])
    parks_json = tmp_path / "parks.json"
    code, _, err = _run(["--db", db, "score", "--text", "冷藏车、专用车制造", "--out", str(parks_json)], capsys)
    assert code == 0, err
    parks = json.loads(parks_json.read_text(encoding="utf-8"))
    assert {"park", "score", "components", "reason"} <= set(parks[0])
    assert parks[0]["score"] >= parks[-1]["score"]
    code, out, _ = _run(["--db", db, "parks", "show", "四平梨树经开区"], capsys)
    assert code == 0 and "C2923" in out


def test_score_needs_exactly_one_source(tmp_path, capsys) -> None:
    code, _, err = _run(["--db", str(tmp_path / "x.db"), "score"], capsys)
    assert code == 2 and "exactly one" in err
