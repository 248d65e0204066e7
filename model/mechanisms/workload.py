"""Workload (Munro's systems analysis): demand, capacity, caseloads and time with children.

Referrals arrive at each team in proportion to its posts and are shared among the team's case
holders in proportion to their capacity, so a vacancy raises the caseload of those who remain.
A person's time is split into recording/procedure (rising with the compliance habit and with new
systems), change work, supervision and other duties; what is left is direct work with children
and families. Capacity (cases held to standard) rises with direct time and falls with
inexperience and with a system not yet mastered. Cases above capacity form a backlog that closes
at capacity only, so overload persists: the service-standard indicator is the share of open cases
being worked within capacity. A system not yet mastered also slows the progress of every case worked
(closures scale with the team's mean productivity), so caseloads build up during a switchover.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param


class WorkloadParams(Strict):
    demand_cases_per_post: float = param(16.8, "open cases per frontline post", "Calibrated (rejection ABC, "
                                         "experiments/workflows/validation/calibration.py; accepted 15.7-18.1): "
                                         "16-18 cases per case holder (DfE 2013-2023)", gt=0, le=1000)
    case_duration_weeks: float = param(20.0, "weeks", "Mean time a case stays open when worked to standard "
                                       "(assumption; child-in-need episodes last months, DfE CIN census)",
                                       gt=1, le=520)
    capacity_cases: float = param(20.0, "cases per worker", "Cases an experienced worker can hold to standard "
                                  "at the reference direct time, counting the unpaid overtime people actually "
                                  "give. Placed from evidence: at the national 16-18 cases children's social "
                                  "workers work ~6 h a week unpaid (DfE longitudinal study of child and family "
                                  "social workers, waves 2019-2022) and up to ~11 h (Ravalier & Boichat 2018, "
                                  "BASW/SWU survey), i.e. ~116% of contracted hours out of a sustainable "
                                  "maximum of ~130%: case holders at ~0.89 of capacity (docs/validation.md, "
                                  "operating point)", gt=0, le=100)
    reference_direct_time: float = param(0.30, "share of working time", "Munro 2011 and Holmes et al. 2009: about "
                                         "a quarter to a third of time is spent with children and families",
                                         gt=0, le=1)
    direct_time_elasticity: float = param(0.5, "dimensionless", "Capacity ~ (direct time / reference)^e; "
                                          "assumption (diminishing returns)", ge=0, le=2)
    recording_base: float = param(0.25, "share of working time", "Recording any practice needs (assumption)",
                                  ge=0, le=1)
    recording_per_compliance: float = param(0.35, "share of working time per unit habit", "Procedure-driven "
                                            "practice spends up to 60% of time on recording (Munro 2011, ch.2; "
                                            "Holmes et al. 2009)", ge=0, le=1)
    other_time: float = param(0.20, "share of working time", "Travel, meetings, training (assumption)",
                              ge=0, le=1)
    change_time_per_load: float = param(0.6, "share per unit change load", "Part of the disruption displaces other "
                                        "duties rather than direct work; the rest comes out of "
                                        "direct work (assumption)", ge=0, le=2)
    sickness_absence: float = param(0.03, "share of working time", "DfE workforce statistics: ~3% sickness "
                                    "absence", ge=0, le=0.5)
    novice_penalty: float = param(0.4, "share of capacity", "New starters hold protected caseloads (ASYE "
                                  "guidance: ~10% lighter in year 1, plus induction); assumption", ge=0, le=1)
    agency_worker_novice_penalty: float = param(0.2, "share of capacity", "Agency staff are experienced but new to the "
                                         "authority (assumption)", ge=0, le=1)
    induction_weeks: float = param(26.0, "weeks", "Time constant of the novice penalty (assumption)", gt=0, le=520)
    pressure_smoothing_weeks: float = param(13.0, "weeks", "Time constant over which excess workload is "
                                            "felt as sustained pressure (a quarter; assumption)", ge=1, le=520)
    gatekeeping: float = param(1.0, "per unit team overload", "Thresholds rise when a team is stretched: accepted "
                               "referrals fall as 1/(1 + g * overload) (Munro 2011 ch.7; assumption for the size)",
                               ge=0, le=20)
    min_direct_time: float = param(0.02, "share of working time", "Floor on direct work", ge=0, le=1)


class Workload(Mechanism):
    """Allocates each team's cases to its case holders and updates time use and capacity."""

    name = "workload"
    title = "Workload"
    category = "Munro's workload submodel"
    owns = (
        PersonState("caseload", "Open cases held", on_leave=0.0),
        PersonState("workload", "Caseload relative to capacity", on_leave=0.0),
        PersonState("capacity", "Cases the person can hold to standard", on_leave=0.0),
        PersonState("direct_time", "Share of working time with children and families"),
        PersonState("sustained_pressure", "Smoothed excess workload (goal erosion)", on_hire=0.0),
    )
    channels = (Channel("time_cost", "share of working time", "Working time interventions take (training, "
                        "supervision)"),)
    publishes = (
        Signal("team_cases", "cases, per team", "Open cases of each team"),
        Signal("team_capacity", "cases, per team", "Cases each team can hold to standard"),
        Signal("service_standard", "share of open cases", "Share of open cases worked within capacity"),
        Signal("backlog", "cases", "Open cases above the teams' capacity"),
        Signal("reference_direct_time", "share of working time", "Direct time at which capacity is as rated"),
        Signal("induction_weeks", "weeks", "Induction period: staff this new count as new hires"),
    )

    def init(self) -> None:
        m, p, s = self.model, self.pars, self.state
        t = m.layout.n_teams
        posts = np.bincount(s.team[s.frontline & s.is_post], minlength=t).astype(float)
        self.referral_rate = posts * p.demand_cases_per_post / p.case_duration_weeks  # cases per team per week
        self.publish(team_cases=posts * p.demand_cases_per_post, team_capacity=np.zeros(t), backlog=0.0,
                     service_standard=1.0, reference_direct_time=p.reference_direct_time,
                     induction_weeks=p.induction_weeks)
        self.update_capacity()
        self.allocate()

    def update_capacity(self) -> None:
        """Time use and capacity for every slot from habit, change load and learning curves."""
        if self.model.compiled:
            return compiled.workload_capacity(self)
        s, p, sig = self.state, self.pars, self.signals
        recording = p.recording_base + p.recording_per_compliance * s.compliance_habit + sig.extra_recording
        used = p.other_time + recording + p.change_time_per_load * s.change_load + self.effects.time_cost
        np.subtract(1.0, used, out=s.direct_time)
        s.direct_time *= 1.0 - p.sickness_absence
        np.maximum(s.direct_time, p.min_direct_time, out=s.direct_time)
        novice = np.where(s.agency_worker, p.agency_worker_novice_penalty, p.novice_penalty)
        novice = novice * np.exp(-s.tenure / p.induction_weeks)
        cap = (s.direct_time / p.reference_direct_time) ** p.direct_time_elasticity
        cap *= p.capacity_cases * sig.productivity
        cap *= 1.0 - novice
        s.capacity[:] = cap * (s.frontline & s.filled)

    def allocate(self) -> None:
        """Share each team's cases among its case holders in proportion to capacity."""
        if self.model.compiled:
            return compiled.workload_allocate(self)
        s, t = self.state, self.model.layout.n_teams
        team_capacity = np.bincount(s.team[s.frontline], weights=s.capacity[s.frontline], minlength=t)
        self.publish(team_capacity=team_capacity)
        ratio = self.signals.team_cases / np.maximum(team_capacity, 1e-9)
        holders = s.frontline & s.filled
        team = np.maximum(s.team, 0)
        np.multiply(ratio[team], holders, out=s.workload)
        np.multiply(s.workload, s.capacity, out=s.caseload)
        excess = np.maximum(s.workload - 1.0, 0.0)
        s.sustained_pressure += (excess - s.sustained_pressure) / self.pars.pressure_smoothing_weeks

    def step(self) -> None:
        if self.model.compiled:
            return compiled.workload_step(self)
        p, sig = self.pars, self.signals
        self.update_capacity()
        cases, capacity = sig.team_cases, sig.team_capacity
        overload = np.maximum(cases / np.maximum(capacity, 1e-9) - 1.0, 0.0)
        accepted = self.referral_rate / (1.0 + p.gatekeeping * overload)
        referrals = self.rng.poisson(accepted)
        worked = np.minimum(cases, capacity)
        closures = worked * self.team_pace() / p.case_duration_weeks
        cases += referrals - closures
        total = cases.sum()
        backlog = float(total - np.minimum(cases, capacity).sum())
        self.publish(backlog=backlog, service_standard=float(1.0 - backlog / total) if total > 0 else 1.0)
        self.allocate()

    def team_pace(self) -> np.ndarray:
        """Speed at which each team's cases progress: its case holders' mean productivity with new systems.

        A system not yet mastered slows every case (assessments and records take longer), not only the
        cases above capacity, so open caseloads build up during a switchover (Shaw et al. 2009 on the ICS).
        """
        s, t, sig = self.state, self.model.layout.n_teams, self.signals
        if not sig.learning_live:
            return np.ones(t)
        prod = sig.productivity
        holders = s.frontline & s.filled
        n = np.bincount(s.team[holders], minlength=t)
        tot = np.bincount(s.team[holders], weights=prod[holders], minlength=t)
        return np.where(n > 0, tot / np.maximum(n, 1), 1.0)

    def on_restructure(self) -> None:
        """Redistribute open cases to the reshaped teams in proportion to their posts."""
        s = self.state
        team_posts = np.bincount(s.team[s.frontline & s.is_post], minlength=self.model.layout.n_teams)
        total = self.signals.team_cases.sum()
        self.publish(team_cases=total * team_posts / team_posts.sum())
