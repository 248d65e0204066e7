"""The output catalogue: every weekly series and summary metric, declared once, and the code that records them.

Each output is one declaration: key, label, unit, which direction is better (or none, for a description
such as a week number), where it applies (whom it is measured over), how it is computed (in words and as
a function). The Recorder, `summarise`, run/compare/sweep outputs, the decision table, figures and the
app read this catalogue; a new metric is one `declare(...)` call, here or in any module imported before
the model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from culturedrift.model import kernels
from culturedrift.model.base import Strict, param

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel

Better = Literal["higher", "lower"]
TURNOVER_WINDOW_WEEKS = 52  # definition of the 12-month turnover rate, not a behavioural constant


class OutputParams(Strict):
    """Thresholds used only to observe the model, never by its dynamics."""

    high_compliance_habit: float = param(0.6, "0-1", "Compliance habit above which a person is counted as "
                                         "working in the compliance culture (assumption: the upper part of the "
                                         "pre-Review range, initial mean 0.7)", ge=0, le=1)


@dataclass(frozen=True, kw_only=True)
class Output:
    """What every output declares: how it is named, measured over whom, judged and shown."""

    key: str
    label: str
    unit: str
    better: Better | None  # None: descriptive (e.g. a week number), not judged better or worse
    applies: str  # whom or what it is measured over
    definition: str  # how it is computed, in words
    group: str = ""
    more: str = ""  # phrase for "this strategy's value is higher than the other's"
    less: str = ""  # phrase for "lower"
    scale: float = 1.0  # display multiplier (shares shown as percentages)
    decimals: int = 2
    diff_unit: str = ""
    dtype: Literal["float64", "int64"] = "float64"
    default: bool = True  # recorded in every run; False: only when asked for (a diagnostic, e.g. for validation)


@dataclass(frozen=True, kw_only=True)
class Series(Output):
    """A weekly series: one value per recorded week, computed from the model's arrays and signals."""

    compute: Callable[[Observation], float]


@dataclass(frozen=True, kw_only=True)
class Summary(Output):
    """A per-run summary metric, computed from the weekly series (and earlier summaries)."""

    compute: Callable[[SummaryView], float]


SERIES: dict[str, Series] = {}
SUMMARIES: dict[str, Summary] = {}
# observable indicators: what a leadership team sees of the weekly series, with cadence, reporting lag and
# measurement error (declared in model/observables.py, computed from the record on their own random streams)
OBSERVED: dict[str, Output] = {}


def declare(output: Series | Summary) -> Series | Summary:
    """Add an output to the catalogue (keys are unique across series and summaries)."""
    if output.key in SERIES or output.key in SUMMARIES or output.key == "week":
        raise ValueError(f"output '{output.key}' is already declared")
    (SERIES if isinstance(output, Series) else SUMMARIES)[output.key] = output
    return output


def withdraw(key: str) -> None:
    """Remove a declared output (for temporary additions, e.g. in a test)."""
    SERIES.pop(key, None)
    SUMMARIES.pop(key, None)


@contextmanager
def declared(*outputs: Series | Summary) -> Iterator[None]:
    """Outputs present in the catalogue only inside the block."""
    for o in outputs:
        declare(o)
    try:
        yield
    finally:
        for o in outputs:
            withdraw(o.key)


def series_keys() -> list[str]:
    """Weekly series every run records, in catalogue order."""
    return [k for k, o in SERIES.items() if o.default]


def diagnostic_keys() -> list[str]:
    """Weekly series recorded only when asked for."""
    return [k for k, o in SERIES.items() if not o.default]


def summary_keys() -> list[str]:
    """Summary metric keys in catalogue order."""
    return list(SUMMARIES)


def decision_metrics() -> list[Summary]:
    """Summary metrics that are judged (a direction is declared): the decision table's columns."""
    return [o for o in SUMMARIES.values() if o.better is not None]


# ------------------------------------------------------------------------------------------------ recording


