"""Charts with Chinese labels: find a CJK font, set matplotlib up for it, draw the evaluation chart.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend switch), so this
works headless and does not disturb a notebook's backend. When no CJK font is installed the charts are
still written, with a warning (once per process) saying how to install one: Chinese would show as boxes.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["cjk_font", "plot_ndcg_per_query", "setup_matplotlib"]

#: font family names that render Simplified Chinese, best first
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans", "SimHei",
    "Microsoft YaHei", "PingFang SC", "Heiti SC", "STHeiti", "Noto Serif CJK SC", "AR PL UMing CN",
    "Droid Sans Fallback",
)
# file names of such fonts, to find fonts installed after matplotlib built its font cache
_CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "notosanssc", "sourcehansans", "wqy", "simhei", "msyh",
                   "pingfang", "droidsansfallback", "uming", "ukai")
INSTALL_HINT = ("no CJK font found: Chinese labels in charts will show as boxes. Install one, e.g. "
                "`apt-get install fonts-noto-cjk` (Debian/Ubuntu) or `dnf install google-noto-sans-cjk-fonts`, "
                "then run again")


def _known_families() -> set[str]:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


@cache
def cjk_font() -> str | None:
    """The family name of an installed font that renders Chinese, or None (with one warning per process).

    Looks in matplotlib's font list, then among the system's font files for ones installed since
    matplotlib cached that list (they are added to it).
    """
    from matplotlib import font_manager

    known = _known_families()
    for family in CJK_FAMILIES:
        if family in known:
            return family
    added = False
    for path in font_manager.findSystemFonts():
        if any(h in Path(path).name.lower().replace("-", "").replace("_", "") for h in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):  # unreadable or unsupported font file
                continue
    if added:
        known = _known_families()
        for family in CJK_FAMILIES:
            if family in known:
                return family
    warnings.warn(INSTALL_HINT, stacklevel=2)
    return None


def _rc() -> Any:  # an rcParams dict (typed loosely: matplotlib types the keys as literals)
    font = cjk_font()
    rc: dict[str, Any] = {"axes.unicode_minus": False}
    if font:
        from matplotlib import rcParams

        rc["font.sans-serif"] = [font, *[f for f in rcParams["font.sans-serif"] if f != font]]
        rc["font.family"] = "sans-serif"
    return rc


def setup_matplotlib() -> str | None:
    """Make matplotlib draw Chinese in this process (notebooks): set the CJK font as the first sans-serif
    font; return its name (None when there is none, after a warning saying how to install one)."""
    from matplotlib import rcParams

    rcParams.update(_rc())
    return cjk_font()


def plot_ndcg_per_query(report: dict[str, Any], path: str | Path, *, metric: str | None = None) -> Path:
    """Bars of each query's NDCG (engine vs BM25; BM25 vs TF-IDF when the engine did not run), one panel
    per mode of an :func:`matcher.evaluate.evaluate_bench` report; written as PNG to ``path``."""
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    modes = list(report)
    with matplotlib.rc_context(_rc()):
        n_q = max(len(report[m]["systems"]["bm25"]["per_query"]) for m in modes)
        fig = Figure(figsize=(max(8.0, 0.75 * n_q + 2), 4.2 * len(modes)), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        for i, mode in enumerate(modes):
            rep = report[mode]
            key = metric or rep["bench"]["metrics"][0]
            systems = rep["systems"]
            pair = ["engine", "bm25"] if "engine" in systems else ["bm25", "tfidf"]
            names = {"engine": "引擎 engine", "bm25": "BM25", "tfidf": "TF-IDF"}
            colors = {"engine": "#c0392b", "bm25": "#2c3e50", "tfidf": "#7f8c8d"}
            queries = list(systems[pair[0]]["per_query"])
            labels = [f"{q} {rep['queries'][q]['park']}" for q in queries]
            ax = fig.add_subplot(len(modes), 1, i + 1)
            x = np.arange(len(queries))
            width = 0.38
            for j, s in enumerate(pair):
                vals = [systems[s]["per_query"][q][key] for q in queries]
                macro = systems[s]["macro"][key]
                ax.bar(x + (j - 0.5) * width, vals, width, color=colors[s], label=f"{names[s]}（平均 {macro:.3f}）")
                ax.axhline(macro, color=colors[s], linestyle="--", linewidth=0.9)
            ax.set_xticks(x, labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=8)
            ax.set_ylim(0, 1.2)
            ax.set_yticks(np.linspace(0, 1, 6))
            ax.set_ylabel(key.upper())
            ax.set_title(f"模式 {mode}：各查询 {key.upper()}，{names[pair[0]]} 对比 {names[pair[1]]}")
            ax.legend(loc="upper left", ncols=2, fontsize=8, frameon=False)
            ax.grid(axis="y", alpha=0.3)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return out
