"""Figures of a comparison (matplotlib, Agg backend), sized and styled to be read on paper.

Strategies keep one colour and one line style in every figure (colour-blind-safe palette; the line
styles keep them apart in grey-scale print).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from culturedrift.experiments.workflows.compare import METRIC, METRICS, Metric

if TYPE_CHECKING:
    from culturedrift.experiments.workflows.compare import Comparison

# Okabe-Ito palette, black first (the reference is usually the first strategy).
COLOURS = ("#000000", "#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F")
STYLES = ("-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)), (0, (8, 3)), (0, (2, 1)), (0, (4, 1, 1, 1)))
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
DPI = 150
RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 10,
      "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False}

# (column, title, display scale, unit label)
RISK_PANELS = (
    ("morale_mean", "Morale (mean)", 1.0, "0-1 scale"),
    ("turnover_rate_12m", "Turnover over the last 12 months", 100.0, "%"),
    ("vacancy_rate", "Vacancy rate", 100.0, "% of staff posts"),
    ("fragmentation", "Fragmentation of working relationships", 100.0, "% of week-0 tie strength missing"),
)
CULTURE_PANELS = (
    ("compliance_habit_mean", "Compliance habit (mean; lower = more professional judgement)", 1.0, "0-1 scale"),
    ("caseload_mean", "Cases per case holder", 1.0, "cases"),
    ("time_with_children", "Share of time with children and families", 100.0, "%"),
    ("cost_cumulative", "Cumulative discretionary cost", 1.0, "GBP thousand"),
)


def style(i: int) -> dict:
    """Colour, line style and marker of the i-th strategy."""
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": STYLES[i % len(STYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def _bands(ts: pd.DataFrame, col: str, names: list[str]) -> dict[str, pd.DataFrame]:
    q = ts.groupby(["scenario", "week"], sort=False)[col].quantile([0.1, 0.5, 0.9]).unstack()
    return {n: q.loc[n] for n in names if n in q.index.get_level_values(0)}


def band_figure(cmp: Comparison, panels: tuple[tuple[str, str, float, str], ...], path: Path, title: str) -> Path:
    """2x2 panels: median and 10-90% band over seeds per strategy; programme periods on a timeline strip."""
    names = cmp.names
    with plt.rc_context(RC):
        fig = plt.figure(figsize=(11, 9.2))
        n_prog = sum(1 for s, h in cmp.programmes.values() if h > s)
        strip_h = 0.3 + 0.2 * max(n_prog, 1)
        gs = fig.add_gridspec(3, 2, height_ratios=(strip_h, 4, 4), hspace=0.32, wspace=0.22)
        axes = [fig.add_subplot(gs[1 + i // 2, i % 2]) for i in range(len(panels))]
        strips = [fig.add_subplot(gs[0, c], sharex=axes[c]) for c in range(min(2, len(axes)))]
        weeks = cmp.timeseries["week"]
        starts = [s for s, h in cmp.programmes.values() if h > s]
        ends = [h for s, h in cmp.programmes.values() if h > s]
        for ax, (col, label, scale, unit) in zip(axes, panels, strict=False):
            bands = _bands(cmp.timeseries, col, names)
            if starts:
                ax.axvspan(min(starts), max(ends), color="0.9", zorder=0, linewidth=0)
            for i, n in enumerate(names):
                if n not in bands:
                    continue
                q, st = bands[n] * scale, style(i)
                ax.fill_between(q.index, q[0.1], q[0.9], color=st["color"], alpha=0.13, linewidth=0)
                ax.plot(q.index, q[0.5], color=st["color"], linestyle=st["linestyle"], linewidth=1.8, label=n)
            ax.set_title(label, loc="left")
            ax.set_ylabel(unit)
            ax.grid(alpha=0.3)
            ax.set_xlim(weeks.min(), weeks.max())
        for ax in axes[-2:]:
            ax.set_xlabel("week")
        for c, strip in enumerate(strips):
            _timeline(strip, cmp, names=c == 0)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False,
                   handlelength=3.2)
        fig.suptitle(title, x=0.06, ha="left", fontsize=13, fontweight="bold")
        fig.text(0.06, 0.935, f"Median (line) and 10-90% band over {len(cmp.seeds)} seeds. Grey: change-programme "
                 "period (first go-live to the last handover).", fontsize=9, color="0.3")
        fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.1)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def _timeline(ax: plt.Axes, cmp: Comparison, names: bool = True) -> None:
    """One row per strategy with a programme: a bar from first go-live to handover, ticks at go-lives."""
    rows = [(i, sc) for i, sc in enumerate(cmp.scenarios) if sc.handover > sc.programme_start]
    ax.set_title("Change programme: first go-live to handover (ticks: go-lives)", loc="left", fontsize=9.5)
    ax.tick_params(labelbottom=False, bottom=False, left=False, labelleft=False)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    if not rows:
        ax.text(0.5, 0.5, "no change programme in any strategy", transform=ax.transAxes, ha="center",
                va="center", color="0.4")
        return
    for y, (i, sc) in enumerate(rows):
        st = style(i)
        ax.broken_barh([(sc.programme_start, sc.handover - sc.programme_start)], (y - 0.32, 0.64),
                       facecolors=st["color"], alpha=0.3, edgecolor=st["color"])
        for c in sc.change_programme:
            ax.plot([c.start_week, c.start_week], [y - 0.32, y + 0.32], color=st["color"], linewidth=1.6)
        if names:
            label = f"{sc.name} (handover week {sc.handover})"
            if sc.handover <= 0.55 * sc.horizon_weeks:
                ax.text(sc.handover + 3, y, label, va="center", ha="left", fontsize=8, color=st["color"])
            else:
                ax.text(sc.programme_start + 2, y, f" {label} ", va="center", ha="left", fontsize=8,
                        bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "alpha": 0.8, "linewidth": 0})


def tradeoff_figure(cmp: Comparison, path: Path) -> Path:
    """One point per strategy (median, 90% interval over seeds as bars): risk, culture gain, slippage, cost."""
    t = cmp.decision_table.set_index("scenario")
    pairs = ((METRIC["peak_turnover_12m"], METRIC["culture_attainment"]),
             (METRIC["total_cost"], METRIC["culture_kept"]),
             (METRIC["total_cost"], METRIC["slippage"]))
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, 3, figsize=(13, 5.0))
        for ax, (mx, my) in zip(axes, pairs, strict=True):
            for i, n in enumerate(cmp.names):
                st = style(i)
                x, y = t.loc[n, f"{mx.key}_median"] * mx.scale, t.loc[n, f"{my.key}_median"] * my.scale
                xerr = [[x - t.loc[n, f"{mx.key}_p05"] * mx.scale], [t.loc[n, f"{mx.key}_p95"] * mx.scale - x]]
                yerr = [[y - t.loc[n, f"{my.key}_p05"] * my.scale], [t.loc[n, f"{my.key}_p95"] * my.scale - y]]
                ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=st["marker"], color=st["color"], markersize=10,
                            markeredgecolor="white", markeredgewidth=0.8, capsize=3, elinewidth=1.3, label=n,
                            alpha=0.9)
            ax.set_xlabel(f"{mx.label} ({mx.unit}) \u2014 {mx.better} is better")
            ax.set_ylabel(f"{my.label} ({my.unit}) \u2014 {my.better} is better")
            ax.grid(alpha=0.3)
            ax.set_title(_corner(mx, my), loc="left", fontsize=10)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False, markerscale=1.1)
        fig.suptitle("Trade-offs: one point per strategy (median; bars: 90% interval over seeds)", x=0.05,
                     ha="left", fontsize=13, fontweight="bold")
        fig.subplots_adjust(left=0.055, right=0.985, bottom=0.22, top=0.84, wspace=0.28)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def _corner(mx: Metric, my: Metric) -> str:
    h = "left" if mx.better == "lower" else "right"
    v = "top" if my.better == "higher" else "bottom"
    return f"Better: towards the {v} {h}"


def differences_figure(cmp: Comparison, path: Path) -> Path:
    """Forest plot: each strategy's mean paired difference against the reference, with its 95% CI."""
    others = [n for n in cmp.names if n != cmp.reference]
    idx = {n: i for i, n in enumerate(cmp.names)}
    d = cmp.differences.set_index(["scenario", "metric"])
    cols = 3
    rows = -(-len(METRICS) // cols)
    with plt.rc_context(RC):
        fig, axes = plt.subplots(rows, cols, figsize=(12, 1.1 + rows * (0.55 + 0.42 * max(len(others), 1))),
                                 squeeze=False)
        for ax, m in zip(axes.flat, METRICS, strict=False):
            for y, n in enumerate(others):
                v = d.loc[(n, m.key)]
                st = style(idx[n])
                mean, lo, hi = (v["diff"] * m.scale, v["diff_lo"] * m.scale, v["diff_hi"] * m.scale)
                if np.isfinite(lo):
                    ax.plot([lo, hi], [y, y], color=st["color"], linewidth=2.2, solid_capstyle="butt")
                face = st["color"] if v["verdict"] in ("better", "worse") else "white"
                ax.plot([mean], [y], marker=st["marker"], markersize=7, color=st["color"], markerfacecolor=face)
            ax.axvline(0, color="0.3", linewidth=1)
            ax.set_yticks(range(len(others)), others)
            ax.set_ylim(len(others) - 0.5, -0.5)
            unit = "points" if m.unit == "%" else m.unit
            ax.set_title(f"{m.label} ({unit})", loc="left", fontsize=10)
            if m.better == "higher":
                ax.set_xlabel("better \u2192", loc="right", fontsize=8.5, color="0.35")
            else:
                ax.set_xlabel("\u2190 better", loc="left", fontsize=8.5, color="0.35")
            ax.grid(axis="x", alpha=0.3)
            lim = max(abs(x) for x in ax.get_xlim())
            ax.set_xlim(-lim, lim)
        for ax in list(axes.flat)[len(METRICS):]:
            ax.set_visible(False)
        for r in range(rows):
            for c in range(1, cols):
                axes[r, c].tick_params(labelleft=False)
        fig.suptitle(f"Difference against {cmp.reference} on the same seeds (mean and 95% CI; "
                     "filled marker: interval excludes zero)", x=0.02, ha="left", fontsize=12, fontweight="bold")
        width = fig.get_size_inches()[0]
        left = min(0.35, (0.25 + 0.072 * max((len(n) for n in others), default=4)) / width)
        height = fig.get_size_inches()[1]
        fig.subplots_adjust(left=left, right=0.985, top=1 - 0.75 / height, bottom=0.55 / height, wspace=0.08,
                            hspace=0.25 + 0.8 / (0.55 + 0.42 * max(len(others), 1)))
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


FIGURES = {
    "fig_transition_risks.png": ("Transition risks over time", RISK_PANELS),
    "fig_culture_work_cost.png": ("Culture, work and cost over time", CULTURE_PANELS),
}
CAPTIONS = {
    "fig_transition_risks.png": "Transition risks over time: morale, turnover, vacancies and fragmented working "
                                "relationships (median and 10-90% band over seeds; grey: change-programme period).",
    "fig_culture_work_cost.png": "Culture, work and cost over time: the compliance habit, caseloads, time with "
                                 "children and families, and cumulative cost.",
    "fig_tradeoff.png": "Trade-offs: each strategy's median with its 90% interval over seeds.",
    "fig_differences.png": "Paired differences against the reference with 95% confidence intervals.",
}


def write_figures(cmp: Comparison, out: Path) -> dict[str, Path]:
    """Every figure of the comparison as PNG files in `out`, by file name."""
    out = Path(out)
    paths = {name: band_figure(cmp, panels, out / name, title) for name, (title, panels) in FIGURES.items()}
    paths["fig_tradeoff.png"] = tradeoff_figure(cmp, out / "fig_tradeoff.png")
    if len(cmp.names) > 1:
        paths["fig_differences.png"] = differences_figure(cmp, out / "fig_differences.png")
    return paths
