"""Struct-of-arrays state: one slot per post, owned by the model (Mesa agents are handles on slots)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FRONTLINE, MANAGER, PARTNER = 0, 1, 2
ROLE_NAMES = ("frontline", "manager", "partner")


@dataclass
class Staff:
    """All per-person state, indexed by slot. Vacant slots keep their post attributes."""

    role: np.ndarray  # int8: FRONTLINE / MANAGER / PARTNER
    team: np.ndarray  # int32: team index (partners: -1)
    partner_group: np.ndarray  # int32: partner agency index (staff: -1)
    is_post: np.ndarray  # bool: an established post (False for overflow slots opened by a caseload cap)
    n_learning: int  # number of changes with a learning curve (rows of proficiency)
    filled: np.ndarray = field(init=False)
    agency_worker: np.ndarray = field(init=False)  # holder is an agency worker (a locum paid through an agency)
    morale: np.ndarray = field(init=False)
    compliance_habit: np.ndarray = field(init=False)  #: 1 = procedure and control, 0 = judgement
    intention: np.ndarray = field(init=False)  # turnover intention
    tenure: np.ndarray = field(init=False)  # weeks in post
    caseload: np.ndarray = field(init=False)
    workload: np.ndarray = field(init=False)  # caseload relative to capacity
    capacity: np.ndarray = field(init=False)  # cases the person can hold to standard
    direct_time: np.ndarray = field(init=False)  # share of time with children and families
    change_load: np.ndarray = field(init=False)
    sustained_pressure: np.ndarray = field(init=False)  # smoothed excess workload (goal erosion)
    leaver_exposure: np.ndarray = field(init=False)  # recent loss of colleagues, tie-weighted
    vacant_since: np.ndarray = field(init=False)  # week the post lost its permanent holder
    proficiency: np.ndarray = field(init=False)  # (learning changes, slots): one contiguous row per change
    # effect buffers written by interventions each week
    support: np.ndarray = field(init=False)
    reinforcement: np.ndarray = field(init=False)
    learning_boost: np.ndarray = field(init=False)
    hazard_mult: np.ndarray = field(init=False)
    time_cost: np.ndarray = field(init=False)
    change_buffer: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.role.size
        self.filled = np.zeros(n, bool)
        self.agency_worker = np.zeros(n, bool)
        for name in ("morale", "compliance_habit", "intention", "tenure", "caseload", "workload", "capacity",
                     "direct_time", "change_load", "sustained_pressure", "leaver_exposure", "support",
                     "reinforcement", "learning_boost", "time_cost", "change_buffer"):
            setattr(self, name, np.zeros(n))
        self.hazard_mult = np.ones(n)
        self.vacant_since = np.zeros(n)
        self.proficiency = np.ones((max(self.n_learning, 1), n))
        self.frontline = self.role == FRONTLINE
        self.manager = self.role == MANAGER
        self.partner = self.role == PARTNER
        self.staff = ~self.partner  # the organisation's own employees
        self.staff_post = self.staff & self.is_post

    @property
    def n(self) -> int:
        """Number of slots."""
        return int(self.role.size)

    def reset_effects(self) -> None:
        """Clear last week's intervention effects."""
        for a in (self.support, self.reinforcement, self.learning_boost, self.time_cost, self.change_buffer):
            a.fill(0.0)
        self.hazard_mult.fill(1.0)