def _quantiles(x: np.ndarray, *qs: float) -> tuple[float, ...]:
    """Linear-interpolation quantiles (numpy's default method) without np.quantile's overhead."""
    if x.size == 0:
        return tuple(np.nan for _ in qs)
    v = np.sort(x)
    out = []
    for q in qs:
        pos = q * (v.size - 1)
        lo = int(pos)
        hi = min(lo + 1, v.size - 1)
        out.append(float(v[lo] + (v[hi] - v[lo]) * (pos - lo)))
    return tuple(out)


class Observation:
    """What the series of one recorded week are computed from; shared quantities are computed once."""

    def __init__(self, model: CultureDriftModel, recorder: Recorder, row: int) -> None:
        self.model = model
        self.state = model.state
        self.signals = model.signals
        self.recorder = recorder
        self.row = row
        self.pars = model.spec.outputs

    @cached_property
    def staff(self) -> np.ndarray:
        """Staff in post (frontline and managers, permanent or agency workers)."""
        s = self.state
        return s.staff & s.filled

    @cached_property
    def compiled(self) -> dict[str, float] | None:
        """Every per-slot reduction below in one compiled pass, bit-identical (None on the numpy reference path)."""
        if not getattr(self.model, "compiled", False):
            return None
        s = self.state
        values = kernels.weekly_stats(s.staff, s.filled, s.frontline, s.manager, s.staff_post, s.agency_worker,
                                      s.morale, s.compliance_habit, s.manager_control, s.intention, s.workload,
                                      s.direct_time, s.change_load, self.pars.high_compliance_habit)
        return dict(zip(kernels.STATS, values.tolist(), strict=True))

    @cached_property
    def n_staff(self) -> int:
        if self.compiled:
            return int(self.compiled["n_staff"])
        return max(int(np.count_nonzero(self.staff)), 1)

    @cached_property
    def morale(self) -> np.ndarray:
        return self.state.morale[self.staff]

    @cached_property
    def morale_mean(self) -> float:
        return self.compiled["morale_mean"] if self.compiled else self.morale.mean()

    @cached_property
    def morale_p10_p90(self) -> tuple[float, ...]:
        if self.compiled:
            return self.compiled["morale_p10"], self.compiled["morale_p90"]
        return _quantiles(self.morale, 0.1, 0.9)

    @cached_property
    def habit(self) -> np.ndarray:
        return self.state.compliance_habit[self.staff]

    @cached_property
    def habit_mean(self) -> float:
        return self.compiled["habit_mean"] if self.compiled else self.habit.mean()

    @cached_property
    def habit_high_share(self) -> float:
        if self.compiled:
            return self.compiled["habit_high"]
        return np.count_nonzero(self.habit > self.pars.high_compliance_habit) / self.n_staff

    @cached_property
    def manager_control(self) -> float:
        if self.compiled:
            return self.compiled["manager_control"]
        s = self.state
        return s.manager_control[s.manager & s.filled].mean() if (s.manager & s.filled).any() else np.nan

    @cached_property
    def intention_mean(self) -> float:
        return self.compiled["intention_mean"] if self.compiled else self.state.intention[self.staff].mean()

    @cached_property
    def change_load_mean(self) -> float:
        return self.compiled["change_load_mean"] if self.compiled else self.state.change_load[self.staff].mean()

    @cached_property
    def n_holders(self) -> int:
        if self.compiled:
            return int(self.compiled["n_holders"])
        return int(np.count_nonzero(self.holders))

    @cached_property
    def workload_mean(self) -> float:
        return self.compiled["workload_mean"] if self.compiled else self.holders_mean(self.state.workload)

    @cached_property
    def direct_time_mean(self) -> float:
        return self.compiled["direct_time_mean"] if self.compiled else self.holders_mean(self.state.direct_time)

    @cached_property
    def holders(self) -> np.ndarray:
        """Case holders in post."""
        s = self.state
        return s.frontline & s.filled

    @cached_property
    def n_posts(self) -> int:
        if self.compiled:
            return int(self.compiled["n_posts"])
        return max(int(np.count_nonzero(self.state.staff_post)), 1)

    @cached_property
    def permanent(self) -> int:
        if self.compiled:
            return int(self.compiled["permanent"])
        s = self.state
        return int(np.count_nonzero(s.staff_post & s.filled & ~s.agency_worker))

    @cached_property
    def agency_workers(self) -> int:
        if self.compiled:
            return int(self.compiled["agency_workers"])
        s = self.state
        return int(np.count_nonzero(s.staff & s.agency_worker))

    def holders_mean(self, values: np.ndarray) -> float:
        """Mean over case holders in post (NaN without any)."""
        h = self.holders
        return values[h].mean() if h.any() else np.nan

    def spend(self, value: float) -> float:
        """This week's spend (row 0 is the state before any week of the horizon: nothing spent yet)."""
        return value if self.row > 0 else 0.0


