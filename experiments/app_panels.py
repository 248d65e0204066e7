"""The page's panels: network(s), series with action markers and hover text, actions, and take-away files.

Each panel renders the model's current week to an image with blitting renderers (viz.FrameRenderer)
and tells the model's PageGate once that page update is on the page, so play never runs ahead of the page.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import asdict
from html import escape
from typing import Any

import numpy as np
import reacton.ipywidgets as rw
import solara
from mesa.visualization.utils import force_update, update_counter

from culturedrift.experiments import viz
from culturedrift.experiments.app_controls import MAX_TEAMS, load_preset, planned_vigilance, preset_controls
from culturedrift.experiments.app_files import (
    debrief_html,
    drawn,
    figure_bytes,
    markers,
    run_names,
    settings_yaml,
    timeseries_csv,
)
from culturedrift.experiments.app_model import PageGate, WorkshopModel
from culturedrift.experiments.workshop import ACTIONS, GLOSSARY, ActionError
from culturedrift.model import observables
from culturedrift.model.outputs import SERIES

DPI = 80
TWIN_DPI = 64
TIES_EVERY = 13  # weeks between redraws of the ties (a quarter): they change slowly and cost most to draw
NETWORK_FORMAT = "jpeg"  # the network view changes everywhere every week: JPEG encodes and ships it fastest
SERIES_FORMAT = "jpeg-lines"  # JPEG without colour subsampling: a fifth of PNG's encoding time, lines kept sharp
PANELS = ("network", "series")
SMALL = {"font-size": "0.85em"}
# hover text of each series panel (viz.APP_PANELS order), in plain language
PANEL_HELP = ("Morale", ("Turnover rate", "Agency worker rate"), "Vacancy rate", "Compliance habit",
              "Prescription", "Fragmentation")


def model_params(preset: str) -> dict[str, Any]:
    """SolaraViz's model_params for a scenario: its name (fixed), the seed field and the sliders, each
    slider starting at the scenario's value."""
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
        "pace": slider("SliderFloat", "Change pace (x the scenario's schedule)", "pace", 0.5, 4.0, 0.25),
        "vigilance": slider("SliderFloat", "Leadership vigilance (0 = none)", "vigilance", 0.0, 2.0, 0.1),
        "vigilance_off_week": slider("SliderInt", f"Vigilance stops at week ({h} = never)", "vigilance_off_week",
                                     1, h, 1),
        "budget": slider("SliderInt", f"Budget (GBP k per quarter for {sc.organisation.n_teams} teams; grows "
                         "with size)", "budget", 0, 1000, 25),
        "labour_market": slider("SliderFloat", "Labour-market pressure (1 = England)", "labour_market",
                                0.5, 2.0, 0.05),
        "incidents_per_year": slider("SliderFloat", "Serious incidents per year", "incidents_per_year",
                                     0.0, 3.0, 0.1),
        "inspection_interval": slider("SliderInt", "Inspection every N weeks (0 = none)", "inspection_interval",
                                      0, 260, 13),
        "n_teams": slider("SliderInt", "Organisation size (teams of 10)", "n_teams", 2, MAX_TEAMS, 1),
    }


def controls_text(model: WorkshopModel) -> str:
    """The settings the current run uses (sliders show no numbers until dragged, so the page lists them)."""
    c, h = model.controls, model.horizon
    intensity, off = planned_vigilance(model.spec)  # actions taken since the sliders were set included
    stops = "never stops" if off >= h else f"stops at week {off}"
    vig = "none" if intensity <= 0 else f"{intensity:.1f}, {stops}"
    staff = int((model.spec.organisation.team_size + 1) * c.n_teams)
    budget = model.settings.base.budget.quarterly_budget
    scaled = "" if budget == c.budget else f" (GBP {c.budget:,.0f}k scaled to the organisation's size)"
    return (f"Running with: pace {c.pace:.2f}x · vigilance {vig} · budget GBP {budget:,.0f}k a quarter{scaled} · "
            f"labour market {c.labour_market:.2f} · incidents {c.incidents_per_year:.1f} a year · inspections "
            f"{'none' if not c.inspection_interval else f'every {c.inspection_interval} weeks'} · "
            f"{c.n_teams} teams ({staff} staff posts)")


def describe(column: str) -> str:
    """A series' label, unit and definition from the output catalogue."""
    s = SERIES.get(column)
    return f"{s.label} ({s.unit}): {s.definition}" if s is not None else ""


# --- frames -----------------------------------------------------------------------------------------------

