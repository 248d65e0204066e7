"""Summary metrics of a comparison: how each is named, shown and judged, and where it applies.

The model's summary (one row per run) is the input; the metrics derived here (slippage as a share of
the attained shift, planned and unfunded cost...) are computed per seed from that row and the run's
weekly series. A value of NaN means "does not apply on this seed" (e.g. slippage where no shift was
attained or the window ends before handover); a metric that does not apply is never ranked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

ATTAINED_MIN = 0.01  # habit points: below this no culture shift was attained, so none can be lost
INTERVAL = (0.05, 0.95)  # spread over seeds shown in the decision table: a 90% interval


@dataclass(frozen=True)
class Metric:
    """How one summary metric is named, shown and judged; the single source for table, figures and text."""

    key: str
    label: str
    unit: str
    better: Literal["higher", "lower", "neither"]
    group: str
    definition: str
    more: str  # phrase for "this strategy's value is higher than the other's"
    less: str  # phrase for "lower"
    scale: float = 1.0  # display multiplier (shares shown as percentages)
    decimals: int = 2
    diff_unit: str = ""
    not_applicable: str = ""  # why a value can be missing (shown in the table's footnote)

    @property
    def ranked(self) -> bool:
        """Whether a 'best' is awarded on this metric (informational metrics have no direction)."""
        return self.better != "neither"

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better (0: no direction)."""
        return {"higher": 1, "lower": -1}.get(self.better, 0)

    @property
    def header(self) -> str:
        """Column header with its unit."""
        return f"{self.label} ({self.unit})"

    def fmt(self, value: float) -> str:
        """A value in display units (no unit suffix)."""
        if value is None or not np.isfinite(value):
            return "n/a"
        text = f"{value * self.scale:,.{self.decimals}f}"
        if text.startswith("-"):
            text = "\u2212" + text[1:] if text.strip("-0.,") else text[1:]  # no "-0.0"
        return text

    def fmt_diff(self, value: float, signed: bool = True) -> str:
        """A difference in display units; signed with a real minus sign."""
        if value is None or not np.isfinite(value):
            return "n/a"
        v = value * self.scale
        text = f"{abs(v):,.{self.decimals}f}"
        if not signed or float(text.replace(",", "")) == 0:
            return text
        return ("+" if v > 0 else "\u2212") + text

    def with_unit(self, value: float, diff: bool = False) -> str:
        """A value or an unsigned difference followed by its unit, for sentences."""
        text = self.fmt_diff(value, signed=False) if diff else self.fmt(value)
        unit = self.diff_unit if diff and self.diff_unit else self.unit
        if unit == "%":
            return f"{text}%"
        if unit.startswith("GBP"):
            return f"GBP {text}k"
        if unit.startswith("% of"):
            return f"{text}% {unit[2:]}"
        return f"{text} {unit}" if unit and not unit.startswith("0-1") else text

    def better_of(self, a: float, b: float) -> bool:
        """True when `a` is strictly better than `b`."""
        return bool(self.sign * (a - b) > 0)


