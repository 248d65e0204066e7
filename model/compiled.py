"""The compiled weekly step of each mechanism: the same update as its numpy code, through model/kernels.py.

Each function takes the mechanism and does exactly what its numpy `step` does, in the same order and
with the same random draws from the same streams, but with the per-slot arithmetic fused into one
compiled loop. The numpy code stays the readable reference; `tests/test_kernels.py` holds the two to
the same bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from culturedrift.model import kernels as k

if TYPE_CHECKING:
    from culturedrift.model.mechanisms.culture import Culture
    from culturedrift.model.mechanisms.morale import Morale
    from culturedrift.model.mechanisms.relationships import Relationships
    from culturedrift.model.mechanisms.slippage import Slippage
    from culturedrift.model.mechanisms.turnover import Turnover
    from culturedrift.model.mechanisms.workload import Workload
    from culturedrift.model.model import CultureDriftModel


def neighbour_sums(model: CultureDriftModel) -> None:
    """Tie-weighted sums of colleagues' morale and habit, and tie strength (the CSR product, fused)."""
    s, mat = model.state, model.network.mat
    if model.neighbour_sums.shape != (s.n, 3):
        model.neighbour_sums = np.zeros((s.n, 3))
    k.neighbour_sums(mat.indptr, mat.indices, mat.data, s.morale, s.compliance_habit, model.neighbour_sums)


def morale_step(mech: Morale) -> None:
    """Morale.step, compiled."""
    p, s, m = mech.pars, mech.model.state, mech.model
    nb = m.neighbour_sums
    noise = mech.rng.normal(0.0, p.noise_sd, s.n)
    k.morale_step(s.morale, nb[:, 0], nb[:, 2], m.relationships.baseline_row, s.change_load, s.change_buffer,
                  s.workload, s.direct_time, mech.case_holder, mech.staff, s.leaver_exposure, s.support, noise,
                  p.baseline, p.recovery_rate, p.contagion_rate, p.change_effect, p.reference_change_load,
                  p.change_fatigue, p.workload_threshold, p.workload_effect, p.direct_time_effect, mech.ref,
                  p.fragmentation_effect, p.leaver_effect)


def culture_step(mech: Culture) -> None:
    """Culture.step, compiled."""
    p, s, m = mech.pars, mech.model.state, mech.model
    nb = m.neighbour_sums
    k.culture_step(s.compliance_habit, nb[:, 1], nb[:, 2], mech.staff, s.frontline, s.reinforcement, mech.sustain,
                   mech.norm_of, mech.mgr_of, s.filled, m.slippage.manager_control, m.slippage.prescription, s.team,
                   s.tenure, m.layout.manager_slot, mech.norm, p.coworker_rate, p.manager_rate, p.reinforcement_rate,
                   p.conformity_rate, p.target_habit, p.norm_weeks, p.norm_threshold, p.norm_steepness,
                   p.manager_norm_weight)


def slippage_step(mech: Slippage) -> None:
    """Slippage.step, compiled (the organisation-wide prescription stays in Python: a handful of scalars)."""
    p, s, m = mech.pars, mech.model.state, mech.model
    week = m.week
    mech.policy = min(max(p.initial_prescription + m.change_programme.prescription_shift, 0.0), 1.0)
    jump = mech.scheduled.get(week, 0.0)
    if mech.rng.random() < mech.incident_p:
        jump += p.incident_magnitude
    if p.inspection_interval_weeks and week > 0 and week % p.inspection_interval_weeks == 0:
        jump += p.inspection_magnitude
    c_mean = k.masked_mean(s.compliance_habit, s.staff & s.filled, np.empty(s.n))
    c_mean = 0.0 if np.isnan(c_mean) else float(c_mean)
    omissions = (1.0 - m.workload.service_standard) * (1.0 - p.omission_masking * c_mean)
    P = mech.prescription + jump + p.omission_sensitivity * omissions
    P += p.prescription_relax_rate * (mech.policy - P)
    mech.prescription = P = min(max(P, 0.0), 1.0)
    excess_p = max(P - mech.policy, 0.0)
    sector = m.culture.pars.sector_habit
    old = p.prescription_weight * P + (1.0 - p.prescription_weight) * sector
    wl = m.workload
    k.slippage_step(s.compliance_habit, mech.tension, mech.manager_control, m.culture.sustain, m.culture.norm_of,
                    mech.staff, mech.mgr, mech.team_of_manager, s.sustained_pressure, wl.team_cases, wl.team_capacity,
                    excess_p, mech.damping, m.culture.pars.norm_protection, p.tighten_rate, p.tension_relax_rate,
                    old, p.decay_rate, p.staff_pressure_rate, p.goal_erosion_rate)


