"""Training for new systems and processes: shortens learning curves at the cost of some working time."""

from __future__ import annotations

from typing import Literal

import numpy as np

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class Training(Intervention):
    kind: Literal["training"] = "training"
    cost_per_week: float = param(6.0, "GBP thousand per week", "Trainers, super-users, backfill (assumption)",
                                   ge=0, le=1000)
    learning_boost: float = param(1.5, "multiplier on learning rate", "Training more than doubles the learning "
                                  "rate (assumption)", ge=0, le=20)
    time_cost: float = param(0.02, "share of working time", "Time in training sessions (assumption)", ge=0, le=0.5)

    def effect(self, model, whom: np.ndarray, strength: float) -> None:
        model.add_effect("learning_boost", whom, self.learning_boost * strength)
        model.add_effect("time_cost", whom, self.time_cost * strength)
