"""Interventions: *when and to whom* (delivery, common to all) and *what they do* (effect, per class).

A new kind is one class in one file of this package: subclass `Intervention`, give it a
`kind: Literal["name"] = "name"` field, its effect parameters and either `deliveries()` (what it adds to
which effect channel for everyone it reaches: leadership delivers all such interventions of a week in one
compiled pass) or `effect()` (anything else, run as written). It is registered automatically and becomes
usable in scenario files by its kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import model_validator

from culturedrift.model.base import Kinded, param
from culturedrift.model.groups import Group, group_slots

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel

REGISTRY: dict[str, type[Intervention]] = {}


class Intervention(Kinded):
    """Delivery: start, end or recurrence, target group, intensity and weekly cost."""

    label: str | None = param(None, "text", "Name shown in reports")
    start_week: int = param(0, "week", "First week it runs", ge=0, le=5200)
    end_week: int | None = param(None, "week", "First week it no longer runs (none = to the horizon)", ge=1)
    every_weeks: int | None = param(None, "weeks", "Recurring: repeat every this many weeks", ge=1)
    active_weeks: int = param(1, "weeks", "Recurring: weeks it runs in each cycle", ge=1, le=5200)
    target: Group = param("staff", "group", "Who receives it: those of the group in post (model/groups.py)")
    intensity: float = param(1.0, "multiplier", "Strength of delivery (1 = the typical programme)", ge=0, le=5)
    cost_per_week: float = param(0.0, "GBP thousand per week at intensity 1", "Per class", ge=0, le=1000)

    registry: ClassVar[dict[str, type[Intervention]]] = REGISTRY

    @model_validator(mode="after")
    def _window(self) -> Intervention:
        if self.end_week is not None and self.end_week <= self.start_week:
            raise ValueError(f"end_week ({self.end_week}) must be after start_week ({self.start_week})")
        if self.every_weeks is not None and self.active_weeks > self.every_weeks:
            raise ValueError("active_weeks cannot exceed every_weeks")
        return self

    @property
    def name(self) -> str:
        """Label for reports."""
        return self.label or self.kind

    def active(self, week: int) -> bool:
        """When: inside its window and, if recurring, in the active part of the cycle."""
        if week < self.start_week or (self.end_week is not None and week >= self.end_week):
            return False
        return self.every_weeks is None or (week - self.start_week) % self.every_weeks < self.active_weeks

    def whom(self, model: CultureDriftModel) -> np.ndarray:
        """To whom: a mask over slots of filled positions in the target group."""
        s = model.state
        return group_slots(s, self.target, model.signals.induction_weeks) & s.filled

    def delivered_intensity(self, model: CultureDriftModel) -> float:
        """Intensity delivered this week before budget scaling (fixed; an adaptive kind reads what leaders see)."""
        return self.intensity

    def weekly_cost(self, intensity: float | None = None) -> float:
        """Cost this week if fully funded (GBP thousand), at `intensity` (default: the declared one)."""
        return self.cost_per_week * (self.intensity if intensity is None else intensity)

    def deliveries(self, model: CultureDriftModel, strength: float) -> tuple[tuple[str, float], ...]:
        """What it adds to (or multiplies into) each effect channel this week for everyone it reaches, in order
        (`strength` is intensity scaled down by the budget). A kind whose effect is of this form declares only this;
        leadership then delivers every such intervention of the week in one compiled pass. A kind whose effect is
        not (another set of people, a rule of its own) overrides `effect` instead."""
        raise NotImplementedError(f"{type(self).__name__} declares neither deliveries() nor effect()")

    def effect(self, model: CultureDriftModel, whom: np.ndarray, strength: float) -> None:
        """What it does this week; `strength` is intensity scaled down by the budget."""
        for name, amount in self.deliveries(model, strength):
            model.add_effect(name, whom, amount)
