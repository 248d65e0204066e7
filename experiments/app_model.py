"""The model the trainer's page runs: one run, or twin runs in lockstep, and actions taken at the current week.

`WorkshopModel` is one Mesa model for SolaraViz (its Step, Play and Reset drive it) holding one
`CultureDriftModel` per run. Twin runs share the seed (so every mechanism draws the same random numbers:
common random numbers) and every action; the twin adds one lever at a chosen week.

Taking an action mid-run: the run's settings gain the action, which is one scheduled event of their
scenario at the current week (experiments/workshop.py, model/events.py), and each running model follows
that scenario's events from now on. Nothing is replayed or patched: a run is exactly what `culturedrift run`
gives for the exported scenario and seed (tests compare the two).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import mesa

from culturedrift.experiments.workshop import Action, ActionError, Settings, Twin, ordered
from culturedrift.model import CultureDriftModel


class PageGate:
    """Which page update each panel of a page has shown, and a bounded wait for the page to catch up.

    Mesa's play loop steps the model in a thread and asks for a page update after every `render interval`
    weeks (it counts them) without waiting; when rendering takes longer than a step, every render finds the
    model moved on and the page is sent nothing until play stops. The gate makes a step wait while an update
    asked for has not reached every panel; the weeks between two updates (render interval > 1) step freely,
    every one of them recorded."""

    def __init__(self, panels: tuple[str, ...], requested: Callable[[], int], timeout: float = 3.0) -> None:
        self.panels = panels
        self.requested = requested
        self.timeout = timeout
        self._shown = dict.fromkeys(panels, -1)
        self._changed = threading.Condition()

    def show(self, panel: str, update: int) -> None:
        """Called by a panel once its frame for page update number `update` is on the page."""
        with self._changed:
            self._shown[panel] = update
            self._changed.notify_all()

    def shown(self) -> int:
        """The latest update every panel has shown (-1 before the first frame)."""
        with self._changed:
            return min(self._shown.values())

    def wait(self) -> bool:
        """Wait until every panel has shown the latest update asked for (at most `timeout` s); False if it
        timed out."""
        with self._changed:
            return self._changed.wait_for(lambda: min(self._shown.values()) >= self.requested(), self.timeout)


def build_run(settings: Settings, week: int = 0) -> CultureDriftModel:
    """A fresh run of these settings brought to `week` (the same seed gives the same weeks)."""
    model = CultureDriftModel(settings.scenario(), settings.seed)
    while model.week < week:
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


def follow(model: CultureDriftModel, settings: Settings) -> None:
    """A running model takes on the scenario of `settings` from its current week: the same scenario with
    events added at this week or later (the action just taken; a twin's lever it can no longer pull is gone)."""
    sc = settings.scenario()
    model.spec = sc
    model.reschedule(sc.events)


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
        """Settings of each run (this run, then the twin)."""
        self.plan = [self.settings]
        if self.twin is not None:
            twin, self.twin_notes = twin_settings(self.settings, self.twin)
            self.plan.append(twin)

    def adjusted(self) -> list[tuple[str, str]]:
        """How the settings differ from the scenario picked, as (short, long) wording (none here: the page's
        model knows its sliders)."""
        return []

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
            self.page_gate.wait()
        with self.lock:
            for run in self.runs:
                run.step()
            self.running = self.main.running

    def act(self, kind: str) -> Action:
        """Take an action at the current week in every run; raises ActionError (with the reason) if it cannot."""
        with self.lock:
            action = Action(self.week, kind)
            self.settings = self.settings.plus(action)
            self._plan()
            for run, s in zip(self.runs, self.plan, strict=True):
                follow(run, s)
            return action

