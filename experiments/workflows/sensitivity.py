"""Sensitivity analysis of a sweep directory: which parameters drive each summary metric.

Replicates are averaged per design point (failed runs left out), then, by design:

- sobol:  Sobol' first-order (S1) and total-order (ST) indices with bootstrap confidence intervals
          (SALib; second-order S2 too when the design sampled for it);
- morris: Morris elementary effects mu, mu* (with confidence interval) and sigma (SALib), in metric
          units per the full range of the parameter (inputs are scaled to quantiles on [0, 1]);
- lhs, grid: partial rank correlation coefficients (PRCC) with Fisher-z confidence intervals.

Indices whose confidence interval is wider than the index, or that lie outside [0, 1] beyond it, are flagged
with a suggested sample size (warnings.csv, the top of sensitivity.md and the command's output).

A metric that does not apply everywhere (e.g. `slippage_share`, n/a where nothing was attained) is analysed
where it applies, and a note says how many points were left out: PRCC drops those points, Morris the
trajectories holding them; Sobol' needs every point, so it gives no indices for such a metric.

Outputs (DIR/sensitivity/ by default): sensitivity.csv and sensitivity.md (the table), sensitivity.png
(a tornado chart per metric), partial_dependence.png (each metric against each parameter: where the
tipping points are), heatmap.png for a grid over two parameters, and point_means.csv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.analysis.sensitivity import index_warnings, morris_indices, prcc, sobol_indices
from culturedrift.experiments.execution.files import atomic_write
from culturedrift.experiments.reporting.sensitivity import (
    heatmap_figure,
    indices_figure,
    markdown_report,
    partial_dependence_figure,
    warnings_lines,
)
from culturedrift.experiments.reporting.tables import markdown_table
from culturedrift.experiments.workflows.sweep.store import SweepDirError, SweepStore
from culturedrift.model.outputs import SUMMARIES

__all__ = ["Analysis", "SensitivityError", "analyse", "markdown_table", "point_means", "prcc"]


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
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)  # indices not to trust as shown (see README)

    def warning_lines(self) -> list[str]:
        """The warnings in plain words, one per flagged index."""
        return warnings_lines(self.warnings, self.method) if not self.warnings.empty else []


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


def not_applicable(pm: pd.DataFrame, metric: str) -> tuple[np.ndarray, str | None]:
    """Design points (with a successful run) where `metric` is n/a in every replicate (e.g. slippage where
    nothing was attained), and a note saying so and why (None when it applies everywhere)."""
    na = (pm[metric].isna() & (pm["replicates_ok"] > 0)).to_numpy()
    if not na.any():
        return na, None
    s = SUMMARIES.get(metric)
    why = f"it applies to {s.applies}" if s is not None and s.applies else "its value is undefined there"
    return na, f"{metric}: n/a at {int(na.sum())} of {len(na)} design points ({why})"


def mixed_points(store: SweepStore, metric: str) -> int:
    """Design points where `metric` applied in some successful replicates but not all (their mean is over
    the replicates where it applies)."""
    ok = store.results()
    ok = ok[ok["status"] == "ok"]
    g = ok.groupby("point")[metric]
    counts, sizes = g.count(), g.size()
    return int(((counts > 0) & (counts < sizes)).sum())


def _numeric(df: pd.DataFrame, names: list[str]) -> np.ndarray:
    return df[names].astype(float).to_numpy()


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
        k1 = len(names) + 1
        for metric in chosen:
            y = pm[metric].to_numpy(dtype=float)
            use = keep
            na, note = not_applicable(pm, metric)
            if note and design == "sobol":
                notes.append(f"{note}: Sobol' indices need every point, so none are given for it; an lhs design "
                             "(PRCC leaves such points out) or parameter ranges where it always applies would")
                continue
            if note:  # Morris: leave out whole trajectories holding an n/a point, as for failed points
                bad = {p // k1 for p in np.flatnonzero(na)}
                use = keep & np.array([p // k1 not in bad for p in range(len(pm))])
                if not use.any():
                    notes.append(f"{note}: every Morris trajectory holds such a point; no indices")
                    continue
                notes.append(f"{note}: {len(bad)} Morris trajectory(ies) holding them left out for this metric")
            if np.nanstd(y[use]) == 0:
                notes.append(f"{metric}: constant over the design; no indices")
                continue
            if design == "sobol":
                t, s2 = sobol_indices(problem, y, bool(m["experiment"].get("second_order")), conf_level, num_resamples,
                               seed)
                if s2 is not None:
                    s2_all.append(s2.assign(metric=metric))
            else:
                t = morris_indices(problem, x[use], y[use], levels, conf_level, num_resamples, seed)
            rows.append(t.assign(metric=metric, parameter=names))
        method = "sobol" if design == "sobol" else "morris"
    else:
        if incomplete:
            notes.append(f"sweep incomplete: {len(runs)} of {m['n_runs']} runs; analysed what is there")
        use = pm[pm["replicates_ok"] > 0]
        xs = _numeric(use, names)
        for metric in chosen:
            y = use[metric].to_numpy(dtype=float)
            applies = np.isfinite(y)
            _, note = not_applicable(use, metric)
            if note:
                notes.append(f"{note}: PRCC over the {int(applies.sum())} points where it applies")
            if applies.sum() < 3 or np.std(y[applies]) == 0:
                notes.append(f"{metric}: constant or too few points; no PRCC")
                continue
            rows.append(prcc(xs[applies], y[applies], conf_level).assign(metric=metric, parameter=names))
        method = "prcc"
    for metric in chosen:
        mixed = mixed_points(store, metric)
        if mixed:
            notes.append(f"{metric}: at {mixed} design point(s) it applies in some replicates only; those points "
                         "average the replicates where it applies")
    if not rows:
        raise SensitivityError(f"{store.root}: no metric varies over the design (or applies anywhere); nothing "
                               "to analyse: " + "; ".join(notes))
    table = pd.concat(rows, ignore_index=True)
    table = table[["metric", "parameter", *[c for c in table.columns if c not in ("metric", "parameter")]]]
    s2_table = None
    if s2_all:
        s2_table = pd.concat(s2_all, ignore_index=True)
        s2_table = s2_table[["metric", *[c for c in s2_table.columns if c != "metric"]]]
    samples = m["experiment"].get("samples")
    warn = index_warnings(table, method, int(samples) if samples else None)
    result = Analysis(method=method, table=table, point_means=pm, second_order=s2_table, notes=notes, warnings=warn)
    target = Path(out) if out is not None else store.root / "sensitivity"
    target.mkdir(parents=True, exist_ok=True)
    result.paths["sensitivity.csv"] = _write(target / "sensitivity.csv", lambda p: table.to_csv(p, index=False))
    md = markdown_report(m, method, table, s2_table, notes, conf_level, warn)
    result.paths["sensitivity.md"] = _write(target / "sensitivity.md", lambda p: p.write_text(md))
    result.paths["point_means.csv"] = _write(target / "point_means.csv", lambda p: pm.to_csv(p, index=False))
    if not warn.empty:
        result.paths["warnings.csv"] = _write(target / "warnings.csv", lambda p: warn.to_csv(p, index=False))
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
