"""Recognition: thanks, awards and visible appreciation that lift morale."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class Recognition(Intervention):
    kind: Literal["recognition"] = "recognition"
    cost_per_week: float = param(2.0, "GBP thousand per week", "Awards, events (assumption)", ge=0, le=1000)
    support: float = param(0.003, "morale per week", "Evidence range 0-0.004 a week: supervision's supportive "
                           "function and job satisfaction r ~ 0.2-0.3 (Mor Barak et al. 2009); weak evidence "
                           "of effects on workers (Carpenter et al. 2013); the default is an assumption "
                           "within it (docs/validation.md, support effects)", ge=0, le=0.1)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        return (("support", self.support * strength),)
