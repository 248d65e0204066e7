"""The culturedrift model: a children's services organisation carrying out the Munro Review.

Posts are slots in struct-of-arrays state (model/state.py); people are Mesa agents that are thin
handles on those slots (model/agents.py). The mechanisms are the ordered list in
model/mechanisms/__init__.py; each week every one runs in that order, each a simultaneous vectorised
update over all slots:

    leadership (3: budget, interventions) -> change programme (1a) -> workload (Munro)
    -> relationships (2a: ties) -> morale (2a) -> culture (1b) -> slippage (2b) -> turnover (2a)

Mechanisms talk only through the state they own and the signals they publish (model/base.py);
people joining and leaving are model-level events every mechanism hears (model/host.py).
Row w of the record is the state at the start of week w (after w weeks); row 0 follows an
unrecorded burn-in so the baseline starts from its own steady state.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from culturedrift.model.agents import FrontlineWorker, Manager, PartnerWorker, Person
from culturedrift.model.base import Mechanism, stream
from culturedrift.model.host import Host
from culturedrift.model.organisation import Layout, build_network
from culturedrift.model.outputs import Recorder
from culturedrift.model.scenario import Scenario
from culturedrift.model.state import FRONTLINE, MANAGER, ROLE_NAMES

_AGENT_CLASS = {FRONTLINE: FrontlineWorker, MANAGER: Manager}


class CultureDriftModel(Host, mesa.Model):
    """One children's services organisation over `horizon_weeks` weeks."""

    def __init__(self, scenario: Scenario, seed: int = 0, weeks: int | None = None,
                 diagnostics: tuple[str, ...] = (), compiled: bool | None = None) -> None:
        mesa.Model.__init__(self, rng=int(seed))
        self.spec = scenario
        # `weeks` runs a shorter (or longer) window of the same scenario, e.g. for a quick look
        self.horizon = int(weeks) if weeks is not None else scenario.horizon_weeks
        if self.horizon < 1:
            raise ValueError(f"weeks must be at least 1, got {weeks}")
        layout = Layout(scenario.organisation)
        network = build_network(layout, scenario.organisation, stream(int(seed), "organisation"))
        parts = [(cls, getattr(scenario, key)) for key, _, cls in type(scenario).MECHANISMS]
        Host.__init__(self, layout, network, parts,
                      seed=int(seed), week=-scenario.burn_in_weeks, interventions=scenario.interventions,
                      events=scenario.events, compiled=compiled)
        for mech in self.mechanisms:
            setattr(self, mech.name, mech)  # model.turnover etc., for people exploring a model
        self._events: list[tuple[int, int, int, np.ndarray]] = []  # (week, leaves, joins, rows): `events_frame`
        self._agent_at: list[Person | None] = [None] * self.state.n
        self._agents_made = False  # Mesa agents are made when first looked at (see `agents`)

        self.initialise()
        self.recorder = Recorder(self, self.horizon, tuple(diagnostics))
        self.advance(0)  # the unrecorded burn-in
        for mech in self.mechanisms:
            mech.start_record()
        self.recorder.record(0)

    @property
    def schedule(self) -> list[Mechanism]:
        """The mechanisms in weekly order."""
        return self.mechanisms

    # --- the weekly step ---
    def step(self) -> None:
        """Advance one week: effects back to neutral, this week's events, every mechanism in order, record."""
        self.reset_effects()
        self.fire_events()
        for mech in self.mechanisms:
            mech.step()
        self.week += 1
        self.recorder.close_week()
        if self.week >= self.horizon:
            self.running = False

    def run(self) -> None:
        """Run to the horizon."""
        self.advance(self.horizon)
        for mech in self.mechanisms:
            mech.finalise()

    def advance(self, week: int) -> None:
        """Step until `week` (the burn-in, a run) as Mesa's `step` would, one week per clock tick.

        Nobody looks in between these weeks, so when Mesa's clock has nothing else scheduled they are stepped
        directly and the clock (`time`, `steps`) moves once at the end: Mesa's per-step event machinery is
        several percent of a small organisation's run. Anything else on the clock keeps the ordinary step."""
        clock = self._default_schedule
        if self.week < week and self._event_list.peek_ahead(2) == [clock._current_event]:
            clock.pause()
            start = self.week
            while self.week < week:
                self._user_step()
            self.steps += self.week - start
            self.time = self.time + (self.week - start)
            clock.resume()
        while self.week < week:
            self.step()

    # --- people: a Mesa agent per filled slot, and the log of joins and leaves ---
    def joined(self, slots: np.ndarray) -> None:
        """New agents for the new holders, and their joins logged."""
        self.add_agents(slots)
        self.record_events(slots, "join")

    def leaving(self, slots: np.ndarray) -> None:
        """Log the leaves while the leavers' state is still there."""
        self.record_events(slots, "leave")

    def left(self, slots: np.ndarray) -> None:
        """The leavers' agents go."""
        self.remove_agents(slots)

    @property
    def agents(self) -> AgentSet:
        """Everyone in post as a Mesa agent. Agents are made the first time anyone looks (an app, a data
        collector, a notebook) and kept in step with joins and leaves from then on; a run nobody looks into
        never pays for them (a million people's agents would cost more memory than their state)."""
        self.make_agents()
        return mesa.Model.agents.fget(self)

    @property
    def agents_by_type(self) -> dict[type, AgentSet]:
        """Mesa's agents by class (made on first look, as `agents`)."""
        self.make_agents()
        return mesa.Model.agents_by_type.fget(self)

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent classes present (made on first look, as `agents`)."""
        self.make_agents()
        return mesa.Model.agent_types.fget(self)

    @property
    def agent_at(self) -> list[Person | None]:
        """The agent holding each slot (None where vacant), made on first look as `agents`."""
        self.make_agents()
        return self._agent_at

    def make_agents(self) -> None:
        """Make a Mesa agent for everyone in post, once; from then on joins and leaves add and remove them."""
        if self._agents_made or not hasattr(self, "_agent_at"):
            return
        self._agents_made = True
        self.add_agents(np.flatnonzero(self.state.filled))

    def add_agents(self, slots: np.ndarray) -> None:
        """A new Mesa agent for each newly filled slot (once agents have been made)."""
        if not self._agents_made:
            return
        role = self.state.role
        for slot in slots:
            self._agent_at[slot] = _AGENT_CLASS.get(int(role[slot]), PartnerWorker)(self, int(slot))

    def remove_agents(self, slots: np.ndarray) -> None:
        """Remove the agents of vacated slots."""
        if not self._agents_made:
            return
        for slot in slots:
            agent = self._agent_at[slot]
            if agent is not None:
                agent.remove()
                self._agent_at[slot] = None

    def record_events(self, slots: np.ndarray, event: str) -> None:
        """Log joins and leaves (recorded weeks only; week = the record row that first shows it)."""
        if self.week < 0:
            return
        s = self.state
        rows = np.empty((slots.size, 4))
        rows[:, 0] = slots
        rows[:, 1] = s.role[slots]
        rows[:, 2] = s.agency_worker[slots]
        rows[:, 3] = s.tenure[slots]
        leave = event == "leave"
        self._events.append((self.week + 1, slots.size if leave else 0, 0 if leave else slots.size, rows))

    def plain_moves(self) -> bool:
        """People moving adds only the event log here while nobody has looked at the Mesa agents (and a subclass
        keeps these hooks)."""
        cls = type(self)
        return (not self._agents_made and cls.joined is CultureDriftModel.joined
                and cls.leaving is CultureDriftModel.leaving and cls.left is CultureDriftModel.left
                and cls.record_events is CultureDriftModel.record_events)

    def log_moves(self, leaves: int, joins: int, rows: np.ndarray) -> None:
        """A compiled week's moves, logged as `record_events` logs them (recorded weeks only)."""
        if self.week >= 0:
            self._events.append((self.week + 1, leaves, joins, rows))

    def events_frame(self) -> pd.DataFrame:
        """Joins and leaves as a DataFrame."""
        cols = ["week", "event", "role", "employment", "tenure_weeks", "slot"]
        if not self._events:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                 zip(cols, ("int64", "str", "str", "str", "float64", "int64"), strict=True)})
        # each entry: (week, leaves, joins, rows) with its leave rows first; a row is (slot, role, agency worker,
        # tenure) in float64, which holds slot numbers and roles exactly
        rows = np.concatenate([e[3] for e in self._events])
        counts = np.array([(e[1], e[2]) for e in self._events]).ravel()
        return pd.DataFrame({
            "week": np.repeat([e[0] for e in self._events], [e[1] + e[2] for e in self._events]).astype("int64"),
            "event": np.repeat(np.tile(np.array(["leave", "join"]), len(self._events)), counts),
            "role": np.asarray(ROLE_NAMES)[rows[:, 1].astype(np.int64)],
            "employment": np.where(rows[:, 2] != 0, "agency_worker", "permanent"),
            "tenure_weeks": rows[:, 3],
            "slot": rows[:, 0].astype("int64"),
        })

    def timeseries(self) -> pd.DataFrame:
        """The weekly record so far."""
        return self.recorder.frame(upto=max(self.week, 0))
