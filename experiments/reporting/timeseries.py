"""The figure of `culturedrift run`: the main weekly series per scenario (median and 10-90% band over seeds)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from culturedrift.experiments.reporting.style import figure_style, save, style

# (column, title, display scale, axis label with unit)
PANELS = (
    ("morale_mean", "Morale (mean)", 1.0, "morale (0-1 scale)"),
    ("turnover_rate_12m", "Turnover, last 12 months", 100.0, "leavers (% of permanent staff)"),
    ("vacancy_rate", "Vacancy rate", 100.0, "% of staff posts"),
    ("compliance_habit_mean", "Compliance habit (mean)", 1.0, "habit (0-1 scale)"),
    ("fragmentation", "Fragmentation of working ties", 100.0, "% of week-0 tie strength"),
    ("caseload_mean", "Cases per case holder", 1.0, "open cases (per case holder)"),
    ("time_with_children", "Time with children and families", 100.0, "% of working time"),
    ("cost_cumulative", "Cumulative cost (delivered)", 1.0, "GBP thousand"),
)


def timeseries_figure(ts: pd.DataFrame, path: str | Path, programmes: dict[str, tuple[int, int]] | None = None,
                      panels: tuple[tuple[str, str, float, str], ...] = PANELS, titles: dict[str, str] | None = None,
                      formats: tuple[str, ...] = ("png",)) -> Path:
    """Median and 10-90% band over seeds per scenario, one panel per series; the change-programme period shaded."""
    names = list(dict.fromkeys(ts["scenario"]))
    titles = titles or {n: n for n in names}
    n = len(panels)
    cols = 4 if n > 4 else n
    rows = -(-n // cols)
    seeds = ts["seed"].nunique() if "seed" in ts else 1
    prog = [(s, e) for s, e in (programmes or {}).values() if e > s]
    with figure_style():
        fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.3 * rows + 1.3), squeeze=False, sharex=True)
        for ax, (col, title, scale, unit) in zip(axes.flat, panels, strict=False):
            if prog:
                ax.axvspan(min(s for s, _ in prog), max(e for _, e in prog), color="0.92", linewidth=0, zorder=0)
            for i, name in enumerate(names):
                g = ts[ts["scenario"] == name]
                q = g.groupby("week")[col].quantile([0.1, 0.5, 0.9]).unstack() * scale
                st = style(i)
                ax.fill_between(q.index, q[0.1], q[0.9], color=st["color"], alpha=0.15, linewidth=0)
                ax.plot(q.index, q[0.5], color=st["color"], linestyle=st["linestyle"], linewidth=1.6,
                        label=titles.get(name, name))
            ax.set_title(title, loc="left", fontsize=10)
            ax.set_ylabel(unit, fontsize=8.5)
            ax.grid(alpha=0.3)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("week")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
        fig.suptitle("Main weekly series per scenario", x=0.02, ha="left", fontsize=13, fontweight="bold")
        band = " Light grey: change-programme period (first go-live to the last handover)." if prog else ""
        fig.text(0.02, 1 - 0.62 / fig.get_size_inches()[1],
                 f"Line: median over {seeds} seed{'s' if seeds != 1 else ''}; band: 10-90% range over seeds."
                 + band, fontsize=9, color="0.3")
        height = fig.get_size_inches()[1]
        legend_rows = -(-len(labels) // 5)
        fig.subplots_adjust(left=0.05, right=0.99, top=1 - 1.0 / height, bottom=(0.75 + 0.25 * legend_rows) / height,
                            hspace=0.35, wspace=0.3)
        return save(fig, path, formats)