class Recorder:
    """Preallocated weekly record (no per-agent work): one row per week 0..horizon, one column per series."""

    def __init__(self, model: CultureDriftModel, weeks: int, diagnostics: tuple[str, ...] = ()) -> None:
        self.model = model
        unknown = [k for k in diagnostics if k not in SERIES]
        if unknown:
            raise ValueError(f"unknown series {unknown}; diagnostics are {diagnostic_keys()}")
        self.series = [o for o in SERIES.values() if o.default] + [SERIES[k] for k in diagnostics
                                                                   if not SERIES[k].default]
        self.data = np.full((weeks + 1, len(self.series)), np.nan)
        self.col = {o.key: i for i, o in enumerate(self.series)}
        self.leavers_ring = np.zeros(TURNOVER_WINDOW_WEEKS)
        self.filled_ring = np.zeros(TURNOVER_WINDOW_WEEKS)
        self.cost = 0.0
        self.overspend = 0.0
        self.shortfall = 0.0
        # compiled path: the catalogue's own series come from one kernel call a week (kernels.weekly_series);
        # any other series (a diagnostic, one declared elsewhere, a built-in redeclared) from its `compute`
        self.compiled = bool(getattr(model, "compiled", False))
        fast = [(i, _KERNEL_POS[o.key]) for i, o in enumerate(self.series)
                if self.compiled and _BUILT_IN.get(o.key) is o]
        self.fast_cols = np.array([i for i, _ in fast], np.intp)
        self.fast_pos = np.array([j for _, j in fast], np.intp)
        fast_cols = {i for i, _ in fast}
        self.slow = [(i, o) for i, o in enumerate(self.series) if i not in fast_cols]

    def tick(self, count: bool = True) -> int:
        """Update the 12-month windows (called every week, burn-in included); returns the week's place in them.
        `count` False leaves the permanent holders' count to the record's kernel."""
        m, s = self.model, self.model.state
        k = m.week % TURNOVER_WINDOW_WEEKS
        self.leavers_ring[k] = m.signals.leavers_permanent
        if not count:
            return k
        if self.compiled:
            self.filled_ring[k] = m.kernels.count_permanent(s.staff_post, s.filled, s.agency_worker)
        else:
            self.filled_ring[k] = np.count_nonzero(s.staff_post & s.filled & ~s.agency_worker)
        return k

    def close_week(self) -> None:
        """The end of a week: `tick`, then `record` of the week just stepped (none in the burn-in). On the compiled
        path the record's kernel counts the tick's permanent holders in the pass it makes anyway (one call fewer)."""
        week = self.model.week
        counted = week > 0 and self.fast_cols.size > 0
        k = self.tick(count=not counted)
        if week > 0:
            self.record(week, k if counted else -1)

    def record(self, row: int, ring_at: int = -1) -> None:
        """Write week `row` (`ring_at` >= 0: the kernel also counts the week's permanent holders into the ring, as
        `tick` would have)."""
        sig = self.model.signals
        if row > 0:
            self.cost += sig.spend
            self.overspend += sig.overspend
            self.shortfall += sig.shortfall
        out = self.data[row]
        if self.fast_cols.size:
            self.kernel_series(row, out, ring_at)
        if self.slow:
            obs = Observation(self.model, self, row)
            for i, o in self.slow:
                out[i] = o.compute(obs)

    def kernel_series(self, row: int, out: np.ndarray, ring_at: int = -1) -> None:
        """The catalogue's own series of week `row` in one compiled call, written into their columns of `out`."""
        m = self.model
        s, sig = m.state, m.signals
        spent = row > 0  # row 0 is the state before any week of the horizon: nothing spent yet
        scalars = np.array([sig.leavers, sig.joiners, sig.service_standard, sig.backlog, sig.pace, sig.prescription,
                            sig.spend if spent else 0.0, sig.agency_worker_spend if spent else 0.0,
                            sig.intervention_spend if spent else 0.0, self.cost, self.overspend, self.shortfall,
                            sig.agency_worker_hires_refused if spent else 0], dtype=np.float64)
        m.kernels.record_series(
            out, self.fast_cols, self.fast_pos, s.staff, s.filled, s.frontline, s.manager, s.staff_post,
            s.agency_worker, s.morale, s.compliance_habit, s.manager_control, s.intention, s.workload, s.direct_time,
            s.change_load, float(m.spec.outputs.high_compliance_habit), self.leavers_ring, self.filled_ring, ring_at,
            sig.team_cases, sig.fragmentation, scalars)

    def frame(self, upto: int | None = None) -> pd.DataFrame:
        """The weekly record of weeks 0..upto (default: all) as a DataFrame."""
        rows = self.data if upto is None else self.data[: upto + 1]
        # built from its columns in one call: a pandas insert and astype per integer column cost ~1.4 ms a run
        cols: dict[str, np.ndarray] = {"week": np.arange(len(rows))}
        for i, o in enumerate(self.series):
            col = rows[:, i]
            if o.dtype == "int64":
                if not np.isfinite(col).all():
                    raise ValueError(f"series {o.key} has weeks not recorded (NaN): it cannot be made integers")
                col = col.astype(np.int64)
            cols[o.key] = col
        return pd.DataFrame(cols)


