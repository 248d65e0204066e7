"""Scheduled events: inspections, serious incidents, prescription pulses, morale nudges, leaver waves and
budget changes, as ordinary scenario entries (`events:`) or added to a running model at the current week.

An event fires at the start of its week, before the mechanisms step, so the record up to that week is
the same as without it. A new kind is one class in this module (or any imported module): subclass
`Event`, give it a `kind: Literal["name"] = "name"` field, its parameters and `apply()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from culturedrift.model.base import Strict, param

if TYPE_CHECKING:
    from culturedrift.model.host import Host

EVENTS: dict[str, type[Event]] = {}


class Event(Strict):
    """Something that happens to the organisation in one week."""

    kind: str
    week: int = param(0, "week", "When it happens (at the start of the week)", ge=0, le=5200)

    registry: ClassVar[dict[str, type[Event]]] = EVENTS

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):
            EVENTS[kind] = cls

    def apply(self, host: Host) -> None:
        """What happens."""
        raise NotImplementedError


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


class BudgetChange(Event):
    """The quarterly budget changes from the next quarter on (a council's in-year settlement)."""

    kind: Literal["budget_change"] = "budget_change"
    quarterly_budget: float = param(400.0, "GBP thousand per quarter", "The new quarterly budget", ge=0)

    def apply(self, host: Host) -> None:
        host.mechanism("leadership").set_budget(self.quarterly_budget)
