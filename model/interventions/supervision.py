"""Reflective supervision: the Review's main lever for professional judgement (Munro 2011 ch.6)."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class ReflectiveSupervision(Intervention):
    kind: Literal["reflective_supervision"] = "reflective_supervision"
    cost_per_week: float = param(5.0, "GBP thousand per week", "Supervisor training and protected time "
                                 "(assumption)", ge=0, le=1000)
    reinforcement: float = param(0.6, "reinforcement units", "Regular reflection on practice reinforces "
                                 "judgement (Munro 2011; assumption for the size)", ge=0, le=5)
    support: float = param(0.003, "morale per week", "Evidence range 0-0.004 a week: supervision's supportive "
                           "function and job satisfaction r ~ 0.2-0.3 (Mor Barak et al. 2009); weak evidence "
                           "of effects on workers (Carpenter et al. 2013); the default is an assumption "
                           "within it (docs/validation.md, support effects)", ge=0, le=0.1)
    time_cost: float = param(0.02, "share of working time", "About 1.5 hours a fortnight (assumption)", ge=0, le=0.5)
    ramp_weeks: float = param(39.0, "weeks", "Supervisors must learn to supervise reflectively before it reinforces "
                              "judgement: its reinforcement builds up linearly over this period (most supervision "
                              "in English children's services remained case management, Wilkins, Forrester & "
                              "Grant 2017; assumption for the length)", ge=0, le=520)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        built = min((model.week - self.start_week + 1) / self.ramp_weeks, 1.0) if self.ramp_weeks > 0 else 1.0
        return (("reinforcement", self.reinforcement * strength * max(built, 0.0)),
                ("support", self.support * strength), ("time_cost", self.time_cost * strength))
