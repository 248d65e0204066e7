"""2a. Morale: recovery toward a baseline, peer contagion over ties, and the pressures of change.

Weekly change per person:
    dm = recovery (baseline - m) + contagion (tie-weighted peer mean - m)
         - change_effect * (load / reference load)^fatigue * (1 - engagement buffer)
         - workload_effect * max(0, workload - threshold)
         + direct_time_effect * (time with children - reference)      [case holders]
         - fragmentation_effect * personal fragmentation
         - leaver_effect * recent loss of colleagues
         + support from interventions + noise

The update is bounded (model/numerics.py): recovery and contagion are pulls toward their targets, and
the net of the other terms is a pull toward 1 (if positive) or 0 (if negative) whose size equals the
explicit step at the baseline morale, so no input in its declared range can push morale past 0 or 1
(only the small noise term is clipped).
"""

from __future__ import annotations

import numpy as np

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Strict, param
from culturedrift.model.numerics import approach, drive_rates


class MoraleParams(Strict):
    baseline: float = param(0.65, "0-1", "Morale at rest; staff surveys report ~60-70% satisfied (LGA social "
                            "work health check; assumption)", ge=0, le=1)
    recovery_rate: float = param(0.05, "per week", "Half-life of a morale shock ~14 weeks (assumption)", ge=0, le=1)
    contagion_rate: float = param(0.05, "per week", "Pull toward the tie-weighted mean of colleagues "
                                  "(emotional contagion, Barsade 2002; assumption)", ge=0, le=1)
    change_effect: float = param(0.0019, "morale per week at the reference change load", "Change fatigue "
                                 "(assumption; sized so a big-bang programme costs ~0.1-0.2 more morale than "
                                 "a phased one, the same weekly effect as before the rescaling)", ge=0, le=0.05)
    reference_change_load: float = param(0.1, "share of working time", "Change load at which the fatigue "
                                         "exponent has no effect: about two changes at once (assumption); "
                                         "above it overlapping changes hurt more than their sum", gt=0, le=1)
    change_fatigue: float = param(1.5, "exponent", "Overlapping changes hurt more than their sum (>1; "
                                  "assumption): fatigue ~ (load / reference load)^exponent", ge=1, le=3)
    workload_threshold: float = param(0.95, "workload ratio", "Caseload share of capacity above which workload "
                                      "hurts (assumption)", ge=0, le=3)
    workload_effect: float = param(0.04, "morale per week per unit excess", "Assumption", ge=0, le=1)
    direct_time_effect: float = param(0.05, "morale per week per unit direct-time share", "Time with children "
                                      "is why people do the job (Munro 2011 ch.6; assumption)", ge=0, le=2)
    fragmentation_effect: float = param(0.01, "morale per week per unit fragmentation", "Assumption", ge=0, le=1)
    leaver_effect: float = param(0.04, "morale per week per unit exposure", "Colleagues leaving lowers morale "
                                 "(assumption)", ge=0, le=1)
    noise_sd: float = param(0.01, "morale per week", "Idiosyncratic weekly variation (assumption)", ge=0, le=0.2)
    new_hire_morale: float = param(0.7, "0-1", "New starters' morale (assumption)", ge=0, le=1)


class Morale(Mechanism):
    """Vectorised weekly morale update."""

    name = "morale"
    title = "Morale"
    category = "2a morale"
    owns = (PersonState("morale", "Morale, 0-1", on_hire="new_hire_morale"),)
    channels = (
        Channel("support", "morale per week", "Morale added by interventions (recognition, supervision...)"),
        Channel("change_buffer", "share of change fatigue removed", "Engagement that explains the changes",
                cap=0.9, source="assumption: some fatigue always remains"),
    )

    def init_state(self) -> None:
        self.state.morale[:] = self.pars.baseline

    def init(self) -> None:
        s = self.state
        self.case_holder = s.frontline.astype(float)
        self.staff = s.staff.astype(float)

    def nudge(self, size: float) -> None:
        """Everyone's morale moves by `size` at once (a scheduled morale nudge)."""
        s = self.state
        s.morale[s.staff & s.filled] = np.clip(s.morale[s.staff & s.filled] + size, 0.0, 1.0)

    def step(self) -> None:
        if self.model.compiled:
            return compiled.morale_step(self)
        p, s, sig = self.pars, self.state, self.signals
        nb, rowsum = sig.neighbour_sums[:, 0], sig.neighbour_sums[:, 2]
        mor = s.morale
        has = rowsum > 1e-9
        peer = np.where(has, nb / np.where(has, rowsum, 1.0), mor)
        base_row = sig.baseline_tie_strength
        frag = np.where(base_row > 1e-9, np.maximum(1.0 - rowsum / np.maximum(base_row, 1e-9), 0.0), 0.0)
        pressure = p.change_effect * (s.change_load / p.reference_change_load) ** p.change_fatigue
        pressure *= 1.0 - self.effects.change_buffer
        pressure += p.workload_effect * np.maximum(s.workload - p.workload_threshold, 0.0)
        pressure -= p.direct_time_effect * (s.direct_time - sig.reference_direct_time) * self.case_holder
        pressure += p.fragmentation_effect * frag * self.staff
        pressure += p.leaver_effect * s.leaver_exposure
        up, down = drive_rates(self.effects.support - pressure, p.baseline)
        approach(mor, [p.recovery_rate, p.contagion_rate, up, down], [p.baseline, peer, 1.0, 0.0])
        mor += self.rng.normal(0.0, p.noise_sd, s.n)
        np.clip(mor, 0.0, 1.0, out=mor)
