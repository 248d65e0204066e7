"""Sensitivity report and figures: indices by metric, warnings first, parameters and metrics named with units."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import BaseModel

from culturedrift.experiments.analysis.metrics import METRIC
from culturedrift.experiments.reporting.style import ROLE, figure_style, save
from culturedrift.experiments.reporting.tables import markdown_table
from culturedrift.model import Scenario

# model summary metrics that are not decision-table metrics (label, unit)
EXTRA_METRICS = {
    "slippage": ("Slippage (rise in mean habit after handover)", "habit points"),
    "morale_trough_week": ("Week of the morale trough", "week"),
    "total_cost": ("Delivered cost", "GBP k"),
}

EXPLAIN = {
    "sobol": "S1: share of the metric's variance due to the parameter alone; ST: including its interactions "
             "(ST - S1 large: the parameter acts through interactions). `_conf`: half-width of the {cl:.0%} "
             "bootstrap confidence interval.",
    "morris": "mu*: mean absolute elementary effect (metric units per full range of the parameter) - overall "
              "importance; sigma: spread of the effects - non-linearity or interactions; mu: signed mean. "
              "`mu_star_conf`: half-width of the {cl:.0%} bootstrap confidence interval.",
    "prcc": "PRCC: partial rank correlation of the metric with the parameter, the other parameters held "
            "fixed (-1..1; sign = direction). `prcc_low`/`prcc_high`: {cl:.0%} confidence interval (Fisher z).",
}


def metric_label(key: str) -> str:
    """'Peak 12-month turnover (%)' for a summary metric key (the key itself when unknown)."""
    if key in METRIC:
        m = METRIC[key]
        return f"{m.label} ({m.unit})"
    if key in EXTRA_METRICS:
        label, unit = EXTRA_METRICS[key]
        return f"{label} ({unit})"
    return key


def metric_scale(key: str) -> float:
    """Display multiplier (shares as percentages) of a summary metric."""
    return METRIC[key].scale if key in METRIC else 1.0


def parameter_label(path: str) -> str:
    """'Labour market pressure (turnover; multiplier)' for a dotted scenario field path, from the schema."""
    model: Any = Scenario
    field = None
    for part in path.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return path
        field = fields[part]
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    unit = extra.get("unit", "")
    parts = path.split(".")
    name = parts[-1].replace("_", " ").capitalize()
    where = parts[0].replace("_", " ") if len(parts) > 1 else ""
    inside = "; ".join(x for x in (where, unit) if x)
    return f"{name} ({inside})" if inside else name


def warnings_lines(warn: pd.DataFrame, method: str) -> list[str]:
    """Plain-language warnings, one per flagged index."""
    unit = "base samples (`samples:`)" if method == "sobol" else "trajectories (`samples:`)"
    out = []
    for _, r in warn.iterrows():
        text = (f"**{metric_label(r['metric'])}**, {parameter_label(r['parameter'])}: {r['index']} = "
                f"{r['value']:.2f} +/- {r['half_width']:.2f} — {r['problem']}")
        if pd.notna(r["suggested_samples"]):
            text += f"; about {int(r['suggested_samples'])} {unit} would narrow it to +/- 0.05"
        else:
            text += "; the index is near zero (the parameter matters little)"
        out.append(text + ".")
    return out


def markdown_report(m: dict[str, Any], method: str, table: pd.DataFrame, s2: pd.DataFrame | None,
                    notes: list[str], cl: float, warn: pd.DataFrame | None = None) -> str:
    """sensitivity.md: design, warnings first, then the indices per metric, most important parameter first."""
    lines = [f"# Sensitivity: {m['name']}", "",
             f"Design `{m['design']}`: {m['n_points']} points x {m['replicates']} replicates "
             f"({m['n_runs']} runs); replicates averaged per point. Method: {method}.", "",
             EXPLAIN[method].format(cl=cl), ""]
    if warn is not None and not warn.empty:
        lines += ["## Warnings: indices not to trust as shown", "",
                  f"{len(warn)} index(es) have a confidence interval wider than the index or lie outside [0, 1] "
                  "beyond their interval: the sample is too small for them. Each design point runs on its own seed, "
                  "so the model's randomness adds noise the indices attribute to parameters; raise `replicates:` "
                  "(averaged per point) or set `common_random_numbers: true`, and raise `samples:`.", "",
                  *[f"- {w}" for w in warnings_lines(warn, method)], ""]
    if notes:
        lines += ["Notes:", *[f"- {n}" for n in notes], ""]
    key = {"sobol": "ST", "morris": "mu_star", "prcc": "prcc"}[method]
    for metric, g in table.groupby("metric", sort=False):
        g = g.reindex(g[key].abs().sort_values(ascending=False).index)
        lines += [f"## {metric_label(metric)}", "", markdown_table(g.drop(columns="metric")), ""]
    if s2 is not None:
        lines += ["## Second-order indices (S2)", "", markdown_table(s2), ""]
    return "\n".join(lines)


def _grid(n: int, cols: int, w: float, h: float) -> tuple[Any, np.ndarray]:
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows + 0.8), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def indices_figure(table: pd.DataFrame, method: str, path: Path, conf_level: float = 0.95,
                   formats: tuple[str, ...] = ("png",)) -> Path:
    """A tornado chart per metric: parameters sorted by importance, with confidence intervals."""
    metrics = list(dict.fromkeys(table["metric"]))
    n_par = table["parameter"].nunique()
    with figure_style():
        fig, axes = _grid(len(metrics), 2, 7.2, 1.2 + 0.55 * n_par)
        for ax, metric in zip(axes.flat, metrics, strict=False):
            g = table[table["metric"] == metric]
            ypos = np.arange(len(g))
            if method == "sobol":
                g = g.sort_values("ST")
                ax.barh(ypos + 0.2, g["ST"], 0.4, xerr=g["ST_conf"], label="total (ST)", color=ROLE["main"],
                        capsize=2)
                ax.barh(ypos - 0.2, g["S1"], 0.4, xerr=g["S1_conf"], label="first order (S1)", color=ROLE["second"],
                        capsize=2)
                ax.axvspan(-10, 0, color="0.93", zorder=0)
                ax.axvspan(1, 10, color="0.93", zorder=0)
                lo = min(-0.05, float((g[["S1", "ST"]].to_numpy() - g[["S1_conf", "ST_conf"]].to_numpy()).min()))
                hi = max(1.05, float((g[["S1", "ST"]].to_numpy() + g[["S1_conf", "ST_conf"]].to_numpy()).max()))
                ax.set_xlim(lo, hi)
                ax.set_xlabel("Sobol' index (share of variance, 0-1)\n"
                              f"grey: impossible values; bars: {conf_level:.0%} CI", fontsize=8.5)
            elif method == "morris":
                g = g.sort_values("mu_star")
                ax.barh(ypos, g["mu_star"], 0.6, xerr=g["mu_star_conf"], color=ROLE["main"], capsize=2, label="mu*")
                ax.plot(g["sigma"], ypos, "D", color=ROLE["second"], label="sigma")
                ax.set_xlabel("elementary effect (metric units per full parameter range)")
            else:
                g = g.reindex(g["prcc"].abs().sort_values().index)
                err = np.vstack([g["prcc"] - g["prcc_low"], g["prcc_high"] - g["prcc"]])
                colours = [ROLE["second"] if v < 0 else ROLE["main"] for v in g["prcc"].fillna(0)]
                ax.barh(ypos, g["prcc"].fillna(0), 0.6, xerr=np.nan_to_num(err), color=colours, capsize=2)
                ax.axvline(0, color="0.3", linewidth=0.8)
                ax.set_xlim(-1.05, 1.05)
                ax.set_xlabel(f"PRCC (partial rank correlation, -1 to 1; {conf_level:.0%} CI)")
            ax.set_yticks(ypos, [textwrap.fill(parameter_label(p), 30) for p in g["parameter"]], fontsize=7.5)
            ax.set_title(textwrap.fill(metric_label(metric), 50), loc="left", fontsize=10)
            ax.grid(axis="x", alpha=0.3)
            if method != "prcc":
                ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
        fig.suptitle({"sobol": "Sobol' sensitivity indices", "morris": "Morris screening",
                      "prcc": "Partial rank correlations"}[method] + " per metric", x=0.02, ha="left",
                     fontsize=12, fontweight="bold")
        fig.tight_layout(rect=(0, 0, 1, 0.96))
        return save(fig, path, formats, dpi=110)


def partial_dependence_figure(results: pd.DataFrame, names: list[str], metrics: list[str], path: Path,
                              grid: bool = False, bins: int = 10, formats: tuple[str, ...] = ("png",)) -> Path:
    """Each metric against each parameter: runs as dots, the mean per value (grid) or per quantile bin."""
    ok = results[results["status"] == "ok"]
    with figure_style():
        fig, axes = plt.subplots(len(metrics), len(names), figsize=(3.4 * len(names), 2.7 * len(metrics) + 0.9),
                                 squeeze=False)
        for i, metric in enumerate(metrics):
            scale = metric_scale(metric)
            for j, name in enumerate(names):
                ax = axes[i, j]
                x = ok[name].astype(float)
                y = ok[metric] * scale
                ax.scatter(x, y, s=4, alpha=0.25, color="0.4", linewidths=0)
                if grid or x.nunique() <= bins:
                    q = y.groupby(x).agg(["mean", lambda s: s.quantile(0.1), lambda s: s.quantile(0.9)])
                    q.columns = ["mean", "lo", "hi"]
                else:
                    cut = pd.qcut(x, bins, duplicates="drop")
                    q = y.groupby(cut, observed=True).agg(["mean", lambda s: s.quantile(0.1),
                                                           lambda s: s.quantile(0.9)])
                    q.columns = ["mean", "lo", "hi"]
                    q.index = x.groupby(cut, observed=True).mean().to_numpy()
                ax.fill_between(q.index, q["lo"], q["hi"], color=ROLE["main"], alpha=0.2, linewidth=0)
                ax.plot(q.index, q["mean"], color=ROLE["main"], linewidth=1.6)
                if i == len(metrics) - 1:
                    ax.set_xlabel(textwrap.fill(parameter_label(name), 34), fontsize=8)
                if j == 0:
                    ax.set_ylabel(textwrap.fill(metric_label(metric), 26), fontsize=8)
                ax.tick_params(labelsize=7)
                ax.grid(alpha=0.3)
        width, height = fig.get_size_inches()
        title = textwrap.fill("Partial dependence: mean and 10-90% band over the other parameters and replicates "
                              "(dots: runs)", int(width * 8))
        fig.suptitle(title, x=0.02, ha="left", fontsize=11, fontweight="bold")
        fig.tight_layout(rect=(0, 0, 1, 1 - (0.3 + 0.2 * title.count("\n") + 0.15) / height))
        return save(fig, path, formats, dpi=100)


def heatmap_figure(pm: pd.DataFrame, names: list[str], metrics: list[str], path: Path,
                   formats: tuple[str, ...] = ("png",)) -> Path:
    """Grid over two parameters: one heat map of the replicate mean per metric."""
    a, b = names
    with figure_style():
        fig, axes = _grid(len(metrics), 3, 4.6, 3.8)
        for ax, metric in zip(axes.flat, metrics, strict=False):
            tab = pm.pivot_table(index=b, columns=a, values=metric, aggfunc="mean").sort_index(ascending=False)
            im = ax.imshow(tab.to_numpy(dtype=float) * metric_scale(metric), aspect="auto", cmap="viridis")
            ax.set_xticks(range(tab.shape[1]), [f"{v:.3g}" for v in tab.columns.astype(float)], fontsize=7,
                          rotation=45)
            ax.set_yticks(range(tab.shape[0]), [f"{v:.3g}" for v in tab.index.astype(float)], fontsize=7)
            ax.set_xlabel(textwrap.fill(parameter_label(a), 34), fontsize=8)
            ax.set_ylabel(textwrap.fill(parameter_label(b), 26), fontsize=8)
            ax.set_title(metric_label(metric), loc="left", fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.85).set_label(textwrap.fill(metric_label(metric), 30), fontsize=7.5)
        fig.suptitle("Mean of each metric over a grid of two parameters", x=0.02, ha="left", fontsize=11,
                     fontweight="bold")
        fig.tight_layout(rect=(0, 0, 1, 0.94))
        return save(fig, path, formats, dpi=110)