class SummaryView:
    """What the summary metrics of one run are computed from; earlier metrics are in `values`."""

    def __init__(self, ts: pd.DataFrame, handover: int) -> None:
        self.ts = ts
        self.handover = int(min(handover, ts["week"].iloc[-1]))
        self.values: dict[str, float] = {}

    @cached_property
    def trough(self) -> int:
        """Row of the lowest weekly mean morale (the first, on ties)."""
        return int(self.ts["morale_mean"].idxmin())

    @cached_property
    def habit(self) -> np.ndarray:
        return self.ts["compliance_habit_mean"].to_numpy()


def summarise(ts: pd.DataFrame, handover: int) -> dict[str, float]:
    """Per-run summary: every summary metric of the catalogue, in catalogue order."""
    view = SummaryView(ts, handover)
    for o in SUMMARIES.values():
        v = o.compute(view)
        view.values[o.key] = int(v) if o.dtype == "int64" else float(v)
    return view.values


# ----------------------------------------------------------------------------------------- weekly series

STAFF = "staff in post (frontline and managers, permanent and agency workers; partners excluded)"
HOLDERS = "case holders in post (frontline social workers)"
POSTS = "established staff posts"
ORG = "the organisation"

for _o in (
    Series(key="morale_mean", label="Mean morale", unit="0-1", better="higher", applies=STAFF,
           definition="Mean morale.", compute=lambda o: o.morale_mean),
    Series(key="morale_p10", label="Morale, 10th percentile", unit="0-1", better="higher", applies=STAFF,
           definition="10th percentile of morale (linear interpolation).", compute=lambda o: o.morale_p10_p90[0]),
    Series(key="morale_p90", label="Morale, 90th percentile", unit="0-1", better="higher", applies=STAFF,
           definition="90th percentile of morale (linear interpolation).", compute=lambda o: o.morale_p10_p90[1]),
    Series(key="compliance_habit_mean", label="Mean compliance habit", unit="0-1", better="lower", applies=STAFF,
           definition="Mean compliance habit (1 = procedure and control, 0 = professional judgement).",
           compute=lambda o: o.habit_mean),
    Series(key="compliance_habit_high_share", label="Share in the compliance culture", unit="share",
           better="lower", applies=STAFF,
           definition="Share whose compliance habit is above `outputs.high_compliance_habit` (default 0.6).",
           compute=lambda o: o.habit_high_share),
    Series(key="manager_control", label="Managers' control style", unit="0-1", better="lower",
           applies="team managers in post",
           definition="Mean control style: a manager's compliance habit plus the tension added under pressure.",
           compute=lambda o: o.manager_control),
    Series(key="turnover_intention", label="Turnover intention", unit="0-1", better="lower", applies=STAFF,
           definition="Mean turnover intention.", compute=lambda o: o.intention_mean),
    Series(key="turnover_rate_12m", label="12-month turnover", unit="share per year", better="lower",
           applies="permanent holders of staff posts",
           definition="Permanent leavers over the last 52 weeks divided by the mean number of permanent holders.",
           compute=lambda o: o.recorder.leavers_ring.sum() / max(o.recorder.filled_ring.mean(), 1.0)),
    Series(key="vacancy_rate", label="Vacancy rate", unit="share", better="lower", applies=POSTS,
           definition="Share of staff posts without a permanent holder (agency cover counted as vacant, as DfE).",
           compute=lambda o: (o.n_posts - o.permanent) / o.n_posts),
    Series(key="agency_worker_share", label="Agency worker rate", unit="share", better="lower", applies=STAFF,
           definition="Agency workers as a share of agency workers plus permanent post holders (DfE agency rate).",
           compute=lambda o: o.agency_workers / max(o.agency_workers + o.permanent, 1)),
    Series(key="headcount", label="Headcount", unit="people", better=None, applies=STAFF,
           definition="Number of staff in post (at least 1).", compute=lambda o: o.n_staff, dtype="int64"),
    Series(key="leavers", label="Leavers", unit="people per week", better="lower", applies="everyone in post",
           definition="People who left this week (partners included).",
           compute=lambda o: o.signals.leavers, dtype="int64"),
    Series(key="joiners", label="Joiners", unit="people per week", better=None, applies="everyone in post",
           definition="People who joined this week (partners included).",
           compute=lambda o: o.signals.joiners, dtype="int64"),
    Series(key="caseload_mean", label="Caseload", unit="cases per case holder", better="lower", applies=HOLDERS,
           definition="Open cases of all teams divided by the number of case holders in post.",
           compute=lambda o: o.signals.team_cases.sum() / max(o.n_holders, 1)),
    Series(key="workload_mean", label="Workload", unit="caseload / capacity", better="lower", applies=HOLDERS,
           definition="Mean caseload relative to capacity.", compute=lambda o: o.workload_mean),
    Series(key="time_with_children", label="Time with children", unit="share of working time", better="higher",
           applies=HOLDERS, definition="Mean share of working time spent with children and families.",
           compute=lambda o: o.direct_time_mean),
    Series(key="service_standard", label="Service standard", unit="share of open cases", better="higher",
           applies=ORG, definition="Share of open cases worked within capacity.",
           compute=lambda o: o.signals.service_standard),
    Series(key="backlog", label="Backlog", unit="cases", better="lower", applies=ORG,
           definition="Open cases above the teams' capacity.", compute=lambda o: o.signals.backlog),
    Series(key="fragmentation", label="Fragmentation", unit="share", better="lower",
           applies="intra-team and inter-agency ties",
           definition="Share of the week-0 tie strength (within teams and with partner agencies) that is missing.",
           compute=lambda o: o.signals.fragmentation[2]),
    Series(key="fragmentation_team", label="Team fragmentation", unit="share", better="lower",
           applies="intra-team ties", definition="Share of the week-0 intra-team tie strength that is missing.",
           compute=lambda o: o.signals.fragmentation[0]),
    Series(key="fragmentation_interagency", label="Inter-agency fragmentation", unit="share", better="lower",
           applies="ties between social workers and partner agencies",
           definition="Share of the week-0 inter-agency tie strength that is missing.",
           compute=lambda o: o.signals.fragmentation[1]),
    Series(key="change_load", label="Change load", unit="share of working time", better="lower", applies=STAFF,
           definition="Mean share of working time taken by changes being implemented.",
           compute=lambda o: o.change_load_mean),
    Series(key="pace", label="Changes in progress", unit="changes", better=None, applies=ORG,
           definition="Number of changes in their implementation period.",
           compute=lambda o: o.signals.pace, dtype="int64"),
    Series(key="prescription", label="Prescription", unit="0-1", better="lower", applies=ORG,
           definition="Local prescription: procedure demanded by policy, inspections, incidents and omissions.",
           compute=lambda o: o.signals.prescription),
    Series(key="cost_week", label="Weekly spend", unit="GBP thousand per week", better="lower", applies=ORG,
           definition="Discretionary spend this week: agency workers' premium plus funded interventions.",
           compute=lambda o: o.spend(o.signals.spend)),
    Series(key="agency_worker_cost_week", label="Agency worker spend", unit="GBP thousand per week",
           better="lower", applies=ORG, definition="Agency workers' premium (and overflow workers' full cost).",
           compute=lambda o: o.spend(o.signals.agency_worker_spend)),
    Series(key="intervention_cost_week", label="Intervention spend", unit="GBP thousand per week", better=None,
           applies=ORG, definition="Funded cost of the active interventions.",
           compute=lambda o: o.spend(o.signals.intervention_spend)),
    Series(key="cost_cumulative", label="Cumulative spend", unit="GBP thousand", better="lower", applies=ORG,
           definition="Discretionary spend since week 0.", compute=lambda o: o.recorder.cost),
    Series(key="overspend", label="Cumulative overspend", unit="GBP thousand", better="lower", applies=ORG,
           definition="Spend above the weekly allowance of the quarterly budget, since week 0.",
           compute=lambda o: o.recorder.overspend),
    Series(key="shortfall", label="Cumulative shortfall", unit="GBP thousand", better="lower", applies=ORG,
           definition="Intervention cost the budget could not fund, since week 0.",
           compute=lambda o: o.recorder.shortfall),
    Series(key="agency_worker_hires_refused", label="Agency-worker cover refused", unit="empty posts per week",
           better=None, applies=ORG, dtype="int64",
           definition="Agency-worker cover for an empty post that would have been hired this week but that the "
           "budget left after contracts and interventions could not pay for (the cover cut, not costed).",
           compute=lambda o: o.signals.agency_worker_hires_refused if o.row > 0 else 0),
):
    declare(_o)

