"""The trainer's levers: shipped and loaded scenarios by name, the sliders, and (scenario, sliders) -> scenario.

Picking a scenario sets every slider to that scenario's values (`preset_controls`); `build_scenario`
applies the slider values (with the sliders untouched it returns the scenario exactly).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturedrift.experiments.analysis.decision import display_title
from culturedrift.experiments.workshop import Action, read_actions, scenario_from_text
from culturedrift.model import Scenario, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS_ENV = "CULTUREDRIFT_APP_SCENARIOS"  # extra scenario files or folders (os.pathsep-separated)
VIGILANCE = "culture_vigilance"
MAX_TEAMS = 200  # ~2,200 staff posts: the largest organisation the sliders offer


def preset_paths(directory: Path = SCENARIO_DIR) -> dict[str, Path]:
    """Shipped scenario files by name (file stem), sorted."""
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


def extra_paths(spec: str | None = None) -> list[Path]:
    """Scenario files named by `culturedrift app --scenario` (files, or folders of *.yaml)."""
    spec = os.environ.get(SCENARIOS_ENV, "") if spec is None else spec
    out: list[Path] = []
    for part in filter(None, spec.split(os.pathsep)):
        p = Path(part)
        out += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    return out


class Registry:
    """Scenarios the page offers, by name: shipped presets, files given on the command line, uploads.
    A file exported by the app brings its action log (its actions are already entries in the scenario)."""

    def __init__(self) -> None:
        self._paths = preset_paths()
        self._loaded: dict[str, tuple[Scenario, tuple[Action, ...]]] = {}
        self.first_extra = [self.add_text(p.read_text(), str(p), path=p) for p in extra_paths()][:1]

    def default(self, preset: str) -> str:
        """What the page opens on: the first scenario given on the command line, else `preset`."""
        return self.first_extra[0] if self.first_extra else preset if preset in self.names() else self.names()[0]

    def names(self) -> list[str]:
        return [*self._paths, *(n for n in self._loaded if n not in self._paths)]

    def titles(self) -> dict[str, str]:
        """The picker's label of each scenario by name: its display title, made unique with the name."""
        titles = {n: display_title(self.get(n)[0]) + (" (loaded)" if n.endswith(" (loaded)") else "")
                  for n in self.names()}
        counts = Counter(titles.values())
        return {n: t if counts[t] == 1 else f"{t} ({n})" for n, t in titles.items()}

    def get(self, name: str) -> tuple[Scenario, tuple[Action, ...]]:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._paths:
            raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(self.names())}")
        self._loaded[name] = (load_scenario(self._paths[name]), ())
        return self._loaded[name]

    def add_text(self, text: str, source: str, path: Path | None = None) -> str:
        """Add a scenario file's text (raises ScenarioError naming the source); returns its name on the page."""
        if path is not None:  # a file on disk may extend another one next to it
            sc, actions = load_scenario(path), read_actions(text)
        else:
            sc, actions = scenario_from_text(text, source)
        name = sc.name if sc.name not in self._paths else f"{sc.name} (loaded)"
        self._loaded[name] = (sc, actions)
        return name


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process's scenario registry (made on first use)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry()
    return _REGISTRY


def load_preset(name: str) -> Scenario:
    """A scenario the page offers, by name."""
    return registry().get(name)[0]


@dataclass(frozen=True)
class Controls:
    """The trainer's levers, in the units shown on the sliders."""

    pace: float = 1.0  # how much faster than the preset's schedule the programme runs (2 = twice as fast)
    vigilance: float = 0.0  # intensity of culture vigilance (0 = none, 1 = the typical programme)
    vigilance_off_week: int = 260  # first week without vigilance; the horizon means it never stops
    budget: float = 400.0  # GBP thousand per quarter at the scenario's size (scaled with n_teams)
    labour_market: float = 1.0  # labour-market pressure, ratio to the English average
    incidents_per_year: float = 0.3  # serious incidents reaching the press
    inspection_interval: int = 0  # weeks between routine inspections (0 = none)
    n_teams: int = 20  # organisation size


