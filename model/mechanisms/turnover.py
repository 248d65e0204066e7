"""2a. Turnover and recruitment: who leaves, how long posts stay vacant, and agency cover.

Turnover intention moves toward a target set by morale, excess workload and colleagues leaving.
The weekly exit hazard of a permanent holder is
    h = base * (1 + early_excess * exp(-tenure / early_weeks)) * market^e * exp(w (intention - ref))
      * role factor * intervention multiplier,
highest early in tenure. Agency workers leave at their own (higher) hazard. A permanent leaver
opens a vacancy; after a minimum recruitment delay a permanent hire arrives with a weekly hazard
that falls with labour-market pressure. Meanwhile the post may be covered by an agency worker
(faster, dearer, weaker ties), when policy and budget allow. Partner workers leave and are
replaced by their own agencies.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model.base import Mechanism, Strict, param, stream
from culturedrift.model.state import MANAGER


class TurnoverParams(Strict):
    labour_market_pressure: float = param(1.0, "ratio to the English average", "Scenario input: ~1.4 "
                                          "London-like, ~0.7 Yorkshire & Humber-like (DfE regional spread)",
                                          gt=0, le=5)
    market_exit_elasticity: float = param(1.0, "dimensionless", "Exit hazard ~ pressure^e (assumption)", ge=0, le=5)
    market_recruit_elasticity: float = param(1.0, "dimensionless", "Permanent recruitment ~ pressure^-e "
                                             "(assumption)", ge=0, le=5)
    base_exit_hazard: float = param(0.00229, "per week", "Calibrated (rejection ABC, experiments/validation/"
                                    "calibration.py; accepted 0.0017-0.0032): annual turnover 13.5-17.1% (DfE "
                                    "2013-2023)", ge=0, le=1)
    early_tenure_excess: float = param(1.41, "multiplier", "Leavers are concentrated early in tenure (DfE): "
                                       "hazard ~2.4x at entry; ABC posterior median, weakly identified by the "
                                       "workforce figures (accepted 0.07-2.9; experiments/validation/"
                                       "calibration.py)", ge=0, le=20)
    early_tenure_weeks: float = param(104.0, "weeks", "Time constant of the early-tenure excess (assumption)",
                                      gt=0, le=1040)
    intention_weight: float = param(3.0, "per unit intention", "Hazard ~ exp(w (intention - ref)) (assumption)",
                                    ge=0, le=20)
    intention_ref: float = param(0.3, "0-1", "Intention at which the hazard equals its base", ge=0, le=1)
    intention_rate: float = param(0.1, "per week", "Speed at which intention follows its drivers (assumption)",
                                  ge=0, le=1)
    intention_base: float = param(0.3, "0-1", "Intention when morale is at its reference (assumption)",
                                  ge=0, le=1)
    intention_morale: float = param(0.8, "per unit morale", "Rise in intention per unit of morale below the "
                                    "reference (assumption)", ge=0, le=5)
    intention_morale_ref: float = param(0.6, "0-1", "Reference morale (assumption)", ge=0, le=1)
    intention_workload: float = param(0.3, "per unit excess workload", "Assumption", ge=0, le=5)
    intention_leavers: float = param(0.5, "per unit exposure", "Turnover contagion: colleagues leaving "
                                     "(Felps et al. 2009; assumption)", ge=0, le=5)
    manager_hazard_factor: float = param(0.8, "multiplier", "Managers leave a little less often (assumption)",
                                         ge=0, le=5)
    agency_worker_exit_hazard: float = param(0.03, "per week", "Agency assignments last ~8 months (assumption; shorter "
                                      "stays, DfE facts)", ge=0, le=1)
    partner_exit_hazard: float = param(0.002, "per week", "~10% a year in police, health and schools "
                                       "(assumption)", ge=0, le=1)
    partner_refill_hazard: float = param(0.1, "per week", "Partner agencies refill in ~10 weeks (assumption)",
                                         ge=0, le=1)
    recruitment_min_weeks: int = param(10, "weeks", "Advert, interview, notice period; ABC posterior median, not "
                                       "identified by the workforce figures apart from the fill hazard (accepted "
                                       "4-16; experiments/validation/calibration.py)", ge=0, le=260)
    permanent_fill_hazard: float = param(0.0176, "per week", "Calibrated (rejection ABC, experiments/validation/"
                                         "calibration.py; accepted 0.012-0.026): vacancy rate 14-20% (DfE "
                                         "2013-2023)", ge=0, le=1)
    agency_worker_cover_hazard: float = param(0.488, "per week", "A locum is found in ~2 weeks; calibrated (rejection "
                                       "ABC, experiments/validation/calibration.py; accepted 0.14-0.78, the budget "
                                       "caps agency cover): agency worker rate 12-17.8% (DfE 2013-2023)", ge=0,
                                       le=1)
    agency_worker_cover: bool = param(True, "policy", "Whether vacant posts may be covered by agency staff")
    new_hire_morale: float = param(0.7, "0-1", "New starters' morale (assumption)", ge=0, le=1)
    new_hire_intention: float = param(0.2, "0-1", "New starters' turnover intention (assumption)", ge=0, le=1)
    initial_tenure_weeks: float = param(300.0, "weeks", "Mean tenure at the start: exponential with the "
                                        "baseline turnover (~6 years; careers average ~8 years, DfE facts)",
                                        gt=0, le=2080)
    initial_vacancy: float = param(0.16, "share of posts", "DfE vacancy rate 14-20%", ge=0, le=1)
    initial_agency_worker_cover: float = param(0.9, "share of vacancies", "Most vacancies are agency-covered (DfE "
                                        "agency 12-17.8% vs vacancy 14-20%)", ge=0, le=1)
    leaver_exposure_decay: float = param(0.85, "per week", "Share of a colleague's departure still felt a week "
                                         "later (~6-week memory; assumption)", ge=0, le=1)


class Turnover(Mechanism):
    """Exits, permanent recruitment and agency cover; the only place agents are created and removed."""

    name = "turnover"

    def init(self) -> None:
        m, p, s = self.model, self.pars, self.model.state
        self.rng_recruit = stream(m.seed, "recruitment")
        self.market_exit = p.labour_market_pressure ** p.market_exit_elasticity
        self.fill_hazard = min(p.permanent_fill_hazard * p.labour_market_pressure ** -p.market_recruit_elasticity, 1)
        r = self.rng
        s.tenure[:] = r.exponential(p.initial_tenure_weeks, s.n)
        s.morale[:] = m.morale.pars.baseline
        s.intention[:] = p.intention_base
        vacant = s.staff_post & (r.random(s.n) < p.initial_vacancy)
        covered = vacant & (r.random(s.n) < p.initial_agency_worker_cover) & p.agency_worker_cover
        s.filled[:] = (s.is_post & ~vacant) | covered
        s.agency_worker[:] = covered
        s.tenure[covered] = r.exponential(1.0 / p.agency_worker_exit_hazard, int(covered.sum()))
        s.vacant_since[:] = np.where(vacant, -r.uniform(0, 2.0 / max(self.fill_hazard, 1e-3), s.n), 0.0)
        self.overflow = s.staff & ~s.is_post
        k = m.spec.organisation.overflow_slots_per_team
        # position of each overflow slot within its team's overflow, as a share (a cap opens the first ones)
        self.overflow_rank = np.full(s.n, np.inf)
        if k:
            idx = np.flatnonzero(self.overflow)
            self.overflow_rank[idx] = (np.arange(idx.size) % k + 0.5) / k
        self.role_factor = np.where(s.role == MANAGER, p.manager_hazard_factor, 1.0)
        self.leavers_permanent = 0
        self.joiners = 0
        self.leavers = 0

    # --- people moving in and out (loops only over this week's movers) ---
    def leave(self, slots: np.ndarray) -> None:
        """Holders of `slots` leave: events, colleagues' exposure, ties cut, agents removed."""
        if slots.size == 0:
            return
        m, s, net = self.model, self.model.state, self.model.network
        m.record_events(slots, "leave")
        # each colleague feels the departure in proportion to the tie's share of their ties
        e = net.row_entries(slots)
        nb = net.col[e]
        np.add.at(s.leaver_exposure, nb, net.w[e] / np.maximum(m.neighbour_sums[nb, 2], 1e-9))
        m.relationships.cut(slots)
        permanent = slots[~s.agency_worker[slots] & s.staff[slots]]
        s.vacant_since[permanent] = m.week
        s.filled[slots] = False
        s.agency_worker[slots] = False
        s.caseload[slots] = 0.0
        s.workload[slots] = 0.0
        s.capacity[slots] = 0.0
        m.remove_agents(slots)
        self.leavers += int(slots.size)
        self.leavers_permanent += int(permanent.size)

    def hire(self, slots: np.ndarray, agency_worker: bool) -> None:
        """New people take `slots`: a new Mesa agent each, sector habits, weak ties."""
        if slots.size == 0:
            return
        m, p, s = self.model, self.pars, self.model.state
        s.filled[slots] = True
        s.agency_worker[slots] = agency_worker
        s.tenure[slots] = 0.0
        s.morale[slots] = p.new_hire_morale
        s.intention[slots] = p.new_hire_intention
        s.sustained_pressure[slots] = 0.0
        s.leaver_exposure[slots] = 0.0
        staff = slots[~s.partner[slots]]
        s.compliance_habit[staff] = m.culture.hire_habits(staff.size)
        s.compliance_habit[slots[s.partner[slots]]] = m.culture.pars.partner_habit
        m.slippage.tension[slots] = 0.0
        m.change_programme.new_hire_proficiency(slots)
        m.relationships.join(slots)
        m.add_agents(slots)
        m.record_events(slots, "join")
        self.joiners += int(slots.size)

    # --- weekly step ---
    def step(self) -> None:
        m, p, s = self.model, self.pars, self.model.state
        self.leavers_permanent = self.leavers = self.joiners = 0
        s.leaver_exposure *= p.leaver_exposure_decay
        target = p.intention_base + p.intention_morale * (p.intention_morale_ref - s.morale)
        target += p.intention_workload * np.maximum(s.workload - 1.0, 0.0)
        target += p.intention_leavers * s.leaver_exposure
        np.clip(target, 0.0, 1.0, out=target)
        s.intention += p.intention_rate * (target - s.intention)
        s.tenure += 1.0

        # exits: one uniform per slot every week, so strategies share their draws
        u = self.rng.random(s.n)
        h = p.base_exit_hazard * self.market_exit * self.role_factor
        h = h * (1.0 + p.early_tenure_excess * np.exp(-s.tenure / p.early_tenure_weeks))
        h *= np.exp(p.intention_weight * (s.intention - p.intention_ref))
        h *= s.hazard_mult
        h = np.where(s.agency_worker, p.agency_worker_exit_hazard * s.hazard_mult, h)
        h = np.where(s.partner, p.partner_exit_hazard, h)
        # ... and, leaving with them, agency workers in overflow slots the caseload cap has closed
        u_fill, u_agency_worker = self.rng_recruit.random(s.n), self.rng_recruit.random(s.n)
        open_overflow = m.overflow_open[np.maximum(s.team, 0)] & self.overflow & (self.overflow_rank < m.overflow_share)
        self.leave(np.flatnonzero(s.filled & ((u < h) | (self.overflow & ~open_overflow))))

        # permanent recruitment to posts without a permanent holder (the locum's contract ends);
        # partner agencies refill their own posts
        waiting = (s.is_post & s.staff & (~s.filled | s.agency_worker)
                   & (m.week - s.vacant_since >= p.recruitment_min_weeks))
        arrive = np.flatnonzero(waiting & (u_fill < self.fill_hazard))
        self.leave(arrive[s.agency_worker[arrive]])
        refill = np.flatnonzero(s.partner & ~s.filled & (u_fill < p.partner_refill_hazard))
        self.hire(np.concatenate((arrive, refill)), agency_worker=False)

        # agency cover of empty posts (and open overflow slots), as budget allows
        if p.agency_worker_cover or open_overflow.any():
            empty = ~s.filled & ((s.staff_post & p.agency_worker_cover) | open_overflow)
            cand = np.flatnonzero(empty & (u_agency_worker < p.agency_worker_cover_hazard))
            cand = cand[: m.leadership.agency_worker_hires_allowed(cand, open_overflow)]
            self.hire(cand, agency_worker=True)
