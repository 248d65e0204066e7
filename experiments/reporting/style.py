"""One figure style for every figure culturedrift draws: palette, fonts, saving and the checks a reader would make.

Strategies keep one colour and one line style in every figure (Okabe-Ito colour-blind-safe palette, black
first; line styles keep them apart in grey-scale print). Other figures use the same palette by role.
`save` writes PNG plus any of SVG/PDF and, when `CULTUREDRIFT_FIGURE_CHECK=1` (the tests set it), refuses a
figure without a title, with an axis label that has no unit, or with overlapping text.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text

# Okabe-Ito palette, black first (the reference is usually the first strategy).
COLOURS = ("#000000", "#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F")
STYLES = ("-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)), (0, (8, 3)), (0, (2, 1)), (0, (4, 1, 1, 1)))
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
# colours by role, for figures that are not one-line-per-strategy
ROLE = {"main": "#0072B2", "second": "#D55E00", "target": "#009E73", "warn": "#CC79A7", "neutral": "#7F7F7F",
        "light": "#BBBBBB", "highlight": "#E69F00"}
DPI = 150
RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
      "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False,
      "axes.prop_cycle": matplotlib.cycler(color=COLOURS[1:] + COLOURS[:1]), "figure.dpi": 100}
FIGURE_FORMATS = ("png", "svg", "pdf")
CHECK_ENV = "CULTUREDRIFT_FIGURE_CHECK"
UNIT = re.compile(r"\(.+\)|%|\bweeks?\b|\bGBP\b|\bper\b|\bshare\b|\bcount\b|0-1|\bscale\b|\bpoints\b", re.I | re.S)


class FigureProblem(AssertionError):
    """A figure a reader would misread: no title, an axis without a unit, or overlapping text."""


def style(i: int) -> dict:
    """Colour, line style and marker of the i-th strategy."""
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": STYLES[i % len(STYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """The shared rc settings (fonts, palette, spines) for the figures drawn inside the block."""
    with plt.rc_context(RC):
        yield


def _texts(fig: Figure) -> list[Text]:
    """Visible, non-empty text as drawn: tick labels only for ticks inside the view (the ones on the page)."""
    ticks: set[int] = set()
    drawn: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for minor in (False, True):
                ticks.update(id(t) for t in axis.get_ticklabels(minor=minor))
            if ax.get_visible() and ax.axison:
                drawn += [t.label1 for t in axis._update_ticks()]
                drawn += [t.label2 for t in axis._update_ticks()]
    out = [t for t in fig.findobj(Text) if id(t) not in ticks]
    out += drawn
    return [t for t in out if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())]


def _categorical(labels: Iterable[Text]) -> bool:
    words = [t.get_text().replace("\u2212", "-").strip() for t in labels if t.get_text().strip()]
    return bool(words) and not all(re.fullmatch(r"[-+0-9.,%e ]+", w) for w in words)


def figure_problems(fig: Figure) -> list[str]:
    """What a reader would trip on: a missing title, a numeric axis without a labelled unit, overlapping text."""
    problems = []
    titled = bool(fig._suptitle and fig._suptitle.get_text().strip())
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    if not titled and not any(ax.get_title(loc=loc) for ax in axes for loc in ("left", "center", "right")):
        problems.append("no title")
    fig.canvas.draw()

    def labelled_beside(ax: plt.Axes, axis: str) -> bool:
        """An unlabelled axis is fine when an aligned panel (same column for x, same row for y) carries the label."""
        a = ax.get_position()
        for other in axes:
            b = other.get_position()
            if other is ax:
                continue
            if axis == "x" and abs(a.x0 - b.x0) < 0.01 and abs(a.x1 - b.x1) < 0.01 and other.get_xlabel():
                return True
            if axis == "y" and abs(a.y0 - b.y0) < 0.01 and abs(a.y1 - b.y1) < 0.01 and other.get_ylabel():
                return True
        return False

    for ax in axes:
        name = ax.get_title(loc="left") or ax.get_title() or f"axes {fig.axes.index(ax)}"
        for axis, label, ticks in (("x", ax.get_xlabel(), ax.get_xticklabels()),
                                   ("y", ax.get_ylabel(), ax.get_yticklabels())):
            shown = [t for t in ticks if t.get_visible() and t.get_text().strip()]
            if not shown or _categorical(shown):
                continue
            if not label.strip() and labelled_beside(ax, axis):
                continue
            if not label.strip():
                problems.append(f"'{name}': {axis} axis has no label")
            elif not UNIT.search(label):
                problems.append(f"'{name}': {axis} axis label '{label}' gives no unit")
    renderer = fig.canvas.get_renderer()
    boxes = [(t, t.get_window_extent(renderer)) for t in _texts(fig)]
    page = fig.bbox
    for t, b in boxes:
        if b.x0 < page.x0 - 2 or b.x1 > page.x1 + 2 or b.y0 < page.y0 - 2 or b.y1 > page.y1 + 2:
            problems.append(f"text cut off at the edge: '{t.get_text()[:40]}'")
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if ba.width < 1 or bb.width < 1:
                continue
            ox = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            oy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if ox > 2 and oy > 2:
                problems.append(f"text overlaps: '{a.get_text()[:40]}' and '{b.get_text()[:40]}'")
    return problems


def save(fig: Figure, path: str | Path, formats: Iterable[str] = ("png",), dpi: int = DPI) -> Path:
    """Save `fig` as `path` (PNG) and as each extra format beside it; close it. Returns the PNG path."""
    path = Path(path)
    try:
        if os.environ.get(CHECK_ENV) == "1":
            problems = figure_problems(fig)
            if problems:
                raise FigureProblem(f"{path.name}: " + "; ".join(problems))
        fig.savefig(path, dpi=dpi)
        for fmt in formats:
            if fmt == path.suffix.lstrip(".") or fmt == "png":
                continue
            if fmt not in FIGURE_FORMATS:
                raise ValueError(f"unknown figure format {fmt!r}; choose from {', '.join(FIGURE_FORMATS)}")
            fig.savefig(path.with_suffix(f".{fmt}"), dpi=dpi)
    finally:
        plt.close(fig)
    return path
