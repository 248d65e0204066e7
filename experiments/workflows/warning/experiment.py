"""`warn`: which observable indicators warn of culture slippage, how early, and what acting on them costs.

An experiment file (YAML) declares a designed set of futures: strategies x seeds x uncertain
conditions (a Latin hypercube over scenario fields), how material slippage is labelled, and how runs
are split into training and test sets (by seed, so no seed is in both). `run_warning` runs the
futures through the project's runner, builds the panel of observable indicators (with their lag and
noise), critical-slowing-down signals and two combinations (logistic model, small tree), scores each
on the test runs, recommends an alarm rule, and (optionally) compares fixed vigilance with vigilance
switched on by that rule on paired seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from scipy.stats import qmc
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from culturedrift.experiments.execution.runner import RunSpec, default_workers, run_all
from culturedrift.experiments.workflows.warning.scoring import (
    Score,
    critical_slowing,
    decision_mask,
    labels,
    onset_week,
    roc,
    score,
)
from culturedrift.model import RunResult, Scenario, ScenarioError, load_scenario
from culturedrift.model.base import Strict
from culturedrift.model.observables import OBSERVABLE, OBSERVABLES, AlarmRule, arrival_weeks, observe_frame
from culturedrift.model.scenario import load_yaml_model

RISE = "rise:"  # prefix of "rise since handover" signals


def rise_window(key: str) -> int:
    """Reports averaged in a rise signal: three for monthly audits (a quarter), else one."""
    return 3 if OBSERVABLE[key].cadence_weeks <= 4 else 1


CSD_SOURCES = ("obs_recording_time", "obs_timeliness")  # monthly series long enough for rolling statistics
COMBO_EXCLUDE = ("obs_inspection",)  # too sparse to feed a model
NOISE = "control_noise"  # pure noise: must score AUC ~0.5
CALENDAR = "control_calendar"  # weeks since handover, reversed: the rule "worry early" that indicators must beat


class WarnError(ScenarioError):
    """A warn experiment that cannot be run as written (file, field and reason)."""


class LabelSpec(Strict):
    threshold: float = Field(0.10, gt=0, le=1, description="Rise of the mean compliance habit above its "
                             "post-handover minimum that counts as material slippage (habit points, 0-1)")
    horizon_weeks: int = Field(26, ge=4, le=520, description="A warning counts if slippage begins within this "
                               "many weeks")
    step_weeks: int = Field(4, ge=1, le=52, description="Decision points every this many weeks from handover")


class ConditionSpec(Strict):
    samples: int = Field(3, ge=1, le=200, description="Latin-hypercube draws of the uncertain conditions")
    seed: int = Field(16, ge=0, description="Seed of the design (not of the runs)")
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict, description="Scenario field path -> "
                                                   "(low, high)")


class PolicySpec(Strict):
    strategies: list[str] = Field(default_factory=list, description="Scenario files compared on paired seeds "
                                  "(fixed vigilance for N years, adaptive vigilance)")
    reference: str | None = None
    seeds: int = Field(10, ge=2, le=1000)
    use_recommended_rule: bool = Field(True, description="Give every adaptive_vigilance intervention the "
                                       "recommended alarm rule")


class WarnExperiment(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    strategies: list[str] = Field(min_length=1)
    seeds: int = Field(10, ge=2, le=10_000)
    horizon_weeks: int | None = Field(None, ge=53, le=5200)
    conditions: ConditionSpec = ConditionSpec()
    label: LabelSpec = LabelSpec()
    test_share: float = Field(0.5, gt=0, lt=1, description="Share of seeds held out for testing")
    resamples: int = Field(400, ge=20, le=10_000, description="Bootstrap resamples of test seeds")
    policy: PolicySpec | None = None
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> WarnExperiment:
        for k, (lo, hi) in self.conditions.ranges.items():
            if not lo < hi:
                raise ValueError(f"conditions.ranges.{k}: low ({lo}) must be below high ({hi})")
        if round(self.seeds * self.test_share) < 1 or round(self.seeds * (1 - self.test_share)) < 1:
            raise ValueError(f"seeds={self.seeds} with test_share={self.test_share} leaves an empty train or test set")
        return self


def load_experiment(path: str | Path) -> tuple[WarnExperiment, list[Scenario], list[Scenario]]:
    """Read and validate a warn experiment; scenario paths are relative to the file."""
    path = Path(path)
    exp = load_yaml_model(path, WarnExperiment, "a warn experiment", WarnError, extra={"source": str(path)})
    strategies = [load_scenario(path.parent / s) for s in exp.strategies]
    policies = [load_scenario(path.parent / s) for s in exp.policy.strategies] if exp.policy else []
    base = strategies[0]
    for k in exp.conditions.ranges:
        try:
            base.with_updates({k: float(np.mean(exp.conditions.ranges[k]))})
        except ScenarioError as e:
            raise WarnError(f"{path}: conditions.ranges.{k}: {e}") from None
    for group in (strategies, policies):
        names = [s.name for s in group]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise WarnError(f"{path}: strategies share the name {', '.join(dup)}")
    return exp, strategies, policies


def condition_table(exp: WarnExperiment) -> pd.DataFrame:
    """The uncertain conditions: one row per Latin-hypercube draw (empty columns when none are varied)."""
    keys = list(exp.conditions.ranges)
    n = exp.conditions.samples
    if not keys:
        return pd.DataFrame({"condition": range(1)})
    u = qmc.LatinHypercube(d=len(keys), seed=exp.conditions.seed).random(n)
    lo = np.array([exp.conditions.ranges[k][0] for k in keys])
    hi = np.array([exp.conditions.ranges[k][1] for k in keys])
    df = pd.DataFrame(lo + u * (hi - lo), columns=keys)
    df.insert(0, "condition", range(n))
    return df


def split_seeds(exp: WarnExperiment) -> tuple[list[int], list[int]]:
    """Training and test seeds: disjoint, every other seed held out (deterministic)."""
    seeds = list(range(exp.seeds))
    n_test = round(exp.seeds * exp.test_share)
    test = seeds[::2][:n_test] if n_test <= len(seeds[::2]) else seeds[::2] + seeds[1::2][:n_test - len(seeds[::2])]
    train = [s for s in seeds if s not in test]
    return train, test


def plan_futures(exp: WarnExperiment, strategies: list[Scenario]) -> tuple[list[RunSpec], pd.DataFrame]:
    """Every strategy x condition x seed, as run specs, with a table describing each run."""
    conds = condition_table(exp)
    specs, rows = [], []
    for sc in strategies:
        own = {f"{OWN}{k}": _field(sc, k) for k in exp.conditions.ranges}  # what the strategy itself sets
        for _, c in conds.iterrows():
            updates = {k: float(c[k]) for k in conds.columns if k != "condition"}
            if exp.horizon_weeks is not None:
                updates["horizon_weeks"] = exp.horizon_weeks
            variant = sc.with_updates(updates) if updates else sc
            kept = vigilance_kept(variant)
            for seed in range(exp.seeds):
                rows.append({"run": len(rows), "strategy": sc.name,
                             "condition": int(c["condition"]), "seed": seed, "handover": variant.handover,
                             "horizon": variant.horizon_weeks, "vigilance_kept": kept, **updates, **own})
                specs.append(RunSpec(variant, seed))
    return specs, pd.DataFrame(rows)


OWN = "own:"  # runs.csv columns: a varied field's value in the strategy file itself


def _field(sc: Scenario, path: str) -> float:
    """A dotted scenario field's value (the design varies numbers only)."""
    cur: Any = sc
    for part in path.split("."):
        cur = cur[int(part)] if isinstance(cur, list) else getattr(cur, part)
    return float(cur)


