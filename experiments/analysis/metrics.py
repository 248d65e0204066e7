"""Summary metrics of a comparison: how each is named, shown and judged, and where it applies.

Every metric is declared once, in the model's output catalogue (`culturedrift.model.outputs`); this module
says how the decision table shows and judges them. A value of NaN means "does not apply on this run" (e.g.
slippage where no shift was attained or the run ends before handover); a metric that does not apply to a
strategy is never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from culturedrift.model.outputs import RUN, SUMMARIES, Summary

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


# How the decision table reads the output catalogue: judged summary metrics in catalogue order, with these
# exceptions. Raw slippage (habit points) is replaced by its share of the attained shift, which means something
# for every strategy; delivered (total) cost is shown but not ranked, as is the unfunded part of the plan.
REPLACED = {"slippage": "slippage_share"}
SHOWN_UNRANKED = {
    "total_cost": ("Delivered cost", "Discretionary spend actually made over the horizon: the agency-worker premium "
                   "and the part of the interventions the quarterly budget paid for. Not ranked: a strategy can "
                   "spend less simply because it had less money (see planned and unfunded cost)."),
    "unfunded_cost": ("Unfunded", "Planned intervention cost the budget could not pay for (interventions scaled "
                      "down), summed over the horizon. Not ranked: it says how much of the plan was cut, not how "
                      "good the plan is."),
}


def _from_catalogue(o: Summary) -> Metric:
    label, definition = SHOWN_UNRANKED.get(o.key, (o.label, o.definition))
    better = "neither" if o.key in SHOWN_UNRANKED else o.better
    na = "" if o.applies in (RUN, "week 0 to handover") else f"defined only for {o.applies}"
    return Metric(key=o.key, label=label, unit=o.unit, better=better, group=o.group, definition=definition,
                  more=o.more, less=o.less, scale=o.scale, decimals=o.decimals, diff_unit=o.diff_unit,
                  not_applicable=na)


METRICS: tuple[Metric, ...] = tuple(
    _from_catalogue(o) for o in SUMMARIES.values()
    if o.key not in REPLACED and (o.better is not None or o.key in SHOWN_UNRANKED))
METRIC = {m.key: m for m in METRICS}


def run_extras(ts: pd.DataFrame) -> pd.DataFrame:
    """Per run, from the weekly series: unfunded cost, delivered spend by kind and when interventions were cut."""
    g = ts.sort_values("week").groupby(["scenario", "seed"], sort=False)
    last = g.tail(1).set_index(["scenario", "seed"])
    cut = ts.assign(cut=g["shortfall"].diff().fillna(ts["shortfall"]).gt(1e-9))
    weeks = cut[cut["cut"]].groupby(["scenario", "seed"])["week"]
    out = pd.DataFrame({
        "agency_cost": g["agency_worker_cost_week"].sum(),
        "intervention_cost": g["intervention_cost_week"].sum(),
        "cut_first_week": weeks.min(),
        "cut_last_week": weeks.max(),
        "cut_weeks": weeks.count(),
        "last_week": last["week"],
    })
    out["cut_weeks"] = out["cut_weeks"].fillna(0).astype(int)
    return out.reset_index()


def with_derived(summary: pd.DataFrame, ts: pd.DataFrame) -> pd.DataFrame:
    """The model's per-run summary plus what the cost table needs from the weekly series (same row order)."""
    return summary.merge(run_extras(ts), on=["scenario", "seed"], how="left", validate="one_to_one")


def applies(values: pd.Series | np.ndarray) -> bool:
    """A metric applies to a strategy when it has a value on at least half of its seeds."""
    v = np.asarray(values, dtype=float)
    return bool(v.size and np.isfinite(v).sum() * 2 >= v.size)
