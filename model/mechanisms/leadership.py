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

from culturedrift.model import compiled
from culturedrift.model.base import Mechanism, Signal, Strict, param

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
    title = "Budget"
    category = "3 leadership"
    publishes = (
        Signal("spend", "GBP thousand per week", "Discretionary spend this week (row 0: nothing yet)"),
        Signal("agency_worker_spend", "GBP thousand per week", "Agency workers' premium and overflow cost"),
        Signal("intervention_spend", "GBP thousand per week", "Funded cost of the active interventions"),
        Signal("overspend", "GBP thousand per week", "Spend above this week's allowance"),
        Signal("shortfall", "GBP thousand per week", "Intervention cost the budget could not fund"),
        Signal("hiring_headroom", "GBP thousand per week", "Budget left this week for new agency workers"),
        Signal("agency_worker_weekly_cost", "GBP thousand per week, per slot", "What an agency worker in the "
               "slot costs the budget: the premium in a post, the full cost in an overflow slot"),
    )

    def init(self) -> None:
        p, s = self.pars, self.state
        self.budget = p.quarterly_budget
        self.remaining = p.quarterly_budget
        self.allowance = 0.0
        self.scale = 1.0
        self.publish(spend=0.0, agency_worker_spend=0.0, intervention_spend=0.0, overspend=0.0, shortfall=0.0,
                     hiring_headroom=0.0,
                     agency_worker_weekly_cost=np.where(s.is_post, p.agency_worker_premium_per_week,
                                                        p.overflow_cost_per_week))

    def set_budget(self, quarterly_budget: float, at_once: bool = False) -> None:
        """A new quarterly budget from the next quarter on (a scheduled budget change); `at_once` also moves
        what is left of this quarter by the change, pro rata to the weeks left, so a cut bites this week."""
        old, week = self.budget, self.model.week
        self.budget = quarterly_budget
        if at_once and week % WEEKS_PER_QUARTER:  # at a quarter start the step itself resets to the new budget
            self.remaining += (quarterly_budget - old) * (WEEKS_PER_QUARTER - week % WEEKS_PER_QUARTER) \
                / WEEKS_PER_QUARTER

    def committed(self) -> float:
        """This week's cost of agency workers already in post."""
        s, p = self.state, self.pars
        if self.model.compiled:
            in_posts, overflow = self.model.kernels.agency_workers(s.agency_worker, s.is_post)
        else:
            in_posts = int(np.count_nonzero(s.agency_worker & s.is_post))
            overflow = int(np.count_nonzero(s.agency_worker)) - in_posts
        return in_posts * p.agency_worker_premium_per_week + overflow * p.overflow_cost_per_week

    def step(self) -> None:
        m = self.model
        week = m.week
        if week % WEEKS_PER_QUARTER == 0:
            self.remaining = self.budget
        weeks_left = WEEKS_PER_QUARTER - week % WEEKS_PER_QUARTER
        self.allowance = max(self.remaining, 0.0) / weeks_left
        committed = self.committed()
        active = [iv for iv in m.interventions if iv.active(week)]
        if not active:  # nothing to fund or deliver (every week of a run without interventions): 0 + 0.0 as below
            self.scale = 1.0
            self.publish(shortfall=0.0, agency_worker_spend=committed, intervention_spend=0.0,
                         hiring_headroom=max(self.allowance - committed - 0.0, 0.0), spend=committed + 0.0,
                         overspend=max(committed + 0.0 - self.allowance, 0.0))
            self.remaining -= committed + 0.0
            return
        levels = [iv.delivered_intensity(m) for iv in active]
        demand = sum([iv.weekly_cost(lv) for iv, lv in zip(active, levels, strict=True)])
        available = max(self.allowance - committed, 0.0)
        self.scale = min(1.0, available / demand) if demand > 0 else 1.0
        funded = demand * self.scale
        if m.compiled:
            compiled.deliver(self, active, levels)
        else:
            for iv, lv in zip(active, levels, strict=True):
                iv.effect(m, iv.whom(m), lv * self.scale)
        spend = committed + funded
        self.publish(shortfall=demand - funded, agency_worker_spend=committed, intervention_spend=funded,
                     hiring_headroom=max(self.allowance - committed - funded, 0.0), spend=spend,
                     overspend=max(spend - self.allowance, 0.0))
        self.remaining -= spend
