"""Shared building blocks: strict parameter models, random streams and the mechanism contract.

A mechanism declares the per-person state it owns (`PersonState`: name, dtype, value on hire and on
leaving) and the organisation-wide signals it publishes (`Signal`). Every signal has exactly one writer
(its publisher) and is read by name from `host.signals`; no mechanism reads another's attributes.
Interventions act only through effect channels (`Channel`), each declared by the mechanism that
reads it and reset every week. People join and leave through the host's `join` / `leave`, which
every mechanism hears through `on_join(slots)` / `on_leave(slots)`; a restructure through
`on_restructure()`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from culturedrift.model.host import Host


_NUMBERS = (int, float, int | None, float | None)


class Strict(BaseModel):
    """A parameter block that rejects unknown keys and wrong types (no silent defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data: Any) -> Any:
        """`true` or `'52'` where a number belongs is a mistake, not 1 or 52 (pydantic would convert them)."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(name)
                if isinstance(value, bool | str) and field.annotation in _NUMBERS:
                    raise ValueError(f"{name}: expected a number, got {value!r}")
        return data


class Kinded(Strict):
    """A block chosen in scenario files by its `kind` (an event, an intervention): every subclass that fixes
    `kind` to a name registers itself in its family's `registry`, so a new kind is one class."""

    kind: str

    registry: ClassVar[dict[str, Any]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):
            cls.registry[kind] = cls


def param(default: Any, unit: str, source: str, **kw: Any) -> Any:
    """Declare a parameter with its unit and the source of its default, kept in the schema."""
    return Field(default, description=f"[{unit}] {source}", json_schema_extra={"unit": unit, "source": source}, **kw)


def stream(seed: int, name: str) -> np.random.Generator:
    """One independent random stream per mechanism, keyed by name so adding one never shifts another."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(zlib.crc32(name.encode()),))
    return np.random.Generator(np.random.PCG64(ss))


@dataclass(frozen=True)
class PersonState:
    """A per-person array owned by one mechanism: only its owner writes it (join/leave values aside)."""

    name: str
    doc: str
    dtype: str = "float64"
    initial: float = 0.0  # value of every slot when the array is made
    on_hire: float | str | None = None  # a new holder's value: a constant, one of the owner's parameters, or
    # None when the owner's on_join sets it (e.g. a random draw)
    on_leave: float | None = None  # value a vacated slot takes (None: kept)
    rows: Callable[[Any], int] | None = None  # 2-D state: number of rows from the owner's parameters


@dataclass(frozen=True)
class Signal:
    """An organisation-wide value (scalar, per-team or per-slot array) published by one mechanism."""

    name: str
    unit: str
    doc: str


@dataclass(frozen=True)
class Channel:
    """An effect channel: something interventions may change, declared by the mechanism that reads it.

    The host resets every channel to `neutral` at the start of each week, so an effect lasts only while
    an intervention delivers it. Effects combine by adding (or multiplying), capped at `cap`.
    """

    name: str
    unit: str
    doc: str
    per: str = "person"  # "person" (an array over slots), "team" (over teams) or "organisation" (a number)
    neutral: float = 0.0
    combine: str = "add"  # or "multiply"
    cap: float | None = None  # upper bound of the combined effect
    source: str = ""  # where the cap comes from
    dtype: str = "float64"
    remember: bool = False  # keep last week's value (read as `host.last_effects.<name>`)


class Signals:
    """The published signals, read by name (`host.signals.service_standard`); written only via `publish`."""

    def __repr__(self) -> str:
        return f"Signals({', '.join(sorted(vars(self)))})"


class Mechanism:
    """Starsim-style lifecycle: parameters, owned state and signals, init, step, join/leave, finalise.

    Mechanisms update host-owned arrays in place, vectorised over all slots.
    """

    name: ClassVar[str] = "mechanism"
    title: ClassVar[str] = ""  # heading of its parameter block in the ODD table
    category: ClassVar[str] = ""  # the source document's category (1a, 1b, 2a, 2b, 3)
    owns: ClassVar[tuple[PersonState, ...]] = ()
    publishes: ClassVar[tuple[Signal, ...]] = ()
    channels: ClassVar[tuple[Channel, ...]] = ()  # effect channels it reads (interventions write them)
    extra_streams: ClassVar[tuple[str, ...]] = ()  # further named random streams besides its own

    def __init__(self, pars: Any, host: Host) -> None:
        self.pars = pars
        self.model = host
        self.state = host.state
        self.signals = host.signals
        self.effects = host.effects
        self.rng = host.streams[self.name]
        self._mine = frozenset(s.name for s in self.publishes)

    def publish(self, **values: Any) -> None:
        """Write this mechanism's own signals (any other name is an error)."""
        if not self._mine.issuperset(values):
            key = next(k for k in values if k not in self._mine)
            raise AttributeError(f"{self.name} does not publish signal '{key}'")
        vars(self.signals).update(values)  # one dict update: several signals are published every week

    def init_state(self) -> None:
        """Give the state it owns its values at the start (reads only layout, occupancy and its own state)."""

    def init(self) -> None:
        """Derive what it needs from everyone's starting state and the signals published before it."""

    def start_record(self) -> None:
        """Week 0, after the burn-in: take reference values (e.g. the pre-change tie strength)."""

    def step(self) -> None:
        """Advance one week."""

    def on_join(self, slots: np.ndarray) -> None:
        """People have taken `slots` (occupancy set, declared on-hire values applied)."""

    def on_leave(self, slots: np.ndarray) -> None:
        """The holders of `slots` are leaving (still in post while the mechanisms hear of it)."""

    def on_restructure(self) -> None:
        """Frontline posts have moved between teams."""

    def finalise(self) -> None:
        """Tidy up after the last week."""
