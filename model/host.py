"""What mechanisms run in: layout, state, network, signals, random streams and the people events.

The host builds the state each mechanism declares, constructs the mechanisms in list order (each with
its own random stream), initialises them in two passes (own state first, then what depends on others),
and turns people moving into events every mechanism hears: `join` (list order) and `leave` (reverse
list order, so later mechanisms see the leavers' ties and state before earlier ones clear them).
The model is a host; a unit test can build a host around a handful of slots and one mechanism.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from culturedrift.model import kernels
from culturedrift.model.base import Channel, Mechanism, Signals, stream
from culturedrift.model.compiled import Fresh, Kernels, moves_of
from culturedrift.model.compiled import enabled as compiled_enabled
from culturedrift.model.events import EVENTS, Event
from culturedrift.model.organisation import Layout, Network
from culturedrift.model.state import Staff

_BOOL, _FLOAT = np.dtype(bool), np.dtype(np.float64)


def _assign(pairs: tuple[tuple[np.ndarray, Any], ...], slots: np.ndarray, flat: bool) -> None:
    """Each array takes its value at `slots`; a week's few movers one by one when every array is flat (per slot),
    which costs less than fancy indexing (the same values)."""
    if slots.size <= 4 and flat:
        at = slots.tolist()
        for arr, value in pairs:
            for i in at:
                arr[i] = value
        return
    for arr, value in pairs:
        arr[slots] = value


def _hears(mech: Mechanism, hook: str) -> bool:
    """Whether a mechanism does anything on `hook` (its class or the instance replaces Mechanism's no-op)."""
    return hook in vars(mech) or getattr(type(mech), hook) is not getattr(Mechanism, hook)


class Host:
    """Layout, state, signals and streams shared by an ordered list of mechanisms."""

    def __init__(self, layout: Layout, network: Network, parts: list[tuple[type[Mechanism], Any]],
                 seed: int = 0, week: int = 0, interventions: Any = (), events: Any = (),
                 compiled: bool | None = None) -> None:
        self.layout = layout
        # compiled kernels (model/kernels.py) or the numpy reference: the same numbers, to the last bit
        self.compiled = compiled_enabled() if compiled is None else bool(compiled)
        self.kernels = Kernels()  # the weekly kernels, called without numba's dispatch once their types are known
        self.network = network
        self.seed = int(seed)
        self.week = week
        self.interventions = list(interventions)  # what leadership delivers (see model/interventions)
        self.events: list[Event] = []  # scheduled events (model/events.py), fired at the start of their week
        self.state = Staff(layout.role, layout.team, layout.partner_group, layout.is_post)
        self.signals = Signals()
        self.streams = {name: stream(self.seed, name) for cls, _ in parts for name in (cls.name, *cls.extra_streams)}
        writer: dict[str, str] = {}
        self._on_hire: list[tuple[np.ndarray, Any]] = []
        self._on_leave: list[tuple[np.ndarray, float]] = []
        n = self.state.n
        for cls, pars in parts:
            for ps in cls.owns:
                shape = (max(ps.rows(pars), 1), n) if ps.rows else n
                arr = np.full(shape, ps.initial, dtype=ps.dtype)
                self.state.add(ps.name, cls.name, arr)
                if ps.on_hire is not None:
                    value = getattr(pars, ps.on_hire) if isinstance(ps.on_hire, str) else ps.on_hire
                    self._on_hire.append((arr, value))
                if ps.on_leave is not None:
                    self._on_leave.append((arr, ps.on_leave))
            for sig in cls.publishes:
                if sig.name in writer:
                    raise ValueError(f"signal '{sig.name}' is published by both {writer[sig.name]} and {cls.name}")
                writer[sig.name] = cls.name
                setattr(self.signals, sig.name, None)
        self.signal_writer = writer
        self._flat = all(arr.ndim == 1 for arr, _ in (*self._on_hire, *self._on_leave))
        self.effects = Signals()
        self.last_effects = Signals()
        self.channels: dict[str, Channel] = {}
        for cls, _ in parts:
            for ch in cls.channels:
                if ch.name in self.channels or ch.name in writer:
                    raise ValueError(f"effect channel '{ch.name}' of {cls.name} is already declared")
                self.channels[ch.name] = ch
        self._size = {"person": n, "team": layout.n_teams}
        # the per-person float channels are the rows of one array, so a week's reset is one fill and a week's
        # interventions one compiled pass (`deliver`); the organisation's numbers and the rest are reset by name
        rows = [ch for ch in self.channels.values()
                if ch.per == "person" and np.dtype(ch.dtype) == _FLOAT and not ch.remember]
        self.effect_rows = np.empty((len(rows), n))
        self.effect_row = {ch.name: k for k, ch in enumerate(rows)}
        self.effect_ops = np.array([2 if ch.cap is not None and ch.combine == "add" else int(ch.combine == "multiply")
                                    for ch in rows], np.int64)  # 0 add, 1 multiply, 2 add capped
        self.effect_caps = np.array([0.0 if ch.cap is None else float(ch.cap) for ch in rows])
        self._neutral_rows = np.array([[ch.neutral] for ch in rows]).reshape(len(rows), 1)
        self._neutral = self._neutral_rows.ravel().copy()  # the same values as a flat array, for the compiled reset
        self._row_names = [ch.name for ch in rows]
        self._organisation = [(ch.name, ch.neutral) for ch in self.channels.values() if ch.per == "organisation"]
        self._views()
        # what resetting each other channel needs, read once (the reset runs every week)
        self._resets = [(ch.name, ch.neutral, ch.per, ch.remember, ch.dtype) for ch in self.channels.values()
                        if ch.name not in self._fixed]
        self.reset_effects()
        self.mechanisms = [cls(pars, self) for cls, pars in parts]
        self._by_name = {m.name: m for m in self.mechanisms}
        # the mechanisms that listen to people moving (the rest keep Mechanism's no-op): a week's joins and
        # leaves call only these, in list order for joins and reverse order for leaves
        self._joiners = [m for m in self.mechanisms if _hears(m, "on_join")]
        self._leavers = [m for m in reversed(self.mechanisms) if _hears(m, "on_leave")]
        for event in events:
            self.add_event(event)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy (deepcopy, pickle) resets and reads its own effect rows: the per-person channels are views of them,
        which a copy of the row array and of the views does not keep."""
        self.__dict__.update(state)
        if state.get("effect_rows") is not None:
            self._views()
            vars(self.effects).update((name, self._fixed[name]) for name in self._row_names)

    def initialise(self) -> None:
        """Every mechanism sets the state it owns, then derives what depends on the others (list order)."""
        for mech in self.mechanisms:
            mech.init_state()
        for mech in self.mechanisms:
            mech.init()

    def mechanism(self, name: str) -> Mechanism:
        """The mechanism called `name` (events address the mechanism that owns what they change)."""
        return self._by_name[name]

    # --- scheduled events ---
    def add_event(self, event: Event | dict[str, Any], now: bool = False) -> Event:
        """Schedule an event (an `Event` or a mapping with its `kind`); `now` puts it at the current week.

        It fires at the start of its week, before the mechanisms step; a week already stepped is an error.
        """
        if isinstance(event, dict):
            kind = event.get("kind")
            if kind not in EVENTS:
                raise ValueError(f"unknown event kind {kind!r}; choose from {sorted(EVENTS)}")
            event = EVENTS[kind].model_validate(event)
        if now:
            event = event.model_copy(update={"week": max(self.week, 0)})
        if event.week < self.week:
            raise ValueError(f"event {event.kind} at week {event.week} is in the past (the model is at week "
                             f"{self.week})")
        self.events.append(event)
        return event

    def reschedule(self, events: list[Event]) -> None:
        """Follow `events` from the current week on (e.g. a scenario that gained an action this week); the
        events of weeks already stepped have fired and stay as they were."""
        self.events = [e for e in self.events if e.week < self.week] + [e for e in events if e.week >= self.week]

    def fire_events(self) -> None:
        """Apply the events of the current week, in the order they were scheduled."""
        for event in self.events:
            if event.week == self.week:
                event.apply(self)

    # --- effects: interventions write them, the mechanisms that declared them read them ---
    def reset_effects(self) -> None:
        """Every channel back to neutral (start of each week); remembered channels keep last week's value."""
        eff, last = vars(self.effects), vars(self.last_effects)  # the namespaces' dicts: every week, every channel
        if self.compiled:
            self.kernels.reset_rows(self.effect_rows, self._neutral)
        else:
            self.effect_rows[...] = self._neutral_rows
        eff.update(self._fixed)  # each per-person row (even if someone rebound the name) and the organisation's numbers
        for name, neutral, per, remember, dtype in self._resets:
            arr = eff.get(name)
            if arr is None:
                eff[name] = np.full(self._size[per], neutral, dtype=dtype)
                if remember:
                    last[name] = eff[name].copy()
                continue
            if remember:
                last[name] = arr.copy()
            arr.fill(neutral)

    def _views(self) -> None:
        """What a week's reset puts back in the effects' namespace: each per-person row as a view of the one array,
        and the organisation's neutral numbers."""
        self._fixed = {name: self.effect_rows[k] for k, name in enumerate(self._row_names)}
        self._fixed.update(self._organisation)

    def add_effect(self, name: str, whom: np.ndarray | None, amount: float) -> None:
        """Add (or multiply in) an intervention's effect on channel `name` for `whom` (None: a number)."""
        ch = self.channels[name]
        eff = self.effects
        if ch.per == "organisation":
            value = getattr(eff, name)
            value = value + amount if ch.combine == "add" else value * amount
            setattr(eff, name, min(value, ch.cap) if ch.cap is not None else value)
            return
        arr = getattr(eff, name)
        if whom is not None and whom.dtype is _BOOL:  # a mask (a group): one pass in place, no gather/scatter
            if self.compiled and arr.dtype is _FLOAT:
                # a contiguous mask (a group's, as interventions give) keeps the kernel's argument types fixed
                (self.kernels if whom.flags.c_contiguous else kernels).masked_effect(
                    arr, whom, float(amount), ch.combine == "multiply", ch.cap is not None,
                    0.0 if ch.cap is None else float(ch.cap))
            elif ch.combine == "multiply":
                np.multiply(arr, amount, out=arr, where=whom)
            elif ch.cap is not None:
                np.minimum(arr + amount, ch.cap, out=arr, where=whom)
            else:
                np.add(arr, amount, out=arr, where=whom)
        elif ch.combine == "multiply":
            arr[whom] *= amount
        elif ch.cap is not None:
            arr[whom] = np.minimum(arr[whom] + amount, ch.cap)
        else:
            arr[whom] += amount

    # --- people moving in and out, and posts moving between teams ---
    def join(self, slots: np.ndarray, agency_worker: bool) -> None:
        """New people take `slots`: occupancy, declared on-hire values, then every mechanism's on_join."""
        if slots.size == 0:
            return
        s = self.state
        _assign(((s.filled, True), (s.agency_worker, agency_worker), *self._on_hire), slots, self._flat)
        for mech in self._joiners:
            mech.on_join(slots)
        self.joined(slots)

    def leave(self, slots: np.ndarray) -> None:
        """The holders of `slots` leave: every mechanism's on_leave (reverse order), then the slots empty."""
        if slots.size == 0:
            return
        self.leaving(slots)
        for mech in self._leavers:
            mech.on_leave(slots)
        s = self.state
        _assign((*self._on_leave, (s.filled, False), (s.agency_worker, False)), slots, self._flat)
        self.left(slots)

    def restructure(self, fraction: float, rng: np.random.Generator) -> None:
        """Move a share of frontline posts between teams (team sizes kept); every mechanism hears of it."""
        s = self.state
        posts = np.flatnonzero(s.frontline & s.is_post)
        k = round(fraction * posts.size)
        if k < 2:
            return
        moved = rng.choice(posts, k, replace=False)
        s.team[moved] = s.team[rng.permutation(moved)]
        for mech in self.mechanisms:
            mech.on_restructure()

    def compiled_moves(self) -> Any:
        """What turnover's compiled week needs to carry out its own joins and leaves in its kernel (`compiled.Moves`),
        or None when anything it does not know takes part: a listener other than the standard ones (or one of them
        replaced on its instance or class), other leave order, a hook of the host's, Mesa agents, per-person state
        declared with on-hire or on-leave values that is not a flat float array. Those weeks go through `join` /
        `leave`, which call everyone."""
        if not self.compiled or not self.plain_moves():
            return None
        held = self.__dict__.get("_moves")
        if held is None:
            held = self._moves = Fresh()
        if held.value is None:
            held.value = moves_of(self) or False  # False: known not to fit (the mechanisms' classes do not change)
        moves = held.value
        if not moves:
            return None
        for attributes, hook, cls, listener in moves.hooks:  # a listener replaced since is not the kernel's
            if hook in attributes or getattr(cls, hook) is not listener:
                return None
        return moves

    # --- what the model adds around people moving (agents, the event log); nothing in a bare host ---
    def plain_moves(self) -> bool:
        """Whether people moving adds nothing beyond the mechanisms' listeners and `log_moves` (true of a bare host
        whose hooks are these)."""
        cls = type(self)
        return cls.joined is Host.joined and cls.leaving is Host.leaving and cls.left is Host.left

    def log_moves(self, leaves: int, joins: int, rows: np.ndarray) -> None:
        """A compiled week's moves: `leaves` leave rows then `joins` join rows (slot, role, agency worker, tenure)."""

    def joined(self, slots: np.ndarray) -> None:
        """After `slots` have been taken."""

    def leaving(self, slots: np.ndarray) -> None:
        """Before the holders of `slots` leave."""

    def left(self, slots: np.ndarray) -> None:
        """After `slots` have emptied."""
