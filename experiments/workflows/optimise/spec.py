"""An optimisation spec: base scenario, decision levers and their ranges, objectives, constraints, seeds.

A spec is a YAML file read with the project's safe mapping reader; every problem is reported with the
file, the field and the reason. Levers turn a dict of decision values into an ordinary `Scenario`
(`Spec.scenario`), so what the search scores is exactly what `compare` later runs from the YAML files
written for the recommended schedules.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from culturedrift.experiments.workflows.compare import METRIC as SHOWN
from culturedrift.experiments.workflows.compare import Metric
from culturedrift.model import Scenario, ScenarioError, load_scenario
from culturedrift.model.interventions import REGISTRY
from culturedrift.model.mechanisms.leadership import WEEKS_PER_QUARTER
from culturedrift.model.outputs import SUMMARIES
from culturedrift.model.scenario import format_errors, load_yaml_model

SUPPORT_KINDS = ("engagement", "reflective_supervision", "training")


def _judged(m: Metric) -> Metric:
    """The metric with the catalogue's own direction when the decision table shows it unranked."""
    own = SUMMARIES[m.key].better
    return m if m.ranked or own not in ("higher", "lower") else replace(m, better=own)


# The decision table shows delivered cost unranked (a strategy may spend less because it had less money); a search
# asked to minimise it must rank it, so optimise and robustness judge every metric by the catalogue's direction.
METRIC: dict[str, Metric] = {k: _judged(m) for k, m in SHOWN.items()}
METRICS: tuple[Metric, ...] = tuple(METRIC.values())
Statistic = Literal["mean", "worst_decile"]


