"""3. Day-to-day leadership under a tight budget: scheduled interventions and the quarterly budget.

Each week the budget first pays for agency workers already in post (contracted; a premium over a
permanent salary for agency staff in posts, the full cost for supernumerary overflow workers).
What remains of the quarter's budget, spread over its remaining weeks, funds the active
interventions; if they would exceed it, all are scaled down by the same factor and the unfunded
part is recorded as shortfall. Whatever is still left allows new agency hires this week. Spending
above the weekly allowance (agency contracts already running) is recorded as overspend.
"""

from __future__ import annotations

import numpy as np

from culturedrift.model.base import Mechanism, Strict, param

WEEKS_PER_QUARTER = 13


class BudgetParams(Strict):
    quarterly_budget: float = param(400.0, "GBP thousand per quarter", "Discretionary workforce budget covering "
                                    "the agency premium and leadership interventions (assumption: pays for "
                                    "~15% agency cover with room for a modest programme)", ge=0, le=1e6)
    agency_worker_premium_per_week: float = param(0.75, "GBP thousand per agency worker per week", "Agency social "
                                           "workers cost ~1.5-1.7x a permanent one (LGA/DfE agency "
                                           "reports); ~GBP 39k a year more", ge=0, le=100)
    overflow_cost_per_week: float = param(1.9, "GBP thousand per worker per week", "Full cost of a "
                                          "supernumerary agency social worker (assumption)", ge=0, le=100)


class Leadership(Mechanism):
    """Runs the budget and delivers the active interventions each week."""

    name = "leadership"

    def init(self) -> None:
        m = self.model
        self.interventions = list(m.spec.interventions)
        self.remaining = self.pars.quarterly_budget
        self.allowance = 0.0
        self.headroom = 0.0
        self.spend = 0.0
        self.agency_worker_spend = 0.0
        self.intervention_spend = 0.0
        self.shortfall = 0.0
        self.overspend = 0.0
        self.scale = 1.0
        self.agency_refused = 0

    def committed(self) -> float:
        """This week's cost of agency workers already in post."""
        s, p = self.model.state, self.pars
        in_posts = int(np.count_nonzero(s.agency_worker & s.is_post))
        overflow = int(np.count_nonzero(s.agency_worker & ~s.is_post))
        return in_posts * p.agency_worker_premium_per_week + overflow * p.overflow_cost_per_week

    def step(self) -> None:
        m, p, s = self.model, self.pars, self.model.state
        week = m.week
        if week % WEEKS_PER_QUARTER == 0:
            self.remaining = p.quarterly_budget
        weeks_left = WEEKS_PER_QUARTER - week % WEEKS_PER_QUARTER
        self.allowance = max(self.remaining, 0.0) / weeks_left
        committed = self.committed()
        active = [iv for iv in self.interventions if iv.active(week)]
        levels = [iv.delivered_intensity(m) for iv in active]
        demand = sum(iv.weekly_cost(lv) for iv, lv in zip(active, levels, strict=True))
        available = max(self.allowance - committed, 0.0)
        self.scale = min(1.0, available / demand) if demand > 0 else 1.0
        funded = demand * self.scale
        self.shortfall = demand - funded
        s.reset_effects()
        m.slippage.damping = 0.0
        m.relationships.interagency_boost = 0.0
        m.overflow_was_open = m.overflow_open.copy()
        m.overflow_open[:] = False
        for iv, lv in zip(active, levels, strict=True):
            iv.effect(m, iv.whom(m), lv * self.scale)
        self.agency_worker_spend = committed
        self.intervention_spend = funded
        self.headroom = max(self.allowance - committed - funded, 0.0)
        self.spend = committed + funded
        self.overspend = max(self.spend - self.allowance, 0.0)
        self.remaining -= self.spend
        self.agency_refused = 0

    def agency_worker_hires_allowed(self, candidates: np.ndarray, overflow: np.ndarray) -> int:
        """How many of the candidate slots (in order) this week's headroom can pay for."""
        if candidates.size == 0:
            return 0
        p = self.pars
        cost = np.where(overflow[candidates], p.overflow_cost_per_week, p.agency_worker_premium_per_week)
        n = int(np.searchsorted(np.cumsum(cost), self.headroom, side="right"))
        self.headroom -= float(cost[:n].sum())
        self.agency_refused += candidates.size - n  # cover the budget could not buy this week
        return n
