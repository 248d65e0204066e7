"""Figures of a comparison (matplotlib, Agg backend), sized and styled to be read on paper.

Strategies keep one colour and one line style in every figure (`reporting.style`); they are labelled by
their display titles.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from culturedrift.experiments.analysis.decision import ComparisonData
from culturedrift.experiments.analysis.metrics import METRIC, METRICS, Metric
from culturedrift.experiments.reporting.style import FIGURE_FORMATS, figure_style, save, style

__all__ = ["CAPTIONS", "FIGURES", "FIGURE_FORMATS", "style", "write_figures"]

# (column, title, display scale, unit label)
RISK_PANELS = (
    ("morale_mean", "Morale (mean)", 1.0, "morale (0-1 scale)"),
    ("turnover_rate_12m", "Turnover over the last 12 months", 100.0, "leavers (% of permanent staff)"),
    ("vacancy_rate", "Vacancy rate", 100.0, "% of staff posts"),
    ("fragmentation", "Fragmentation of working relationships", 100.0, "% of week-0 tie strength missing"),
)
CULTURE_PANELS = (
    ("compliance_habit_mean", "Compliance habit (mean; lower = more professional judgement)", 1.0, "habit (0-1 scale)"),
    ("caseload_mean", "Cases per case holder", 1.0, "open cases (per case holder)"),
    ("time_with_children", "Share of time with children and families", 100.0, "% of working time"),
    ("cost_cumulative", "Cumulative discretionary cost (delivered)", 1.0, "GBP thousand"),
)
WEEK_LABEL = "week (since the start of the programme)"


def _bands(ts: pd.DataFrame, col: str, names: list[str]) -> dict[str, pd.DataFrame]:
    q = ts.groupby(["scenario", "week"], sort=False)[col].quantile([0.1, 0.5, 0.9]).unstack()
    return {n: q.loc[n] for n in names if n in q.index.get_level_values(0)}


def _legend_handles(cmp: ComparisonData, markers: bool = False) -> list[Line2D]:
    out = []
    for i, n in enumerate(cmp.names):
        st = style(i)
        out.append(Line2D([], [], color=st["color"], linestyle="" if markers else st["linestyle"],
                          marker=st["marker"] if markers else None, markersize=8, linewidth=1.8,
                          label=cmp.titles[n]))
    return out


def band_figure(cmp: ComparisonData, panels: tuple[tuple[str, str, float, str], ...], path: Path, title: str,
                formats: tuple[str, ...] = ("png",)) -> Path:
    """2x2 panels: median and 10-90% band over seeds per strategy; one programme timeline and the legend above."""
    names = cmp.names
    with figure_style():
        fig = plt.figure(figsize=(11, 9.6))
        n_prog = sum(1 for s, h in cmp.programmes.values() if h > s)
        strip_h = 0.5 + 0.3 * max(n_prog, len(names) / 2, 1)
        gs = fig.add_gridspec(3, 2, height_ratios=(strip_h, 4, 4), hspace=0.42, wspace=0.24)
        axes = [fig.add_subplot(gs[1 + i // 2, i % 2]) for i in range(len(panels))]
        strip = fig.add_subplot(gs[0, 0], sharex=axes[0])
        key = fig.add_subplot(gs[0, 1])
        weeks = cmp.timeseries["week"]
        starts = [s for s, h in cmp.programmes.values() if h > s]
        ends = [h for s, h in cmp.programmes.values() if h > s]
        for ax, (col, label, scale, unit) in zip(axes, panels, strict=False):
            bands = _bands(cmp.timeseries, col, names)
            if starts:
                ax.axvspan(min(starts), min(max(ends), weeks.max()), color="0.92", zorder=0, linewidth=0)
            for i, n in enumerate(names):
                if n not in bands:
                    continue
                q, st = bands[n] * scale, style(i)
                ax.fill_between(q.index, q[0.1], q[0.9], color=st["color"], alpha=0.13, linewidth=0)
                ax.plot(q.index, q[0.5], color=st["color"], linestyle=st["linestyle"], linewidth=1.8)
            ax.set_title(label, loc="left")
            ax.set_ylabel(unit)
            ax.grid(alpha=0.3)
            ax.set_xlim(weeks.min(), weeks.max())
        for ax in axes[-2:]:
            ax.set_xlabel(WEEK_LABEL)
        _timeline(strip, cmp)
        key.axis("off")
        key.legend(handles=_legend_handles(cmp), loc="center left", frameon=False, handlelength=3.2,
                   title="Strategy (line: median over seeds; band: 10-90%)", alignment="left")
        fig.suptitle(title, x=0.06, ha="left", fontsize=13, fontweight="bold")
        fig.text(0.06, 0.945, f"Median (line) and 10-90% band over {len(cmp.seeds)} seeds. Light grey in the panels: "
                 "change-programme period (first go-live to the last handover).", fontsize=9, color="0.3")
        fig.subplots_adjust(left=0.07, right=0.98, top=0.91, bottom=0.06)
        return save(fig, path, formats)


def _timeline(ax: plt.Axes, cmp: ComparisonData) -> None:
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
    horizon = cmp.horizon
    for y, (i, sc) in enumerate(rows):
        st = style(i)
        end = min(sc.handover, horizon)
        ax.broken_barh([(sc.programme_start, end - sc.programme_start)], (y - 0.32, 0.64),
                       facecolors=st["color"], alpha=0.3, edgecolor=st["color"])
        for c in sc.change_programme:
            if c.start_week <= horizon:
                ax.plot([c.start_week, c.start_week], [y - 0.32, y + 0.32], color=st["color"], linewidth=1.6)
        label = f"{cmp.titles[sc.name]} (handover week {sc.handover})"
        if end <= 0.55 * horizon:
            ax.text(end + 3, y, label, va="center", ha="left", fontsize=8, color=st["color"])
        else:
            ax.text(sc.programme_start + 2, y, f" {label} ", va="center", ha="left", fontsize=8,
                    bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "alpha": 0.8, "linewidth": 0})


def tradeoff_figure(cmp: ComparisonData, path: Path, formats: tuple[str, ...] = ("png",)) -> Path:
    """One point per strategy (median, 90% interval over seeds as bars): risk, culture gain, slippage, cost."""
    t = cmp.decision_table.set_index("scenario")
    pairs = ((METRIC["peak_turnover_12m"], METRIC["culture_attainment"]),
             (METRIC["planned_cost"], METRIC["culture_kept"]),
             (METRIC["planned_cost"], METRIC["slippage_share"]))
    with figure_style():
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 5.4))
        for ax, (mx, my) in zip(axes, pairs, strict=True):
            missing = []
            for i, n in enumerate(cmp.names):
                st = style(i)
                if not (t.loc[n, f"{mx.key}_applies"] and t.loc[n, f"{my.key}_applies"]):
                    missing.append(cmp.titles[n])
                    continue
                x, y = t.loc[n, f"{mx.key}_median"] * mx.scale, t.loc[n, f"{my.key}_median"] * my.scale
                xerr = [[x - t.loc[n, f"{mx.key}_p05"] * mx.scale], [t.loc[n, f"{mx.key}_p95"] * mx.scale - x]]
                yerr = [[y - t.loc[n, f"{my.key}_p05"] * my.scale], [t.loc[n, f"{my.key}_p95"] * my.scale - y]]
                ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="none", ecolor=st["color"], capsize=3, elinewidth=1.2,
                            alpha=0.8, zorder=2)
                ax.plot([x], [y], marker=st["marker"], color=st["color"], markersize=10, markeredgecolor="white",
                        markeredgewidth=0.8, linestyle="", zorder=3)
            ax.set_xlabel(f"{mx.label} ({mx.unit}), {mx.better} is better")
            ax.set_ylabel(f"{my.label} ({my.unit}), {my.better} is better")
            ax.grid(alpha=0.3)
            ax.set_title(_corner(mx, my), loc="left", fontsize=10)
            if missing:
                ax.text(0.01, 0.01, "not shown (does not apply): " + ", ".join(missing), transform=ax.transAxes,
                        fontsize=7.5, color="0.35", va="bottom", wrap=True)
        fig.legend(handles=_legend_handles(cmp, markers=True), loc="lower center", ncol=min(len(cmp.names), 4),
                   frameon=False)
        fig.suptitle("Trade-offs: one point per strategy (median; bars: 90% interval over seeds)", x=0.05,
                     ha="left", fontsize=13, fontweight="bold")
        rows = -(-len(cmp.names) // 4)
        fig.subplots_adjust(left=0.055, right=0.985, bottom=0.17 + 0.045 * rows, top=0.87, wspace=0.3)
        return save(fig, path, formats)


def _corner(mx: Metric, my: Metric) -> str:
    h = "left" if mx.better == "lower" else "right"
    v = "top" if my.better == "higher" else "bottom"
    return f"Better: towards the {v} {h}"


def differences_figure(cmp: ComparisonData, path: Path, formats: tuple[str, ...] = ("png",)) -> Path:
    """Forest plot: each strategy's mean paired difference against the reference, with its 95% CI."""
    others = [n for n in cmp.names if n != cmp.reference]
    idx = {n: i for i, n in enumerate(cmp.names)}
    d = cmp.differences.set_index(["scenario", "metric"])
    metrics = [m for m in METRICS if m.ranked]
    cols = 3
    rows = -(-len(metrics) // cols)
    per_row = 0.75 + 0.42 * max(len(others), 1)
    with figure_style():
        fig, axes = plt.subplots(rows, cols, figsize=(12.5, 1.2 + rows * per_row), squeeze=False)
        for ax, m in zip(axes.flat, metrics, strict=False):
            if all(not np.isfinite(d.loc[(n, m.key), "diff"]) for n in others):
                ax.set_title(m.label, loc="left", fontsize=10)
                ax.set_yticks(range(len(others)), [cmp.titles[n] for n in others])
                ax.set_ylim(len(others) - 0.5, -0.5)
                ax.set_xticks([])
                ax.text(0.5, 0.5, f"n/a: does not apply to {cmp.titles[cmp.reference]}\n(see the table's footnote)",
                        transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.35")
                continue
            for y, n in enumerate(others):
                v = d.loc[(n, m.key)]
                st = style(idx[n])
                mean, lo, hi = (v["diff"] * m.scale, v["diff_lo"] * m.scale, v["diff_hi"] * m.scale)
                if not np.isfinite(mean):
                    ax.text(0, y, "n/a", ha="center", va="center", fontsize=8, color="0.4")
                    continue
                if np.isfinite(lo):
                    ax.plot([lo, hi], [y, y], color=st["color"], linewidth=2.2, solid_capstyle="butt")
                face = st["color"] if v["verdict"] in ("better", "worse") else "white"
                ax.plot([mean], [y], marker=st["marker"], markersize=7, color=st["color"], markerfacecolor=face)
            ax.axvline(0, color="0.3", linewidth=1)
            ax.set_yticks(range(len(others)), [cmp.titles[n] for n in others])
            ax.set_ylim(len(others) - 0.5, -0.5)
            unit = m.diff_unit or m.unit
            ax.set_title(m.label, loc="left", fontsize=10)
            arrow = "better \u2192" if m.better == "higher" else "\u2190 better"
            ax.set_xlabel(f"difference ({unit}); {arrow}", fontsize=8.5, color="0.25")
            ax.grid(axis="x", alpha=0.3)
            lim = max(abs(x) for x in ax.get_xlim())
            ax.set_xlim(-lim, lim)
        for ax in list(axes.flat)[len(metrics):]:
            ax.set_visible(False)
        for r in range(rows):
            for c in range(1, cols):
                axes[r, c].tick_params(labelleft=False)
        ref = cmp.titles[cmp.reference]
        fig.suptitle(f"Difference against {ref} on the same seeds (mean and 95% CI; filled marker: interval "
                     "excludes zero)", x=0.02, ha="left", fontsize=12, fontweight="bold")
        width = fig.get_size_inches()[0]
        left = min(0.35, (0.25 + 0.068 * max((len(cmp.titles[n]) for n in others), default=4)) / width)
        height = fig.get_size_inches()[1]
        fig.subplots_adjust(left=left, right=0.985, top=1 - 0.7 / height, bottom=0.6 / height, wspace=0.08,
                            hspace=0.45 + 0.8 / per_row)
        return save(fig, path, formats)


FIGURES = {
    "fig_transition_risks.png": ("Transition risks over time", RISK_PANELS),
    "fig_culture_work_cost.png": ("Culture, work and cost over time", CULTURE_PANELS),
}
CAPTIONS = {
    "fig_transition_risks.png": "Transition risks over time: morale, turnover, vacancies and fragmented working "
                                "relationships (median and 10-90% band over seeds; grey: change-programme period). "
                                "The table's peaks are each seed's highest week, so they sit above the median line "
                                "(baseline fragmentation is everyday churn that the median smooths away).",
    "fig_culture_work_cost.png": "Culture, work and cost over time: the compliance habit, caseloads, time with "
                                 "children and families, and cumulative delivered cost.",
    "fig_tradeoff.png": "Trade-offs: each strategy's median with its 90% interval over seeds (strategies where a "
                        "metric does not apply are left out and named).",
    "fig_differences.png": "Paired differences against the reference with 95% confidence intervals.",
}


def write_figures(cmp: ComparisonData, out: Path, formats: tuple[str, ...] = ("png",)) -> dict[str, Path]:
    """Every figure of the comparison as PNG files in `out` (and SVG/PDF beside them if asked), by file name."""
    out = Path(out)
    paths = {name: band_figure(cmp, panels, out / name, title, formats) for name, (title, panels) in FIGURES.items()}
    paths["fig_tradeoff.png"] = tradeoff_figure(cmp, out / "fig_tradeoff.png", formats)
    if len(cmp.names) > 1:
        paths["fig_differences.png"] = differences_figure(cmp, out / "fig_differences.png", formats)
    return paths
