"""Sensitivity analysis of a sweep directory: which parameters drive each summary metric.

Replicates are averaged per design point (failed runs left out), then, by design:

- sobol:  Sobol' first-order (S1) and total-order (ST) indices with bootstrap confidence intervals
          (SALib; second-order S2 too when the design sampled for it);
- morris: Morris elementary effects mu, mu* (with confidence interval) and sigma (SALib), in metric
          units per the full range of the parameter (inputs are scaled to quantiles on [0, 1]);
- lhs, grid: partial rank correlation coefficients (PRCC) with Fisher-z confidence intervals.

Outputs (DIR/sensitivity/ by default): sensitivity.csv and sensitivity.md (the table), sensitivity.png
(a tornado chart per metric), partial_dependence.png (each metric against each parameter: where the
tipping points are), heatmap.png for a grid over two parameters, and point_means.csv.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from culturedrift.experiments.execution.files import atomic_write
from culturedrift.experiments.workflows.sweep.store import SweepDirError, SweepStore


class SensitivityError(SweepDirError):
    """A sweep that cannot be analysed as asked (incomplete, failed points, unknown metric)."""


@dataclass
class Analysis:
    """The result of `analyse`: the index table, per-point means and the files written."""

    method: str
    table: pd.DataFrame
    point_means: pd.DataFrame
    second_order: pd.DataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# -- data ----------------------------------------------------------------------------------------
def point_means(store: SweepStore, metrics: list[str]) -> pd.DataFrame:
    """Per design point: parameter values, number of successful replicates, mean of each metric."""
    res = store.results()
    ok = res[res["status"] == "ok"]
    pts = store.points()
    means = ok.groupby("point")[metrics].mean()
    n = ok.groupby("point").size().rename("replicates_ok")
    out = pts.set_index("point").join(n).join(means)
    out["replicates_ok"] = out["replicates_ok"].fillna(0).astype("int64")
    return out.reset_index()


def _numeric(df: pd.DataFrame, names: list[str]) -> np.ndarray:
    return df[names].astype(float).to_numpy()


# -- methods -------------------------------------------------------------------------------------
def prcc(x: np.ndarray, y: np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
    """Partial rank correlation of y with each column of x, controlling for the other columns."""
    n, k = x.shape
    rx = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    dof = n - 2 - (k - 1)
    rows = []
    zc = stats.norm.ppf(0.5 + conf_level / 2)
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        if dof < 1 or res_x.std() < 1e-12 or res_y.std() < 1e-12:
            rows.append((math.nan, math.nan, math.nan, math.nan))
            continue
        r = float(np.clip(np.corrcoef(res_x, res_y)[0, 1], -0.999999, 0.999999))
        t = r * math.sqrt(dof / (1 - r * r))
        p = float(2 * stats.t.sf(abs(t), dof))
        if dof > 1:
            se = 1 / math.sqrt(dof - 1)
            lo, hi = math.tanh(math.atanh(r) - zc * se), math.tanh(math.atanh(r) + zc * se)
        else:
            lo = hi = math.nan
        rows.append((r, lo, hi, p))
    return pd.DataFrame(rows, columns=["prcc", "prcc_low", "prcc_high", "p_value"])


def _sobol(problem: dict[str, Any], y: np.ndarray, second: bool, conf: float, resamples: int,
           seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol.analyze(problem, y, calc_second_order=second, num_resamples=resamples, conf_level=conf,
                           seed=seed)
    t = pd.DataFrame({k: si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")})
    s2 = None
    if second:
        names = problem["names"]
        s2 = pd.DataFrame([(names[i], names[j], si["S2"][i, j], si["S2_conf"][i, j])
                           for i in range(len(names)) for j in range(i + 1, len(names))],
                          columns=["parameter", "parameter_2", "S2", "S2_conf"])
    return t, s2


def _morris(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, conf: float, resamples: int,
            seed: int) -> pd.DataFrame:
    from SALib.analyze import morris

    with warnings.catch_warnings():  # sigma of a single trajectory is undefined (NaN), not an error
        warnings.simplefilter("ignore", RuntimeWarning)
        si = morris.analyze(problem, x, y, num_resamples=resamples, conf_level=conf, num_levels=levels, seed=seed)
    return pd.DataFrame({k: np.asarray(si[k], dtype=float) for k in ("mu", "mu_star", "mu_star_conf", "sigma")})


# -- the analysis --------------------------------------------------------------------------------
def analyse(sweep_dir: str | Path, out: str | Path | None = None, metrics: list[str] | None = None,
            conf_level: float = 0.95, num_resamples: int = 1000, figures: bool = True) -> Analysis:
    """Analyse a sweep directory; write the table and figures into `out` (default DIR/sensitivity)."""
    store = SweepStore(sweep_dir)
    m = store.manifest()
    design, names, levels = m["design"], m["parameters"], m["experiment"].get("levels") or 4
    chosen = metrics or m["metrics"]
    unknown = [x for x in chosen if x not in m["metrics"]]
    if unknown:
        raise SensitivityError(f"{store.root}: metric(s) {unknown} were not kept by this sweep; it has "
                               f"{m['metrics']}")
    runs = store.runs()
    if runs.empty:
        raise SensitivityError(f"{store.root}: no runs recorded yet")
    pm = point_means(store, chosen)
    notes: list[str] = []
    missing = pm.index[pm["replicates_ok"] == 0].tolist()
    incomplete = len(runs) < m["n_runs"]
    seed = int(m["experiment"]["seed"]) % 2**32
    rows = []
    s2_all = []
    if design in ("sobol", "morris"):
        if incomplete:
            raise SensitivityError(f"{store.root}: the sweep is incomplete ({len(runs)} of {m['n_runs']} runs); "
                                   "finish it with `culturedrift sweep ... --resume` first")
        problem = m["salib_problem"]
        x = store.design()
        keep = np.ones(len(pm), dtype=bool)
        if missing:
            if design == "sobol":
                raise SensitivityError(
                    f"{store.root}: {len(missing)} design point(s) have no successful run (e.g. point "
                    f"{missing[0]}); Sobol' indices need every point. See failures.csv; rerun failed runs with "
                    "--resume --retry-failed")
            k1 = len(names) + 1
            bad = {p // k1 for p in missing}
            keep = np.array([p // k1 not in bad for p in range(len(pm))])
            notes.append(f"{len(bad)} Morris trajectory(ies) dropped: they contain points where every run failed")
        for metric in chosen:
            y = pm[metric].to_numpy(dtype=float)
            if np.nanstd(y[keep]) == 0:
                notes.append(f"{metric}: constant over the design; no indices")
                continue
            if design == "sobol":
                t, s2 = _sobol(problem, y, bool(m["experiment"].get("second_order")), conf_level, num_resamples,
                               seed)
                if s2 is not None:
                    s2_all.append(s2.assign(metric=metric))
            else:
                t = _morris(problem, x[keep], y[keep], levels, conf_level, num_resamples, seed)
            rows.append(t.assign(metric=metric, parameter=names))
        method = "sobol" if design == "sobol" else "morris"
    else:
        if incomplete:
            notes.append(f"sweep incomplete: {len(runs)} of {m['n_runs']} runs; analysed what is there")
        use = pm[pm["replicates_ok"] > 0]
        xs = _numeric(use, names)
        for metric in chosen:
            y = use[metric].to_numpy(dtype=float)
            if len(y) < 3 or np.std(y) == 0:
                notes.append(f"{metric}: constant or too few points; no PRCC")
                continue
            rows.append(prcc(xs, y, conf_level).assign(metric=metric, parameter=names))
        method = "prcc"
    if not rows:
        raise SensitivityError(f"{store.root}: no metric varies over the design; nothing to analyse")
    table = pd.concat(rows, ignore_index=True)
    table = table[["metric", "parameter", *[c for c in table.columns if c not in ("metric", "parameter")]]]
    s2_table = None
    if s2_all:
        s2_table = pd.concat(s2_all, ignore_index=True)
        s2_table = s2_table[["metric", *[c for c in s2_table.columns if c != "metric"]]]
    result = Analysis(method=method, table=table, point_means=pm, second_order=s2_table, notes=notes)
    target = Path(out) if out is not None else store.root / "sensitivity"
    target.mkdir(parents=True, exist_ok=True)
    result.paths["sensitivity.csv"] = _write(target / "sensitivity.csv", lambda p: table.to_csv(p, index=False))
    md = _markdown_report(m, method, table, s2_table, notes, conf_level)
    result.paths["sensitivity.md"] = _write(target / "sensitivity.md", lambda p: p.write_text(md))
    result.paths["point_means.csv"] = _write(target / "point_means.csv", lambda p: pm.to_csv(p, index=False))
    if s2_table is not None:
        result.paths["sensitivity_s2.csv"] = _write(target / "sensitivity_s2.csv",
                                                    lambda p: s2_table.to_csv(p, index=False))
    if figures:
        result.paths["sensitivity.png"] = indices_figure(table, method, target / "sensitivity.png", conf_level)
        result.paths["partial_dependence.png"] = partial_dependence_figure(
            store.results(), names, chosen, target / "partial_dependence.png", grid=design == "grid")
        if design == "grid" and len(names) == 2:
            result.paths["heatmap.png"] = heatmap_figure(pm, names, chosen, target / "heatmap.png")
    return result


def _write(path: Path, write: Any) -> Path:
    return atomic_write(path, write, fsync=False)


# -- reporting -----------------------------------------------------------------------------------
def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured markdown table (numbers to `digits` significant figures)."""
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


