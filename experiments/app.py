"""The trainer's app: a Mesa SolaraViz page to show, live, how pace turns into turnover and how a culture
slips back when attention moves on, and to ask "what if we do X now?" next to the run where we did not.

`culturedrift app [--scenario FILE_OR_FOLDER]` serves it. The sidebar picks a scenario (shipped, given on
the command line, or dropped on the page), the twin run's lever, and Mesa's controls and sliders (moved
sliders take effect on Reset). The main view: the network(s), the series with a marker per action and
hover text per panel, the actions to take at the current week, and the files to take away.
Pieces: app_controls (scenarios, sliders), workshop (actions, settings, scenario files), app_model
(runs in lockstep, actions at the current week), app_files (CSV, figures, debrief), app_panels (views).
"""

from __future__ import annotations

import os
from functools import cache

# Reacton's subtree-skipping renderer: a page update then reconciles only the panels whose state changed
# (the week's pictures and readouts) instead of walking every widget of the page, which took half of
# each played week's server time. Read at each render, so it must be set before the first page renders.
os.environ.setdefault("REACTON_FAST", "1")

import ipyvue
import solara
import traitlets
from mesa.visualization import SolaraViz

from culturedrift.experiments import app_panels as panels
from culturedrift.experiments.app_controls import parse_seed, preset_controls, registry
from culturedrift.experiments.app_model import WorkshopModel
from culturedrift.experiments.app_panels import model_params
from culturedrift.experiments.workshop import ACTIONS, Settings, Twin

APP_NAME = "culturedrift: culture drift after the Munro Review"
DEFAULT_PRESET = "phased_with_vigilance"
PLAY_INTERVAL_MS = 1  # pause between played weeks (Mesa's least): the page gate, not a sleep, paces play
TWIN_LEVERS = ("vigilance_off", "budget_cut", "inspection", "incident", "retention", "supervision",
               "golive_back")


class AppModel(WorkshopModel):
    """A `WorkshopModel` built from a scenario by name and the sliders (None = the scenario's value)."""

    default_preset = DEFAULT_PRESET
    default_twin: Twin | None = None

    def __init__(self, preset: str | None = None, pace: float | None = None, vigilance: float | None = None,
                 vigilance_off_week: int | None = None, budget: float | None = None,
                 labour_market: float | None = None, incidents_per_year: float | None = None,
                 inspection_interval: int | None = None, n_teams: int | None = None, seed: object = "0") -> None:
        from dataclasses import replace

        from culturedrift.experiments.app_controls import build_scenario

        self.preset = preset or self.default_preset
        base, loaded = registry().get(self.preset)
        given = {"pace": pace, "vigilance": vigilance, "vigilance_off_week": vigilance_off_week, "budget": budget,
                 "labour_market": labour_market, "incidents_per_year": incidents_per_year,
                 "inspection_interval": inspection_interval, "n_teams": n_teams}
        self.controls = replace(preset_controls(base), **{k: v for k, v in given.items() if v is not None})
        self.picked = base
        seed_int, self.note = parse_seed(seed)
        super().__init__(Settings(build_scenario(base, self.controls), seed_int, (), loaded), self.default_twin)

    def adjusted(self) -> list[tuple[str, str]]:
        """The sliders moved from the picked scenario's settings, as (short, long) wording."""
        from culturedrift.experiments.app_controls import slider_changes

        return slider_changes(self.picked, self.controls)


@cache
def app_model_for(preset: str, twin: Twin | None = None) -> type[AppModel]:
    """`AppModel` bound to a scenario and twin. Mesa's Reset rebuilds `type(model)(**slider values)`, which
    may lack the scenario's name after a change, so the class itself knows them."""
    return type(f"AppModel_{abs(hash((preset, twin)))}", (AppModel,),
                {"default_preset": preset, "default_twin": twin, "__doc__": AppModel.__doc__})


class FileInput(ipyvue.VueTemplate):
    """A plain file chooser whose file's text arrives in `content` (with its name in `filename`)."""

    template = traitlets.Unicode("""<template><input type="file" accept=".yaml,.yml" class="cd-upload"
        @change="read" /></template>
        <script>module.exports = {methods: {read(e) {
          const f = e.target.files[0]; if (!f) return;
          f.text().then(t => { this.filename = f.name; this.content = t; e.target.value = ''; });
        }}}</script>""").tag(sync=True)
    content = traitlets.Unicode("").tag(sync=True)
    filename = traitlets.Unicode("").tag(sync=True)


