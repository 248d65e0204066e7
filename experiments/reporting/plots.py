"""Figures from run outputs (matplotlib, Agg backend; readable when printed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

PANELS = (
    ("morale_mean", "Morale (mean, 0-1)"),
    ("turnover_rate_12m", "Turnover, last 12 months"),
    ("vacancy_rate", "Vacancy rate"),
    ("compliance_habit_mean", "Compliance habit (mean)"),
    ("fragmentation", "Fragmentation of ties"),
    ("caseload_mean", "Cases per case holder"),
    ("time_with_children", "Share of time with children"),
    ("cost_cumulative", "Cumulative cost (GBP k)"),
)


def timeseries_figure(ts: pd.DataFrame, path: str | Path, programmes: dict[str, tuple[int, int]] | None = None,
                      panels: tuple[tuple[str, str], ...] = PANELS) -> Path:
    """Median and 10-90% band over seeds per scenario, one panel per series; programme period shaded."""
    n = len(panels)
    cols = 4 if n > 4 else n
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (col, title) in zip(axes.flat, panels, strict=False):
        for i, (name, g) in enumerate(ts.groupby("scenario", sort=False)):
            q = g.groupby("week")[col].quantile([0.1, 0.5, 0.9]).unstack()
            c = colours[i % len(colours)]
            ax.fill_between(q.index, q[0.1], q[0.9], color=c, alpha=0.18, linewidth=0)
            ax.plot(q.index, q[0.5], color=c, label=name, linewidth=1.6)
        if programmes:
            for start, end in programmes.values():
                if end > start:
                    ax.axvspan(start, end, color="0.85", alpha=0.25, linewidth=0)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