class Frames:
    """Figures and blitting renderers for the runs a model holds now (rebuilt when a replay replaces a run)."""

    def __init__(self, model: WorkshopModel) -> None:
        self.lock = threading.Lock()
        self.runs = tuple(model.runs)
        twin = len(self.runs) > 1
        size, dpi = ((4.6, 4.4), TWIN_DPI) if twin else ((6.4, 6.0), DPI)  # twins: two smaller, cheaper pictures
        self.nets = []
        self.net_views = []
        for run in self.runs:  # the caption is page text, not drawn: text is the dearest part of a frame
            fig, view = viz.network_figure(run, size=size, ties_every=TIES_EVERY, title=False)
            self.nets.append(viz.FrameRenderer(fig, [view], dpi=dpi, fmt=NETWORK_FORMAT))
            self.net_views.append(view)
        fig, self.series = viz.series_figure(model.main, size=(6.4, 7.6), panels=viz.APP_PANELS,
                                             twin=self.runs[1] if twin else None,
                                             twin_label=run_names(model)[-1].removeprefix("twin: "),
                                             twin_week=model.twin.week if model.twin else None,
                                             markers=lambda: markers(model))
        self.series_img = viz.FrameRenderer(fig, [self.series], dpi=DPI, fmt=SERIES_FORMAT)
        self.cache: dict[tuple[str, int], bytes] = {}
        self._observed: tuple | None = None  # (keys and rule, view, renderer, the twin's feeds, {week: frame})

    def frame(self, which: str, week: int) -> bytes:
        """Image bytes of view `which` ("network0", "network1", "series": JPEG) for `week`."""
        with self.lock:
            key = (which, week)
            if key not in self.cache:
                self.cache = {k: v for k, v in self.cache.items() if k[0] != which}
                r = self.series_img if which == "series" else self.nets[int(which[-1])]
                self.cache[key] = drawn(r.render)
            return self.cache[key]

    def observed(self, keys: tuple[str, ...], week: int) -> tuple[bytes, list[np.ndarray]]:
        """PNG of what leaders see for the chosen indicators at `week`, and each run's alarm weeks 0..week."""
        with self.lock:
            rule = viz.alarm_rule()
            if self._observed is None or self._observed[0] != (keys, rule):
                fig, view = viz.observed_figure(self.runs[0], keys, rule)
                self._observed = ((keys, rule), view, viz.FrameRenderer(fig, [view], dpi=DPI),
                                  [viz.ObservedFeed(r, rule) for r in self.runs[1:]], {})
            _, view, renderer, feeds, cache = self._observed
            if week not in cache:
                cache.clear()
                cache[week] = (drawn(renderer.render), [view.alarm(), *(f.frame()["alarm"] for f in feeds)])
            return cache[week]

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """Each series panel as (left, top, width, height) in percent of the image (for hover areas)."""
        out = []
        for ax in self.series.axes:
            b = ax.get_position()
            out.append((100 * b.x0, 100 * (1 - b.y1), 100 * b.width, 100 * b.height))
        return out


_LOCK = threading.Lock()


def frames(model: WorkshopModel) -> Frames:
    """The renderers of the model's current runs."""
    with _LOCK:
        f = getattr(model, "_app_frames", None)
        if f is None or f.runs != tuple(model.runs):
            f = model._app_frames = Frames(model)
        return f


def gate(model: WorkshopModel) -> PageGate:
    """The page gate of this model (made when a page first shows it)."""
    with _LOCK:
        if model.page_gate is None:
            model.page_gate = PageGate(PANELS, requested=lambda: update_counter.value)
        return model.page_gate


# --- panels -----------------------------------------------------------------------------------------------

def FrameImage(data: bytes, fmt: str, classes: list[str]) -> solara.Element:
    """A picture that changes every played week, shown at the width of its column from a data URL.

    `solara.Image` hands the browser each new picture as a blob URL, which Chromium fetches through its
    browser process before decoding: about 40 ms of the browser's CPU a week for the three pictures of twin
    runs, against about 23 ms from a data URL, which the page decodes itself (docs/app.md, Speed)."""
    url = b"data:image/" + fmt.encode() + b";base64," + base64.b64encode(data)
    return rw.Image(value=url, format="url", layout={"width": "100%"}, _dom_classes=["solara-image", *classes])