_EXPLAIN = {
    "sobol": "S1: share of the metric's variance due to the parameter alone; ST: including its interactions "
             "(ST - S1 large: the parameter acts through interactions). `_conf`: half-width of the {cl:.0%} "
             "bootstrap confidence interval.",
    "morris": "mu*: mean absolute elementary effect (metric units per full range of the parameter) - overall "
              "importance; sigma: spread of the effects - non-linearity or interactions; mu: signed mean. "
              "`mu_star_conf`: half-width of the {cl:.0%} bootstrap confidence interval.",
    "prcc": "PRCC: partial rank correlation of the metric with the parameter, the other parameters held "
            "fixed (-1..1; sign = direction). `prcc_low`/`prcc_high`: {cl:.0%} confidence interval (Fisher z).",
}


def _markdown_report(m: dict[str, Any], method: str, table: pd.DataFrame, s2: pd.DataFrame | None,
                     notes: list[str], cl: float) -> str:
    lines = [f"# Sensitivity: {m['name']}", "",
             f"Design `{m['design']}`: {m['n_points']} points x {m['replicates']} replicates "
             f"({m['n_runs']} runs); replicates averaged per point. Method: {method}.", "",
             _EXPLAIN[method].format(cl=cl), ""]
    if notes:
        lines += ["Notes:", *[f"- {n}" for n in notes], ""]
    key = {"sobol": "ST", "morris": "mu_star", "prcc": "prcc"}[method]
    for metric, g in table.groupby("metric", sort=False):
        g = g.reindex(g[key].abs().sort_values(ascending=False).index)
        lines += [f"## {metric}", "", markdown_table(g.drop(columns="metric")), ""]
    if s2 is not None:
        lines += ["## Second-order indices (S2)", "", markdown_table(s2), ""]
    return "\n".join(lines)


