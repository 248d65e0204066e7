"""The trainer's interactive app: a Mesa SolaraViz page for showing how a culture slips back when
leadership attention moves on, and how pace turns into turnover.

Run it with `culturedrift app` (or `solara run experiments.app`). The page has

- a *Scenario* card with a preset picker for the shipped scenarios;
- Mesa's controls (Reset, play/pause, Step, play and render intervals);
- *Model Parameters*: sliders for change pace, leadership vigilance and the week it stops, budget,
  labour-market pressure, incident and inspection pressure, organisation size, and a seed field;
- the network view (left) and the key series (right), updated every week.

How presets and sliders fit together: picking a preset builds a fresh model from it and remounts
the SolaraViz page with every slider set to that preset's values (the slider defaults are read from
the preset). Moving sliders changes nothing until **Reset**, which builds a new model from the
preset with the slider values applied by `build_scenario` (a pure function; with the sliders
untouched it returns the preset exactly). All mechanisms are the model's own: `AppModel` only turns
(preset, slider values, seed) into a `Scenario` and calls `CultureDriftModel`.

How play keeps the page moving: Mesa's play loop steps the model in a worker thread and asks for a page
update after every week, but does not wait for it. While another thread holds the render (the one that
rendered the click on play, say), the request is only noted and the loop steps on; when a render pass
(two PNG frames, ~100 ms) takes longer than a step (~25 ms), every pass finds the model moved on and
renders again, and the page is sent nothing until play stops. A `PageGate` closes that loop: once a page
shows a model, the model computes week w+1 only after both panels have shown week w (a bounded wait), so
play shows every week, at the speed the page can draw, and never steps the model under a render.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from culturedrift.experiments import viz
from culturedrift.model import CultureDriftModel, Scenario, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_PRESET = "phased_vigilance_withdrawn"
VIGILANCE = "culture_vigilance"
PLAY_INTERVAL_MS = 20  # pause between played weeks; rendering, not this, sets the frame rate
DPI = 80
NETWORK_FORMAT = "jpeg"  # the network view changes everywhere every week: JPEG encodes and ships it fastest
PANELS = ("network", "series")
GATE_TIMEOUT_S = 3.0  # longest a played week waits for the page (a page that went away cannot stall the model)


# --- presets and controls (pure) -------------------------------------------------------------------

def preset_paths(directory: Path = SCENARIO_DIR) -> dict[str, Path]:
    """Shipped scenario files by name (file stem), sorted."""
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


@cache
def load_preset(name: str) -> Scenario:
    """A shipped scenario by name (validated once, then cached: scenarios are immutable)."""
    paths = preset_paths()
    if name not in paths:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(paths)}")
    return load_scenario(paths[name])


@dataclass(frozen=True)
class Controls:
    """The trainer's levers, in the units shown on the sliders."""

    pace: float = 1.0  # how much faster than the preset's schedule the programme runs (2 = twice as fast)
    vigilance: float = 0.0  # intensity of culture vigilance (0 = none, 1 = the typical programme)
    vigilance_off_week: int = 260  # first week without vigilance; the horizon means it never stops
    budget: float = 400.0  # GBP thousand per quarter
    labour_market: float = 1.0  # labour-market pressure, ratio to the English average
    incidents_per_year: float = 0.3  # serious incidents reaching the press
    inspection_interval: int = 0  # weeks between routine inspections (0 = none)
    n_teams: int = 20  # organisation size


def preset_controls(sc: Scenario) -> Controls:
    """The slider positions that reproduce a scenario: what loading a preset sets the controls to."""
    vig = [iv for iv in sc.interventions if iv.kind == VIGILANCE]
    h = sc.horizon_weeks
    if vig:
        intensity = vig[0].intensity
        off = h if vig[0].end_week is None else min(vig[0].end_week, h)
    else:
        intensity = 0.0
        off = sc.handover if 0 < sc.handover < h else h
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
    ivs = updates["interventions"]
    vig_at = [i for i, iv in enumerate(ivs) if iv["kind"] == VIGILANCE]
    template = dict(ivs[vig_at[0]]) if vig_at else {"kind": VIGILANCE, "start_week": 0}
    off = int(c.vigilance_off_week)
    keep = [iv for iv in ivs if iv["kind"] != VIGILANCE]
    if c.vigilance > 0 and off > template["start_week"]:
        template.update(intensity=float(c.vigilance), end_week=None if off >= h else off)
        at = vig_at[0] if vig_at else len(keep)
        keep.insert(at, template)
    updates["interventions"] = keep
    updates.update({
        "budget.quarterly_budget": float(c.budget),
        "turnover.labour_market_pressure": float(c.labour_market),
        "slippage.incident_rate_per_year": float(c.incidents_per_year),
        "slippage.inspection_interval_weeks": int(c.inspection_interval) or None,
        "organisation.n_teams": int(c.n_teams),
    })
    return sc.with_updates(updates)