# the series above, as declared here: on the compiled path the Recorder takes them from kernels.weekly_series
KERNEL_SERIES = list(kernels.SERIES_KEYS)
_BUILT_IN = {k: SERIES[k] for k in KERNEL_SERIES}
_KERNEL_POS = {k: j for j, k in enumerate(KERNEL_SERIES)}  # each series' place in the kernel's output

# ------------------------------------------------ diagnostics (recorded on request, e.g. by validation)

for _o in (
    Series(key="productivity", label="Productivity with new systems", unit="share of capacity", better="higher",
           applies=HOLDERS, definition="Mean capacity left by systems not yet mastered.", default=False,
           compute=lambda o: o.holders_mean(o.signals.productivity)),
    Series(key="tenure_mean", label="Mean tenure", unit="weeks", better=None,
           applies="permanent staff in post", definition="Mean weeks in post of permanent staff.", default=False,
           compute=lambda o: (o.state.tenure[o.staff & ~o.state.agency_worker].mean()
                              if o.staff.any() else np.nan)),
    Series(key="sustained_pressure", label="Sustained pressure", unit="excess workload", better="lower",
           applies=HOLDERS, definition="Mean smoothed excess workload (goal erosion's driver).", default=False,
           compute=lambda o: o.holders_mean(o.state.sustained_pressure)),
    Series(key="capacity_mean", label="Capacity", unit="cases per case holder", better="higher", applies=HOLDERS,
           definition="Mean cases a case holder can hold to standard.", default=False,
           compute=lambda o: o.holders_mean(o.state.capacity)),
    Series(key="omissions_unworked", label="Unworked share of cases", unit="share", better="lower", applies=ORG,
           definition="1 - service standard.", default=False, compute=lambda o: 1.0 - o.signals.service_standard),
    Series(key="omission_visibility", label="Visible share of omissions", unit="share", better=None, applies=STAFF,
           definition="1 - omission masking x mean compliance habit (recording everything hides omissions).",
           default=False,
           compute=lambda o: 1.0 - o.model.spec.slippage.omission_masking * (float(o.habit.mean())
                                                                          if o.staff.any() else 0.0)),
):
    declare(_o)

