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

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param
from culturedrift.model.state import MANAGER


class TurnoverParams(Strict):
    labour_market_pressure: float = param(1.0, "ratio to the English average", "Scenario input, fitted to an "
                                          "authority's vacancy rate by `culturedrift authority`; documented range "
                                          "0.7-1.4 (DfE 2023 fitted: North East 0.82, Yorkshire and The Humber "
                                          "0.96, England 1.09, North West 1.14, with a margin on each side)", gt=0,
                                          le=5)
    market_exit_elasticity: float = param(0.1, "dimensionless", "Exit hazard ~ pressure^e. Regions differ "
                                          "two-fold in vacancy but by a point or two in turnover (DfE 2023), so "
                                          "leaving responds far less to the market than filling posts does; inside "
                                          "the ABC-SMC 95% posterior 0.07-1.36 (data/patterns.yaml, "
                                          "data/posterior_labour_market.csv; docs/validation.md, Labour market)",
                                          ge=0, le=5)
    market_recruit_elasticity: float = param(2.5, "dimensionless", "Permanent recruitment ~ pressure^-e; inside the "
                                             "ABC-SMC 95% posterior 0.01-3.9 (not identified by the DfE 2023 regional "
                                             "cross-section; data/posterior_labour_market.csv)", ge=0, le=5)
    base_exit_hazard: float = param(0.0020, "per week", "Pattern-oriented ABC-SMC (DfE 2023 regional turnover "
                                    "14.2-15.9%, leaver tenure, stability; data/patterns.yaml): 95% posterior "
                                    "0.0010-0.0034; chosen inside it as the best fit on fresh seeds "
                                    "(docs/validation.md, Labour market)", ge=0, le=1)
    early_tenure_excess: float = param(2.2, "multiplier", "Leavers are concentrated early in tenure: 63-70% of "
                                       "leavers have under five years' service (DfE 2017-2022); hazard ~3.2x at "
                                       "entry. ABC-SMC 95% posterior 0-4.8 (not identified); chosen inside it so the "
                                       "leaver tenure pattern is met (docs/validation.md, Labour market)", ge=0,
                                       le=20)
    early_tenure_weeks: float = param(104.0, "weeks", "Time constant of the early-tenure excess (assumption)",
                                      gt=0, le=1040)
    intention_weight: float = param(3.0, "per unit intention", "Hazard ~ exp(w (intention - ref)) (assumption)",
                                    ge=0, le=20)
    intention_hazard_cap: float = param(2.0, "multiplier", "Most people who intend to leave do not do so within a "
                                        "year: intention predicts leaving only moderately (r ~0.4; Griffeth, Hom & "
                                        "Gaertner 2000 meta-analysis), so intention at most doubles the hazard "
                                        "(assumption for the size). Stops the turnover spiral: a disaffected "
                                        "workforce leaves faster, not without limit", ge=1, le=20)
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
    recruitment_min_weeks: int = param(10, "weeks", "Advert, interview, notice period (assumption; an earlier "
                                       "national calibration accepted 4-16, i.e. the workforce figures do not "
                                       "identify it apart from the fill hazard)", ge=0, le=260)
    permanent_fill_hazard: float = param(0.0176, "per week", "Vacancy rate 10.9-20.5% across the DfE 2023 regions; "
                                         "inside the ABC-SMC 95% posterior 0.008-0.044 (data/"
                                         "posterior_labour_market.csv)", ge=0, le=1)
    agency_worker_cover_hazard: float = param(0.488, "per week", "A locum is found in ~2 weeks (assumption); inside "
                                              "the ABC-SMC 95% posterior 0.057-0.74, not identified: the budget caps "
                                              "agency cover more than the hazard does (data/"
                                              "posterior_labour_market.csv)", ge=0, le=1)
    agency_worker_cover: bool = param(True, "policy", "Whether vacant posts may be covered by agency staff")
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
    """Decides who moves: exits, permanent recruitment and agency cover (the host carries the moves out)."""

    name = "turnover"
    title = "Turnover and recruitment"
    category = "2a turnover"
    extra_streams = ("recruitment",)
    owns = (
        PersonState("tenure", "Weeks in post", on_hire=0.0),
        PersonState("intention", "Turnover intention, 0-1", on_hire="new_hire_intention"),
        PersonState("leaver_exposure", "Recent loss of colleagues, tie-weighted", on_hire=0.0),
        PersonState("vacant_since", "Week the post lost its permanent holder"),
    )
    channels = (
        Channel("exit_hazard_multiplier", "multiplier", "Retention measures' effect on permanent staff's exit "
                "hazard", neutral=1.0, combine="multiply"),
        Channel("overflow_open", "bool, per team", "Teams whose overflow slots a caseload cap has opened",
                per="team", dtype="bool", remember=True),
        Channel("overflow_share", "share of overflow slots", "Share of an open team's overflow slots in use",
                per="organisation", neutral=1.0),
    )
    publishes = (
        Signal("leavers", "people per week", "People who left this week"),
        Signal("leavers_permanent", "people per week", "Permanent staff who left this week"),
        Signal("joiners", "people per week", "People who joined this week"),
        Signal("agency_worker_hires_refused", "slots per week", "Agency cover the budget could not buy this week "
               "(counted per weekly attempt per empty slot)"),
    )

    def init_state(self) -> None:
        """Who is in post at the start, since when, and who is an agency worker."""
        p, s = self.pars, self.state
        self.rng_recruit = self.model.streams["recruitment"]
        self.market_exit = p.labour_market_pressure ** p.market_exit_elasticity
        self.fill_hazard = min(p.permanent_fill_hazard * p.labour_market_pressure ** -p.market_recruit_elasticity, 1)
        r = self.rng
        s.tenure[:] = r.exponential(p.initial_tenure_weeks, s.n)
        s.intention[:] = p.intention_base
        vacant = s.staff_post & (r.random(s.n) < p.initial_vacancy)
        covered = vacant & (r.random(s.n) < p.initial_agency_worker_cover) & p.agency_worker_cover
        s.filled[:] = (s.is_post & ~vacant) | covered
        s.agency_worker[:] = covered
        # an assignment's elapsed time averages 1 / exit hazard; agency workers who never leave (hazard 0,
        # inside the declared range) are given the permanent staff's mean instead of an infinite one
        h = p.agency_worker_exit_hazard
        s.tenure[covered] = r.exponential(1.0 / h if h > 0 else p.initial_tenure_weeks, int(covered.sum()))
        s.vacant_since[:] = np.where(vacant, -r.uniform(0, 2.0 / max(self.fill_hazard, 1e-3), s.n), 0.0)
        self.overflow = s.staff & ~s.is_post
        k = self.model.layout.overflow_slots_per_team
        # position of each overflow slot within its team's overflow, as a share (a cap opens the first ones)
        self.overflow_rank = np.full(s.n, np.inf)
        if k:
            idx = np.flatnonzero(self.overflow)
            self.overflow_rank[idx] = (np.arange(idx.size) % k + 0.5) / k
        self.role_factor = np.where(s.role == MANAGER, p.manager_hazard_factor, 1.0)
        self.publish(leavers=0, leavers_permanent=0, joiners=0, agency_worker_hires_refused=0)

    # --- people moving (loops only over this week's movers) ---
    def on_leave(self, slots: np.ndarray) -> None:
        """Colleagues feel the departure; a permanent leaver's post starts its vacancy."""
        if self.model.compiled:
            return compiled.turnover_leave(self, slots)
        m, s, net, sig = self.model, self.state, self.model.network, self.signals
        # each colleague feels the departure in proportion to the tie's share of their ties
        e = net.row_entries(slots)
        nb = net.col[e]
        np.add.at(s.leaver_exposure, nb, net.w[e] / np.maximum(sig.neighbour_sums[nb, 2], 1e-9))
        permanent = slots[~s.agency_worker[slots] & s.staff[slots]]
        s.vacant_since[permanent] = m.week
        self.publish(leavers=sig.leavers + int(slots.size),
                     leavers_permanent=sig.leavers_permanent + int(permanent.size))

    def on_join(self, slots: np.ndarray) -> None:
        """Count the week's joiners."""
        self.publish(joiners=self.signals.joiners + int(slots.size))

    # --- weekly step ---
    def step(self) -> None:
        if self.model.compiled:
            return compiled.turnover_step(self)
        m, p, s = self.model, self.pars, self.state
        self.publish(leavers=0, leavers_permanent=0, joiners=0, agency_worker_hires_refused=0)
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
        h *= np.minimum(np.exp(p.intention_weight * (s.intention - p.intention_ref)), p.intention_hazard_cap)
        mult = self.effects.exit_hazard_multiplier
        h *= mult
        h = np.where(s.agency_worker, p.agency_worker_exit_hazard * mult, h)
        h = np.where(s.partner, p.partner_exit_hazard, h)
        # ... and, leaving with them, agency workers in overflow slots the caseload cap has closed
        u_fill, u_agency_worker = self.rng_recruit.random(s.n), self.rng_recruit.random(s.n)
        eff = self.effects
        open_overflow = (eff.overflow_open[np.maximum(s.team, 0)] & self.overflow
                         & (self.overflow_rank < eff.overflow_share))
        m.leave(np.flatnonzero(s.filled & ((u < h) | (self.overflow & ~open_overflow))))

        # permanent recruitment to posts without a permanent holder (the agency worker's contract ends);
        # partner agencies refill their own posts
        waiting = (s.is_post & s.staff & (~s.filled | s.agency_worker)
                   & (m.week - s.vacant_since >= p.recruitment_min_weeks))
        arrive = np.flatnonzero(waiting & (u_fill < self.fill_hazard))
        m.leave(arrive[s.agency_worker[arrive]])
        refill = np.flatnonzero(s.partner & ~s.filled & (u_fill < p.partner_refill_hazard))
        m.join(np.concatenate((arrive, refill)), agency_worker=False)

        # agency cover of empty posts (and open overflow slots), as the week's budget headroom allows
        if p.agency_worker_cover or open_overflow.any():
            empty = ~s.filled & ((s.staff_post & p.agency_worker_cover) | open_overflow)
            cand = np.flatnonzero(empty & (u_agency_worker < p.agency_worker_cover_hazard))
            m.join(cand[: self.affordable(cand)], agency_worker=True)

    def affordable(self, candidates: np.ndarray) -> int:
        """How many of the candidate slots (in order) the budget's hiring headroom pays for this week."""
        if candidates.size == 0:
            return 0
        cost = self.signals.agency_worker_weekly_cost[candidates]
        n = int(np.searchsorted(np.cumsum(cost), self.signals.hiring_headroom, side="right"))
        self.publish(agency_worker_hires_refused=int(candidates.size - n))
        return n