def vigilance_kept(sc: Scenario) -> bool:
    """Whether culture vigilance runs to the horizon (events included): the runs whose rises show ordinary drift."""
    _, ivs = sc.planned()
    return any(iv.kind == "culture_vigilance" and (iv.end_week is None or iv.end_week >= sc.horizon_weeks)
               for iv in ivs)


def run_panel(result: RunResult, scenario: Scenario, run: int, threshold: float) -> pd.DataFrame:
    """One run's weekly panel from handover: latent habit, onset, observables, CSD signals, a noise control."""
    ts = result.timeseries.reset_index(drop=True)
    obs = observe_frame(ts, scenario, result.seed)
    h = scenario.handover
    c = ts["compliance_habit_mean"].to_numpy()
    df = obs.copy()
    for o in OBSERVABLES:  # oriented: higher = more worrying
        df[o.key] = o.sign * df[o.key]
        if o.method != "judgement":  # the rise since handover, as a monitoring team would read it
            rule = AlarmRule(o.key, 0.0, rise_window(o.key), baseline_from=h)
            df[f"{RISE}{o.key}"] = o.sign * rule.reading(obs[o.key].to_numpy(), arrival_weeks(o, scenario, len(df)))
    for key in CSD_SOURCES:
        o = OBSERVABLE[key]
        arrivals = np.zeros(len(df), bool)
        t = np.arange(0, len(df), o.cadence_weeks) + o.lag_weeks
        arrivals[t[t < len(df)]] = True
        var, ac1 = critical_slowing(obs[key].to_numpy(), arrivals)
        df[f"csd_var:{key}"] = var
        df[f"csd_ac1:{key}"] = ac1
    df[NOISE] = np.random.default_rng([result.seed, run, 99]).random(len(df))
    df[CALENDAR] = -(df["week"] - h).astype(float)  # "it is early after handover": the naive rule to beat
    df.insert(0, "latent_compliance_habit", c)
    df.insert(0, "onset", onset_week(c, h, threshold))
    df.insert(0, "handover", h)
    df.insert(0, "seed", result.seed)
    df.insert(0, "run", run)
    return df[df["week"] >= h].reset_index(drop=True)


