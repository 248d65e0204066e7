"""Staff engagement and communication: explains the changes, buffers change fatigue, starts the culture shift."""

from __future__ import annotations

from typing import Literal

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class Engagement(Intervention):
    kind: Literal["engagement"] = "engagement"
    cost_per_week: float = param(3.0, "GBP thousand per week", "Briefings, staff forums, a communications "
                                 "officer (assumption)", ge=0, le=1000)
    change_buffer: float = param(0.3, "share of change fatigue removed", "People who understand a change "
                                 "resist it less (Kotter 1996; assumption)", ge=0, le=0.9)
    support: float = param(0.002, "morale per week", "Evidence range 0-0.004 a week: supervision's supportive "
                           "function and job satisfaction r ~ 0.2-0.3 (Mor Barak et al. 2009); weak evidence "
                           "of effects on workers (Carpenter et al. 2013); the default is an assumption "
                           "within it (docs/validation.md, support effects)", ge=0, le=0.1)
    reinforcement: float = param(0.2, "reinforcement units", "Leaders explaining the why (assumption)", ge=0, le=5)

    def deliveries(self, model, strength: float) -> tuple[tuple[str, float], ...]:
        return (("change_buffer", self.change_buffer * strength), ("support", self.support * strength),
                ("reinforcement", self.reinforcement * strength))
