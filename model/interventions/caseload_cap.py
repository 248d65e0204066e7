"""Caseload cap via agency staff: teams above the cap may bring in supernumerary agency workers."""

from __future__ import annotations

from typing import Literal

import numpy as np

from culturedrift.model.base import param
from culturedrift.model.interventions.base import Intervention


class CaseloadCap(Intervention):
    kind: Literal["caseload_cap"] = "caseload_cap"
    target: Literal["frontline"] = "frontline"
    cost_per_week: float = param(0.0, "GBP thousand per week", "Management only; the agency workers are "
                                 "charged by the budget", ge=0, le=1000)
    cap_cases: float = param(18.0, "cases per case holder", "Top of the national range (DfE 16-18)", gt=0, le=200)
    release_fraction: float = param(0.85, "share of the cap", "Overflow closes when caseloads fall below this "
                                    "share of the cap (hysteresis; assumption)", gt=0, le=1)

    def effect(self, model, whom: np.ndarray, strength: float) -> None:
        s, t = model.state, model.layout.n_teams
        holders = s.frontline & s.filled
        n = np.bincount(s.team[holders], minlength=t)
        per_holder = model.signals.team_cases / np.maximum(n, 1)
        over = per_holder > self.cap_cases
        keep = model.last_effects.overflow_open & (per_holder > self.release_fraction * self.cap_cases)
        # intensity = share of each team's overflow slots that may open
        model.effects.overflow_open[:] = over | keep
        model.effects.overflow_share = min(strength, 1.0)
