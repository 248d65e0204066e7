"""Reflective supervision: the Review's main lever for professional judgement (Munro 2011 ch.6)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class ReflectiveSupervision(Intervention):
    kind: Literal["reflective_supervision"] = "reflective_supervision"
    cost_per_week: float = param(5.0, "GBP thousand per week", "Supervisor training and protected time "
                                 "(assumption)", ge=0)
    reinforcement: float = param(0.6, "reinforcement units", "Regular reflection on practice reinforces "
                                 "judgement (Munro 2011; assumption for the size)", ge=0, le=5)
    support: float = param(0.003, "morale per week", "Feeling supported (assumption)", ge=0, le=0.1)
    time_cost: float = param(0.02, "share of working time", "About 1.5 hours a fortnight (assumption)", ge=0, le=0.5)

    def effect(self, model, whom: np.ndarray, strength: float) -> None:
        model.add_effect("reinforcement", whom, self.reinforcement * strength)
        model.add_effect("support", whom, self.support * strength)
        model.add_effect("time_cost", whom, self.time_cost * strength)
