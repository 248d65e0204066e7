"""Training for new systems and processes: shortens learning curves at the cost of some working time."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class Training(Intervention):
    kind: Literal["training"] = "training"
    cost_per_week: float = param(6.0, "GBP thousand per week", "Trainers, super-users, backfill (assumption)",
                                   ge=0, le=1000)
    learning_boost: float = param(1.5, "multiplier on learning rate", "Training more than doubles the learning "
                                  "rate (assumption)", ge=0, le=20)
    time_cost: float = param(0.02, "share of working time", "Time in training sessions (assumption)", ge=0, le=0.5)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        return (("learning_boost", self.learning_boost * strength), ("time_cost", self.time_cost * strength))