@solara.component
def NetworkPanel(model: WorkshopModel):
    """The organisation's network this week (both twins side by side)."""
    update = update_counter.get()
    week, f = model.week, frames(model)
    images = [f.frame(f"network{i}", week) for i in range(len(f.runs))]
    solara.use_effect(lambda: gate(model).show("network", update), [model, update])
    with solara.Column(style={"padding": "4px", "gap": "2px"}):
        note = f.net_views[0].tie_note()
        solara.Text(f"Week {max(week, 0)}: who works with whom. Compliance habit spreading through working ties: "
                    "red = procedure and control (the old culture), blue = professional judgement; gaps are "
                    "empty posts, black rings agency workers" + (f"; {note}." if note else "."), style=SMALL)
        with solara.Row(style={"gap": "4px"}):
            for i, (img, name, view) in enumerate(zip(images, ("this run", "twin")[:len(images)], f.net_views,
                                                      strict=True)):
                with solara.Column(style={"flex": "1", "gap": "0", "min-width": "0"}):
                    text = (f"{name}: " if len(images) > 1 else "") + view.counts_text().replace(" (gaps)", "")
                    solara.Text(text, classes=[f"cd-network-caption{i or ''}"],
                                style={"text-align": "center", **SMALL})
                    FrameImage(img, NETWORK_FORMAT, [f"cd-network{i or ''}"])


def hover_areas(f: Frames) -> str:
    """Transparent areas over each series panel whose hover text explains it in plain words (the same every
    week, so the page is not sent it again while playing; this week's values are in the readout above)."""
    divs = []
    for box, (title, lines, _), help_keys in zip(f.boxes(), viz.APP_PANELS, PANEL_HELP, strict=True):
        keys = help_keys if isinstance(help_keys, tuple) else (help_keys,)
        text = [title, *(f"{k}: {GLOSSARY[k]}" for k in keys)]
        text += [d for c, _, _ in lines if (d := describe(c))]
        left, top, width, height = box
        divs.append(f'<div class="cd-hover" title="{escape(chr(10).join(text))}" style="position:absolute;'
                    f'left:{left:.1f}%;top:{top:.1f}%;width:{width:.1f}%;height:{height:.1f}%"></div>')
    return "".join(divs)


@solara.component
def SeriesPanel(model: WorkshopModel):
    """Readout, run settings and the key series so far (hover a panel for what it means)."""
    update = update_counter.get()
    week, f = model.week, frames(model)
    picture = f.frame("series", week)
    solara.use_effect(lambda: gate(model).show("series", update), [model, update])
    with solara.Column(style={"padding": "4px", "gap": "2px"}):
        solara.Text(viz.readout_text(model.main), classes=["cd-readout"],
                    style={"font-weight": "bold", "font-size": "0.9em"})
        if len(model.runs) > 1:
            twin_now = viz.readout_text(model.runs[1]).split("·", 1)[1].strip()
            solara.Text(f"Twin at week {max(model.runs[1].week, 0)}: {twin_now}", classes=["cd-twin-readout"],
                        style=SMALL)
        for note in ([model.note] if model.note else []) + model.twin_notes:
            solara.Warning(note, dense=True)
        with solara.Div(style={"position": "relative"}):
            FrameImage(picture, "jpeg", ["cd-series"])
            solara.HTML(tag="div", unsafe_innerHTML=hover_areas(f),
                        style="position:absolute;left:0;top:0;width:100%;height:100%")
        RunNotes(model, len(model.settings.log()))


@solara.component
def RunNotes(model: WorkshopModel, n_actions: int):
    """What the marks on the series mean and the settings the run uses, under the series (re-rendered when an
    action is taken, not every week: `n_actions` is what changes)."""
    with solara.Column(style={"gap": "2px"}):
        marks = frames(model).series.marks  # as drawn: an action's change is its marker, not these marks
        bits = [f"change programme weeks {marks.programme[0]}-{marks.programme[1]} (shaded)"] if marks.programme \
            else []
        if marks.vigilance_off is not None:
            bits.append(f"vigilance stops at week {marks.vigilance_off} (red dashes)")
        if model.settings.log():
            bits.append("actions: purple dotted lines, named at the top")
        if len(model.runs) > 1:
            bits.append(f"twin ({model.twin.text()}): thick pale lines, parting at the grey dashes")
        solara.Text(f"{model.spec.name}, seed {model.settings.seed}" + (": " + "; ".join(bits) if bits else ""),
                    style=SMALL)
        solara.Text(controls_text(model), classes=["cd-controls"], style=SMALL)
        log = model.settings.log()
        if log:
            solara.Text("Markers: " + "; ".join(f"▼ {ACTIONS[a.kind].marker} (week {a.week})" for a in log),
                        classes=["cd-markers"], style=SMALL)


