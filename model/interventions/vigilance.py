"""Culture vigilance: monitoring that protects the new culture until it sustains itself, damping slippage."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class CultureVigilance(Intervention):
    kind: Literal["culture_vigilance"] = "culture_vigilance"
    cost_per_week: float = param(4.0, "GBP thousand per week", "Practice audits, a principal social worker's "
                                 "time (assumption)", ge=0, le=1000)
    reinforcement: float = param(0.0, "reinforcement units", "Vigilance protects the culture a programme has "
                                 "built; it does not build one (with no programme it changes nothing; "
                                 "docs/validation.md). Raise it to model monitoring that also coaches",
                                 ge=0, le=5)
    control_damping: float = param(0.5, "share of slippage prevented", "Leaders who watch for drift stop "
                                   "managers tightening control after an incident and damp the direct pull of "
                                   "prescription and the decay of unreinforced habits (assumption)",
                                   ge=0, le=0.95)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        return (("reinforcement", self.reinforcement * strength), ("control_damping", self.control_damping * strength))
