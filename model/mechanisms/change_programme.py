"""1a. Fixed changes by key dates: structures, roles, committees, processes and IT systems.

Each change has a start week (go-live), an implementation period during which it loads the people
it affects (disruption, a share of their working time), and optionally a learning curve: at
go-live proficiency drops to `initial_proficiency` and recovers geometrically at `learning_rate`
per week (faster with training); while it is below 1 it cuts capacity and adds recording time.
A structure change rewires team ties at go-live; a process change can lower prescription.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import model_validator

from culturedrift.model import compiled
from culturedrift.model.base import Channel, Mechanism, PersonState, Signal, Strict, param
from culturedrift.model.groups import Group, group_slots

Kind = Literal["structure", "role", "committee", "process", "it_system"]


class LearningCurve(Strict):
    """Learning curve of a change: proficiency drops at go-live and recovers."""

    initial_proficiency: float = param(0.4, "0-1", "Proficiency at go-live (assumption; ICS evaluations report "
                                       "long struggles with the new system, Bell et al. 2007)", ge=0, le=1)
    learning_rate: float = param(0.03, "per week", "Share of the remaining gap closed each week without training: "
                                 "~75% after a year; the ICS switchover took years (DfE facts)", gt=0, le=1)
    capacity_dip: float = param(0.3, "share of capacity at zero proficiency", "Assumption: a third of "
                                "productivity lost at go-live", ge=0, le=1)
    extra_recording: float = param(0.10, "share of working time at zero proficiency", "Assumption; ICS raised "
                                   "recording time (Shaw et al. 2009)", ge=0, le=0.5)
    lasting_recording: float = param(0.0, "share of working time", "Recording time the system adds for good "
                                     "(ICS: positive; a well-designed system: zero)", ge=0, le=0.3)
    new_hire_proficiency: float = param(0.6, "0-1", "Proficiency of someone hired after go-live (induction "
                                        "training; assumption)", ge=0, le=1)


class Change(Strict):
    name: str
    kind: Kind
    start_week: int = param(0, "week", "Go-live week of the change", ge=0, le=5200)
    duration_weeks: int = param(12, "weeks", "Implementation period during which it loads people", ge=1, le=5200)
    affects: Group = param("staff", "group", "Whose posts the change affects (model/groups.py)")
    disruption: float = param(0.05, "share of working time per week", "Time and attention the change takes "
                              "while being implemented (assumption)", ge=0, le=1)
    learning: LearningCurve | None = None
    prescription_change: float = param(0.0, "prescription units", "Shift in local prescription once fully in "
                                       "place (negative = less procedure, as the Review asks)", ge=-1, le=1)
    rewire_fraction: float = param(0.0, "share of frontline posts", "Share of frontline posts moved to another "
                                   "team by a structure change", ge=0, le=1)

    @model_validator(mode="after")
    def _structure_only(self) -> Change:
        if self.rewire_fraction > 0 and self.kind != "structure":
            raise ValueError(f"rewire_fraction is only meaningful for kind 'structure', not '{self.kind}'")
        return self

    @property
    def end_week(self) -> int:
        """First week after the implementation period."""
        return self.start_week + self.duration_weeks


def _learning_changes(changes: list[Change]) -> int:
    return sum(c.learning is not None for c in changes)


class ChangeProgramme(Mechanism):
    """Applies the scheduled changes: load, learning curves, restructures and prescription shifts."""

    name = "change_programme"
    title = "Changes"
    category = "1a change programme"
    owns = (
        PersonState("change_load", "Share of working time taken by changes being implemented this week"),
        PersonState("proficiency", "Proficiency with each change that has a learning curve (one row per change)",
                    initial=1.0, rows=_learning_changes),
    )
    channels = (Channel("learning_boost", "multiplier on learning rate, minus 1", "Training for new systems"),)
    publishes = (
        Signal("productivity", "share of capacity, per slot", "Capacity left by systems not yet mastered"),
        Signal("extra_recording", "share of working time, per slot", "Recording time added by new systems"),
        Signal("learning_live", "bool", "Some change with a learning curve has gone live"),
        Signal("pace", "changes", "Changes in their implementation period this week"),
        Signal("prescription_shift", "prescription units", "Shift in local prescription the changes have made"),
    )

    def init(self) -> None:
        s = self.state
        self.changes: list[Change] = list(self.pars)
        self.learning = [c for c in self.changes if c.learning is not None]
        self.col = {c.name: k for k, c in enumerate(self.learning)}  # by name (unique): a copy of the model keeps it
        k = len(self.learning)
        self.dip = np.array([c.learning.capacity_dip for c in self.learning]) if k else np.zeros(0)
        self.rec = np.array([c.learning.extra_recording for c in self.learning]) if k else np.zeros(0)
        self.lasting = np.array([c.learning.lasting_recording for c in self.learning]) if k else np.zeros(0)
        self.rate = np.array([c.learning.learning_rate for c in self.learning]) if k else np.zeros(0)
        self.live = np.zeros(max(k, 1), bool)
        self.affect_cols = np.zeros((max(k, 1), s.n), bool)
        self.publish(productivity=np.ones(s.n), extra_recording=np.zeros(s.n), learning_live=False, pace=0,
                     prescription_shift=0.0)

    def reschedule(self, name: str, start_week: int) -> None:
        """Move the go-live of change `name` (not live yet) to `start_week` (a scheduled go-live event).

        It keeps its place in the programme (and its row of proficiency), so the run is the one a programme
        planned with the new date from the start would give."""
        week = self.model.week
        for i, c in enumerate(self.changes):
            if c.name != name:
                continue
            if c.start_week < week or start_week < week:
                raise ValueError(f"week {week}: '{name}' (go-live week {c.start_week}) cannot move to week "
                                 f"{start_week}: a go-live already past cannot move, nor move into the past")
            moved = c.model_copy(update={"start_week": start_week})
            self.changes[i] = moved
            if c.learning is not None:
                self.learning = [moved if x is c else x for x in self.learning]
            return
        raise ValueError(f"no change named '{name}' in the change programme")

    def posts(self, group: str) -> np.ndarray:
        """The posts of a group (model/groups.py)."""
        return group_slots(self.state, group, self.signals.induction_weeks)

    def on_join(self, slots: np.ndarray) -> None:
        """People hired after go-live learn the system at induction."""
        if not self.signals.learning_live:  # nothing has gone live yet (the usual case before the first go-live)
            return
        for c in self.learning:
            k = self.col[c.name]
            if self.live[k]:
                self.state.proficiency[k][slots] = c.learning.new_hire_proficiency  # row, then slots: numpy's fast path

    def step(self) -> None:
        week = self.model.week
        if self.model.compiled and compiled.change_programme_week(self):  # the whole step, in a week without go-live
            return
        self.implement(week)
        if not (self.learning and self.signals.learning_live):  # published at the first go-live of a learning curve
            return
        if self.model.compiled:
            compiled.learning_curves(self)
        else:
            # learning curve: close a share of the gap each week, faster with training
            # (a loop over the few live changes; each line is vectorised over all slots)
            s = self.state
            prod = np.ones(s.n)
            rec = np.zeros(s.n)
            boost = 1.0 + self.effects.learning_boost
            for k in np.flatnonzero(self.live):
                prof, who = s.proficiency[k], self.affect_cols[k]
                gap = 1.0 - prof
                gap *= who
                prof += gap * np.minimum(self.rate[k] * boost, 1.0)
                np.subtract(1.0, prof, out=gap)
                gap *= who
                prod *= 1.0 - self.dip[k] * gap
                rec += self.rec[k] * gap + self.lasting[k] * who
            self.publish(productivity=prod, extra_recording=rec)

    def implement(self, week: int) -> None:
        """The week's load on the posts of each change in its implementation period, the pace, the prescription
        shift, and the go-lives."""
        s = self.state
        s.change_load.fill(0.0)
        pace, shift = 0, 0.0
        for c in self.changes:
            if c.start_week <= week < c.start_week + c.duration_weeks:  # in its implementation period (end_week)
                pace += 1
                if self.model.compiled:
                    self.model.kernels.masked_effect(s.change_load, self.posts(c.affects), float(c.disruption),
                                                     False, False, 0.0)
                else:
                    s.change_load[self.posts(c.affects)] += c.disruption
            if c.prescription_change:
                shift += c.prescription_change * min(max((week - c.start_week + 1) / c.duration_weeks, 0.0), 1.0)
            if week == c.start_week:
                self._go_live(c)
        self.publish(pace=pace, prescription_shift=shift)

    def _go_live(self, c: Change) -> None:
        s = self.state
        if c.kind == "structure" and c.rewire_fraction > 0:
            self.model.restructure(c.rewire_fraction, self.rng)
        if c.learning is not None:
            k = self.col[c.name]
            self.live[k] = True
            self.publish(learning_live=True)
            posts = self.posts(c.affects)
            self.affect_cols[k] = posts
            s.proficiency[k] = np.where(posts, c.learning.initial_proficiency, 1.0)