# --------------------------------------------------------------------------------------------- summaries

RUN = "weeks 0 to the horizon"
ATTAINED_MIN = 0.01  # habit points: below this no culture shift was attained, so none can be lost (a definition)

for _o in (
    Summary(key="morale_trough", label="Morale trough", unit="0-1 scale", better="higher", group="Transition risk",
            applies=RUN, definition="Lowest weekly mean staff morale over the horizon (0-1; the start is included, "
            "so a strategy that never pushes morale below its starting level has its trough at week 0).",
            more="a shallower morale trough", less="a deeper morale trough", decimals=3,
            compute=lambda v: v.ts["morale_mean"].iloc[v.trough]),
    Summary(key="morale_trough_week", label="Week of the morale trough", unit="week", better=None,
            group="Transition risk", applies=RUN, definition="Week of the morale trough (the first, on ties).",
            more="a later morale trough", less="an earlier morale trough", decimals=0, dtype="int64",
            compute=lambda v: v.ts["week"].iloc[v.trough]),
    Summary(key="peak_turnover_12m", label="Peak 12-month turnover", unit="%", better="lower",
            group="Transition risk", applies=RUN,
            definition="Highest rolling 12-month rate of permanent staff leaving.",
            more="a higher peak 12-month turnover", less="a lower peak 12-month turnover", scale=100, decimals=1,
            diff_unit="points", compute=lambda v: v.ts["turnover_rate_12m"].max()),
    Summary(key="mean_turnover_12m", label="Mean 12-month turnover", unit="%", better="lower",
            group="Transition risk", applies=RUN, definition="Rolling 12-month turnover averaged over the horizon.",
            more="a higher mean 12-month turnover", less="a lower mean 12-month turnover", scale=100, decimals=1,
            diff_unit="points", compute=lambda v: v.ts["turnover_rate_12m"].mean()),
    Summary(key="peak_vacancy", label="Peak vacancy", unit="%", better="lower", group="Transition risk",
            applies=RUN, definition="Highest share of staff posts without a permanent holder.",
            more="a higher peak vacancy rate", less="a lower peak vacancy rate", scale=100, decimals=1,
            diff_unit="points", compute=lambda v: v.ts["vacancy_rate"].max()),
    Summary(key="peak_fragmentation", label="Peak fragmentation", unit="%", better="lower", group="Transition risk",
            applies=RUN, definition="Highest share of the week-0 working-relationship strength (within teams and "
            "with partner agencies) that is missing.",
            more="more fragmented working relationships at the peak",
            less="less fragmented working relationships at the peak", scale=100, decimals=1, diff_unit="points",
            compute=lambda v: v.ts["fragmentation"].max()),
    Summary(key="culture_attainment", label="Culture attainment", unit="habit points", better="higher",
            group="Culture", applies="week 0 to handover",
            definition="Fall in the mean compliance habit (0-1) from week 0 to handover: how much of the shift "
            "from compliance to professional judgement the programme achieved.",
            more="more culture change by handover", less="less culture change by handover", decimals=3,
            compute=lambda v: v.habit[0] - v.habit[v.handover]),
    Summary(key="slippage", label="Slippage", unit="habit points", better="lower", group="Culture",
            applies="handover to the horizon",
            definition="Rise in the mean compliance habit from handover to the horizon: old habits coming back.",
            more="more slippage after handover", less="less slippage after handover", decimals=3,
            compute=lambda v: v.habit[-1] - v.habit[v.handover]),
    Summary(key="slippage_share", label="Slippage", unit="% of attained shift lost", better="lower", group="Culture",
            applies=f"runs that attained at least {ATTAINED_MIN} habit points by a handover inside the run",
            definition="Share of the culture shift attained by handover that was lost again by the horizon (rise "
            "in the mean compliance habit after handover / culture attainment). Not defined (NaN) where less than "
            f"{ATTAINED_MIN} habit points were attained (nothing to lose) or the run ends before handover.",
            more="more slippage after handover", less="less slippage after handover", scale=100, decimals=0,
            diff_unit="points", compute=lambda v: v.values["slippage"] / v.values["culture_attainment"]
            if v.values["culture_attainment"] >= ATTAINED_MIN and v.handover < v.ts["week"].iloc[-1] else np.nan),
    Summary(key="culture_kept", label="Culture kept", unit="habit points", better="higher", group="Culture",
            applies=RUN, definition="Fall in the mean compliance habit from week 0 to the horizon (culture "
            "attainment minus slippage): the shift that lasts.",
            more="more lasting culture change", less="less lasting culture change", decimals=3,
            compute=lambda v: v.values["culture_attainment"] - v.values["slippage"]),
    Summary(key="unfunded_cost", label="Unfunded", unit="GBP k", better=None, group="Cost", applies=RUN,
            definition="Planned intervention cost the quarterly budget could not pay for (interventions scaled "
            "down), summed over the horizon.", more="more of the plan unfunded", less="less of the plan unfunded",
            decimals=0, compute=lambda v: v.ts["shortfall"].iloc[-1]),
    Summary(key="agency_worker_hires_refused_total", label="Agency-worker cover refused", unit="weekly hire attempts",
            better=None, group="Cost", applies=RUN, dtype="int64",
            definition="Weekly attempts to hire agency-worker cover for an empty post that the budget could not pay "
            "for, summed over the horizon: an empty post is tried again each week it stays empty, so one post "
            "refused for ten weeks counts up to ten times (a measure of cover held back, not a number of posts or "
            "people).",
            more="more agency-worker cover refused", less="less agency-worker cover refused", decimals=0,
            compute=lambda v: v.ts["agency_worker_hires_refused"].sum()),
    Summary(key="planned_cost", label="Planned cost", unit="GBP k", better="lower", group="Cost", applies=RUN,
            definition="Discretionary cost over the horizon if every scheduled intervention had been fully funded: "
            "the agency-worker premium paid plus the interventions' full cost (total cost + unfunded).",
            more="a higher planned cost", less="a lower planned cost", decimals=0,
            compute=lambda v: v.ts["cost_cumulative"].iloc[-1] + v.ts["shortfall"].iloc[-1]),
    Summary(key="total_cost", label="Total cost", unit="GBP k", better="lower", group="Cost", applies=RUN,
            definition="Discretionary spend over the horizon: the agency worker premium and the leadership "
            "interventions.", more="a higher total cost", less="a lower total cost", decimals=0,
            compute=lambda v: v.ts["cost_cumulative"].iloc[-1]),
    Summary(key="overspend_total", label="Overspend", unit="GBP k", better="lower", group="Cost", applies=RUN,
            definition="Spend above the quarterly budgets (agency worker contracts already running), summed over "
            "the horizon.", more="more overspend", less="less overspend", decimals=0,
            compute=lambda v: v.ts["overspend"].iloc[-1]),
):
    declare(_o)
