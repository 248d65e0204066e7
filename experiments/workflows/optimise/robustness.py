"""`culturedrift robustness`: where does a strategy fail? PRIM scenario discovery over uncertain conditions.

Conditions (labour-market pressure, demand, incidents, an inspection's timing, budget cuts...) are
sampled by Latin hypercube; every strategy runs in every sampled condition on the same seeds (common
random numbers), so in each condition the strategies are compared on equal terms. A strategy fails
in a condition when the mean over seeds of any failure metric crosses its threshold. PRIM (the
Patient Rule Induction Method, EMA Workbench's implementation) then finds the box of conditions where
failures concentrate: its *coverage* is the share of all failures that fall inside the box, its
*density* the share of conditions inside the box that fail. The box reported is the peeling step with
the highest coverage among those whose density reaches `min_density` (the densest step if none does).
The share of conditions in which each strategy ranks first on `rank_by` shows rank reversals.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import qmc

from culturedrift.experiments.execution.files import staging
from culturedrift.experiments.execution.runner import RunSpec, run_all
from culturedrift.experiments.reporting.html import embed, page, raw
from culturedrift.experiments.reporting.html import inline as inline_html
from culturedrift.experiments.reporting.style import DPI, RC, style
from culturedrift.experiments.workflows.optimise.spec import METRIC, SpecError, metric_value
from culturedrift.model import Scenario, ScenarioError, load_scenario
from culturedrift.model.scenario import load_yaml_model

FIRST_SEED = 200_000  # robustness seeds: disjoint from the search (100,000+) and report (0..) seeds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One uncertain condition: `set` a scenario field, `scale` it, `cut` it by a share, or time an `inspection`."""

    how: Literal["set", "scale", "cut", "inspection"] = "set"
    field: str | None = None
    low: float
    high: float
    label: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Condition:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        if self.how != "inspection" and not self.field:
            raise ValueError(f"how: {self.how} needs a field (a dotted scenario path)")
        if self.how == "cut" and not (self.low >= 0 and self.high <= 1):
            raise ValueError("a cut is a share: low and high must be in 0-1")
        return self


class Failure(_Strict):
    metric: str
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Failure:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above or below")
        if self.metric not in METRIC:
            raise ValueError(f"unknown metric '{self.metric}'; choose from {', '.join(METRIC)}")
        return self

    def text(self) -> str:
        m = METRIC[self.metric]
        v = self.above if self.above is not None else self.below
        return f"{m.label.lower()} {'above' if self.above is not None else 'below'} {m.with_unit(v)}"


class RobustnessSpec(_Strict):
    name: str = "robustness"
    description: str = ""
    strategies: list[str] = Field(default_factory=list)
    overrides: dict[str, Any] = Field(default_factory=dict)
    conditions: dict[str, Condition] = Field(min_length=1)
    failure: list[Failure] = Field(min_length=1)
    rank_by: str = "culture_kept"
    samples: int = Field(60, ge=4)
    seeds: int = Field(1, ge=1)
    sample_seed: int = 7
    min_density: float = Field(0.8, gt=0, le=1)


def load_robustness_spec(path: str | Path) -> RobustnessSpec:
    """Read and validate a robustness spec (errors name the file and field)."""
    spec = load_yaml_model(path, RobustnessSpec, "a robustness spec", SpecError)
    if spec.rank_by not in METRIC:
        raise SpecError(f"{path}: rank_by: unknown metric '{spec.rank_by}'")
    return spec


def sample_conditions(spec: RobustnessSpec, n: int) -> pd.DataFrame:
    """Latin-hypercube sample of the conditions (inspection weeks are whole weeks)."""
    names = list(spec.conditions)
    u = qmc.LatinHypercube(d=len(names), seed=spec.sample_seed).random(n)
    df = pd.DataFrame({k: c.low + u[:, i] * (c.high - c.low) for i, (k, c) in enumerate(spec.conditions.items())})
    for k, c in spec.conditions.items():
        if c.how == "inspection":
            df[k] = df[k].round().astype(int)
    return df