def planned_vigilance(sc: Scenario) -> tuple[float, int]:
    """(intensity, first week without it) of the culture vigilance a run of `sc` follows: its scheduled events
    included (e.g. vigilance withdrawn or started mid-run by a saved action), as `Scenario.planned` leaves it."""
    vig = [iv for iv in sc.planned()[1] if iv.kind == VIGILANCE]
    h = sc.horizon_weeks
    if vig:
        return float(vig[0].intensity), h if vig[0].end_week is None else min(vig[0].end_week, h)
    return 0.0, sc.handover if 0 < sc.handover < h else h


def _is_vigilance_event(e: Any) -> bool:
    """An event that starts or ends culture vigilance (the vigilance sliders replace it when moved)."""
    return (e.kind == "intervention_end" and e.intervention_kind == VIGILANCE) or \
        (e.kind == "intervention_start" and e.intervention.kind == VIGILANCE)


def preset_controls(sc: Scenario) -> Controls:
    """The slider positions that reproduce a scenario: what loading a preset sets the controls to."""
    intensity, off = planned_vigilance(sc)
    return Controls(pace=1.0, vigilance=float(intensity), vigilance_off_week=int(off),
                    budget=float(sc.budget.quarterly_budget), labour_market=float(sc.turnover.labour_market_pressure),
                    incidents_per_year=float(sc.slippage.incident_rate_per_year),
                    inspection_interval=int(sc.slippage.inspection_interval_weeks or 0),
                    n_teams=int(sc.organisation.n_teams))


def compress_programme(sc: Scenario, pace: float) -> dict[str, Any]:
    """Updates that run the change programme `pace` times faster (pace < 1: slower).

    Every go-live week, the handover week and the window of each programme-support intervention
    (one that ends by the handover; culture vigilance excepted, it has its own sliders) are divided
    by `pace`. Implementation periods keep their length; go-lives are kept inside the horizon.
    """
    if pace <= 0:
        raise ValueError(f"pace must be positive, got {pace}")
    h = sc.horizon_weeks
    handover = sc.handover

    def t(week: int) -> int:
        return round(week / pace)

    changes = []
    for c in sc.change_programme:
        d = c.model_dump(mode="python")
        d["start_week"] = max(0, min(t(c.start_week), h - c.duration_weeks))
        changes.append(d)
    interventions = []
    for iv in sc.interventions:
        d = iv.model_dump(mode="python")
        if iv.kind != VIGILANCE and sc.change_programme and iv.end_week is not None and iv.end_week <= handover:
            start = min(t(iv.start_week), h - 1)
            d["start_week"] = start
            d["end_week"] = max(min(t(iv.end_week), h), start + 1)
        interventions.append(d)
    out: dict[str, Any] = {"change_programme": changes, "interventions": interventions}
    if sc.handover_week is not None:
        out["handover_week"] = min(t(sc.handover_week), h)
    return out