class SpecError(ScenarioError):
    """An optimisation or robustness spec that cannot be used (file, field and reason in the message)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Range(_Strict):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


class GoLive(_Range):
    """Go-live week of one fixed change of the base programme."""

    lever: Literal["go_live"]
    change: str

    @property
    def key(self) -> str:
        return f"go_live.{self.change}"

    integer: ClassVar[bool] = True


class Spacing(_Range):
    """Least number of weeks between the go-lives of two changes whose implementations would overlap."""

    lever: Literal["spacing"]
    key: ClassVar[str] = "spacing_weeks"
    integer: ClassVar[bool] = True


class SupportEnd(_Range):
    """When engagement or reflective supervision stops, in weeks after handover (negative = before)."""

    lever: Literal["support_end"]
    kind: Literal["engagement", "reflective_supervision"]

    @property
    def key(self) -> str:
        return f"{self.kind}.weeks_after_handover"

    integer: ClassVar[bool] = True


class TrainingWeeks(_Range):
    """Length of the training window that starts at each go-live of a change with a learning curve."""

    lever: Literal["training_weeks"]
    key: ClassVar[str] = "training.weeks_per_change"
    integer: ClassVar[bool] = True


class VigilanceWeeks(_Range):
    """How long culture vigilance runs after handover (weeks; reaching the horizon = kept on for good)."""

    lever: Literal["vigilance_weeks"]
    key: ClassVar[str] = "culture_vigilance.weeks_after_handover"
    integer: ClassVar[bool] = True


class VigilanceIntensity(_Range):
    """Intensity of culture vigilance (1 = the typical programme; its cost scales with it)."""

    lever: Literal["vigilance_intensity"]
    key: ClassVar[str] = "culture_vigilance.intensity"
    integer: ClassVar[bool] = False


class SupportShare(_Range):
    """Share of the quarterly budget earmarked for programme support; the rest stays for agency-worker cover."""

    lever: Literal["support_share"]
    key: ClassVar[str] = "budget.support_share"
    integer: ClassVar[bool] = False

    @model_validator(mode="after")
    def _share(self) -> SupportShare:
        if self.low < 0 or self.high > 1:
            raise ValueError("support_share is a share of the quarterly budget: low and high must be in 0-1")
        return self


Lever = Annotated[Union[GoLive, Spacing, SupportEnd, TrainingWeeks, VigilanceWeeks,  # noqa: UP007
                        VigilanceIntensity, SupportShare], Field(discriminator="lever")]


class MetricBound(_Strict):
    """The robust statistic of a summary metric must stay at or below `max` / at or above `min`."""

    metric: str
    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> MetricBound:
        if (self.max is None) == (self.min is None):
            raise ValueError("give exactly one of max or min")
        return self


class Deadlines(_Strict):
    """Every fixed change must be live by its key date (week); `all` applies to changes not named."""

    live_by: dict[str, int]


class SearchSettings(_Strict):
    sampler: Literal["tpe", "nsga2"] = "tpe"
    trials: int = Field(60, ge=1)
    batch: int = Field(8, ge=1, description="trials asked and run together (fix it for reproducible studies)")
    seed: int = Field(20110510, ge=0, description="sampler seed")
    search_seeds: int = Field(6, ge=1, description="paired seeds each candidate is scored on")
    first_search_seed: int = Field(100_000, ge=0, description="search seeds are first..first+n-1")
    report_seeds: int = Field(20, ge=2, description="fresh seeds 0..n-1 of the out-of-sample compare")
    recommend: int = Field(3, ge=1, le=8, description="schedules to recommend from the Pareto front")
    warm_start: bool = Field(True, description="first trial = the base scenario's own lever values")


class RobustnessSettings(_Strict):
    samples: int = Field(40, ge=4)
    seeds: int = Field(1, ge=1)
    strategies: list[str] = Field(default_factory=list, description="shipped strategies to test beside the "
                                  "recommendation (names from compare_with)")


class SpecModel(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    base: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    levers: list[Lever]
    objectives: list[str] = Field(min_length=1)
    statistic: Statistic = "mean"
    constraints: list[MetricBound | Deadlines] = Field(default_factory=list)
    compare_with: list[str] = Field(default_factory=list)
    search: SearchSettings = SearchSettings()
    robustness: RobustnessSettings | None = None
    conditions: str | None = Field(None, description="a robustness spec whose conditions and failure rules "
                                   "test the recommendation")


class Spec:
    """A validated spec with its base scenario loaded; `scenario(values)` applies lever values."""

    def __init__(self, model: SpecModel, path: Path) -> None:
        self.m = model
        self.path = path
        self.here = path.parent
        try:
            self.base = load_scenario(self.resolve(model.base), model.overrides or None)
        except ScenarioError as e:
            raise SpecError(f"{path}: base: {e}") from None
        self.compare_with = [self.resolve(p) for p in model.compare_with]
        self._check()

    # ----------------------------------------------------------------------------------------- reading
    def resolve(self, rel: str) -> Path:
        """A path given in the spec, relative to the spec file."""
        p = Path(rel)
        return p if p.is_absolute() else self.here / p

    @property
    def name(self) -> str:
        return self.m.name

    @property
    def levers(self) -> list[Any]:
        return list(self.m.levers)

    @property
    def objectives(self) -> list[str]:
        return list(self.m.objectives)

    @property
    def search(self) -> SearchSettings:
        return self.m.search

    def search_seeds(self) -> list[int]:
        s = self.m.search
        return list(range(s.first_search_seed, s.first_search_seed + s.search_seeds))

    def report_seeds(self) -> list[int]:
        return list(range(self.m.search.report_seeds))

    def digest(self) -> str:
        """What defines the study: the spec as validated plus the base scenario (a resumed study must match)."""
        blob = json.dumps({"spec": self.m.model_dump(mode="json", exclude={"search": {"trials"}, "robustness": True,
                                                                         "conditions": True}),
                           "base": self.base.model_dump(mode="json")}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _check(self) -> None:
        src = str(self.path)
        changes = {c.name for c in self.base.change_programme}
        keys = [lv.key for lv in self.m.levers]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise SpecError(f"{src}: levers: the same lever appears twice: {', '.join(dup)}")
        for i, lv in enumerate(self.m.levers):
            if isinstance(lv, GoLive):
                if lv.change not in changes:
                    raise SpecError(f"{src}: levers[{i}].change: '{lv.change}' is not a change of the base "
                                    f"scenario (its changes: {', '.join(sorted(changes)) or 'none'})")
                if lv.low < 0:
                    raise SpecError(f"{src}: levers[{i}].low: a go-live week cannot be negative")
            if isinstance(lv, TrainingWeeks) and not any(c.learning for c in self.base.change_programme):
                raise SpecError(f"{src}: levers[{i}] (training_weeks): no change of the base scenario has a "
                                "learning curve (`learning:`), so there is no go-live to train for")
            if isinstance(lv, SupportShare) and not self._has_support():
                raise SpecError(f"{src}: levers[{i}] (support_share): the base scenario runs no "
                                f"{', '.join(SUPPORT_KINDS)} (declared or started by an event) and no lever adds "
                                "any, so there is no programme support for the share to pay for")
        for i, o in enumerate(self.m.objectives):
            if o not in METRIC:
                raise SpecError(f"{src}: objectives[{i}]: unknown metric '{o}'; choose from {', '.join(METRIC)}")
        if len(set(self.m.objectives)) != len(self.m.objectives):
            raise SpecError(f"{src}: objectives: an objective is listed twice")
        for i, c in enumerate(self.m.constraints):
            if isinstance(c, MetricBound) and c.metric not in METRIC:
                raise SpecError(f"{src}: constraints[{i}].metric: unknown metric '{c.metric}'")
            if isinstance(c, Deadlines):
                for k in c.live_by:
                    if k != "all" and k not in changes:
                        raise SpecError(f"{src}: constraints[{i}].live_by: '{k}' is not a change of the base")
        for i, p in enumerate(self.compare_with):
            if not p.is_file():
                raise SpecError(f"{src}: compare_with[{i}]: {p}: file not found")
        if set(self.report_seeds()) & set(self.search_seeds()):
            raise SpecError(f"{src}: search: the report seeds 0..{self.m.search.report_seeds - 1} overlap the search "
                            f"seeds from {self.m.search.first_search_seed}; the comparison must be out of sample")

    def _has_support(self) -> bool:
        """Whether the base runs programme support (events included) or a lever adds some."""
        if any(iv.kind in SUPPORT_KINDS for iv in self.base.planned()[1]):
            return True
        return any(isinstance(lv, SupportEnd) for lv in self.m.levers) or (
            any(isinstance(lv, TrainingWeeks) for lv in self.m.levers))

    # --------------------------------------------------------------------------------------- applying
    def scenario(self, values: dict[str, Any], name: str) -> Scenario:
        """The base scenario with the lever values applied (an ordinary, validated scenario)."""
        return apply_levers(self.base, self.m.levers, values, name)

    def base_values(self) -> dict[str, Any]:
        """The base scenario read back as lever values (clipped into the ranges): the warm-start trial."""
        return base_values(self.base, self.m.levers)

    def deadline_violation(self, sc: Scenario) -> float:
        """Weeks by which the latest change misses its key date (0 when every change is live in time)."""
        worst = 0.0
        for c in self.m.constraints:
            if isinstance(c, Deadlines):
                for ch in sc.change_programme:
                    due = c.live_by.get(ch.name, c.live_by.get("all"))
                    if due is not None:
                        worst = max(worst, float(ch.start_week - due))
        return worst

    def metric_bounds(self) -> list[MetricBound]:
        return [c for c in self.m.constraints if isinstance(c, MetricBound)]


def lever_kinds(levers: list[Any]) -> set[str]:
    """Intervention kinds whose schedule or intensity the levers set (a budget split scales every support kind)."""
    kinds: set[str] = set()
    for lv in levers:
        if isinstance(lv, SupportEnd):
            kinds.add(lv.kind)
        elif isinstance(lv, TrainingWeeks):
            kinds.add("training")
        elif isinstance(lv, VigilanceWeeks | VigilanceIntensity):
            kinds.add("culture_vigilance")
        elif isinstance(lv, SupportShare):
            kinds.update(SUPPORT_KINDS)
    return kinds


def lever_changes(base: Scenario, levers: list[Any]) -> set[str]:
    """Changes whose go-live week the levers set (spacing can move every change)."""
    if any(isinstance(lv, Spacing) for lv in levers):
        return {c.name for c in base.change_programme}
    return {lv.change for lv in levers if isinstance(lv, GoLive)}


def _lever_owned(event: dict[str, Any], kinds: set[str], changes: set[str]) -> bool:
    """An event that starts, stops or moves what a lever now sets (the lever's schedule replaces it)."""
    k = event["kind"]
    return ((k == "intervention_start" and event["intervention"]["kind"] in kinds)
            or (k == "intervention_end" and event["intervention_kind"] in kinds)
            or (k == "go_live" and event["change"] in changes))


def planned_base(base: Scenario, levers: list[Any]) -> dict[str, Any]:
    """The base as plain data, with what the levers set written out as the base's events leave it.

    A base scenario may start an intervention, stop it or move a go-live through scheduled events. Where a
    lever sets that intervention kind or that go-live, the planned schedule (declared entries and events
    together, `Scenario.planned`) becomes ordinary entries and those events are dropped, so the lever
    reaches the intervention wherever the base declared it and nothing else runs on top of its schedule.
    """
    data = base.model_dump(mode="python")
    kinds, owned = lever_kinds(levers), lever_changes(base, levers)
    if not any(_lever_owned(e, kinds, owned) for e in data["events"]):
        return data
    changes, ivs = base.planned()
    planned_start = {c.name: c.start_week for c in changes}
    for ch in data["change_programme"]:
        if ch["name"] in owned:
            ch["start_week"] = planned_start[ch["name"]]
    data["interventions"] = ([iv for iv in data["interventions"] if iv["kind"] not in kinds]
                             + [iv.model_dump(mode="python") for iv in ivs if iv.kind in kinds])
    data["events"] = [e for e in data["events"] if not _lever_owned(e, kinds, owned)]
    return data


def apply_levers(base: Scenario, levers: list[Any], values: dict[str, Any], name: str) -> Scenario:
    """Go-live weeks, spacing, support windows, vigilance and the budget split applied to `base`."""
    data = planned_base(base, levers)
    data["name"] = name
    h = data["horizon_weeks"]
    by = {lv.key: lv for lv in levers}
    changes = data["change_programme"]
    for ch in changes:
        key = f"go_live.{ch['name']}"
        if key in by:
            ch["start_week"] = int(values[key])
    if "spacing_weeks" in by:
        spacing = int(values["spacing_weeks"])
        order = sorted(range(len(changes)), key=lambda i: (changes[i]["start_week"], i))
        for prev, cur in itertools.pairwise(order):
            a, b = changes[prev], changes[cur]
            if b["start_week"] < a["start_week"] + a["duration_weeks"]:  # would overlap
                b["start_week"] = max(b["start_week"], a["start_week"] + spacing)
    for ch in changes:  # a change pushed past the horizon is cut to end on it (the deadline constraint sees it)
        ch["start_week"] = min(ch["start_week"], max(h - ch["duration_weeks"], 0))
    owned = lever_changes(base, levers)
    moved = {c.name: c.start_week for c in base.planned()[0]} if data["events"] else {}
    weeks = [(c["start_week"] if c["name"] in owned else moved.get(c["name"], c["start_week"]), c["duration_weeks"])
             for c in changes]  # go-lives as the run follows them (a base event may still move one no lever sets)
    start = min((s for s, _ in weeks), default=0)
    handover = max((s + d for s, d in weeks), default=0)
    if any(k.startswith("go_live.") or k == "spacing_weeks" for k in by):
        data["handover_week"] = handover
    handover = data["handover_week"] if data["handover_week"] is not None else handover
    ivs = data["interventions"]
    declared = list(ivs)

    def replace(kind: str, windows: list[tuple[int, int | None]], template: dict[str, Any]) -> None:
        nonlocal ivs
        ivs = [iv for iv in ivs if iv["kind"] != kind]
        for s, e in windows:
            if s < h and (e is None or e > s):
                ivs.append({**template, "kind": kind, "start_week": s, "end_week": e})

    def template(kind: str) -> dict[str, Any]:
        found = [iv for iv in declared if iv["kind"] == kind]
        t = dict(found[0]) if found else REGISTRY[kind]().model_dump(mode="python")
        for k in ("start_week", "end_week", "every_weeks", "active_weeks"):
            t.pop(k, None)
        return t

    for kind in ("engagement", "reflective_supervision"):
        key = f"{kind}.weeks_after_handover"
        if key in by:
            end = handover + int(values[key])
            replace(kind, [(start, None if end >= h else max(end, start + 1))], template(kind))
    if "training.weeks_per_change" in by:
        n = int(values["training.weeks_per_change"])
        wins = sorted((c["start_week"], min(c["start_week"] + n, h)) for c in changes if c.get("learning"))
        merged: list[list[int]] = []
        for s, e in wins:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        replace("training", [(s, e) for s, e in merged], template("training"))
    if "culture_vigilance.weeks_after_handover" in by or "culture_vigilance.intensity" in by:
        t = template("culture_vigilance")
        if "culture_vigilance.intensity" in by:
            t["intensity"] = round(float(values["culture_vigilance.intensity"]), 3)
        old = [iv for iv in declared if iv["kind"] == "culture_vigilance"]
        if "culture_vigilance.weeks_after_handover" in by:
            end = handover + int(values["culture_vigilance.weeks_after_handover"])
            wins = [(start, None if end >= h else max(end, start + 1))]
        else:
            wins = [(iv["start_week"], iv["end_week"]) for iv in old] or [(start, None)]
        replace("culture_vigilance", wins, t)
    if "budget.support_share" in by:
        share = float(values["budget.support_share"])
        peak = _peak_support_cost(ivs, h)
        if peak > 0:
            k = min(share * data["budget"]["quarterly_budget"] / WEEKS_PER_QUARTER / peak, 5.0)
            for iv in ivs:
                if iv["kind"] in SUPPORT_KINDS:
                    iv["intensity"] = round(k, 3)
    data["interventions"] = sorted(ivs, key=lambda iv: (iv["start_week"], iv["kind"]))
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise SpecError(format_errors(f"scenario '{name}' made from the levers", e)) from None


def base_values(base: Scenario, levers: list[Any]) -> dict[str, Any]:
    """Lever values that reproduce the base scenario's schedule as closely as the levers can.

    The schedule is read as the base runs it: go-lives moved and interventions started or stopped by its
    scheduled events included (the same view `apply_levers` starts from)."""
    planned, ivs = Scenario.model_validate(planned_base(base, levers)).planned()
    changes = {c.name: c for c in planned}
    handover = max((c.end_week for c in planned), default=base.handover)
    out: dict[str, Any] = {}
    for lv in levers:
        k = lv.key
        if k.startswith("go_live."):
            v: float = changes[lv.change].start_week
        elif k == "spacing_weeks":
            v = lv.low
        elif k.endswith(".weeks_after_handover") and not k.startswith("culture_vigilance"):
            ends = [iv.end_week if iv.end_week is not None else base.horizon_weeks for iv in ivs if iv.kind == lv.kind]
            v = max(ends) - handover if ends else lv.low
        elif k == "training.weeks_per_change":
            lens = [(iv.end_week or base.horizon_weeks) - iv.start_week for iv in ivs if iv.kind == "training"]
            v = round(sum(lens) / len(lens)) if lens else lv.low
        elif k == "culture_vigilance.weeks_after_handover":
            ends = [iv.end_week if iv.end_week is not None else base.horizon_weeks for iv in ivs
                    if iv.kind == "culture_vigilance"]
            v = max(ends) - handover if ends else lv.low
        elif k == "culture_vigilance.intensity":
            v = next((iv.intensity for iv in ivs if iv.kind == "culture_vigilance"), 1.0)
        else:  # budget.support_share
            data = [iv.model_dump(mode="python") for iv in ivs]
            peak = _peak_support_cost(data, base.horizon_weeks)
            k_int = max((iv.intensity for iv in ivs if iv.kind in SUPPORT_KINDS), default=1.0)
            v = peak * k_int * WEEKS_PER_QUARTER / base.budget.quarterly_budget if base.budget.quarterly_budget else 0
        v = min(max(v, lv.low), lv.high)
        out[k] = round(v) if lv.integer else float(v)
    return out


def _peak_support_cost(ivs: list[dict[str, Any]], horizon: int) -> float:
    """Highest weekly cost at intensity 1 of the programme support running at the same time."""
    weeks = pd.Series(0.0, index=range(horizon))
    for iv in ivs:
        if iv["kind"] in SUPPORT_KINDS:
            end = iv["end_week"] if iv["end_week"] is not None else horizon
            weeks.iloc[iv["start_week"]:end] += iv["cost_per_week"]
    return float(weeks.max())


def metric_value(summary: dict[str, float], key: str) -> float:
    """A summary metric of the output catalogue from one run's summary."""
    return float(summary[key])


def load_spec(path: str | Path) -> Spec:
    """Read and validate an optimisation spec; errors name the file, the field and the reason."""
    return Spec(load_yaml_model(path, SpecModel, "an optimisation spec", SpecError), Path(path).resolve())


LEVER_LABELS = {
    "spacing_weeks": "Least spacing between overlapping go-lives (weeks)",
    "engagement.weeks_after_handover": "Staff engagement ends (weeks after handover)",
    "reflective_supervision.weeks_after_handover": "Reflective supervision ends (weeks after handover)",
    "training.weeks_per_change": "Training window after each system/process go-live (weeks)",
    "culture_vigilance.weeks_after_handover": "Culture vigilance kept on after handover (weeks)",
    "culture_vigilance.intensity": "Culture vigilance intensity (1 = typical)",
    "budget.support_share": "Share of the quarterly budget earmarked for programme support",
}


def lever_label(key: str) -> str:
    """Plain-English name of a lever for tables and figures."""
    if key.startswith("go_live."):
        return f"Go-live week: {key.split('.', 1)[1].replace('_', ' ')}"
    return LEVER_LABELS.get(key, key)


def fmt_lever(lv: Any, v: float) -> str:
    """A lever value as shown in tables (shares as percentages)."""
    if lv.key == "budget.support_share":
        return f"{100 * v:.0f}%"
    return f"{int(v)}" if lv.integer else f"{v:.2f}"