def apply_conditions(sc: Scenario, spec: RobustnessSpec, row: dict[str, Any],
                     overrides: dict[str, Any]) -> Scenario:
    """A strategy placed in one sampled condition."""
    data = sc.model_dump(mode="python")
    updates: dict[str, Any] = dict(overrides)
    flat = sc.with_updates(overrides) if overrides else sc
    for k, c in spec.conditions.items():
        v = row[k]
        if c.how == "inspection":
            week = int(min(max(v, 0), sc.horizon_weeks))
            event = {"week": week, "kind": "inspection", "magnitude": flat.slippage.inspection_magnitude}
            data["events"] = [*data["events"], event]
            updates["events"] = data["events"]
            continue
        cur: Any = flat.model_dump(mode="python")
        for part in c.field.split("."):
            cur = cur[part] if isinstance(cur, dict) else cur[int(part)]
        new = v if c.how == "set" else cur * v if c.how == "scale" else cur * (1 - v)
        if isinstance(cur, int) and not isinstance(cur, bool):
            new = round(new)
        updates[c.field] = new
    try:
        return sc.with_updates(updates)
    except ScenarioError as e:
        raise SpecError(f"condition {row} cannot be applied to '{sc.name}': {e}") from None


@dataclass
class Box:
    """A PRIM box: where one strategy fails."""

    strategy: str
    coverage: float
    density: float
    mass: float
    limits: dict[str, tuple[float, float]]  # restricted conditions only
    n_fail: int
    n: int
    holds: bool = False  # where the strategy holds, found when failure is the norm (coverage and density of successes)


def find_box(x: pd.DataFrame, failed: np.ndarray, min_density: float = 0.8) -> Box | None:
    """PRIM (EMA Workbench) box of the failures: highest coverage with density >= min_density."""
    failed = np.asarray(failed, bool)
    if failed.sum() == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench warns at import about optional parallel back-ends
        from ema_workbench.analysis import prim

        p = prim.Prim(x.astype(float), failed)
        box = p.find_box()
    traj = box.peeling_trajectory
    ok = traj[traj["density"] >= min_density]
    pick = ok.sort_values(["coverage", "density"], ascending=False).iloc[0] if len(ok) else \
        traj.sort_values(["density", "coverage"], ascending=False).iloc[0]
    lims = box.box_lims[int(pick["id"])]
    limits = {}
    for c in x.columns:
        lo, hi = float(lims.loc[0, c]), float(lims.loc[1, c])
        if lo > float(x[c].min()) + 1e-12 or hi < float(x[c].max()) - 1e-12:
            limits[c] = (lo, hi)
    return Box("", float(pick["coverage"]), float(pick["density"]), float(pick["mass"]), limits,
               int(failed.sum()), len(failed))


def locate(x: pd.DataFrame, failed: np.ndarray, min_density: float = 0.8) -> Box | None:
    """The failure box; where failing is the norm (every box is already that dense), the box where it holds."""
    failed = np.asarray(failed, bool)
    if failed.mean() < min_density or failed.all():
        return find_box(x, failed, min_density)
    box = find_box(x, ~failed, min_density)
    assert box is not None  # some conditions hold
    box.holds = True
    return box


@dataclass
class Robustness:
    """Results: sampled conditions with each strategy's outcome, PRIM boxes and rank-first shares."""

    spec: RobustnessSpec
    names: list[str]
    table: pd.DataFrame
    boxes: dict[str, Box | None]
    rank_first: pd.Series

    def failed(self, name: str) -> np.ndarray:
        return self.table[f"{name}.failed"].to_numpy(bool)

    def _label(self, k: str) -> str:
        return self.spec.conditions[k].label or k.replace("_", " ")

    def box_text(self, name: str) -> str:
        b = self.boxes.get(name)
        share = self.failed(name).mean()
        if b is None:
            return f"**{name}** did not fail in any of the {len(self.table)} sampled conditions."
        if share == 1:
            return f"**{name}** fails in every one of the {len(self.table)} sampled conditions."
        where = "; ".join(f"{self._label(k)} {lo:.3g}-{hi:.3g}" for k, (lo, hi) in b.limits.items())
        if b.holds:
            held = b.n_fail  # the box was found for the conditions where it holds
            head = f"**{name}** fails in {share:.0%} of the sampled conditions: failing is the norm here. "
            if held < 3:
                return head + f"It holds in only {held} of {b.n}: too few to say where."
            if not where:
                return head + "No condition separates where it holds from where it fails."
            return head + (f"It holds {'mostly ' if b.density >= 0.5 else 'at best '}where {where} (PRIM box of the "
                           f"conditions where it holds: coverage {b.coverage:.0%} of them, density {b.density:.0%} "
                           "of the conditions inside hold).")
        if not where:
            return (f"**{name}** fails in {share:.0%} of the sampled conditions, spread over the whole space: no "
                    "condition separates where it fails from where it holds.")
        return (f"**{name}** fails in {share:.0%} of the sampled conditions; failures concentrate where {where} "
                f"(PRIM box: coverage {b.coverage:.0%} of its failures, density {b.density:.0%} of the conditions "
                f"inside fail).")

    def headline(self) -> list[str]:
        lines = [self.box_text(n) for n in self.names[:1]]
        first = ", ".join(f"{n} {v:.0%}" for n, v in self.rank_first.items())
        lines.append(f"Share of sampled conditions in which each strategy is best on "
                     f"{METRIC[self.spec.rank_by].label.lower()}: {first}.")
        return lines

    def html_section(self, prefix: str = "") -> str:
        rules = " or ".join(f.text() for f in self.spec.failure)
        conds = "; ".join(f"{self._label(k)} {c.low:g}-{c.high:g}" + (f" ({c.how})" if c.how != "set" else "")
                          for k, c in self.spec.conditions.items())
        parts = [f"<p>{len(self.table)} conditions sampled (Latin hypercube) over: {html.escape(conds)}. Each "
                 f"strategy runs in each condition on {self.spec.seeds} shared seed(s). A strategy fails where "
                 f"{html.escape(rules)} (mean over seeds). PRIM finds the box of conditions where failures "
                 "concentrate: <i>coverage</i> = share of the strategy's failures inside the box, <i>density</i> "
                 "= share of conditions inside the box that fail.</p><ul class='reading'>"]
        parts += [f"<li>{inline_html(self.box_text(n))}</li>" for n in self.names]
        parts.append("</ul>")
        parts.append(_box_table_html(self))
        first = ", ".join(f"{html.escape(n)}: {v:.0%}" for n, v in self.rank_first.items())
        parts.append(f"<p>Rank reversals: share of conditions in which each strategy is best on "
                     f"{html.escape(METRIC[self.spec.rank_by].label.lower())}: {first}.</p>")
        parts.append(f"<p><img alt='failure map' style='width:100%' src='{prefix}fig_failure_boxes.png'></p>")
        return "".join(parts)