@solara.component
def ObservedPanel(model: WorkshopModel):
    """What leaders see (observable indicators, late and noisy) beside the latent compliance habit, and the
    alarm of the recommended rule; off until asked for, since it costs a third picture each week."""
    update_counter.get()
    on = solara.use_reactive(False)
    chosen = solara.use_reactive(list(viz.OBSERVED_DEFAULT))
    with solara.Column(style={"padding": "4px"}):
        solara.Switch(label="Show what leaders see (indicators, their lag and noise, and the alarm)", value=on,
                      classes=["cd-observed-switch"])
        if not on.value:
            return
        labels = {o.label: o.key for o in observables.OBSERVABLES}
        keys = tuple(k for k in (labels.get(x, x) for x in chosen.value) if k in observables.OBSERVABLE) or \
            viz.OBSERVED_DEFAULT[:1]
        solara.SelectMultiple("Indicators", values=[observables.OBSERVABLE[k].label for k in keys],
                              all_values=list(labels), on_value=chosen.set, dense=True,
                              classes=["cd-observed-keys"])
        rule = viz.alarm_rule()
        png, alarms = frames(model).observed(keys, model.week)
        if rule is None:
            solara.Info("No alarm rule is recommended yet.", dense=True)
        else:
            for name, alarm, cls in zip(run_names(model), alarms, ("cd-alarm", "cd-twin-alarm"), strict=False):
                text = f"Alarm ({rule.describe()}), {name}: {viz.alarm_text(alarm, model.week)}"
                (solara.Error if alarm.size and alarm[-1] else solara.Info)(text, dense=True, classes=[cls])
        solara.Text("Top: the compliance habit itself, which leaders cannot see. Below: each indicator as it "
                    "reaches the leadership team (blue steps: held from one report to the next, late and noisy) "
                    "over what it measures (grey). Red band: the alarm is on.", style=SMALL)
        FrameImage(png, "png", ["cd-observed"])
        with solara.Details("How each indicator is measured"):
            solara.HTML(tag="ul", unsafe_innerHTML="".join(
                f"<li><b>{escape(o.label)}</b> ({escape(o.unit)}): {escape(o.describe())}. {escape(o.source)}</li>"
                for o in observables.OBSERVABLES), style="font-size:0.85em")


@solara.component
def ActPanel(model: WorkshopModel):
    """Actions at the current week, and the log of those taken."""
    update_counter.get()
    message = solara.use_reactive((0, ""))  # (the model it is about, text): a new run (twin, Reset) starts blank

    def act(kind: str) -> None:
        try:
            a = model.act(kind)
            message.set((id(model), f"Done: {a.text()}."))
        except ActionError as e:
            message.set((id(model), f"Not done: {e}"))
        force_update()

    with solara.Column(style={"padding": "4px"}):
        solara.Text("Act now, at the current week, in this run" + (" and its twin" if len(model.runs) > 1 else ""),
                    style={"font-weight": "bold"})
        ActButtons(solara.use_memo(lambda: act, [model]), model.week >= model.horizon)
        about, text = message.value
        if text and about == id(model):
            solara.Text(text, classes=["cd-act-message"], style=SMALL)
        log = model.settings.log()
        solara.Text("Action log: " + ("; ".join(a.text() for a in log) if log else "none yet"),
                    classes=["cd-action-log"], style=SMALL)


@solara.component
def ActButtons(act: Callable[[str], None], done: bool):
    """The action buttons (a component of their own: re-rendered only when the run ends, not every week)."""
    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
        for kind, a in ACTIONS.items():
            with solara.Tooltip(a.explains):
                solara.Button(a.label, on_click=lambda kind=kind: act(kind), small=True, outlined=True,
                              disabled=done, classes=[f"cd-act-{kind}"])


@solara.component
def TakeAwayPanel(model: WorkshopModel):
    """Files to take away, and the glossary (nothing here changes week to week, so it is not redrawn)."""
    name = model.spec.name
    with solara.Column(style={"padding": "4px"}):
        solara.Text("Take away (the run so far)", style={"font-weight": "bold"})
        with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
            solara.FileDownload(lambda: settings_yaml(model), f"{name}_settings.yaml", label="Settings (YAML)")
            if len(model.runs) > 1:
                solara.FileDownload(lambda: settings_yaml(model, 1), f"{name}_twin.yaml", label="Twin settings")
            solara.FileDownload(lambda: timeseries_csv(model), f"{name}_data.csv", label="Data (CSV)")
            solara.FileDownload(lambda: figure_bytes(model, "png"), f"{name}.png", label="Figure (PNG)")
            solara.FileDownload(lambda: figure_bytes(model, "svg"), f"{name}.svg", label="Figure (SVG)")
            solara.FileDownload(lambda: debrief_html(model), f"{name}_debrief.html", label="Debrief (HTML)")
        with solara.Details("Glossary: the words on this page"):
            solara.HTML(tag="dl", unsafe_innerHTML="".join(f"<dt><b>{escape(w)}</b></dt><dd>{escape(m)}</dd>"
                                                           for w, m in GLOSSARY.items()), style="font-size:0.85em")
