"""What a leadership team can see: observable indicators, with the noise and lag of real returns.

The model's latent state (compliance habit, tie strength, manager control) cannot be seen by an
authority's leaders. They see management returns, staff surveys, case audits, performance data and
inspection judgements. Each `Observable` declares one such indicator once: the latent weekly series it
measures, how often it is measured (cadence), how long the figure takes to reach the leadership team
(reporting lag), and the measurement model that adds its error (data quality of a return, sampling
error of a survey or a case audit).

Measurement draws its randomness from streams of its own (`stream(seed, "observation:<key>")`), never
from a mechanism's, so observing a run leaves every latent output unchanged and two strategies on one
seed share their measurement luck as well. The value of an indicator in week w is the latest figure
*available* in week w: the measurement made at the last measurement week t with t + lag <= w, held
until the next one arrives. Values are computed from the weekly record (the latent series), so the same
function serves a finished run (`observe_frame`), a model mid-run (`observe_model`, e.g. for the app)
and an intervention that acts on what leaders see (`Observer.latest`); all three give identical figures.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import stats

from culturedrift.model.base import stream
from culturedrift.model.outputs import OBSERVED, SERIES, Output

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel
    from culturedrift.model.scenario import Scenario

Method = Literal["return", "survey", "proportion", "audit_mean", "judgement"]
OFSTED_GRADES = ("outstanding", "good", "requires improvement", "inadequate")


@dataclass(frozen=True, kw_only=True)
class Observable(Output):
    """One indicator a real authority measures: what it measures, how often, how late and how well."""

    latent: str  # weekly series of the output catalogue (or `recording_time`) it measures
    cadence_weeks: int  # a measurement every this many weeks
    lag_weeks: int  # weeks from measurement to the leadership team's desk
    method: Method
    error: float  # "return": relative sd; "survey": response rate; "audit_mean": sd between cases
    sample: int  # cases audited / assessments counted (proportion, audit_mean); unused otherwise
    source: str

    @property
    def sign(self) -> int:
        """+1 when a higher reading is worse (an alarm fires above a threshold), -1 when lower is worse."""
        return 1 if self.better == "lower" else -1

    @property
    def header(self) -> str:
        """Label with unit, for tables and axes."""
        return f"{self.label} ({self.unit})"

    def amount(self, value: float, change: bool = False) -> str:
        """A figure (or, with `change`, a difference) in the units leaders read, to the precision of its reports."""
        v = f"{value * self.scale:.{self.decimals}f}"
        if self.unit.startswith("%"):
            return f"{v} percentage points" if change else f"{v}%"
        if self.unit.endswith("scale"):
            return f"{v} on the {self.unit}"
        if self.unit.startswith("grade"):
            return f"{v} grades" if change else f"grade {v}"
        return f"{v} {self.unit}"

    def describe(self) -> str:
        """How it is measured, in one phrase (for reports)."""
        every = {4: "monthly", 13: "quarterly", 52: "annually"}.get(self.cadence_weeks,
                                                                   f"every {self.cadence_weeks} weeks")
        how = {"return": f"management return, {self.error:.0%} data error",
               "survey": f"staff survey, {self.error:.0%} response (sampling error)",
               "proportion": f"sample of {self.sample} (binomial sampling error)",
               "audit_mean": f"audit of {self.sample} cases (sampling error)",
               "judgement": "inspection judgement (when an inspection happens)"}[self.method]
        return f"{every}, {how}, reaches leaders {self.lag_weeks} weeks later"


def _declare(key: str, label: str, unit: str, better: Literal["higher", "lower"], latent: str, cadence: int, lag: int,
             method: Method, error: float, sample: int, source: str, scale: float = 1.0,
             decimals: int = 1) -> Observable:
    """Declare an observable in the output catalogue (`outputs.OBSERVED`), beside the latent series it measures."""
    if latent not in SERIES and latent != "recording_time":
        raise ValueError(f"observable '{key}' measures '{latent}', which is not a declared weekly series")
    o = Observable(key=key, label=label, unit=unit, better=better, group="Observable",
                   applies="what the leadership team sees (cadence, reporting lag and measurement error below)",
                   definition=f"Measures `{latent}`. {source}", scale=scale, decimals=decimals, latent=latent,
                   cadence_weeks=cadence, lag_weeks=lag, method=method, error=error, sample=sample, source=source)
    OBSERVED[key] = o
    return o


OBSERVABLES: tuple[Observable, ...] = (
    _declare("obs_caseload", "Caseload per case holder", "cases", "lower", "caseload_mean", 13, 6, "return",
               0.03, 0, "Quarterly workforce return (DfE census fields cases/case_holders_fte; 3% data error and "
               "6-week lag are assumptions)"),
    _declare("obs_agency_worker_share", "Agency-worker share", "%", "lower", "agency_worker_share", 13, 6, "return",
               0.03, 0, "Quarterly workforce return (DfE agency_rate_fte; error and lag are assumptions)", scale=100),
    _declare("obs_vacancy", "Vacancy rate", "%", "lower", "vacancy_rate", 13, 6, "return", 0.03, 0,
               "Quarterly workforce return (DfE vacancy_rate_fte; error and lag are assumptions)", scale=100),
    _declare("obs_turnover_12m", "12-month turnover", "%", "lower", "turnover_rate_12m", 13, 6, "return", 0.03, 0,
               "Quarterly HR return, rolling 12 months (DfE turnover_rate_fte; error and lag are assumptions)",
               scale=100),
    _declare("obs_morale_survey", "Staff survey morale", "0-1 scale", "higher", "morale_mean", 52, 8, "survey",
               0.5, 0, "Annual staff survey: ~50% response (typical of council staff surveys; assumption), "
               "results ~8 weeks after fieldwork", decimals=3),
    _declare("obs_time_with_children", "Time with children (audit)", "% of time", "higher", "time_with_children", 4,
               4, "audit_mean", 0.10, 20, "Monthly case audit of 20 cases (sd 0.10 between cases, assumption); "
               "Munro 2011: a quarter to a third of time with families", scale=100),
    _declare("obs_recording_time", "Recording time (audit)", "% of time", "lower", "recording_time", 4, 4,
               "audit_mean", 0.10, 20, "Monthly time-use audit of 20 cases (sd 0.10, assumption); Munro 2011 "
               "ch.2: procedure-driven practice spends up to 60% of time recording", scale=100),
    _declare("obs_procedural_practice", "Procedure-led practice (audit)", "% of cases", "lower",
               "compliance_habit_high_share", 4, 4, "proportion", 0.0, 20, "Monthly practice-quality audit: share "
               "of 20 sampled case files where procedure, not judgement, led the work (audit size an assumption)",
               scale=100),
    _declare("obs_timeliness", "Cases worked within capacity", "%", "higher", "service_standard", 4, 4,
               "proportion", 0.0, 60, "Monthly performance report on ~60 assessments (timeliness; sample size an "
               "assumption)", scale=100),
    _declare("obs_inspection", "Inspection judgement", "grade 1-4", "lower", "service_standard", 1, 8,
               "judgement", 0.0, 0, "Ofsted judgement (1 outstanding - 4 inadequate) published ~8 weeks after an "
               "inspection; graded here from the share of cases worked within capacity (assumption)", decimals=0),
)
OBSERVABLE = {o.key: o for o in OBSERVABLES}
# service-standard cut points for the Ofsted grades (assumption: 97% / 90% / 80% of cases worked within capacity)
GRADE_CUTS = (0.97, 0.90, 0.80)


def latent_columns(ts: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Latent series the observables measure; adds `recording_time` (habit-driven recording share)."""
    out = ts
    if "recording_time" not in ts.columns:
        w = scenario.workload
        out = ts.assign(recording_time=w.recording_base + w.recording_per_compliance * ts["compliance_habit_mean"])
    return out