def _box_table_html(r: Robustness) -> str:
    rows = []
    for n in r.names:
        b = r.boxes.get(n)
        if b is None:
            rows.append(f"<tr><td class='name'>{html.escape(n)}</td><td>0%</td><td colspan=3>never fails</td></tr>")
            continue
        lim = "; ".join(f"{r._label(k)}: {lo:.3g} to {hi:.3g}" for k, (lo, hi) in b.limits.items()) or "-"
        lim = f"holds where {lim}" if b.holds else f"fails where {lim}"
        rows.append(f"<tr><td class='name'>{html.escape(n)}</td><td>{r.failed(n).mean():.0%}</td>"
                    f"<td style='text-align:left'>{html.escape(lim)}</td><td>{b.coverage:.0%}</td>"
                    f"<td>{b.density:.0%}</td></tr>")
    return ("<div class='scroll'><table><thead><tr><th class='name'>Strategy</th><th>Fails in</th>"
            "<th>PRIM box (conditions; where it holds when failing is the norm)</th><th>Coverage</th><th>Density</th>"
            "</tr></thead><tbody>" +
            "".join(rows) + "</tbody></table></div>")


def run_robustness(spec_path: str | Path, strategies: Sequence[Scenario | str | Path] = (),
                   out: str | Path | None = None,
                   samples: int | None = None, seeds: int | None = None, workers: int = 1, executor: Any = None,
                   progress: bool = False) -> Robustness:
    """Sample conditions, run every strategy in each, find PRIM boxes and rank-first shares; write if `out`."""
    spec_path = Path(spec_path)
    spec = load_robustness_spec(spec_path)
    if samples or seeds:
        spec = spec.model_copy(update={"samples": samples or spec.samples, "seeds": seeds or spec.seeds})
    items = list(strategies) or [spec_path.parent / s for s in spec.strategies]
    if not items:
        raise SpecError(f"{spec_path}: strategies: no strategies given (list scenario files)")
    scs = [s if isinstance(s, Scenario) else load_scenario(s) for s in items]
    names = [s.name for s in scs]
    if len(set(names)) != len(names):
        raise SpecError(f"{spec_path}: strategies: two strategies share a name")
    x = sample_conditions(spec, spec.samples)
    seed_list = [FIRST_SEED + j for j in range(spec.seeds)]
    runs = [RunSpec(apply_conditions(sc, spec, row, spec.overrides), s)
            for row in x.to_dict("records") for sc in scs for s in seed_list]
    results = run_all(runs, workers=workers, executor=executor, progress=progress, desc="robustness")
    table = x.copy()
    metrics = {f.metric for f in spec.failure} | {spec.rank_by}
    k = 0
    vals = {(n, m): np.zeros(len(x)) for n in names for m in metrics}
    for i in range(len(x)):
        for n in names:
            rows = [results[k + j].summary for j in range(len(seed_list))]
            k += len(seed_list)
            for m in metrics:
                vals[(n, m)][i] = np.mean([metric_value(r, m) for r in rows])
    for n in names:
        fail = np.zeros(len(x), bool)
        for m in sorted(metrics):
            table[f"{n}.{m}"] = vals[(n, m)]
        for f in spec.failure:
            v = vals[(n, f.metric)]
            fail |= v > f.above if f.above is not None else v < f.below
        table[f"{n}.failed"] = fail
    boxes = {}
    for n in names:
        b = locate(x, table[f"{n}.failed"].to_numpy(), spec.min_density)
        if b is not None:
            b.strategy = n
        boxes[n] = b
    m = METRIC[spec.rank_by]
    score = np.column_stack([m.sign * vals[(n, spec.rank_by)] for n in names])
    best = np.array(names)[score.argmax(axis=1)]
    rank_first = pd.Series({n: float((best == n).mean()) for n in names})
    table["best_on_" + spec.rank_by] = best
    res = Robustness(spec, names, table, boxes, rank_first)
    if out is not None:
        write_robustness(res, Path(out))
    return res


