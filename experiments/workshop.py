"""The trainer's workshop, pure pieces: actions taken during a run, the settings that reproduce it, and the
scenario file, debrief and glossary made from them.

An action is something the trainer does at the current week ("an inspection now", "withdraw culture
vigilance now"). Each becomes one ordinary scheduled event of the scenario at its week (model/events.py:
an inspection, an intervention started or ended, a go-live moved, a budget change), so
`apply_actions(base, log)` is the scenario the run follows, a running model takes the action by adding
that event at the current week, and `culturedrift run` / `compare` reproduce the run from the exported file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from culturedrift.model import Scenario
from culturedrift.model.scenario import parse_scenario

VIGILANCE = "culture_vigilance"
PUSH_BACK_WEEKS = 13  # a quarter: how far "push the next go-live back" moves it
BUDGET_CUT = 0.25  # share of the quarterly budget a cut removes


@dataclass(frozen=True)
class ActionKind:
    """One button on the page: its label, what it does in plain words, and its marker on the series."""

    key: str
    label: str
    explains: str
    marker: str


ACTIONS: dict[str, ActionKind] = {a.key: a for a in (
    ActionKind("inspection", "Inspection now", "An inspection this week: local prescription (procedure) jumps "
               "and managers tighten control.", "inspection"),
    ActionKind("incident", "Serious incident now", "A serious incident reaches the press this week: "
               "prescription jumps.", "incident"),
    ActionKind("vigilance_off", "Withdraw culture vigilance", "Leaders stop watching for drift back to "
               "compliance from this week.", "vigilance off"),
    ActionKind("vigilance_on", "Restore culture vigilance", "Leaders watch for drift again from this week.",
               "vigilance on"),
    ActionKind("budget_cut", f"Cut the budget by {BUDGET_CUT:.0%}", "The quarterly workforce budget falls by "
               f"{BUDGET_CUT:.0%} from this week (less agency cover, programmes scaled down).", "budget cut"),
    ActionKind("budget_restore", "Restore the budget", "The quarterly budget returns to the run's setting from "
               "this week.", "budget restored"),
    ActionKind("retention", "Start a retention programme", "Pay supplements and career steps for permanent "
               "staff from this week (lower exit hazard).", "retention"),
    ActionKind("supervision", "Start reflective supervision", "Regular reflective supervision from this week "
               "(reinforces professional judgement; takes some working time).", "supervision"),
    ActionKind("golive_forward", "Bring the next go-live forward", "The next change in the programme goes live "
               "this week instead of later.", "go-live forward"),
    ActionKind("golive_back", f"Push the next go-live back {PUSH_BACK_WEEKS} weeks", "The next change in the "
               f"programme goes live {PUSH_BACK_WEEKS} weeks later than planned.", "go-live back"),
)}


class ActionError(ValueError):
    """An action that cannot be taken at that week (the page shows the reason)."""


@dataclass(frozen=True)
class Action:
    """One action in the log: what, and the week it takes effect (the week shown when it was taken)."""

    week: int
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ACTIONS:
            raise ActionError(f"unknown action {self.kind!r}; one of {', '.join(ACTIONS)}")
        if self.week < 0:
            raise ActionError(f"action week must be 0 or later, got {self.week}")

    @property
    def label(self) -> str:
        return ACTIONS[self.kind].label

    def text(self) -> str:
        return f"week {self.week}: {ACTIONS[self.kind].label}"


def ordered(actions: tuple[Action, ...] | list[Action]) -> list[Action]:
    """Actions in the order they take effect (by week; the order taken within a week)."""
    return sorted(actions, key=lambda a: a.week)


# --- action log -> scenario entries (pure) ----------------------------------------------------------

def _running(iv: dict[str, Any], week: int) -> bool:
    return iv["start_week"] <= week and (iv["end_week"] is None or iv["end_week"] > week)


def _event(data: dict[str, Any], a: Action, h: int, budget: float) -> dict[str, Any]:
    """The event that carries out action `a`; `data` (the scenario as the earlier actions leave it) is edited
    the same way, so that later actions are checked against what will be running then."""
    w, ivs = a.week, data["interventions"]
    if a.kind in ("inspection", "incident"):
        kind = "inspection" if a.kind == "inspection" else "serious_incident"
        mag = data["slippage"]["inspection_magnitude" if kind == "inspection" else "incident_magnitude"]
        return {"week": w, "kind": kind, "magnitude": mag}
    if a.kind.startswith("budget"):
        return {"week": w, "kind": "budget_change", "quarterly_budget": budget, "at_once": True}
    if a.kind == "vigilance_off":
        vig = [iv for iv in ivs if iv["kind"] == VIGILANCE and (iv["end_week"] is None or iv["end_week"] > w)]
        if not vig:
            raise ActionError(f"week {w}: culture vigilance is not running, nothing to withdraw")
        for iv in vig:
            if iv["start_week"] >= w:
                ivs.remove(iv)
            else:
                iv["end_week"] = w
        return {"week": w, "kind": "intervention_end", "intervention_kind": VIGILANCE}
    if a.kind in ("vigilance_on", "retention", "supervision"):
        kind = {"vigilance_on": VIGILANCE, "retention": "retention", "supervision": "reflective_supervision"}[a.kind]
        same = [iv for iv in ivs if iv["kind"] == kind]
        if any(_running(iv, w) for iv in same):
            raise ActionError(f"week {w}: {kind.replace('_', ' ')} is already running")
        started = {"kind": kind, "start_week": w, "intensity": same[-1]["intensity"] if same else 1.0,
                   "label": f"{kind.replace('_', ' ')} from week {w}"}
        ivs.append({**started, "end_week": None})
        return {"week": w, "kind": "intervention_start", "intervention": started}
    first = w + (a.kind == "golive_forward")  # a go-live this week can be pushed back, not brought forward
    pending = sorted((c for c in data["change_programme"] if c["start_week"] >= first), key=lambda c: c["start_week"])
    if not pending:
        raise ActionError(f"week {w}: no go-live is left in the change programme")
    c = pending[0]
    if a.kind == "golive_forward":
        c["start_week"] = w
    else:
        later = min(c["start_week"] + PUSH_BACK_WEEKS, h - c["duration_weeks"])
        if later <= c["start_week"]:
            raise ActionError(f"week {w}: '{c['name']}' cannot go live later and still finish by week {h}")
        c["start_week"] = later
    return {"week": w, "kind": "go_live", "change": c["name"], "start_week": c["start_week"]}


def apply_actions(base: Scenario, actions: tuple[Action, ...] | list[Action],
                  earlier: tuple[Action, ...] = ()) -> Scenario:
    """The scenario a run with this action log follows: the base scenario plus one event per action.

    `earlier` are actions already among the base's events (a loaded file's log): later actions are checked
    against what they left running, and a budget cut cuts the budget they left."""
    if not actions:
        return base
    data = base.model_dump(mode="python")
    changes, interventions = base.planned()
    data["change_programme"] = [c.model_dump(mode="python") for c in changes]
    data["interventions"] = [iv.model_dump(mode="python") for iv in interventions]
    h = base.horizon_weeks
    new = {id(a) for a in actions}
    events = []
    for a, level in _budget_levels(base, [*earlier, *actions]):
        if id(a) not in new:
            continue
        if a.week >= h:
            raise ActionError(f"week {a.week}: the run ends at week {h}")
        events.append(_event(data, a, h, round(level, 6)))
    out = base.model_dump(mode="python")
    out["events"] = [*out["events"], *events]
    return parse_scenario(out, f"scenario '{base.name}' with the workshop's actions")


def _budget_levels(base: Scenario, actions: list[Action]) -> list[tuple[Action, float]]:
    """Each action (in the order they take effect) with the quarterly budget in force after it."""
    full = base.budget.quarterly_budget
    level, out = full, []
    for a in ordered(actions):
        if a.kind == "budget_cut":
            level = level * (1.0 - BUDGET_CUT)
        elif a.kind == "budget_restore":
            level = full
        out.append((a, level))
    return out


def budget_schedule(base: Scenario, actions: tuple[Action, ...] | list[Action]) -> list[tuple[int, float]]:
    """(week, quarterly budget from that week) for each budget action, in order."""
    levels = _budget_levels(base, list(actions))
    return [(a.week, round(level, 6)) for a, level in levels if a.kind.startswith("budget")]


def budget_at(base: Scenario, actions: tuple[Action, ...] | list[Action], week: int) -> float:
    """The quarterly budget in force at `week`."""
    level = base.budget.quarterly_budget
    for w, b in budget_schedule(base, actions):
        if w <= week:
            level = b
    return level


# --- settings: what reproduces a run -----------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """Everything a run needs: the scenario with the sliders applied, the seed and the action log."""

    base: Scenario
    seed: int = 0
    actions: tuple[Action, ...] = field(default=())
    loaded: tuple[Action, ...] = field(default=())  # from a loaded file's log: already entries in `base`

    def scenario(self) -> Scenario:
        """The scenario this run follows (actions as scenario entries)."""
        return apply_actions(self.base, self.actions, self.loaded)

    def log(self) -> list[Action]:
        """Every action of the run, loaded ones included, in the order they take effect."""
        return ordered((*self.loaded, *self.actions))

    def plus(self, action: Action) -> Settings:
        """These settings with one more action (checked first)."""
        if action.kind == "budget_restore" and budget_at(self.base, self.log(), action.week) == \
                self.base.budget.quarterly_budget:
            raise ActionError(f"week {action.week}: the budget is at the run's setting already")
        apply_actions(self.base, (*self.actions, action), self.loaded)  # raises ActionError with the reason
        return Settings(self.base, self.seed, (*self.actions, action), self.loaded)


@dataclass(frozen=True)
class Twin:
    """The twin run: the same settings and actions plus one lever at a chosen week."""

    kind: str = "vigilance_off"
    week: int = 104

    def action(self) -> Action:
        return Action(self.week, self.kind)

    def text(self) -> str:
        return f"{ACTIONS[self.kind].label.lower()} at week {self.week}"


# --- scenario files ------------------------------------------------------------------------------------

def _prune(data: Any, default: Any) -> Any:
    """`data` without the mapping entries equal to the defaults (lists are kept whole)."""
    if isinstance(data, dict) and isinstance(default, dict):
        out = {}
        for k, v in data.items():
            if k in default and v == default[k]:
                continue
            out[k] = _prune(v, default[k]) if k in default else v
        return out
    return data


ACTION_LINE = re.compile(r"^#\s+week (\d+): (\w+)\s*(?:—.*)?$")
TITLE_MAX = 60  # a scenario title's longest (model/scenario.py)
NAMED_ACTIONS = 6  # actions spelled out in an exported name; more are counted


@dataclass(frozen=True)
class Played:
    """What an exported run is called: the scenario it started from, the sliders moved and the actions taken,
    so a saved file (and its debrief) never passes for the untouched scenario."""

    name: str
    title: str
    description: str


def played(settings: Settings, adjusted: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
           lever: Action | None = None) -> Played:
    """Name, title and description of the run as played: the scenario's own when nothing was changed, else
    the scenario's followed by each moved slider (`adjusted`: (short, long) wording) and each action taken
    here (a loaded file's actions are already in its name and title). A twin's `lever` comes first in its
    title, so its file stays told apart from its run's (e.g. in `compare`) however long the log."""
    from culturedrift.experiments.analysis.decision import display_title

    base, acts = settings.base, ordered(settings.actions)
    if not acts and not adjusted:
        return Played(base.name, base.title, base.description)
    lever = lever if lever in acts else None
    short = ([f"twin: {ACTIONS[lever.kind].marker} wk {lever.week}"] if lever else []) + \
        [s for s, _ in adjusted] + [f"{ACTIONS[a.kind].marker} wk {a.week}" for a in acts if a != lever]
    head = display_title(base)

    def title(k: int) -> str:
        """The title naming the first k changes (and counting the rest)."""
        more = len(short) - k
        return f"{head}; {', '.join(short[:k])}" + (f" +{more} more" if more else "")

    k = max((k for k in range(1, len(short) + 1) if len(title(k)) <= TITLE_MAX), default=1)
    if len(title(k)) > TITLE_MAX:  # even the first change does not fit: shorten the scenario's title instead
        head = head[:len(head) - (len(title(k)) - TITLE_MAX) - 1].rstrip(" ,;") + "…"
    words = [f"w{a.week}-{a.kind}" for a in acts]
    if len(words) > NAMED_ACTIONS:
        words = [*words[:NAMED_ACTIONS], f"{len(words) - NAMED_ACTIONS}-more"]
    name = "_".join([base.name, *(["adjusted"] if adjusted else []), *words])
    parts = []
    if adjusted:
        parts.append("sliders moved from the scenario's settings: " + "; ".join(long for _, long in adjusted))
    if lever:
        parts.append(f"the twin's lever: week {lever.week}, {lever.label.lower()}")
    if acts:
        parts.append("actions taken: " + "; ".join(f"week {a.week}, {a.label.lower()}" for a in acts))
    lead = f"{base.description.rstrip()} " if base.description.strip() else ""
    return Played(name, title(k), f"{lead}As played in the trainer's app, {' · '.join(parts)}.")


def played_scenario(settings: Settings, adjusted: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
                    lever: Action | None = None) -> Scenario:
    """The scenario the run follows, named, titled and described as played (what an exported file holds)."""
    label = played(settings, adjusted, lever)
    return settings.scenario().model_copy(update={"name": label.name, "title": label.title,
                                                  "description": label.description})


def scenario_yaml(settings: Settings, name: str | None = None, note: str = "",
                  adjusted: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
                  lever: Action | None = None) -> str:
    """The run as a scenario file that `run`, `compare` and the app accept: the full scenario (values that
    equal the model's defaults left out) with the actions as entries, named and described as played (see
    `played`; `name` overrides the name); a header lists the seed and the log."""
    sc = played_scenario(settings, adjusted, lever)
    name = name or sc.name
    sc = sc.model_copy(update={"name": name})
    data = sc.model_dump(mode="json")
    default = Scenario(name=name).model_dump(mode="json")
    body = _prune(data, default)
    body = {"name": name, **{k: v for k, v in body.items() if k != "name"}}
    lines = [f"# culturedrift scenario exported from the trainer's app (seed {settings.seed}).",
             f"# Re-run it: culturedrift run FILE --seeds {settings.seed + 1}   "
             f"(seed {settings.seed} is the app's run)"]
    if note:
        lines.append(f"# {note}")
    lines.append("# Action log (already included below as scheduled events):")
    lines += [f"#   week {a.week}: {a.kind} — {a.label}" for a in settings.log()] or ["#   (none)"]
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def read_actions(text: str) -> tuple[Action, ...]:
    """The action log from an exported file's header (empty for any other scenario file)."""
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            break
        m = ACTION_LINE.match(line)
        if m and m.group(2) in ACTIONS:
            out.append(Action(int(m.group(1)), m.group(2)))
    return tuple(out)


def scenario_from_text(text: str, source: str) -> tuple[Scenario, tuple[Action, ...]]:
    """A scenario file's text (e.g. uploaded in the page) -> scenario and, for an exported file, its action
    log (the actions are already entries in the scenario: the log is for markers and the debrief).
    `extends:` cannot be followed from an upload (no folder to look in) and is an error."""
    from culturedrift.model.scenario import ScenarioError

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(f"{source}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping of fields, got {type(data).__name__}")
    if "extends" in data:
        raise ScenarioError(f"{source}: extends: cannot be followed for an uploaded file; start the app with "
                            "`culturedrift app --scenario FOLDER` instead, or export a full scenario")
    return parse_scenario(data, source), read_actions(text)


# --- glossary ------------------------------------------------------------------------------------------

GLOSSARY: dict[str, str] = {
    "Compliance habit": "How far a person works by procedure and control (1) rather than professional "
                        "judgement (0). The Munro Review asked organisations to move it down; it creeps back "
                        "when attention moves on.",
    "Prescription": "How much procedure and recording the organisation demands locally. Inspections and "
                    "serious incidents push it up; it relaxes slowly.",
    "Culture vigilance": "Leaders watching for the drift back to compliance and reinforcing judgement. "
                         "Withdrawing it is the classic way a new culture slips back.",
    "Fragmentation": "Share of the working relationships of week 0 lost since, by strength: people who knew and "
                     "trusted each other have left or been moved apart, and new colleagues' ties are still weak "
                     "(within teams and with partner agencies: police, health, education).",
    "Turnover rate": "Permanent leavers in the last 12 months as a share of the permanent staff in post (DfE "
                     "measure: agency workers are not counted; England 13.5-17.1% in 2013-2023).",
    "Vacancy rate": "Share of posts without a permanent holder; agency cover counts as vacant, as in DfE "
                    "statistics (England 14-20%).",
    "Agency worker rate": "Share of social workers who are locums paid through an agency (England 12-18%); "
                           "they cost more and stay for shorter spells.",
    "Empty post": "A social-work post with nobody in it this week (a gap in the network picture): no permanent "
                  "holder and no agency worker covering it. Vacancy counts both empty and agency-covered posts.",
    "Budget": "The quarterly money for agency cover and leadership programmes. Agency cover of a vacant post is "
              "bought only while the budget lasts, so an organisation on too small a budget keeps posts empty "
              "instead of covering them. On this page it grows with the organisation's size.",
    "Morale": "How people feel about their work (0-1): falls with overload, change and lost colleagues, "
              "rises with support. Low morale drives leaving.",
    "Twin runs": "Two runs with the same seed and the same actions, differing in one lever: their luck is "
                 "shared, so the gap between them is the lever's effect.",
}
