"""Adaptive culture vigilance: switched on by what leaders observe, not by the calendar.

Delivery follows an alarm rule on one observable indicator (model/observables.py), seen with that
indicator's own reporting lag and measurement noise: when the figure on the leaders' desk (or the mean
of the last `window` reports, or its rise since the first reports after `start_week`) is worse than
`threshold`, vigilance runs at full intensity and stays on for at least `hold_weeks` after
the last alarming figure (a programme commissioned for a year is not cancelled the next month). While
the alarm is off only the monitoring is paid for. The effect is culture vigilance's (reinforcement
of the new culture; managers kept from tightening control under pressure).
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from culturedrift.model.base import param
from culturedrift.model.interventions.vigilance import CultureVigilance
from culturedrift.model.observables import OBSERVABLE, RECOMMENDED_RULE, AlarmRule, Observer

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel


class AdaptiveVigilance(CultureVigilance):
    kind: Literal["adaptive_vigilance"] = "adaptive_vigilance"  # type: ignore[assignment]
    indicator: str = param(RECOMMENDED_RULE.indicator, "observable key", "Recommended by `culturedrift warn` "
                           "(results/warn: best AUC and lead time among the observables)")
    threshold: float = param(RECOMMENDED_RULE.threshold, "indicator units (shares as 0-1)", "Alarm level "
                             "recommended by `culturedrift warn` (best hit rate less false-alarm rate on training)")
    window: int = param(RECOMMENDED_RULE.window, "reports", "Read the mean of the last this many reports (3 = a "
                        "3-month average of a monthly audit)", ge=1, le=24)
    rise_from_start: bool = param(RECOMMENDED_RULE.baseline_from is not None, "yes/no", "Read the rise since the "
                                  "first reports after start_week (threshold = the worsening), not the level")
    hold_weeks: int = param(52, "weeks", "Vigilance runs at least this long after the last alarming figure "
                            "(a year's programme; assumption)", ge=1)
    monitoring_cost_per_week: float = param(0.3, "GBP thousand per week", "Audits and survey analysis kept "
                                            "up while the alarm is off (assumption)", ge=0)

    @model_validator(mode="after")
    def _known_indicator(self) -> AdaptiveVigilance:
        if self.indicator not in OBSERVABLE:
            raise ValueError(f"indicator '{self.indicator}' is not an observable; choose one of "
                             f"{', '.join(OBSERVABLE)}")
        return self

    @property
    def rule(self) -> AlarmRule:
        """The alarm rule that switches vigilance on."""
        return AlarmRule(self.indicator, self.threshold, self.window,
                         self.start_week if self.rise_from_start else None)

    def delivered_intensity(self, model: CultureDriftModel) -> float:
        """Full intensity while the alarm holds, else none; remembers the last alarming week per model."""
        state = _STATE.setdefault(model, {})
        arrivals, figures = Observer.of(model).reports(self.indicator)
        rule = self.rule
        last = state.get(id(self), -math.inf)
        if bool(rule.fires_on(rule.current(arrivals, figures))):
            last = state[id(self)] = model.week
        return self.intensity if model.week - last < self.hold_weeks else 0.0

    def weekly_cost(self, intensity: float | None = None) -> float:
        """Vigilance at its delivered intensity plus the monitoring that is always paid for."""
        level = self.intensity if intensity is None else intensity
        return self.cost_per_week * level + self.monitoring_cost_per_week


_STATE: weakref.WeakKeyDictionary[CultureDriftModel, dict[int, float]] = weakref.WeakKeyDictionary()
