"""Mesa agents as thin handles on model-owned array slots.

Each person is a Mesa `Agent` holding the slot of the post they fill; every attribute is a
property reading (and writing) the model's arrays, so AgentSet selection and aggregation,
DataCollector agent reporters and SolaraViz see the same state the vectorised step updates.
A leaver's agent is removed; the post keeps its slot and the next holder is a new agent.
The model makes the agents the first time anyone looks at them (`model.agents`, `model.agent_at`), so a
run that only reads the arrays never pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from culturedrift.model.state import ROLE_NAMES

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel


def _slot_property(array: str, doc: str) -> property:
    def get(self: Person) -> float:
        return float(getattr(self.model.state, array)[self.slot])

    def set_(self: Person, value: float) -> None:
        getattr(self.model.state, array)[self.slot] = value

    return property(get, set_, doc=doc)


class Person(mesa.Agent):
    """Someone holding a post (slot); state lives in the model's arrays."""

    model: CultureDriftModel

    def __init__(self, model: CultureDriftModel, slot: int) -> None:
        super().__init__(model)
        self.slot = int(slot)

    morale = _slot_property("morale", "Morale, 0-1.")
    compliance_habit = _slot_property("compliance_habit", "1 = procedure-driven compliance, 0 = judgement.")
    turnover_intention = _slot_property("intention", "Turnover intention, 0-1.")
    tenure_weeks = _slot_property("tenure", "Weeks in post.")
    caseload = _slot_property("caseload", "Open cases held.")
    workload = _slot_property("workload", "Caseload relative to capacity.")
    time_with_children = _slot_property("direct_time", "Share of working time with children and families.")
    change_load = _slot_property("change_load", "Share of working time taken by changes this week.")

    @property
    def role(self) -> str:
        """frontline, manager or partner."""
        return ROLE_NAMES[int(self.model.state.role[self.slot])]

    @property
    def team(self) -> int:
        """Team index (partners: -1)."""
        return int(self.model.state.team[self.slot])

    @property
    def employment(self) -> str:
        """permanent or agency_worker."""
        return "agency_worker" if self.model.state.agency_worker[self.slot] else "permanent"

    @property
    def proficiency(self) -> np.ndarray:
        """Proficiency with each change that has a learning curve (copy)."""
        return self.model.state.proficiency[:, self.slot].copy()


class FrontlineWorker(Person):
    """A case-holding social worker."""


class Manager(Person):
    """A team manager; their control style socialises the team."""


class PartnerWorker(Person):
    """Police, health or education staff the social workers work with."""

    @property
    def partner_agency(self) -> str:
        """The partner agency they belong to."""
        return self.model.layout.partner_agency_names[int(self.model.state.partner_group[self.slot])]
