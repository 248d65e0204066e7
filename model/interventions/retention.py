"""Retention measures: pay supplements, career progression, flexible working."""

from __future__ import annotations

from typing import Literal

import numpy as np

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class Retention(Intervention):
    kind: Literal["retention"] = "retention"
    cost_per_week: float = param(8.0, "GBP thousand per week", "A market supplement for ~200 staff "
                                 "(~GBP 2k a year each; assumption)", ge=0, le=1000)
    hazard_reduction: float = param(0.25, "share of exit hazard", "Assumption (retention payments reduce "
                                    "quits modestly)", ge=0, le=0.95)
    min_hazard_factor: float = param(0.05, "multiplier", "Retention measures never remove more than 95% of "
                                     "the exit hazard (assumption)", gt=0, le=1)
    support: float = param(0.003, "morale per week", "Evidence range 0-0.004 a week: supervision's supportive "
                           "function and job satisfaction r ~ 0.2-0.3 (Mor Barak et al. 2009); weak evidence "
                           "of effects on workers (Carpenter et al. 2013); the default is an assumption "
                           "within it (docs/validation.md, support effects)", ge=0, le=0.1)

    def effect(self, model, whom: np.ndarray, strength: float) -> None:
        permanent = whom & ~model.state.agency_worker
        model.add_effect("exit_hazard_multiplier", permanent,
                         max(1.0 - self.hazard_reduction * strength, self.min_hazard_factor))
        model.add_effect("support", permanent, self.support * strength)