def parse_seed(text: Any) -> tuple[int, str | None]:
    """The seed field's value as an integer, with a note when it had to fall back to 0."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return 0, f"Seed {str(text)!r} is not a whole number; using seed 0."
    if seed < 0:
        return 0, f"Seed {seed} is negative; using seed 0."
    return seed, None


# --- the model the page runs -----------------------------------------------------------------------

class PageGate:
    """Which week each panel of a page has shown, and a bounded wait for the page to catch up."""

    def __init__(self, panels: tuple[str, ...] = PANELS, timeout: float = GATE_TIMEOUT_S) -> None:
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


class AppModel(CultureDriftModel):
    """`CultureDriftModel` built from a preset and the sliders (None = the preset's value)."""

    default_preset = DEFAULT_PRESET

    def __init__(self, preset: str | None = None, pace: float | None = None, vigilance: float | None = None,
                 vigilance_off_week: int | None = None, budget: float | None = None,
                 labour_market: float | None = None, incidents_per_year: float | None = None,
                 inspection_interval: int | None = None, n_teams: int | None = None, seed: Any = "0") -> None:
        preset = preset or self.default_preset
        base = load_preset(preset)
        given = {"pace": pace, "vigilance": vigilance, "vigilance_off_week": vigilance_off_week, "budget": budget,
                 "labour_market": labour_market, "incidents_per_year": incidents_per_year,
                 "inspection_interval": inspection_interval, "n_teams": n_teams}
        controls = replace(preset_controls(base), **{k: v for k, v in given.items() if v is not None})
        seed_int, self.note = parse_seed(seed)
        self.page_gate: PageGate | None = None  # set when a page shows this model (see `gate`)
        super().__init__(build_scenario(base, controls), seed_int)
        self.preset = preset
        self.controls = controls

    def step(self) -> None:
        """One week of the model; on a page, not before the page shows the current week (see PageGate)."""
        page = self.page_gate
        if page is not None:
            page.wait(self.week)
        super().step()


@cache
def app_model_for(preset: str) -> type[AppModel]:
    """`AppModel` bound to a preset. Mesa's Reset rebuilds `type(model)(**page parameters)`; after a
    preset change those parameters can hold only the sliders that were moved, so the class itself must
    know its preset or Reset would fall back to the default one."""
    return type(f"AppModel_{preset}", (AppModel,), {"default_preset": preset, "__doc__": AppModel.__doc__})


def model_params(preset: str) -> dict[str, Any]:
    """SolaraViz's model_params for a preset: the preset name (fixed), the seed field and the sliders,
    each slider starting at the preset's value."""
    sc = load_preset(preset)
    c = asdict(preset_controls(sc))
    h = sc.horizon_weeks

    def slider(kind: str, label: str, name: str, lo: float, hi: float, step: float) -> dict[str, Any]:
        value = c[name]
        return {"type": kind, "label": label, "value": value, "min": min(lo, value), "max": max(hi, value),
                "step": step}

    return {
        "preset": preset,
        "seed": {"type": "InputText", "label": "Seed", "value": "0"},
        "pace": slider("SliderFloat", "Change pace (x the preset's schedule)", "pace", 0.5, 4.0, 0.25),
        "vigilance": slider("SliderFloat", "Leadership vigilance (0 = none)", "vigilance", 0.0, 2.0, 0.1),
        "vigilance_off_week": slider("SliderInt", f"Vigilance stops at week ({h} = never)", "vigilance_off_week",
                                     1, h, 1),
        "budget": slider("SliderInt", "Budget (GBP k per quarter)", "budget", 0, 1000, 25),
        "labour_market": slider("SliderFloat", "Labour-market pressure (1 = England)", "labour_market",
                                0.5, 2.0, 0.05),
        "incidents_per_year": slider("SliderFloat", "Serious incidents per year", "incidents_per_year",
                                     0.0, 3.0, 0.1),
        "inspection_interval": slider("SliderInt", "Inspection every N weeks (0 = none)", "inspection_interval",
                                      0, 260, 13),
        "n_teams": slider("SliderInt", "Organisation size (teams of 10)", "n_teams", 2, 40, 1),
    }


def controls_text(model: AppModel) -> str:
    """The settings the current run uses (sliders show no numbers until dragged, so the page lists them)."""
    c, h = model.controls, model.horizon
    stops = "never stops" if c.vigilance_off_week >= h else f"stops at week {c.vigilance_off_week}"
    vig = "none" if c.vigilance <= 0 else f"{c.vigilance:.1f}, {stops}"
    staff = int((model.spec.organisation.team_size + 1) * c.n_teams)
    return (f"Running with: pace {c.pace:.2f}x · vigilance {vig} · budget GBP {c.budget:.0f}k a quarter · "
            f"labour market {c.labour_market:.2f} · incidents {c.incidents_per_year:.1f} a year · inspections "
            f"{'none' if not c.inspection_interval else f'every {c.inspection_interval} weeks'} · "
            f"{c.n_teams} teams ({staff} staff posts)")


# --- page components -------------------------------------------------------------------------------

class _Frames:
    """Figures and blitting renderers for one model (one per model instance, i.e. per Reset)."""

    def __init__(self, model: AppModel) -> None:
        self.lock = threading.Lock()
        net_fig, self.net = viz.network_figure(model, size=(6.4, 6.6))
        ser_fig, self.series = viz.series_figure(model, size=(6.4, 6.6))
        self.net_img = viz.FrameRenderer(net_fig, [self.net], dpi=DPI, fmt=NETWORK_FORMAT)
        self.series_img = viz.FrameRenderer(ser_fig, [self.series], dpi=DPI)
        self.cache: dict[tuple[str, int], bytes] = {}

    def frame(self, which: str, week: int) -> bytes:
        """The image bytes of view `which` ("network": JPEG, "series": PNG) for `week` (the model's current week)."""
        with self.lock:
            key = (which, week)
            if key not in self.cache:
                self.cache = {k: v for k, v in self.cache.items() if k[0] != which}
                self.cache[key] = (self.net_img if which == "network" else self.series_img).render()
            return self.cache[key]


_FRAMES_LOCK = threading.Lock()


def gate(model: AppModel) -> PageGate:
    """The page gate of this model instance (made when a page first shows the model)."""
    with _FRAMES_LOCK:
        if model.page_gate is None:
            model.page_gate = PageGate()
        return model.page_gate


def _frames(model: AppModel) -> _Frames:
    """The renderers of this model instance (kept for the model's life; a new model gets new ones)."""
    with _FRAMES_LOCK:
        frames = getattr(model, "_app_frames", None)
        if frames is None:
            frames = _Frames(model)
            model._app_frames = frames
        return frames


@solara.component
def NetworkPanel(model: AppModel):
    """The organisation's network this week."""
    update_counter.get()
    week = model.week
    png = _frames(model).frame("network", week)
    solara.use_effect(lambda: gate(model).show("network", week), [model, week])  # runs once the frame is on the page
    with solara.Column(style={"padding": "4px"}):
        solara.Text("Compliance habit spreading through working ties: red = procedure and control (the old "
                    "culture), blue = professional judgement.", style={"font-size": "0.85em"})
        solara.Image(png, width="100%", format=NETWORK_FORMAT, classes=["cd-network"])


@solara.component
def SeriesPanel(model: AppModel):
    """Readout line and the key series so far."""
    update_counter.get()
    week = model.week
    png = _frames(model).frame("series", week)
    solara.use_effect(lambda: gate(model).show("series", week), [model, week])
    with solara.Column(style={"padding": "4px"}):
        solara.Text(viz.readout_text(model), classes=["cd-readout"], style={"font-weight": "bold"})
        marks = viz.Marks.of(model)
        bits = []
        if marks.programme:
            bits.append(f"change programme weeks {marks.programme[0]}-{marks.programme[1]} (shaded)")
        if marks.vigilance_off is not None:
            bits.append(f"vigilance stops at week {marks.vigilance_off} (red dashes)")
        solara.Text(f"{model.spec.name}, seed {model.seed}" + (": " + "; ".join(bits) if bits else ""),
                    style={"font-size": "0.85em"})
        solara.Text(controls_text(model), classes=["cd-controls"], style={"font-size": "0.85em"})
        if model.note:
            solara.Warning(model.note)
        solara.Image(png, width="100%", classes=["cd-series"])


@solara.component
def Page():
    """The app: preset picker, then SolaraViz (remounted per preset so its sliders show that preset)."""
    presets = list(preset_paths())
    preset = solara.use_reactive(DEFAULT_PRESET if DEFAULT_PRESET in presets else presets[0])
    model = solara.use_memo(lambda: app_model_for(preset.value)(preset=preset.value), [preset.value])
    sc = load_preset(preset.value)
    with solara.Sidebar(), solara.Card("Scenario"):
        solara.Select("Preset", value=preset, values=presets, classes=["cd-preset"])
        solara.Text(sc.description, style={"font-size": "0.85em"})
        solara.Text("Picking a preset loads it and sets the sliders below to its values. Move sliders, then "
                    "press RESET to run with them (the run's settings are listed above the series).",
                    style={"font-size": "0.85em"})
    SolaraViz(model, components=[NetworkPanel, SeriesPanel], model_params=model_params(preset.value),
              name="culturedrift: culture drift after the Munro Review", play_interval=PLAY_INTERVAL_MS,
              ).key(f"viz-{preset.value}")


page = Page