def indicator_columns(panel: pd.DataFrame) -> list[str]:
    """Every scored column: observables, CSD signals, the noise control."""
    skip = {"run", "seed", "handover", "onset", "latent_compliance_habit", "week", "y", "split"}
    return [c for c in panel.columns if c not in skip and not c.startswith("combo:")]


@dataclass
class WarnResult:
    """Everything `warn` found: runs, panel, scores, ROC curves, rule, policy comparison."""

    experiment: WarnExperiment
    runs: pd.DataFrame
    panel: pd.DataFrame
    scores: pd.DataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    train_seeds: list[int]
    test_seeds: list[int]
    rule: AlarmRule | None
    combos: dict[str, Any] = field(default_factory=dict)
    policy: Any = None  # a Comparison (experiments.compare) when the experiment asks for one
    example_run: int | None = None


def analyse(exp: WarnExperiment, runs: pd.DataFrame, panel: pd.DataFrame) -> WarnResult:
    """Score every indicator and the combinations on test runs (alarm levels and models fitted on training runs)."""
    lab = exp.label
    train_seeds, test_seeds = split_seeds(exp)
    panel = panel.copy()
    panel["y"] = labels(panel, lab.horizon_weeks)
    panel["split"] = np.where(panel["seed"].isin(test_seeds), "test", "train")
    is_point = decision_mask(panel, lab.step_weeks, lab.horizon_weeks)
    panel["decision_point"] = is_point
    cols = indicator_columns(panel.drop(columns=["decision_point"]))
    # combinations: fitted on training decision points, applied to every week
    feats = [o.key for o in OBSERVABLES if o.key not in COMBO_EXCLUDE]
    tr = panel[is_point & (panel["split"] == "train")].dropna(subset=feats)
    combos: dict[str, Any] = {}
    if tr["y"].nunique() == 2:
        logit = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
        tree = DecisionTreeClassifier(max_depth=2, min_samples_leaf=20, class_weight="balanced", random_state=0)
        for name, mdl in (("combo:logistic", logit), ("combo:tree", tree)):
            mdl.fit(tr[feats].to_numpy(), tr["y"].to_numpy())
            x = panel[feats].to_numpy()
            ok = np.isfinite(x).all(axis=1)
            p = np.full(len(panel), np.nan)
            p[ok] = mdl.predict_proba(x[ok])[:, 1]
            panel[name] = p
            combos[name] = mdl
        cols += list(combos)
    pts = panel[is_point]
    pts_train, pts_test = pts[pts["split"] == "train"], pts[pts["split"] == "test"]
    panel_test = panel[panel["split"] == "test"]
    scores, curves = [], {}
    for col in cols:
        s: Score = score(pts_train, pts_test, panel_test, col, lab.horizon_weeks, exp.resamples)
        scores.append(s.row())
        ok = np.isfinite(pts_test[col].to_numpy(dtype=float))
        if ok.any() and pts_test["y"][ok].nunique() == 2:
            curves[col] = roc(pts_test["y"].to_numpy(), pts_test[col].to_numpy(dtype=float))
    table = pd.DataFrame(scores)
    table["kind"] = [kind_of(c) for c in table["indicator"]]
    table["coverage"] = [float(np.isfinite(pts_test[c].to_numpy(dtype=float)).mean()) for c in table["indicator"]]
    table = table.sort_values(["auc", "lead_weeks"], ascending=[False, False], na_position="last")
    rule = recommend(table, int(panel["handover"].mode().iloc[0]))
    example = example_run(runs, panel)
    return WarnResult(exp, runs, panel, table.reset_index(drop=True), curves, train_seeds, test_seeds, rule,
                      combos, example_run=example)


def kind_of(col: str) -> str:
    """observable / critical slowing down / combination / control."""
    if col in OBSERVABLE:
        return "observable"
    if col.startswith(RISE):
        return "observable (rise)"
    if col.startswith("csd_"):
        return "critical slowing down"
    if col.startswith("combo:"):
        return "combination"
    return "control"