def build_scenario(sc: Scenario, c: Controls) -> Scenario:
    """The preset `sc` with the slider values `c` applied (pure; `preset_controls(sc)` gives `sc` back)."""
    h = sc.horizon_weeks
    updates = compress_programme(sc, c.pace) if c.pace != 1.0 else {
        "interventions": [iv.model_dump(mode="python") for iv in sc.interventions]}
    if (float(c.vigilance), int(c.vigilance_off_week)) != planned_vigilance(sc):  # moved: the sliders set vigilance
        planned = [iv.model_dump(mode="python") for iv in sc.planned()[1] if iv.kind == VIGILANCE]
        ivs = updates["interventions"]
        vig_at = [i for i, iv in enumerate(ivs) if iv["kind"] == VIGILANCE]
        template = dict(planned[0]) if planned else {"kind": VIGILANCE, "start_week": 0}
        off = int(c.vigilance_off_week)
        keep = [iv for iv in ivs if iv["kind"] != VIGILANCE]
        if c.vigilance > 0 and off > template["start_week"]:
            template.update(intensity=float(c.vigilance), end_week=None if off >= h else off)
            keep.insert(vig_at[0] if vig_at else len(keep), template)
        updates["interventions"] = keep
        updates["events"] = [e.model_dump(mode="python") for e in sc.events if not _is_vigilance_event(e)]
    updates.update({
        "budget.quarterly_budget": scaled_budget(sc, c),
        "turnover.labour_market_pressure": float(c.labour_market),
        "slippage.incident_rate_per_year": float(c.incidents_per_year),
        "slippage.inspection_interval_weeks": int(c.inspection_interval) or None,
        "organisation.n_teams": int(c.n_teams),
    })
    return sc.with_updates(updates)


def slider_changes(sc: Scenario, c: Controls) -> list[tuple[str, str]]:
    """(short, long) wording of each slider moved from scenario `sc`'s own setting: an exported run names them,
    so a file saved with vigilance switched off is not titled as the scenario that keeps it on."""
    p, h, out = preset_controls(sc), sc.horizon_weeks, []
    if c.pace != p.pace:
        out.append((f"pace {c.pace:g}x", f"change pace {c.pace:g}x the scenario's schedule"))
    if (c.vigilance, c.vigilance_off_week) != (p.vigilance, p.vigilance_off_week):
        def vigilance(v: float, off: int, week: str) -> str:
            return "none" if v <= 0 else f"{v:g}" + ("" if off >= h else f" to {week} {off}")

        out.append((f"vigilance {vigilance(c.vigilance, c.vigilance_off_week, 'wk')}",
                    f"culture vigilance {vigilance(c.vigilance, c.vigilance_off_week, 'week')} (scenario: "
                    f"{vigilance(p.vigilance, p.vigilance_off_week, 'week')})"))
    if c.budget != p.budget:
        out.append((f"budget {c.budget:g}k", f"budget GBP {c.budget:,.0f}k a quarter at the scenario's size "
                                              f"(scenario: GBP {p.budget:,.0f}k)"))
    if c.labour_market != p.labour_market:
        out.append((f"labour market {c.labour_market:g}", f"labour-market pressure {c.labour_market:g} "
                                                           f"(scenario: {p.labour_market:g})"))
    if c.incidents_per_year != p.incidents_per_year:
        out.append((f"{c.incidents_per_year:g} incidents/yr", f"{c.incidents_per_year:g} serious incidents a "
                                                               f"year (scenario: {p.incidents_per_year:g})"))
    if c.inspection_interval != p.inspection_interval:
        def every(n: int) -> str:
            return f"every {n} weeks" if n else "none"

        out.append((f"inspections {every(c.inspection_interval)}", f"routine inspections "
                    f"{every(c.inspection_interval)} (scenario: {every(p.inspection_interval)})"))
    if c.n_teams != p.n_teams:
        out.append((f"{c.n_teams} teams", f"{c.n_teams} teams (scenario: {p.n_teams})"))
    return out


def scaled_budget(sc: Scenario, c: Controls) -> float:
    """The quarterly budget of the organisation the sliders make: the budget slider's amount is for the
    scenario's own size and grows with the number of teams, as an authority's budget grows with its posts
    (a larger organisation on a small one's budget cannot pay for agency cover: its posts stay empty)."""
    return float(c.budget) * (int(c.n_teams) / sc.organisation.n_teams)


def parse_seed(text: Any) -> tuple[int, str | None]:
    """The seed field's value as an integer, with a note when it had to fall back to 0."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return 0, f"Seed {str(text)!r} is not a whole number; using seed 0."
    if seed < 0:
        return 0, f"Seed {seed} is negative; using seed 0."
    return seed, None
