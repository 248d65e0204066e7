"""Shared machinery: paired effects with 95% intervals and runs with a nudge (`pmap` is the executor's).

Every comparison in the validation is paired: the two arms of an experiment run on the same seed,
so each mechanism draws from the same random stream in both (common random numbers) and the
per-seed difference removes most of the between-seed noise. The effect is the mean paired
difference with a Student-t 95% confidence interval; a check passes when the interval lies
entirely on the expected side of zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.analysis.paired import seeds_for_halfwidth, t_interval
from culturedrift.experiments.execution.executor import pmap
from culturedrift.model import Scenario, simulate
from culturedrift.model.events import Event, LeaverWave, MoraleNudge, PrescriptionPulse

__all__ = ["NUDGES", "Effect", "base_scenario", "paired_effect", "pmap", "run_with_nudge"]

SIGN_WORD = {1: "increase", -1: "decrease"}


@dataclass
class Effect:
    """One checked effect: mean paired difference, its 95% CI and whether it has the expected sign."""

    check: str  # e.g. "SF1" or "R1"
    name: str  # what is compared
    metric: str
    expected: int  # +1 or -1
    mean: float
    lo: float
    hi: float
    n: int
    unit: str = ""
    note: str = ""
    values: list[float] = field(default_factory=list, repr=False)

    @property
    def passed(self) -> bool:
        """The whole 95% interval lies on the expected side of zero."""
        return bool(self.lo > 0) if self.expected > 0 else bool(self.hi < 0)

    @property
    def seeds_needed(self) -> int | None:
        """Paired seeds for the interval to exclude zero at the spread seen (None: the estimate has the wrong sign)."""
        if not self.sign_ok:
            return None
        return seeds_for_halfwidth(self.values, abs(self.mean) * 0.95) if len(self.values) > 1 else None

    @property
    def power_limited(self) -> bool:
        """A failure explained by too few seeds: the estimate is on the expected side, the interval includes zero."""
        return not self.passed and self.sign_ok

    @property
    def sign_ok(self) -> bool:
        """The point estimate has the expected sign (a weaker check, used by the fast tests)."""
        return bool(np.sign(self.mean) == self.expected)

    def line(self) -> str:
        """One human-readable line."""
        verdict = "PASS" if self.passed else "FAIL"
        return (f"[{verdict}] {self.check} {self.name}: {self.metric} {self.mean:+.4g} "
                f"(95% CI {self.lo:+.4g} to {self.hi:+.4g}, n={self.n}; expected {SIGN_WORD[self.expected]})")

    def as_row(self) -> dict[str, Any]:
        """A flat dict for tables and JSON."""
        d = asdict(self)
        d.pop("values")
        d["passed"] = self.passed
        return d


def paired_effect(check: str, name: str, metric: str, diffs: Sequence[float], expected: int,
                  unit: str = "", note: str = "") -> Effect:
    """Mean of paired differences with a t-based 95% confidence interval."""
    d = np.asarray(diffs, float)
    d = d[np.isfinite(d)]
    mean, lo, hi, n = t_interval(d)
    return Effect(check, name, metric, expected, mean, lo, hi, n, unit, note, [float(x) for x in d])


# --- nudges: scheduled events of the model (model/events.py), named so runs that use them stay picklable ---

NUDGES: dict[str, Callable[[int, float], Event]] = {
    "prescription": lambda week, size: PrescriptionPulse(week=week, size=size),
    "leavers": lambda week, size: LeaverWave(week=week, share=size),
    "morale": lambda week, size: MoraleNudge(week=week, size=size),
}

EXTRA_SERIES = ("productivity", "tenure_mean", "sustained_pressure", "capacity_mean", "omissions_unworked",
                "omission_visibility")


def run_with_nudge(scenario: Scenario, seed: int, nudge: str | None = None, week: int = 0,
                   size: float = 0.0) -> pd.DataFrame:
    """Run to the horizon with a named nudge as a scheduled event at the start of `week`; the record plus
    the catalogue's diagnostic series (frontline productivity, mean permanent tenure, sustained pressure,
    mean capacity, the unworked share of cases and the share of omissions that stay visible).

    The nudge fires before the week's step, so rows up to `week` are identical in a paired run without it.
    """
    if nudge is not None:
        scenario = scenario.model_copy(update={"events": [*scenario.events, NUDGES[nudge](week, size)]})
    ts = simulate(scenario, seed, diagnostics=EXTRA_SERIES).timeseries
    return ts.drop(columns=["scenario", "seed"])


def base_scenario(name: str = "validation", **updates: Any) -> Scenario:
    """The default (baseline) scenario with dotted-path updates (keyword '__' stands for '.')."""
    sc = Scenario(name=name)
    if updates:
        sc = sc.with_updates({k.replace("__", "."): v for k, v in updates.items()})
    return sc