# -- figures -------------------------------------------------------------------------------------
def _grid(n: int, cols: int, w: float, h: float) -> tuple[Any, np.ndarray]:
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def indices_figure(table: pd.DataFrame, method: str, path: Path, conf_level: float = 0.95) -> Path:
    """A tornado chart per metric: parameters sorted by importance, with confidence intervals."""
    metrics = list(dict.fromkeys(table["metric"]))
    n_par = table["parameter"].nunique()
    fig, axes = _grid(len(metrics), 2, 6.0, 0.9 + 0.42 * n_par)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        g = table[table["metric"] == metric]
        ypos = np.arange(len(g))
        if method == "sobol":
            g = g.sort_values("ST")
            ax.barh(ypos + 0.2, g["ST"], 0.4, xerr=g["ST_conf"], label="total (ST)", color="#4c72b0", capsize=2)
            ax.barh(ypos - 0.2, g["S1"], 0.4, xerr=g["S1_conf"], label="first order (S1)", color="#dd8452",
                    capsize=2)
            ax.set_xlabel("Sobol' index")
        elif method == "morris":
            g = g.sort_values("mu_star")
            ax.barh(ypos, g["mu_star"], 0.6, xerr=g["mu_star_conf"], color="#4c72b0", capsize=2, label="mu*")
            ax.plot(g["sigma"], ypos, "D", color="#c44e52", label="sigma")
            ax.set_xlabel("elementary effect (metric units per parameter range)")
        else:
            g = g.reindex(g["prcc"].abs().sort_values().index)
            err = np.vstack([g["prcc"] - g["prcc_low"], g["prcc_high"] - g["prcc"]])
            colours = ["#c44e52" if v < 0 else "#4c72b0" for v in g["prcc"].fillna(0)]
            ax.barh(ypos, g["prcc"].fillna(0), 0.6, xerr=np.nan_to_num(err), color=colours, capsize=2)
            ax.axvline(0, color="0.3", linewidth=0.8)
            ax.set_xlim(-1.05, 1.05)
            ax.set_xlabel(f"PRCC ({conf_level:.0%} CI)")
        ax.set_yticks(ypos, g["parameter"], fontsize=8)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if method != "prcc":
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def partial_dependence_figure(results: pd.DataFrame, names: list[str], metrics: list[str], path: Path,
                              grid: bool = False, bins: int = 10) -> Path:
    """Each metric against each parameter: runs as dots, the mean per value (grid) or per quantile bin."""
    ok = results[results["status"] == "ok"]
    fig, axes = plt.subplots(len(metrics), len(names), figsize=(3.2 * len(names), 2.5 * len(metrics)),
                             squeeze=False)
    for i, metric in enumerate(metrics):
        for j, name in enumerate(names):
            ax = axes[i, j]
            x = ok[name].astype(float)
            y = ok[metric]
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
            ax.fill_between(q.index, q["lo"], q["hi"], color="#4c72b0", alpha=0.2, linewidth=0)
            ax.plot(q.index, q["mean"], color="#4c72b0", linewidth=1.6)
            if i == len(metrics) - 1:
                ax.set_xlabel(name, fontsize=8)
            if j == 0:
                ax.set_ylabel(metric, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    fig.suptitle("Partial dependence: mean and 10-90% band over the other parameters and replicates", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def heatmap_figure(pm: pd.DataFrame, names: list[str], metrics: list[str], path: Path) -> Path:
    """Grid over two parameters: one heat map of the replicate mean per metric."""
    a, b = names
    fig, axes = _grid(len(metrics), 3, 4.4, 3.6)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        tab = pm.pivot_table(index=b, columns=a, values=metric, aggfunc="mean").sort_index(ascending=False)
        im = ax.imshow(tab.to_numpy(dtype=float), aspect="auto", cmap="viridis")
        ax.set_xticks(range(tab.shape[1]), [f"{v:.3g}" for v in tab.columns.astype(float)], fontsize=7,
                      rotation=45)
        ax.set_yticks(range(tab.shape[0]), [f"{v:.3g}" for v in tab.index.astype(float)], fontsize=7)
        ax.set_xlabel(a, fontsize=8)
        ax.set_ylabel(b, fontsize=8)
        ax.set_title(metric, fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.85)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
