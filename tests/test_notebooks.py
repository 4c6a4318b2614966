"""The review notebooks: committed without outputs, importing matcher only through its public API, and
running top to bottom in a fresh kernel on the sample data (each builds its own database in a temporary
folder). Notebook 03 runs on ../shared/bench when it is there, and on the tiny benchmark it builds from the
sample data when it is not: both paths are executed.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
DATA_DIR = NOTEBOOK_DIR.parent / "data"
BENCH_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench"
CELL_TIMEOUT = 180  # seconds per cell; notebook 03 on the real benchmark runs one evaluation of ~10 s


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code_cells(path: Path) -> list[str]:
    return [c.source for c in _read(path).cells if c.cell_type == "code"]


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_park_leads.ipynb", "02_enterprise_profile.ipynb", "03_quality.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; strip them before committing"
    assert "widgets" not in nb.metadata, f"{path.name}: notebook metadata holds widget state; strip it"


def _private_imports(tree: ast.AST) -> list[str]:
    """``matcher.<module>`` imports (the notebooks may use only what ``matcher`` itself exports)."""
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("matcher."):
            bad.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            bad += [f"import {a.name}" for a in node.names if a.name.startswith("matcher.")]
    return bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_only_the_public_api(path: Path) -> None:
    import matcher

    bad: list[str] = []
    used: set[str] = set()
    for source in _code_cells(path):
        tree = ast.parse(source)
        bad += _private_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "matcher":
                used |= {a.name for a in node.names}
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "matcher":
                used.add(node.attr)
    assert not bad, f"{path.name} imports matcher's internals: {bad}; use names from matcher.__all__"
    unknown = used - set(matcher.__all__) - {"__version__"}
    assert not unknown, f"{path.name} uses {sorted(unknown)}, not in matcher.__all__"


def _execute(path: Path, out_dir: Path) -> None:
    """Run a copy of the notebook in a fresh python3 kernel, with the notebooks folder as working directory;
    the executed copy is written to ``out_dir`` (the committed file is not touched)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = _read(path)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed (executed copy in {out_dir}):\n{exc}")
    finally:
        nbformat.write(nb, out_dir / path.name)


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name != ".ipynb_checkpoints"}


RUNS = [pytest.param(p, None, id=p.stem) for p in NOTEBOOKS if not p.name.startswith("03")]
RUNS += [pytest.param(NOTEBOOK_DIR / "03_quality.ipynb", "absent", id="03_quality-tiny-bench")]
if BENCH_DIR.is_dir():
    RUNS.insert(2, pytest.param(NOTEBOOK_DIR / "03_quality.ipynb", str(BENCH_DIR), id="03_quality-shared-bench",
                                marks=pytest.mark.bench))


@pytest.mark.slow
@pytest.mark.parametrize(("path", "bench"), RUNS)
def test_notebook_runs(path: Path, bench: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if bench is not None:  # the kernel inherits the environment: MATCHER_BENCH picks the benchmark
        monkeypatch.setenv("MATCHER_BENCH", str(tmp_path / "no-bench") if bench == "absent" else bench)
    home_before = sorted(os.listdir(os.environ["MATCHER_HOME"])) if Path(os.environ["MATCHER_HOME"]).is_dir() else []
    before = {folder: _listing(folder) for folder in (NOTEBOOK_DIR, DATA_DIR)}
    _execute(path, tmp_path)
    for folder, names in before.items():
        assert _listing(folder) == names, f"{path.name} wrote into {folder}"
    after = sorted(os.listdir(os.environ["MATCHER_HOME"])) if Path(os.environ["MATCHER_HOME"]).is_dir() else []
    assert after == home_before, f"{path.name} wrote into MATCHER_HOME of the test session"
    executed = _read(tmp_path / path.name)
    images = sum("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 1, f"{path.name} drew no chart"
