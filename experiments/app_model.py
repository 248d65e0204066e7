"""The model the trainer's page runs: one run, or twin runs in lockstep, and actions taken at the current week.

`WorkshopModel` is one Mesa model for SolaraViz (its Step, Play and Reset drive it) holding one
`CultureDriftModel` per run. Twin runs share the seed (so every mechanism draws the same random numbers:
common random numbers) and every action; the twin adds one lever at a chosen week.

Taking an action mid-run (the adapter until the model schedules events mid-run itself): the run's
settings gain the action and each run is brought to the scenario those settings describe, at the
current week, without restarting. Pressure events and interventions are swapped into the live
mechanisms (exactly what a model built from the new scenario holds; tests compare the two); a moved
go-live replays the run from week 0 on the new scenario (same seed, so the same weeks up to now).
Budget changes are applied week by week from the settings' budget schedule (`budget_hook`).
"""

from __future__ import annotations

import threading

import mesa

from culturedrift.experiments.workshop import Action, ActionError, Settings, Twin, ordered
from culturedrift.model import CultureDriftModel
from culturedrift.model.mechanisms.leadership import WEEKS_PER_QUARTER

LIVE = {"inspection", "incident", "vigilance_off", "vigilance_on", "retention", "supervision",
        "budget_cut", "budget_restore"}  # actions swapped into a running model; the others replay it


class PageGate:
    """Which week each panel of a page has shown, and a bounded wait for the page to catch up.

    Mesa's play loop steps the model in a thread and asks for a page update after each week without waiting;
    when rendering takes longer than a step, every render finds the model moved on and the page is sent
    nothing until play stops. The gate makes week w+1 wait until every panel has shown week w."""

    def __init__(self, panels: tuple[str, ...], timeout: float = 3.0) -> None:
        self.panels = panels
        self.timeout = timeout
        self._shown = dict.fromkeys(panels, -1)
        self._changed = threading.Condition()

    def show(self, panel: str, week: int) -> None:
        """Called by a panel once its frame for `week` is on the page."""
        with self._changed:
            self._shown[panel] = week
            self._changed.notify_all()

    def shown(self) -> int:
        """The latest week every panel has shown (-1 before the first frame)."""
        with self._changed:
            return min(self._shown.values())

    def wait(self, week: int) -> bool:
        """Wait until every panel has shown `week` (at most `timeout` s); False if it timed out."""
        with self._changed:
            return self._changed.wait_for(lambda: min(self._shown.values()) >= week, self.timeout)


def budget_hook(model: CultureDriftModel, schedule: dict[int, float]) -> None:
    """Before a week is stepped: a budget change this week sets the quarterly budget from now on and moves
    what is left of this quarter by the change pro rata (a cut bites at once, not next quarter)."""
    new = schedule.get(model.week)
    if new is None:
        return
    lead = model.leadership
    old = lead.budget
    lead.set_budget(new)
    if model.week % WEEKS_PER_QUARTER:  # at a quarter start the step itself resets to the new budget
        lead.remaining += (new - old) * (WEEKS_PER_QUARTER - model.week % WEEKS_PER_QUARTER) / WEEKS_PER_QUARTER


def build_run(settings: Settings, week: int = 0) -> CultureDriftModel:
    """A fresh run of these settings brought to `week` (the same seed gives the same weeks)."""
    model = CultureDriftModel(settings.scenario(), settings.seed)
    budget = dict(settings.budget())
    while model.week < week:
        budget_hook(model, budget)
        model.step()
    return model


def twin_settings(settings: Settings, twin: Twin) -> tuple[Settings, list[str]]:
    """The twin's settings: the same actions with the lever among them (by week); an action the twin cannot
    take after its lever (e.g. withdrawing vigilance it already withdrew) is left out and noted."""
    out, notes = Settings(settings.base, settings.seed, (), settings.loaded), []
    for a in ordered((*settings.actions, twin.action())):
        try:
            out = out.plus(a)
        except ActionError as e:
            who = "the twin's lever" if a == twin.action() else "in the twin"
            notes.append(f"{a.text()} not taken {who}: {e}")
    return out, notes


def swap_live(model: CultureDriftModel, settings: Settings) -> None:
    """Give a running model the scenario of `settings` where only pressure events and interventions differ
    (what `build_run` would hold at this week: the events and interventions as the new scenario lists them)."""
    sc = settings.scenario()
    model.spec = sc
    model.interventions = list(sc.interventions)
    model.events = list(sc.events)


class WorkshopModel(mesa.Model):
    """One run, or twin runs stepping in lockstep, that the trainer can act on at the current week."""

    def __init__(self, settings: Settings, twin: Twin | None = None) -> None:
        super().__init__(rng=settings.seed)
        self.lock = threading.RLock()
        self.settings = settings
        self.twin = twin
        self.twin_notes: list[str] = []
        self.page_gate: PageGate | None = None
        self._plan()
        self.runs = [build_run(s) for s in self.plan]

    def _plan(self) -> None:
        """Settings of each run (this run, then the twin) and their budget schedules."""
        self.plan = [self.settings]
        if self.twin is not None:
            twin, self.twin_notes = twin_settings(self.settings, self.twin)
            self.plan.append(twin)
        self._budgets = [dict(s.budget()) for s in self.plan]

    @property
    def main(self) -> CultureDriftModel:
        return self.runs[0]

    @property
    def spec(self):
        """The scenario this run follows now (actions included)."""
        return self.main.spec

    @property
    def week(self) -> int:
        return self.main.week

    @property
    def horizon(self) -> int:
        return self.main.horizon

    def step(self) -> None:
        """One week of every run (on a page: not before the page has shown the current week)."""
        if self.page_gate is not None:
            self.page_gate.wait(self.week)
        with self.lock:
            for run, budget in zip(self.runs, self._budgets, strict=True):
                budget_hook(run, budget)
                run.step()
            self.running = self.main.running

    def act(self, kind: str) -> Action:
        """Take an action at the current week in every run; raises ActionError (with the reason) if it cannot."""
        with self.lock:
            action = Action(self.week, kind)
            self.settings = self.settings.plus(action)
            self._plan()
            for i, s in enumerate(self.plan):
                if kind in LIVE:
                    swap_live(self.runs[i], s)
                else:
                    self.runs[i] = build_run(s, self.week)
            return action