def recommend(table: pd.DataFrame, handover: int) -> AlarmRule | None:
    """The single observable with the best AUC whose interval clears 0.5 (a rule a director can read)."""
    obs = table[table["kind"].str.startswith("observable") & (table["auc_lo"] > 0.5)
                & np.isfinite(table["alarm_level"])]
    if obs.empty:
        return None
    return rule_of(str(obs.iloc[0]["indicator"]), float(obs.iloc[0]["alarm_level"]), handover)


def rule_of(col: str, level: float, handover: int) -> AlarmRule:
    """The alarm rule of a scored column at an (oriented) alarm level."""
    if col.startswith(RISE):
        key = col.removeprefix(RISE)
        return AlarmRule(key, level - 1e-9, rise_window(key), baseline_from=handover)
    sign = OBSERVABLE[col].sign
    return AlarmRule(col, sign * (level - 1e-9))


def column_of(rule: AlarmRule) -> str:
    """The scored column a rule was made from (inverse of `rule_of`): its indicator, or its rise since handover."""
    return rule.indicator if rule.baseline_from is None else RISE + rule.indicator


def example_run(runs: pd.DataFrame, panel: pd.DataFrame) -> int | None:
    """A test run with slippage a few years in, for the 'what leaders see' figure."""
    onset = panel.groupby("run")[["onset", "handover"]].first()
    test = set(panel.loc[panel["split"] == "test", "run"])
    late = onset[(onset["onset"] - onset["handover"] >= 20) & onset.index.isin(test)]
    if late.empty:
        late = onset[np.isfinite(onset["onset"]) & onset.index.isin(test)]
    if late.empty:
        return None
    return int((late["onset"] - late["handover"]).sort_values().index[len(late) // 2])


def run_warning(exp: WarnExperiment, strategies: list[Scenario], policies: list[Scenario] | None = None,
                workers: int | None = None, progress: bool = False) -> WarnResult:
    """Run the designed futures, score the indicators, and compare fixed with adaptive vigilance."""
    specs, runs = plan_futures(exp, strategies)
    n = default_workers(len(specs)) if workers is None else max(1, min(workers, len(specs)))
    results = run_all(specs, workers=n, progress=progress, desc="warn: futures")
    panel = pd.concat([run_panel(r, sp.scenario, i, exp.label.threshold)
                       for i, (r, sp) in enumerate(zip(results, specs, strict=True))], ignore_index=True)
    runs = runs.assign(onset=panel.groupby("run")["onset"].first().reindex(runs["run"]).to_numpy())
    rise, last, attained = [], [], []
    for r, sp in zip(results, specs, strict=True):
        c = r.timeseries["compliance_habit_mean"].to_numpy()[sp.scenario.handover:]
        above = c - np.minimum.accumulate(c)
        rise.append(float(above.max()) if c.size else np.nan)
        last.append(float(above[-1]) if c.size else np.nan)  # still there at the horizon: a lasting loss
        attained.append(float(r.summary["culture_attainment"]))
    runs["max_rise"], runs["end_rise"], runs["culture_attainment"] = rise, last, attained
    out = analyse(exp, runs, panel)
    if exp.policy and policies:
        out.policy = compare_policies(exp, policies, out.rule, n, progress)
    return out


def with_rule(sc: Scenario, rule: AlarmRule) -> Scenario:
    """The scenario with every adaptive_vigilance intervention driven by `rule`."""
    updates: dict[str, Any] = {}
    for i, iv in enumerate(sc.interventions):
        if iv.kind == "adaptive_vigilance":
            updates[f"interventions.{i}.indicator"] = rule.indicator
            updates[f"interventions.{i}.threshold"] = rule.threshold
            updates[f"interventions.{i}.window"] = rule.window
            updates[f"interventions.{i}.rise_from_start"] = rule.baseline_from is not None
    return sc.with_updates(updates) if updates else sc


def compare_policies(exp: WarnExperiment, policies: list[Scenario], rule: AlarmRule | None, workers: int,
                     progress: bool) -> Any:
    """Fixed vs adaptive vigilance on paired seeds (the project's compare)."""
    from culturedrift.experiments.workflows.compare import compare

    assert exp.policy is not None
    scs = [with_rule(s, rule) if rule is not None and exp.policy.use_recommended_rule else s for s in policies]
    ref = exp.policy.reference or scs[0].name
    return compare(scs, seeds=exp.policy.seeds, workers=workers, reference=ref, progress=progress)