def failure_figure(r: Robustness, path: Path) -> Path:
    """Per strategy: the sampled conditions on the two most restricted conditions, failures in red, PRIM box."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, len(r.names), figsize=(4.6 * len(r.names) + 0.4, 4.6), squeeze=False)
        cols = list(r.spec.conditions)
        for ax, n in zip(axes[0], r.names, strict=True):
            b = r.boxes.get(n)
            dims = list(b.limits) if b else []
            dims = (dims + [c for c in cols if c not in dims])[:2]
            if len(dims) < 2:
                dims = dims * 2
            fx, fy = dims
            f = r.failed(n)
            ax.scatter(r.table.loc[~f, fx], r.table.loc[~f, fy], s=18, color="#0072B2", alpha=0.7, label="holds")
            ax.scatter(r.table.loc[f, fx], r.table.loc[f, fy], s=24, marker="x", color="#D55E00", label="fails")
            if b and not (b.holds and b.n_fail < 3):  # a box around one or two points says nothing
                x0, x1 = b.limits.get(fx, (r.table[fx].min(), r.table[fx].max()))
                y0, y1 = b.limits.get(fy, (r.table[fy].min(), r.table[fy].max()))
                ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linewidth=1.5,
                                           edgecolor="#0072B2" if b.holds else "black", linestyle="--",
                                           label="PRIM box: where it holds" if b.holds else "PRIM failure box"))
            ax.set_xlabel(r._label(fx))
            ax.set_ylabel(r._label(fy))
            ax.set_title(f"{n}: fails in {f.mean():.0%}", fontsize=10, color=style(0)["color"])
            ax.grid(alpha=0.3)
        seen: dict[str, Any] = {}
        for ax in axes[0]:  # one key for every panel: box kinds may differ between strategies
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(lab, h)
        fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=4, frameon=False)
        rules = " or ".join(f.text() for f in r.spec.failure)
        fig.suptitle(f"Where each strategy fails\n(fails = {rules})", x=0.02, ha="left", fontsize=11,
                     fontweight="bold")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.24, top=0.80, wspace=0.35)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def write_robustness(r: Robustness, out: Path) -> None:
    """conditions.csv, boxes.csv, rank_first.csv, the figure and report.html (staged, then moved in)."""
    out.mkdir(parents=True, exist_ok=True)
    with staging(out) as stage:
        r.table.to_csv(stage / "conditions.csv", index=False)
        rows = []
        for n in r.names:
            b = r.boxes.get(n)
            rows.append({"strategy": n, "fail_share": float(r.failed(n).mean()),
                         "coverage": b.coverage if b else np.nan, "density": b.density if b else np.nan,
                         "mass": b.mass if b else np.nan, "box_is": ("holds" if b.holds else "fails") if b else "",
                         "box": json.dumps({k: list(v) for k, v in b.limits.items()}) if b else ""})
        pd.DataFrame(rows).to_csv(stage / "boxes.csv", index=False)
        r.rank_first.rename("share_ranked_first").to_csv(stage / "rank_first.csv", index_label="strategy")
        fig = failure_figure(r, stage / "fig_failure_boxes.png")
        body = raw(embed(r.html_section(), {fig.name: fig}))
        text = page(f"Where the advice fails: {r.spec.name}", [body], subtitle=r.spec.description)
        (stage / "report.html").write_text(text, encoding="utf-8")
        names = sorted(p.name for p in stage.iterdir())
        for name in [n for n in names if n != "report.html"] + ["report.html"]:
            (stage / name).replace(out / name)