METRICS: tuple[Metric, ...] = (
    Metric("morale_trough", "Morale trough", "0-1 scale", "higher", "Transition risk",
           "Lowest weekly mean staff morale over the horizon (0-1; the start is included, so a strategy that "
           "never pushes morale below its starting level has its trough at week 0).",
           "a shallower morale trough", "a deeper morale trough", decimals=3),
    Metric("peak_turnover_12m", "Peak 12-month turnover", "%", "lower", "Transition risk",
           "Highest rolling 12-month rate of permanent staff leaving.",
           "a higher peak 12-month turnover", "a lower peak 12-month turnover", scale=100, decimals=1,
           diff_unit="points"),
    Metric("mean_turnover_12m", "Mean 12-month turnover", "%", "lower", "Transition risk",
           "Rolling 12-month turnover averaged over the horizon.",
           "a higher mean 12-month turnover", "a lower mean 12-month turnover", scale=100, decimals=1,
           diff_unit="points"),
    Metric("peak_vacancy", "Peak vacancy", "%", "lower", "Transition risk",
           "Highest share of staff posts without a permanent holder (agency-worker cover counts as vacant, "
           "as in DfE's statistics).",
           "a higher peak vacancy rate", "a lower peak vacancy rate", scale=100, decimals=1, diff_unit="points"),
    Metric("peak_fragmentation", "Peak fragmentation", "%", "lower", "Transition risk",
           "Highest share of the week-0 working-relationship strength (within teams and with partner "
           "agencies) that is missing. Week 0 itself is counted, so a strategy whose ties never fall below "
           "their starting strength still shows the everyday churn of leavers and joiners.",
           "more fragmented working relationships at the peak", "less fragmented working relationships at the peak",
           scale=100, decimals=1, diff_unit="points"),
    Metric("culture_attainment", "Culture attainment", "habit points", "higher", "Culture",
           "Fall in the mean compliance habit (0-1) from week 0 to handover (or to the end of the window when "
           "it ends first): how much of the shift from compliance to professional judgement was achieved.",
           "more culture change by handover", "less culture change by handover", decimals=3),
    Metric("slippage_share", "Slippage", "% of attained shift lost", "lower", "Culture",
           "Share of the culture shift attained by handover that was lost again by the horizon (rise in the "
           "mean compliance habit after handover / culture attainment).",
           "more slippage after handover", "less slippage after handover", scale=100, decimals=0,
           diff_unit="points",
           not_applicable=f"slippage does not apply where less than {ATTAINED_MIN} habit points of shift were "
                          "attained (nothing to lose) or the window ends before handover"),
    Metric("culture_kept", "Culture kept", "habit points", "higher", "Culture",
           "Fall in the mean compliance habit from week 0 to the horizon (culture attainment minus its rise after "
           "handover): the shift that lasts.",
           "more lasting culture change", "less lasting culture change", decimals=3),
    Metric("planned_cost", "Planned cost", "GBP k", "lower", "Cost",
           "Discretionary cost over the horizon if every scheduled intervention had been fully funded: the "
           "agency-worker premium paid plus the interventions' full weekly cost.",
           "a higher planned cost", "a lower planned cost", decimals=0),
    Metric("total_cost", "Delivered cost", "GBP k", "neither", "Cost",
           "Discretionary spend actually made over the horizon: the agency-worker premium and the part of the "
           "interventions the quarterly budget paid for. Not ranked: a strategy can spend less simply because "
           "it had less money (see unfunded cost).",
           "a higher delivered cost", "a lower delivered cost", decimals=0),
    Metric("unfunded_cost", "Unfunded", "GBP k", "neither", "Cost",
           "Planned intervention cost the budget could not pay for (interventions scaled down), summed over the "
           "horizon. Not ranked: it says how much of the plan was cut, not how good the plan is.",
           "more of the plan unfunded", "less of the plan unfunded", decimals=0),
    Metric("overspend_total", "Overspend", "GBP k", "lower", "Cost",
           "Spend above the quarterly budgets (agency contracts already running), summed over the horizon.",
           "more overspend", "less overspend", decimals=0),
)
METRIC = {m.key: m for m in METRICS}


def _slippage_share(s: pd.DataFrame) -> pd.Series:
    attained = s["culture_attainment"]
    ok = (attained >= ATTAINED_MIN) & s["handover_in_window"].astype(bool)
    return (s["slippage"] / attained).where(ok)


DERIVED: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "culture_kept": lambda s: s["culture_attainment"] - s["slippage"],
    "slippage_share": _slippage_share,
    "planned_cost": lambda s: s["total_cost"] + s["unfunded_cost"],
}


def run_extras(ts: pd.DataFrame) -> pd.DataFrame:
    """Per run, from the weekly series: unfunded cost, delivered spend by kind and when interventions were cut."""
    g = ts.sort_values("week").groupby(["scenario", "seed"], sort=False)
    last = g.tail(1).set_index(["scenario", "seed"])
    cut = ts.assign(cut=g["shortfall"].diff().fillna(ts["shortfall"]).gt(1e-9))
    weeks = cut[cut["cut"]].groupby(["scenario", "seed"])["week"]
    out = pd.DataFrame({
        "unfunded_cost": last["shortfall"],
        "agency_cost": g["agency_cost_week"].sum(),
        "intervention_cost": g["intervention_cost_week"].sum(),
        "cut_first_week": weeks.min(),
        "cut_last_week": weeks.max(),
        "cut_weeks": weeks.count(),
        "last_week": last["week"],
    })
    out["cut_weeks"] = out["cut_weeks"].fillna(0).astype(int)
    return out.reset_index()


def with_derived(summary: pd.DataFrame, ts: pd.DataFrame, handovers: dict[str, int]) -> pd.DataFrame:
    """The model's per-run summary plus the derived metrics (same row order)."""
    extras = run_extras(ts)
    s = summary.merge(extras, on=["scenario", "seed"], how="left", validate="one_to_one")
    s["handover_in_window"] = [handovers.get(n, 0) < w for n, w in zip(s["scenario"], s["last_week"], strict=True)]
    for key, derive in DERIVED.items():
        s[key] = derive(s)
    return s


def applies(values: pd.Series | np.ndarray) -> bool:
    """A metric applies to a strategy when it has a value on at least half of its seeds."""
    v = np.asarray(values, dtype=float)
    return bool(v.size and np.isfinite(v).sum() * 2 >= v.size)
