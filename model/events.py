"""Scheduled events: inspections, serious incidents, prescription pulses, morale nudges, leaver waves, budget
changes, interventions started or stopped and go-lives moved, as ordinary scenario entries (`events:`) or added
to a running model at the current week.

An event fires at the start of its week, before the mechanisms step, so the record up to that week is
the same as without it. A new kind is one class in this module (or any imported module): subclass
`Event`, give it a `kind: Literal["name"] = "name"` field, its parameters and `apply()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import SerializeAsAny, field_validator, model_validator

from culturedrift.model.base import Kinded, param
from culturedrift.model.interventions import REGISTRY, Intervention

if TYPE_CHECKING:
    from culturedrift.model.host import Host

EVENTS: dict[str, type[Event]] = {}


class Event(Kinded):
    """Something that happens to the organisation in one week."""

    week: int = param(0, "week", "When it happens (at the start of the week)", ge=0, le=5200)

    registry: ClassVar[dict[str, type[Event]]] = EVENTS

    def apply(self, host: Host) -> None:
        """What happens."""
        raise NotImplementedError

    def plan_changes(self, changes: list[Any]) -> list[Any]:
        """The change programme after this event (most events leave it alone); see `Scenario.planned`."""
        return changes

    def plan_interventions(self, interventions: list[Intervention]) -> list[Intervention]:
        """The interventions after this event (most events leave them alone); see `Scenario.planned`."""
        return interventions


class Inspection(Event):
    """An inspection: local prescription jumps when slippage next updates it."""

    kind: Literal["inspection"] = "inspection"
    magnitude: float = param(0.15, "prescription units", "Jump in local prescription (assumption)", ge=0, le=1)

    def apply(self, host: Host) -> None:
        host.add_effect("prescription_jump", None, self.magnitude)


class SeriousIncident(Inspection):
    """A serious incident reaching the press: like an inspection, a jump in local prescription."""

    kind: Literal["serious_incident"] = "serious_incident"  # type: ignore[assignment]


class PrescriptionPulse(Event):
    """A sudden rise in local prescription at once (capped at 1), e.g. to test how the system responds."""

    kind: Literal["prescription_pulse"] = "prescription_pulse"
    size: float = param(0.2, "prescription units", "Rise in local prescription", ge=0, le=1)

    def apply(self, host: Host) -> None:
        host.mechanism("slippage").pulse(self.size)


class MoraleNudge(Event):
    """Everyone's morale moves by `size` at once (clipped to 0-1)."""

    kind: Literal["morale_nudge"] = "morale_nudge"
    size: float = param(-0.1, "morale units", "Change in every staff member's morale", ge=-1, le=1)

    def apply(self, host: Host) -> None:
        host.mechanism("morale").nudge(self.size)


class LeaverWave(Event):
    """A share of the frontline social workers in post leave at once (the same people in every strategy)."""

    kind: Literal["leaver_wave"] = "leaver_wave"
    share: float = param(0.2, "share of frontline holders", "Who leave in the wave", ge=0, le=1)

    def apply(self, host: Host) -> None:
        s = host.state
        holders = np.flatnonzero(s.frontline & s.filled)
        # keyed by the seed alone (not a mechanism's stream), so every strategy loses the same people
        rng = np.random.default_rng([host.seed, 7919])
        k = round(self.share * holders.size)
        host.leave(np.sort(rng.choice(holders, k, replace=False)) if k else holders[:0])


# --- what the leadership team decides mid-run: the budget, programmes, go-live dates ---------------------

class BudgetChange(Event):
    """The quarterly budget changes (a council's in-year settlement or a cut announced by the leadership team)."""

    kind: Literal["budget_change"] = "budget_change"
    quarterly_budget: float = param(400.0, "GBP thousand per quarter", "The new quarterly budget", ge=0, le=1e6)
    at_once: bool = param(False, "yes/no", "Also move what is left of this quarter's budget by the change, pro "
                          "rata to the weeks left (a cut bites this week); otherwise it takes effect next quarter")

    def apply(self, host: Host) -> None:
        host.mechanism("leadership").set_budget(self.quarterly_budget, at_once=self.at_once)


class InterventionStart(Event):
    """An intervention is commissioned mid-run (e.g. a retention programme the leadership team starts).

    `intervention` is any intervention kind with its delivery; it runs from its own `start_week`, which cannot be
    before the event's week."""

    kind: Literal["intervention_start"] = "intervention_start"
    intervention: SerializeAsAny[Intervention]

    @field_validator("intervention", mode="before")
    @classmethod
    def _of_its_kind(cls, value: Any) -> Any:
        """A mapping becomes the intervention class its `kind` names (every registered kind)."""
        if isinstance(value, dict):
            kind = value.get("kind")
            if kind not in REGISTRY:
                raise ValueError(f"unknown intervention kind {kind!r}; choose from {sorted(REGISTRY)}")
            return REGISTRY[kind].model_validate(value)
        return value

    @model_validator(mode="after")
    def _not_before_the_event(self) -> InterventionStart:
        if self.intervention.start_week < self.week:
            raise ValueError(f"the intervention starts at week {self.intervention.start_week}, before the event "
                             f"(week {self.week})")
        return self

    def apply(self, host: Host) -> None:
        host.interventions = self.plan_interventions(host.interventions)

    def plan_interventions(self, interventions: list[Intervention]) -> list[Intervention]:
        return [*interventions, self.intervention]


class InterventionEnd(Event):
    """Every running or planned intervention of one kind stops from this week (e.g. culture vigilance withdrawn).

    One that has started ends here; one planned to start later is dropped."""

    kind: Literal["intervention_end"] = "intervention_end"
    intervention_kind: str = param("culture_vigilance", "intervention kind", "Which interventions stop")

    def apply(self, host: Host) -> None:
        host.interventions = self.plan_interventions(host.interventions)

    def plan_interventions(self, interventions: list[Intervention]) -> list[Intervention]:
        out = []
        for iv in interventions:
            if iv.kind != self.intervention_kind or (iv.end_week is not None and iv.end_week <= self.week):
                out.append(iv)
            elif iv.start_week < self.week:
                out.append(iv.model_copy(update={"end_week": self.week}))
        return out


class GoLive(Event):
    """A change in the programme goes live at another week than planned (brought forward or pushed back).

    Only a change that has not gone live yet can move, and not to a week already past."""

    kind: Literal["go_live"] = "go_live"
    change: str = param("", "change name", "The change in `change_programme` that moves", min_length=1)
    start_week: int = param(0, "week", "Its new go-live week (not before the event's week)", ge=0, le=5200)

    @model_validator(mode="after")
    def _not_in_the_past(self) -> GoLive:
        if self.start_week < self.week:
            raise ValueError(f"go-live of '{self.change}' moved to week {self.start_week}, before the event "
                             f"(week {self.week})")
        return self

    def apply(self, host: Host) -> None:
        host.mechanism("change_programme").reschedule(self.change, self.start_week)

    def plan_changes(self, changes: list[Any]) -> list[Any]:
        out, found = [], False
        for c in changes:
            if c.name == self.change:
                if c.start_week < self.week:
                    raise ValueError(f"go_live at week {self.week}: '{c.name}' went live at week {c.start_week} "
                                     "already")
                c, found = c.model_copy(update={"start_week": self.start_week}), True
            out.append(c)
        if not found:
            raise ValueError(f"go_live at week {self.week}: no change named '{self.change}' in change_programme")
        return out