@solara.component
def ScenarioCard(preset: solara.Reactive[str]):
    """Pick a scenario, or choose a scenario file (e.g. one saved from this page) to load it."""
    error = solara.use_reactive("")
    name = solara.use_reactive("upload.yaml")

    def on_content(text: str) -> None:
        if not text:
            return
        try:
            preset.set(registry().add_text(text, name.value))
            error.set("")
        except ValueError as e:
            error.set(str(e))

    titles = registry().titles()
    by_title = {t: n for n, t in titles.items()}
    with solara.Card("Scenario"):
        solara.Select("Scenario", value=titles[preset.value], values=list(by_title),
                      on_value=lambda t: preset.set(by_title[t]), classes=["cd-preset"])
        small = {"font-size": "0.85em", "display": "block"}
        solara.Text(registry().get(preset.value)[0].description, style=small)
        solara.Text("Or load a scenario file, e.g. settings saved from this page:", style=small)
        FileInput.element(on_filename=name.set, on_content=on_content)
        if error.value:
            solara.Error(error.value, classes=["cd-load-error"])
        solara.Text("Sliders (below) apply on RESET; actions apply at once.", style=small)


@solara.component
def TwinControls(on: solara.Reactive[bool], kind: solara.Reactive[str], week: solara.Reactive[int]):
    """Twin runs: the same seed and actions, plus one lever at a chosen week (chosen by its button's label)."""
    labels = {ACTIONS[k].label: k for k in TWIN_LEVERS}
    with solara.Row(style={"align-items": "center", "gap": "8px", "padding": "0 4px"}):
        solara.Switch(label="Twin run", value=on, classes=["cd-twin"])
        if on.value:
            with solara.Div(style={"flex": "1 1 0", "min-width": "0"}):
                solara.Select("Twin's lever", value=ACTIONS[kind.value].label, values=list(labels),
                              on_value=lambda t: kind.set(labels[t]), dense=True, classes=["cd-twin-lever"])
            with solara.Div(style={"flex": "0 0 4.5em"}):
                solara.InputInt("at week", value=week, classes=["cd-twin-week"])
    if on.value:
        solara.Text("Same seed and actions, luck included; only the lever differs. Changing it starts both runs "
                    "again.", style={"font-size": "0.85em", "padding": "0 4px"})


@solara.component
def Page():
    """The app: scenario and twin cards, then SolaraViz (remounted per scenario and twin so sliders match)."""
    solara.Title(APP_NAME)
    preset = solara.use_reactive(registry().default(DEFAULT_PRESET))
    twin_on, twin_kind, twin_week = solara.use_reactive(False), solara.use_reactive("vigilance_off"), \
        solara.use_reactive(104)
    twin = Twin(twin_kind.value, max(int(twin_week.value or 0), 0)) if twin_on.value else None
    # one reactive model per (scenario, twin): SolaraViz steps and resets it, the main view shows it
    model = solara.use_memo(lambda: solara.reactive(app_model_for(preset.value, twin)(preset=preset.value)),
                            [preset.value, twin])
    with solara.Sidebar():
        ScenarioCard(preset)
    with solara.Div(style={"display": "none"}):  # SolaraViz's own main area stays empty: the page is MainView
        SolaraViz(model, components=[], model_params=model_params(preset.value), name=APP_NAME,
                  play_interval=PLAY_INTERVAL_MS).key(f"viz-{preset.value}-{twin}")
    MainView(model.value, TwinControls(twin_on, twin_kind, twin_week))


@solara.component
def MainView(model: AppModel, twin_controls: solara.Element):
    """Network(s), twin controls and actions on the left, series and take-away files on the right."""
    with solara.Row(style={"align-items": "flex-start", "padding": "0 4px"}):
        with solara.Column(style={"flex": "0 0 44%", "min-width": "0", "gap": "4px"}):
            panels.NetworkPanel(model)
            solara.display(twin_controls)
            panels.ActPanel(model)
        with solara.Column(style={"flex": "1 1 56%", "min-width": "0"}):
            panels.SeriesPanel(model)
            panels.ObservedPanel(model)
            panels.TakeAwayPanel(model)


page = Page
