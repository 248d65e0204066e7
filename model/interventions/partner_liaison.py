"""Partner liaison: joint meetings and co-location that rebuild inter-agency ties."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class PartnerLiaison(Intervention):
    kind: Literal["partner_liaison"] = "partner_liaison"
    target: Literal["all", "frontline", "partners"] = "all"
    cost_per_week: float = param(3.0, "GBP thousand per week", "Liaison officers, joint training (assumption)",
                                   ge=0, le=1000)
    tie_boost: float = param(1.5, "multiplier on inter-agency tie building", "Assumption", ge=0, le=20)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        return (("interagency_boost", self.tie_boost * strength),)
