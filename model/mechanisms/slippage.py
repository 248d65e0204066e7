"""2b. Culture slippage: old habits creep back toward the compliance-and-control attractor.

Four forces, each weekly:
  - decay of unreinforced culture toward an attractor that blends local prescription and the
    sector's compliance culture (Harrison & Carroll 1991); in a team whose norm has tipped to the new
    culture (culture.py) the attractor is the team's own norm, and the tipped team damps slippage
    itself, as vigilance does;
  - external pressure: inspections and serious incidents (scheduled and random) raise local
    prescription P, which relaxes back to the policy level; P pushes managers' control first,
    and staff through them;
  - goal erosion: sustained workload pressure makes people fall back on procedure
    (Oliva & Sterman 2001);
  - managers under performance pressure tighten control; culture vigilance damps this.
All updates are exponential approaches (model/numerics.py), so tension and habits stay in [0, 1] for
every rate in its declared range, and managers' control is derived from the updated, bounded habit.
Munro's balancing loop is here too: cases not worked to standard become visible omissions that
raise prescription, and compliance (recording everything) hides omissions.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param
from culturedrift.model.numerics import approach


class SlippageParams(Strict):
    initial_prescription: float = param(0.7, "0-1", "Pre-Review prescription: heavy national and local "
                                        "procedure (Munro 2011 ch.1; assumption for the level)", ge=0, le=1)
    prescription_relax_rate: float = param(0.05, "per week", "Extra procedure after an event fades with a "
                                           "~14-week half-life (assumption)", ge=0, le=1)
    prescription_weight: float = param(0.5, "0-1", "Weight of local prescription (vs the sector's culture) in "
                                       "the attractor unreinforced habits decay to (assumption)", ge=0, le=1)
    decay_rate: float = param(0.003, "per week", "Decay of unreinforced culture toward the old attractor: "
                              "half-life ~4 years before a team's norm has tipped. Improvement 'evaporates' "
                              "over years, not weeks, once support ends (Buchanan et al. 2005 'No going back'; "
                              "Harrison & Carroll 1991); new hires bring old habits as a second channel. "
                              "Assumption for the size, checked by docs/validation.md P2", ge=0, le=1)
    staff_pressure_rate: float = param(0.02, "per week per unit excess prescription", "Direct push of "
                                       "prescription on staff habits (assumption)", ge=0, le=1)
    goal_erosion_rate: float = param(0.02, "per week per unit sustained excess workload", "Oliva & Sterman "
                                     "2001: standards erode over months to years of sustained pressure (at a "
                                     "sustained excess of 0.1 the pull has a time constant of ~10 years; "
                                     "assumption for the size, checked by docs/validation.md P1-P2)", ge=0, le=1)
    tighten_rate: float = param(0.1, "per week per unit pressure", "Managers tighten control under "
                                "performance pressure (assumption)", ge=0, le=2)
    tension_relax_rate: float = param(0.05, "per week", "Control tension fades when pressure lifts "
                                      "(assumption)", ge=0, le=1)
    omission_sensitivity: float = param(0.05, "prescription per week per unit omissions", "Visible omissions "
                                        "bring more procedure (Munro 2011 ch.2; assumption)", ge=0, le=1)
    omission_masking: float = param(0.5, "0-1", "How far compliance (recording everything) hides omissions "
                                    "(assumption)", ge=0, le=1)
    incident_rate_per_year: float = param(0.3, "events per year", "Serious incidents reaching the press "
                                          "(assumption; serious case reviews are rare for one authority)",
                                          ge=0, le=52)
    incident_magnitude: float = param(0.15, "prescription units", "Assumption", ge=0, le=1)
    inspection_interval_weeks: int | None = param(None, "weeks", "Routine inspections (Ofsted ILACS: about "
                                                  "every 3 years = 156); none by default", ge=1)
    inspection_magnitude: float = param(0.1, "prescription units", "Assumption", ge=0, le=1)
    overload_pressure_cap: float = param(1.0, "pressure units", "Most pressure a team's overload puts on its "
                                         "manager (assumption: overload beyond double capacity adds no more)",
                                         ge=0, le=10)


class Slippage(Mechanism):
    """Prescription, manager control tension and the forces that pull habits back to compliance."""

    name = "slippage"
    title = "Culture slippage"
    category = "2b slippage"
    owns = (
        PersonState("control_tension", "Control a manager adds under pressure (0-1)", on_hire=0.0),
        PersonState("manager_control", "Control style: compliance habit plus tension on the gap to full control"),
    )
    channels = (
        Channel("control_damping", "share of tightening prevented", "Culture vigilance: leaders who watch for "
                "drift stop managers tightening control", per="organisation", cap=0.95,
                source="assumption: vigilance never removes all tightening"),
        Channel("prescription_jump", "prescription units", "Scheduled inspections and serious incidents this "
                "week (model/events.py)", per="organisation"),
    )
    publishes = (Signal("prescription", "0-1", "Local prescription: procedure demanded by policy, inspections, "
                        "incidents and visible omissions"),)

    def init(self) -> None:
        s, p = self.state, self.pars
        self.publish(prescription=p.initial_prescription)
        self.policy = p.initial_prescription
        s.manager_control[:] = s.compliance_habit
        self.staff = s.staff.astype(float)
        self.mgr = s.manager
        self.incident_p = 1.0 - np.exp(-p.incident_rate_per_year / 52.0)
        self.team_of_manager = np.maximum(s.team, 0)

    def pulse(self, size: float) -> None:
        """A sudden rise in local prescription (an inspection or incident shock outside the schedule)."""
        self.publish(prescription=min(self.signals.prescription + size, 1.0))

    def step(self) -> None:
        if self.model.compiled:
            return compiled.slippage_step(self)
        p, s, sig = self.pars, self.state, self.signals
        week = self.model.week
        self.policy = min(max(p.initial_prescription + sig.prescription_shift, 0.0), 1.0)
        jump = self.effects.prescription_jump
        if self.rng.random() < self.incident_p:
            jump += p.incident_magnitude
        if p.inspection_interval_weeks and week > 0 and week % p.inspection_interval_weeks == 0:
            jump += p.inspection_magnitude
        staff = s.staff & s.filled
        c_mean = float(s.compliance_habit[staff].mean()) if staff.any() else 0.0
        omissions = (1.0 - sig.service_standard) * (1.0 - p.omission_masking * c_mean)
        P = sig.prescription + jump + p.omission_sensitivity * omissions
        P += p.prescription_relax_rate * (self.policy - P)
        P = min(max(P, 0.0), 1.0)
        self.publish(prescription=P)
        excess_p = max(P - self.policy, 0.0)
        # managers feel prescription and their team's overload first
        overload = np.maximum(sig.team_cases / np.maximum(sig.team_capacity, 1e-9) - 1.0, 0.0)
        pressure = (excess_p + np.minimum(overload, p.overload_pressure_cap)[self.team_of_manager]) * self.mgr
        # guard: the share of slippage that gets through. Vigilance damps it; so does a team whose norm has
        # tipped, whose members and manager then watch for drift themselves (the culture sustains itself)
        w = sig.norm_sustain
        guard = (1.0 - self.effects.control_damping) * (1.0 - sig.norm_protection * w)
        # tension: exponential approach to the balance of tightening and relaxing (stays in [0, 1])
        drive = p.tighten_rate * pressure * guard
        approach(s.control_tension, [drive, p.tension_relax_rate], [1.0, 0.0])
        c = s.compliance_habit
        old = p.prescription_weight * P + (1.0 - p.prescription_weight) * sig.sector_habit
        # a team whose norm has tipped decays toward its own norm, not back to the old culture
        attractor = w * sig.team_norm + (1.0 - w) * old
        approach(c, [p.decay_rate * guard * self.staff,
                     p.staff_pressure_rate * excess_p * guard * self.staff,
                     p.goal_erosion_rate * s.sustained_pressure * self.staff],
                 [attractor, 1.0, 1.0])
        # derived from the bounded habit: control = habit plus tension on the gap to full control
        np.multiply(s.control_tension, 1.0 - c, out=s.manager_control)
        s.manager_control += c