def inspection_weeks(scenario: Scenario, horizon: int) -> np.ndarray:
    """Weeks with an inspection: the routine interval and scheduled inspection events."""
    sl = scenario.slippage
    weeks = {e.week for e in scenario.events if e.kind == "inspection"}
    if sl.inspection_interval_weeks:
        weeks |= set(range(sl.inspection_interval_weeks, horizon + 1, sl.inspection_interval_weeks))
    return np.array(sorted(w for w in weeks if 0 <= w <= horizon), dtype=int)


def _uniforms(seed: int, key: str, n: int) -> np.ndarray:
    """Measurement luck of one indicator: prefix-stable (the first k draws never depend on n)."""
    u = stream(seed, f"observation:{key}").random(n)
    return np.clip(u, 1e-12, 1 - 1e-12)


def measure(obs: Observable, latent: pd.DataFrame, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Measured values at record rows `rows` of the latent frame, given each row's uniform draw `u`."""
    x = latent[obs.latent].to_numpy(dtype=float)[rows]
    if obs.method == "return":
        return x * (1.0 + obs.error * stats.norm.ppf(u))
    if obs.method == "survey":
        # respondents ~ response rate x headcount; sd between people from the p10-p90 spread (normal)
        n = np.maximum(np.round(obs.error * latent["headcount"].to_numpy(dtype=float)[rows]), 2.0)
        spread = (latent["morale_p90"].to_numpy(dtype=float) - latent["morale_p10"].to_numpy(dtype=float))[rows]
        head = latent["headcount"].to_numpy(dtype=float)[rows]
        fpc = np.sqrt(np.maximum(head - n, 0.0) / np.maximum(head - 1.0, 1.0))
        return x + spread / 2.563 / np.sqrt(n) * fpc * stats.norm.ppf(u)
    if obs.method == "proportion":
        return stats.binom.ppf(u, obs.sample, np.clip(x, 0.0, 1.0)) / obs.sample
    if obs.method == "audit_mean":
        return np.clip(x + obs.error / np.sqrt(obs.sample) * stats.norm.ppf(u), 0.0, 1.0)
    if obs.method == "judgement":
        return 1.0 + np.searchsorted(-np.asarray(GRADE_CUTS), -x, side="right").astype(float)
    raise ValueError(f"unknown measurement method {obs.method!r}")


def measurement_weeks(obs: Observable, scenario: Scenario, horizon: int) -> np.ndarray:
    """Weeks (record rows) at which the indicator is measured."""
    if obs.method == "judgement":
        return inspection_weeks(scenario, horizon)
    return np.arange(0, horizon + 1, obs.cadence_weeks)


def available(obs: Observable, latent: pd.DataFrame, scenario: Scenario, seed: int,
              upto: int | None = None) -> np.ndarray:
    """The figure on the leaders' desk in each week 0..upto (NaN before the first report)."""
    last = len(latent) - 1 if upto is None else int(upto)
    horizon = max(last, len(latent) - 1)
    t = measurement_weeks(obs, scenario, horizon)
    t = t[t + obs.lag_weeks <= last]
    out = np.full(last + 1, np.nan)
    if t.size == 0:
        return out
    u = _uniforms(seed, obs.key, horizon + 1)[t]
    vals = measure(obs, latent, t, u)
    idx = np.searchsorted(t + obs.lag_weeks, np.arange(last + 1), side="right") - 1
    ok = idx >= 0
    out[ok] = vals[idx[ok]]
    return out


def observe_frame(ts: pd.DataFrame, scenario: Scenario, seed: int,
                  keys: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Observable indicators of one run's weekly record: one row per week, one column per indicator."""
    latent = latent_columns(ts.reset_index(drop=True), scenario)
    out = pd.DataFrame({"week": np.arange(len(latent))})
    for key in keys or tuple(OBSERVABLE):
        out[key] = available(OBSERVABLE[key], latent, scenario, seed)
    return out


def observe_model(model: CultureDriftModel, rule: AlarmRule | None = None) -> pd.DataFrame:
    """Observables (and, with `rule`, the alarm state) per recorded week of a model, e.g. mid-run in the app.

    Columns: `week`, one per observable (see `OBSERVABLES` for labels and units), and with a rule
    `alarm` (True in weeks the rule's indicator is past its threshold on the figure leaders have).
    """
    df = observe_frame(model.timeseries(), model.spec, model.seed)
    if rule is not None:
        o = OBSERVABLE[rule.indicator]
        df["alarm"] = rule.fires(df[rule.indicator].to_numpy(), arrival_weeks(o, model.spec, model.horizon))
    return df


def arrival_weeks(obs: Observable, scenario: Scenario, horizon: int) -> np.ndarray:
    """Weeks a new figure of the indicator reaches the leadership team."""
    return measurement_weeks(obs, scenario, horizon) + obs.lag_weeks


@dataclass(frozen=True)
class AlarmRule:
    """Raise the alarm when an indicator, as leaders see it, is worse than a threshold.

    With `window` > 1 the rule reads the mean of the last `window` reports (a 3-month average of a monthly
    audit). With `baseline_from` set it reads the *rise*: that mean less the mean of the first `window`
    reports arriving from week `baseline_from` (e.g. handover), and `threshold` is the worsening that
    raises the alarm (in the indicator's units, positive).
    """

    indicator: str
    threshold: float
    window: int = 1
    baseline_from: int | None = None

    def __post_init__(self) -> None:
        if self.indicator not in OBSERVABLE:
            raise ValueError(f"unknown indicator {self.indicator!r}; the indicators are {', '.join(OBSERVABLE)}")
        if self.window < 1:
            raise ValueError(f"window must be at least 1 report, got {self.window}")

    def current(self, arrivals: np.ndarray, figures: np.ndarray) -> float:
        """The rule's reading from the reports arrived so far (arrival weeks ascending, their figures)."""
        n, k = figures.size, self.window
        if n < k:
            return float("nan")
        level = float(figures[n - k:].mean())
        if self.baseline_from is None:
            return level
        first = int(np.searchsorted(arrivals, self.baseline_from))
        if n < first + k:
            return float("nan")
        return level - float(figures[first:first + k].mean())

    def reading(self, values: np.ndarray, arrivals: np.ndarray) -> np.ndarray:
        """The rule's reading in every week, from the weekly series of the latest available figure."""
        v = np.asarray(values, dtype=float)
        arr = arrivals[arrivals < v.size]
        figs = v[arr]
        out = np.full(v.size, np.nan)
        last = np.searchsorted(arr, np.arange(v.size), side="right")  # reports arrived by each week
        for i in np.unique(last[last > 0]):
            out[last == i] = self.current(arr[:i], figs[:i])
        return out

    def fires_on(self, reading: np.ndarray | float) -> np.ndarray:
        """True where a reading is worse than the threshold (never on a missing reading)."""
        v = np.asarray(reading, dtype=float)
        sign = OBSERVABLE[self.indicator].sign
        worse = sign * v - self.threshold if self.baseline_from is not None else sign * (v - self.threshold)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(v), worse > 0, False)

    def fires(self, values: np.ndarray, arrivals: np.ndarray | None = None) -> np.ndarray:
        """True in weeks where the rule, applied to the weekly series of available figures, raises the alarm."""
        if self.window == 1 and self.baseline_from is None:
            return self.fires_on(values)
        if arrivals is None:
            o = OBSERVABLE[self.indicator]
            arrivals = np.arange(0, len(values), o.cadence_weeks) + o.lag_weeks
        return self.fires_on(self.reading(values, arrivals))

    def condition(self, baseline: str | None = None) -> str:
        """When the alarm fires, in plain words (worse, not merely oriented; never a negative or all-zero figure).

        `baseline` names what a rise rule is measured from (default: its level after `baseline_from`). A rise
        rule's threshold is the worsening that fires it: positive reads "rises/falls more than X", one within
        half a reported digit of zero reads "is at or above/below" (any worsening), a negative one "is less
        than X below/above" (it fires unless the indicator has improved by X).
        """
        o = OBSERVABLE[self.indicator]
        worse, better = ("above", "below") if o.sign > 0 else ("below", "above")
        if self.baseline_from is None:
            if o.unit.startswith("grade"):  # whole grades: the first one past the threshold
                grade = int(np.floor(self.threshold)) + 1 if o.sign > 0 else int(np.ceil(self.threshold)) - 1
                if 1 <= grade <= len(OFSTED_GRADES):
                    return f"is grade {grade} ({OFSTED_GRADES[grade - 1]}) or worse"
            return f"is {worse} {o.amount(self.threshold)}"
        base = baseline or f"its level after week {self.baseline_from}"
        t = self.threshold
        if abs(t) * o.scale < 0.5 * 10.0 ** -o.decimals:
            return f"is at or {worse} {base}"
        if t > 0:
            return f"{'rises' if o.sign > 0 else 'falls'} more than {o.amount(t, change=True)} from {base}"
        return f"is less than {o.amount(-t, change=True)} {better} {base} (or {worse} it)"

    def describe(self) -> str:
        """The rule in words."""
        o = OBSERVABLE[self.indicator]
        what = o.label if self.window == 1 else f"{o.label}, mean of the last {self.window} reports,"
        return f"{what} {self.condition()}"


# The alarm rule chosen from `culturedrift warn experiments/warn.yaml` (docs/early_warning.md, section 4): the
# default of adaptive vigilance and the rule the trainer's app shows. Kept when the re-centred design ranked a
# vacancy level first, because that level marks one tight-labour-market future rather than when a slide begins.
RECOMMENDED_RULE = AlarmRule("obs_procedural_practice", 0.233, window=3, baseline_from=104)


class Observer:
    """Leaders' view of one running model: the latest available figure of an indicator, week by week."""

    _cache: ClassVar[weakref.WeakKeyDictionary[CultureDriftModel, Observer]] = weakref.WeakKeyDictionary()

    def __init__(self, model: CultureDriftModel) -> None:
        self.model = model
        self._u: dict[str, np.ndarray] = {}
        self._reports: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def of(cls, model: CultureDriftModel) -> Observer:
        """The observer of `model` (one per model, so measurement luck is drawn once)."""
        obs = cls._cache.get(model)
        if obs is None:
            obs = cls._cache[model] = cls(model)
        return obs

    def reports(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Arrival weeks and figures of every report of `key` on the leaders' desk by now."""
        m, o = self.model, OBSERVABLE[key]
        now = m.week  # rows 0..week are recorded when leadership acts in week `week`
        t = measurement_weeks(o, m.spec, m.horizon)
        t = t[t + o.lag_weeks <= now]
        arr, figs = self._reports.get(key, (np.zeros(0, int), np.zeros(0)))
        if t.size > arr.size:
            new = t[arr.size:]
            figs = np.concatenate([figs, [self._measure(key, int(row)) for row in new]])
            arr = t + o.lag_weeks
            self._reports[key] = (arr, figs)
        return arr, figs

    def latest(self, key: str) -> float:
        """Figure of indicator `key` on the leaders' desk now (NaN before its first report)."""
        _, figs = self.reports(key)
        return float(figs[-1]) if figs.size else float("nan")

    def _measure(self, key: str, row: int) -> float:
        m, o = self.model, OBSERVABLE[key]
        if key not in self._u:
            self._u[key] = _uniforms(m.seed, key, m.horizon + 1)
        cols = {o.latent, "compliance_habit_mean"} & set(m.recorder.col)
        cols |= {"headcount", "morale_p10", "morale_p90"} if o.method == "survey" else set()
        latent = pd.DataFrame({c: m.recorder.data[row:row + 1, m.recorder.col[c]] for c in cols})
        latent = latent_columns(latent, m.spec)
        return float(measure(o, latent, np.array([0]), self._u[key][row:row + 1])[0])
