"""The culturedrift model: a children's services organisation carrying out the Munro Review.

Posts are slots in struct-of-arrays state (model/state.py); people are Mesa agents that are thin
handles on those slots (model/agents.py). Each week the mechanisms run in a fixed order, each a
simultaneous vectorised update over all slots:

    leadership (3: budget, interventions) -> change programme (1a) -> workload (Munro)
    -> relationships (2a: ties) -> morale (2a) -> culture (1b) -> slippage (2b) -> turnover (2a)

Row w of the record is the state at the start of week w (after w weeks); row 0 follows an
unrecorded burn-in so the baseline starts from its own steady state.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from culturedrift.model.agents import FrontlineWorker, Manager, PartnerWorker, Person
from culturedrift.model.base import stream
from culturedrift.model.mechanisms.change_programme import ChangeProgramme
from culturedrift.model.mechanisms.culture import Culture
from culturedrift.model.mechanisms.leadership import Leadership
from culturedrift.model.mechanisms.morale import Morale
from culturedrift.model.mechanisms.relationships import Relationships
from culturedrift.model.mechanisms.slippage import Slippage
from culturedrift.model.mechanisms.turnover import Turnover
from culturedrift.model.mechanisms.workload import Workload
from culturedrift.model.organisation import Layout, build_network
from culturedrift.model.outputs import Recorder
from culturedrift.model.scenario import Scenario
from culturedrift.model.state import FRONTLINE, MANAGER, ROLE_NAMES, Staff

STREAMS = ("organisation", "change_programme", "workload", "morale", "turnover", "culture", "slippage",
           "relationships", "leadership")
_AGENT_CLASS = {FRONTLINE: FrontlineWorker, MANAGER: Manager}


class CultureDriftModel(mesa.Model):
    """One children's services organisation over `horizon_weeks` weeks."""

    def __init__(self, scenario: Scenario, seed: int = 0, weeks: int | None = None) -> None:
        super().__init__(rng=int(seed))
        self.spec = scenario
        self.seed = int(seed)
        self.streams = {name: stream(self.seed, name) for name in STREAMS}
        # `weeks` runs a shorter (or longer) window of the same scenario, e.g. for a quick look
        self.horizon = int(weeks) if weeks is not None else scenario.horizon_weeks
        if self.horizon < 1:
            raise ValueError(f"weeks must be at least 1, got {weeks}")
        self.week = -scenario.burn_in_weeks
        self.layout = Layout(scenario.organisation)
        n_learning = sum(c.learning is not None for c in scenario.change_programme)
        lay = self.layout
        self.state = Staff(lay.role, lay.team, lay.partner_group, lay.is_post, n_learning)
        self.network = build_network(lay, scenario.organisation, self.streams["organisation"])
        self.overflow_open = np.zeros(lay.n_teams, bool)
        self.overflow_was_open = self.overflow_open.copy()
        self.overflow_share = 1.0
        self.neighbour_sums = np.zeros((self.state.n, 3))
        self._events: list[tuple[int, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.agent_at: list[Person | None] = [None] * self.state.n

        self.leadership = Leadership(scenario.budget, self)
        self.change_programme = ChangeProgramme(None, self)
        self.workload = Workload(scenario.workload, self)
        self.relationships = Relationships(scenario.relationships, self)
        self.morale = Morale(scenario.morale, self)
        self.culture = Culture(scenario.culture, self)
        self.slippage = Slippage(scenario.slippage, self)
        self.turnover = Turnover(scenario.turnover, self)
        self.schedule = [self.leadership, self.change_programme, self.workload, self.relationships,
                         self.morale, self.culture, self.slippage, self.turnover]
        # initialisation order follows what each mechanism reads
        for mech in (self.turnover, self.culture, self.change_programme, self.slippage, self.relationships,
                     self.workload, self.morale, self.leadership):
            mech.init()
        self.add_agents(np.flatnonzero(self.state.filled))
        self.update_neighbour_sums()
        self.recorder = Recorder(self, self.horizon)
        while self.week < 0:
            self.step()
        self.relationships.set_baseline()
        self.relationships.measure()
        self.recorder.record(0)

    # --- the weekly step ---
    def step(self) -> None:
        """Advance one week: every mechanism in schedule order, then record."""
        for mech in self.schedule[:4]:
            mech.step()
        self.update_neighbour_sums()
        for mech in self.schedule[4:]:
            mech.step()
        self.week += 1
        self.recorder.tick()
        if self.week > 0:
            self.recorder.record(self.week)
        if self.week >= self.horizon:
            self.running = False

    def update_neighbour_sums(self) -> None:
        """Tie-weighted sums of colleagues' morale and habit, and tie strength (one sparse product)."""
        s = self.state
        x = np.empty((s.n, 3))
        x[:, 0], x[:, 1], x[:, 2] = s.morale, s.compliance_habit, 1.0
        self.neighbour_sums = self.network.mat @ x

    def run(self) -> None:
        """Run to the horizon."""
        while self.week < self.horizon:
            self.step()
        for mech in self.schedule:
            mech.finalise()

    # --- structure changes and people (loops only over this week's movers) ---
    def restructure(self, fraction: float, rng: np.random.Generator) -> None:
        """Move a share of frontline posts between teams (sizes kept) and rewire team ties."""
        s = self.state
        posts = np.flatnonzero(s.frontline & s.is_post)
        k = round(fraction * posts.size)
        if k < 2:
            return
        moved = rng.choice(posts, k, replace=False)
        s.team[moved] = s.team[rng.permutation(moved)]
        rp = self.relationships.pars
        self.network.rewire_teams(s.team, rp.new_tie_strength, rp.moved_tie_retained)
        self.relationships.refresh_rates()
        self.culture.mgr_of = self.layout.manager_slot[np.maximum(s.team, 0)]
        self.workload.restructure(np.bincount(s.team[s.frontline & s.is_post], minlength=self.layout.n_teams))
        self.update_neighbour_sums()

    def add_agents(self, slots: np.ndarray) -> None:
        """A new Mesa agent for each newly filled slot."""
        role = self.state.role
        for slot in slots:
            self.agent_at[slot] = _AGENT_CLASS.get(int(role[slot]), PartnerWorker)(self, int(slot))

    def remove_agents(self, slots: np.ndarray) -> None:
        """Remove the agents of vacated slots."""
        for slot in slots:
            agent = self.agent_at[slot]
            if agent is not None:
                agent.remove()
                self.agent_at[slot] = None

    def record_events(self, slots: np.ndarray, event: str) -> None:
        """Log joins and leaves (recorded weeks only; week = the record row that first shows it)."""
        if self.week < 0:
            return
        s = self.state
        self._events.append((self.week + 1, event, s.role[slots].copy(), s.agency_worker[slots].copy(),
                             s.tenure[slots].copy(), slots.copy()))

    def events_frame(self) -> pd.DataFrame:
        """Joins and leaves as a DataFrame."""
        cols = ["week", "event", "role", "employment", "tenure_weeks", "slot"]
        if not self._events:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                 zip(cols, ("int64", "str", "str", "str", "float64", "int64"), strict=True)})
        n = [e[5].size for e in self._events]
        return pd.DataFrame({
            "week": np.repeat([e[0] for e in self._events], n).astype("int64"),
            "event": np.repeat([e[1] for e in self._events], n),
            "role": np.asarray(ROLE_NAMES)[np.concatenate([e[2] for e in self._events])],
            "employment": np.where(np.concatenate([e[3] for e in self._events]), "agency_worker", "permanent"),
            "tenure_weeks": np.concatenate([e[4] for e in self._events]),
            "slot": np.concatenate([e[5] for e in self._events]).astype("int64"),
        })

    def timeseries(self) -> pd.DataFrame:
        """The weekly record so far."""
        return self.recorder.frame(upto=max(self.week, 0))