def turnover_step(mech: Turnover) -> None:
    """Turnover.step, compiled: intention, tenure and hazards fused; leaving and hiring as in the reference."""
    m, p, s = mech.model, mech.pars, mech.model.state
    mech.leavers_permanent = mech.leavers = mech.joiners = 0
    h = k.turnover_hazards(s.intention, s.tenure, s.leaver_exposure, s.morale, s.workload, mech.role_factor,
                           s.hazard_mult, s.agency_worker, s.partner, p.leaver_exposure_decay, p.intention_base,
                           p.intention_morale, p.intention_morale_ref, p.intention_workload, p.intention_leavers,
                           p.intention_rate, p.base_exit_hazard * mech.market_exit, p.early_tenure_excess,
                           p.early_tenure_weeks, p.intention_weight, p.intention_ref, p.intention_hazard_cap,
                           p.agency_worker_exit_hazard, p.partner_exit_hazard)
    u = mech.rng.random(s.n)
    u_fill, u_agency_worker = mech.rng_recruit.random(s.n), mech.rng_recruit.random(s.n)
    open_overflow = m.overflow_open[np.maximum(s.team, 0)] & mech.overflow & (mech.overflow_rank < m.overflow_share)
    mech.leave(np.flatnonzero(s.filled & ((u < h) | (mech.overflow & ~open_overflow))))
    waiting = (s.is_post & s.staff & (~s.filled | s.agency_worker)
               & (m.week - s.vacant_since >= p.recruitment_min_weeks))
    arrive = np.flatnonzero(waiting & (u_fill < mech.fill_hazard))
    mech.leave(arrive[s.agency_worker[arrive]])
    refill = np.flatnonzero(s.partner & ~s.filled & (u_fill < p.partner_refill_hazard))
    mech.hire(np.concatenate((arrive, refill)), agency_worker=False)
    if p.agency_worker_cover or open_overflow.any():
        empty = ~s.filled & ((s.staff_post & p.agency_worker_cover) | open_overflow)
        cand = np.flatnonzero(empty & (u_agency_worker < p.agency_worker_cover_hazard))
        cand = cand[: m.leadership.agency_worker_hires_allowed(cand, open_overflow)]
        mech.hire(cand, agency_worker=True)


def workload_capacity(mech: Workload) -> None:
    """Workload.update_capacity, compiled."""
    s, p, cp = mech.model.state, mech.pars, mech.model.change_programme
    k.workload_capacity(s.compliance_habit, cp.extra_recording, s.change_load, s.time_cost, s.agency_worker, s.tenure,
                        cp.productivity, s.frontline, s.filled, s.direct_time, s.capacity, p.recording_base,
                        p.recording_per_compliance, p.other_time, p.change_time_per_load, p.sickness_absence,
                        p.min_direct_time, p.agency_worker_novice_penalty, p.novice_penalty, p.induction_weeks,
                        p.reference_direct_time, p.direct_time_elasticity, p.capacity_cases)


def workload_allocate(mech: Workload) -> None:
    """Workload.allocate, compiled."""
    s = mech.model.state
    mech.team_capacity = k.workload_allocate(s.team, s.frontline, s.filled, s.capacity, mech.team_cases, s.workload,
                                             s.caseload, s.sustained_pressure, mech.pars.pressure_smoothing_weeks)


def workload_step(mech: Workload) -> None:
    """Workload.step, compiled (the few team-level numbers stay numpy: one value per team)."""
    p, m = mech.pars, mech.model
    workload_capacity(mech)
    overload = np.maximum(mech.team_cases / np.maximum(mech.team_capacity, 1e-9) - 1.0, 0.0)
    accepted = mech.referral_rate / (1.0 + p.gatekeeping * overload)
    referrals = mech.rng.poisson(accepted)
    worked = np.minimum(mech.team_cases, mech.team_capacity)
    cp = m.change_programme
    if cp.live.any():
        s = m.state
        pace = k.team_pace(s.team, s.frontline, s.filled, cp.productivity, m.layout.n_teams)
        closures = worked * pace / p.case_duration_weeks
    else:
        closures = worked * np.ones(m.layout.n_teams) / p.case_duration_weeks
    mech.team_cases += referrals - closures
    total = mech.team_cases.sum()
    mech.backlog = float(total - np.minimum(mech.team_cases, mech.team_capacity).sum())
    mech.service_standard = float(1.0 - mech.backlog / total) if total > 0 else 1.0
    workload_allocate(mech)


def relationships_step(mech: Relationships) -> None:
    """Relationships.step, compiled: ties build in one pass; the rare inter-agency boost as in the reference."""
    w = mech.model.network.w
    k.build_ties(w, mech.rate)
    if mech.interagency_boost > 0:
        ia = mech._ia
        extra = np.minimum(mech.rate[ia] * mech.interagency_boost, 1.0)
        w[ia] += (1.0 - w[ia]) * extra
    mech.measure()
