"""The trainer's app: pure pieces (sliders -> scenario, action log -> scenario entries, scenario files), the
runs in lockstep, and real browser tests (actions, twins, export -> CLI, loading a scenario file)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from culturedrift.experiments import viz
from culturedrift.experiments.app import AppModel, app_model_for
from culturedrift.experiments.app_controls import (
    Controls,
    build_scenario,
    compress_programme,
    load_preset,
    parse_seed,
    preset_controls,
    preset_paths,
)
from culturedrift.experiments.app_files import action_effects, change_text, debrief_html, settings_yaml
from culturedrift.experiments.app_model import PageGate, WorkshopModel, build_run
from culturedrift.experiments.app_panels import controls_text, frames, model_params
from culturedrift.experiments.commands.app import port_problem
from culturedrift.experiments.workshop import (
    Action,
    ActionError,
    Played,
    Settings,
    Twin,
    apply_actions,
    budget_schedule,
    played,
    played_scenario,
    scenario_from_text,
    scenario_yaml,
)
from culturedrift.model import CultureDriftModel

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- presets and sliders -> Scenario (pure) --------------------------------------------------------

@pytest.mark.parametrize("name", sorted(preset_paths()))
def test_preset_controls_rebuild_the_preset_exactly(name):
    sc = load_preset(name)
    assert build_scenario(sc, preset_controls(sc)).model_dump() == sc.model_dump()


def test_preset_controls_read_the_preset():
    c = preset_controls(load_preset("phased_vigilance_withdrawn"))
    assert (c.vigilance, c.vigilance_off_week, c.pace) == (1.0, 104, 1.0)
    assert preset_controls(load_preset("phased_with_vigilance")).vigilance_off_week == 260  # = never stops
    assert preset_controls(load_preset("tight_budget")).budget == 250
    base = preset_controls(load_preset("baseline"))
    assert base.vigilance == 0 and base.n_teams == 20 and base.inspection_interval == 0


def test_pace_compresses_go_lives_handover_and_support_windows():
    sc = load_preset("phased")
    fast = build_scenario(sc, replace(preset_controls(sc), pace=2.0))
    assert [c.start_week for c in fast.change_programme] == [round(c.start_week / 2) for c in sc.change_programme]
    assert [c.duration_weeks for c in fast.change_programme] == [c.duration_weeks for c in sc.change_programme]
    assert fast.handover == 52
    assert [(iv.start_week, iv.end_week) for iv in fast.interventions] == [(0, 52), (0, 52), (10, 18), (30, 43)]


def test_slow_pace_keeps_every_change_inside_the_horizon():
    sc = load_preset("phased")
    slow = build_scenario(sc, replace(preset_controls(sc), pace=0.5))
    assert all(c.end_week <= slow.horizon_weeks for c in slow.change_programme)
    assert slow.handover == 208
    assert all(iv.start_week < slow.horizon_weeks for iv in slow.interventions)
    with pytest.raises(ValueError):
        compress_programme(sc, 0.0)


def test_vigilance_sliders_add_change_and_remove_the_intervention():
    sc = load_preset("phased")  # no vigilance in the preset
    on = build_scenario(sc, replace(preset_controls(sc), vigilance=1.5, vigilance_off_week=80))
    vig = [iv for iv in on.interventions if iv.kind == "culture_vigilance"]
    assert len(vig) == 1 and vig[0].intensity == 1.5 and vig[0].end_week == 80
    never = build_scenario(sc, replace(preset_controls(sc), vigilance=1.0, vigilance_off_week=sc.horizon_weeks))
    assert [iv.end_week for iv in never.interventions if iv.kind == "culture_vigilance"] == [None]
    wd = load_preset("phased_vigilance_withdrawn")
    off = build_scenario(wd, replace(preset_controls(wd), vigilance=0.0))
    assert not [iv for iv in off.interventions if iv.kind == "culture_vigilance"]
    assert len(off.interventions) == len(wd.interventions) - 1


def test_other_sliders_set_their_scenario_fields():
    sc = load_preset("baseline")
    c = Controls(pace=1.0, vigilance=0.0, vigilance_off_week=260, budget=150, labour_market=1.4,
                 incidents_per_year=2.0, inspection_interval=156, n_teams=6)
    out = build_scenario(sc, c)
    assert out.budget.quarterly_budget == 150 * 6 / 20  # the budget slider is for the scenario's 20 teams
    assert out.turnover.labour_market_pressure == 1.4
    assert out.slippage.incident_rate_per_year == 2.0
    assert out.slippage.inspection_interval_weeks == 156
    assert out.organisation.n_teams == 6
    assert build_scenario(sc, replace(c, inspection_interval=0)).slippage.inspection_interval_weeks is None
    assert sc.organisation.n_teams == 20  # the preset itself is untouched


def test_preset_controls_read_vigilance_as_the_scheduled_events_leave_it():
    """A saved run whose vigilance was withdrawn (or started) by an action loads with the sliders where that
    run had them, and rebuilds to the same scenario; moving a vigilance slider replaces those events."""
    base = load_preset("phased_with_vigilance")
    withdrawn = apply_actions(base, [Action(80, "vigilance_off")])
    c = preset_controls(withdrawn)
    assert (c.vigilance, c.vigilance_off_week) == (1.0, 80)
    assert build_scenario(withdrawn, c).model_dump() == withdrawn.model_dump()
    started = apply_actions(load_preset("phased"), [Action(50, "vigilance_on")])
    assert preset_controls(started).vigilance == 1.0
    assert build_scenario(started, preset_controls(started)).model_dump() == started.model_dump()
    later = build_scenario(withdrawn, replace(c, vigilance_off_week=120))
    assert not later.events and viz.Marks.of(CultureDriftModel(later, 0)).vigilance_off == 120


def test_budget_grows_with_the_organisation_size():
    sc = load_preset("phased_with_vigilance")
    c = preset_controls(sc)
    assert build_scenario(sc, replace(c, n_teams=180)).budget.quarterly_budget == 9 * sc.budget.quarterly_budget
    assert build_scenario(sc, replace(c, n_teams=10, budget=300)).budget.quarterly_budget == 150


def test_parse_seed():
    assert parse_seed("42") == (42, None)
    assert parse_seed(" 7 ") == (7, None)
    assert parse_seed("abc")[0] == 0 and "not a whole number" in parse_seed("abc")[1]
    assert parse_seed("-3")[0] == 0


def test_model_params_start_at_the_preset_and_match_the_model_signature():
    from mesa.visualization.solara_viz import _check_model_params

    for name in preset_paths():
        params = model_params(name)
        c = preset_controls(load_preset(name))
        assert params["preset"] == name
        for key, value in vars(c).items():
            assert params[key]["value"] == value
            assert params[key]["min"] <= value <= params[key]["max"]
        _check_model_params(AppModel.__init__, params)


def test_app_model_uses_sliders_seed_and_steps():
    m = AppModel(preset="phased", n_teams=4, vigilance=1.0, vigilance_off_week=30, seed="3")
    assert m.settings.seed == 3 and m.spec.organisation.n_teams == 4 and m.note is None
    assert viz.vigilance_off_week(m.main) == 30
    for _ in range(3):
        m.step()
    assert m.week == 3
    assert viz.readout_text(m.main).startswith("Week 3 of 260")
    assert "4 teams (44 staff posts)" in controls_text(m)
    same = AppModel(preset="phased", n_teams=4, vigilance=1.0, vigilance_off_week=30, seed="3")
    for _ in range(3):
        same.step()
    assert viz.current_values(same.main) == viz.current_values(m.main)  # the app's runs are reproducible


def test_network_positions_are_deterministic_and_distinct():
    m = AppModel(preset="baseline", n_teams=5).main
    a, b = viz.network_positions(m), viz.network_positions(m)
    assert (a == b).all()
    staff_and_partners = m.state.is_post | m.state.partner
    pts = {tuple(p.round(6)) for p in a[staff_and_partners]}
    assert len(pts) == int(staff_and_partners.sum())


def test_app_renderers_produce_images_that_change_week_to_week():
    m = AppModel(preset="phased_vigilance_withdrawn", n_teams=6)
    f = frames(m)
    net0, ser0 = f.frame("network0", m.week), f.frame("series", m.week)
    assert net0.startswith(b"\xff\xd8\xff") and ser0.startswith(b"\xff\xd8\xff")  # JPEG: fast to encode and decode
    for _ in range(4):
        m.step()
    assert f.frame("series", m.week) != ser0
    assert f.frame("network0", m.week) != net0


def test_twin_series_mark_the_week_the_twins_part():
    """Twins are identical up to the lever's week: every series panel marks it (and names it once)."""
    def at_30(ax) -> bool:
        return any(list(ln.get_xdata()) == [30, 30] for ln in ax.get_lines())

    axes = frames(app_model_for("phased_with_vigilance", Twin("inspection", 30))(n_teams=3)).series.axes
    assert all(at_30(ax) for ax in axes)
    assert "twin's lever" in [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert not at_30(frames(AppModel(preset="phased_with_vigilance", n_teams=3)).series.axes[0])


def test_series_frames_keep_lines_sharp():
    """The series is JPEG without colour subsampling: each frame within a few levels of the lossless picture
    (with subsampling, thin coloured lines smear by several times that)."""
    import io

    import numpy as np
    from PIL import Image

    m = AppModel(preset="phased_vigilance_withdrawn", n_teams=6)
    for _ in range(40):
        m.step()
    r = frames(m).series_img
    jpeg = np.asarray(Image.open(io.BytesIO(r.render(update=True))).convert("RGB"), dtype=float)
    exact = np.asarray(r.canvas.buffer_rgba(), dtype=float)[..., :3]
    assert r.mime == "jpeg" and jpeg.shape == exact.shape
    assert np.abs(jpeg - exact).mean() < 0.8 and np.percentile(np.abs(jpeg - exact), 99.9) < 30


def test_a_model_on_a_page_steps_only_after_the_page_showed_its_week():
    """Play cannot run ahead of the page: a step waits until both panels have shown the latest page update asked
    for; the weeks between two updates (Mesa's render interval > 1) step without waiting."""
    import threading

    m = AppModel(preset="baseline", n_teams=3)
    m.step()  # no page yet: no waiting
    asked = [0]
    g = m.page_gate = PageGate(("network", "series"), requested=lambda: asked[0], timeout=0.01)
    assert g.shown() == -1 and not g.wait()  # nothing shown yet: the wait gives up after its timeout
    g.show("network", 0)
    assert not g.wait()  # one panel is not enough
    g.show("series", 0)
    assert g.wait() and g.shown() == 0
    m.step()
    m.step()  # no new update asked for (render interval 2): no waiting
    assert m.week == 3
    asked[0] = 1  # the page is asked for an update
    g.timeout = 60.0
    stepper = threading.Thread(target=m.step)
    stepper.start()
    stepper.join(0.2)
    assert stepper.is_alive() and m.week == 3  # waiting for the page to show update 1
    g.show("network", 1)
    g.show("series", 1)
    stepper.join(60)
    assert not stepper.is_alive() and m.week == 4


# --- action log -> scenario entries, settings -> scenario file (pure) -------------------------------------

def _small(name="phased_with_vigilance", teams=3):
    return load_preset(name).with_updates({"organisation.n_teams": teams})


def test_actions_become_scenario_events_at_their_week():
    base = _small()
    log = (Action(30, "inspection"), Action(31, "incident"), Action(40, "vigilance_off"), Action(50, "retention"),
           Action(60, "vigilance_on"), Action(110, "supervision"), Action(120, "budget_cut"))
    sc = apply_actions(base, log)
    events = [(e.week, e.kind) for e in sc.events]
    assert events == [(30, "inspection"), (31, "serious_incident"), (40, "intervention_end"),
                      (50, "intervention_start"), (60, "intervention_start"), (110, "intervention_start"),
                      (120, "budget_change")]
    assert [e.magnitude for e in sc.events[:2]] == [base.slippage.inspection_magnitude,
                                                    base.slippage.incident_magnitude]
    assert sc.events[-1].at_once and sc.events[-1].quarterly_budget == base.budget.quarterly_budget * 0.75
    _, planned = sc.planned()  # what the run follows
    vig = [(iv.start_week, iv.end_week) for iv in planned if iv.kind == "culture_vigilance"]
    assert vig == [(0, 40), (60, None)]
    assert [(iv.start_week, iv.end_week) for iv in planned if iv.kind == "retention"] == [(50, None)]
    assert [iv.start_week for iv in planned if iv.kind == "reflective_supervision"][-1] == 110
    assert apply_actions(base, ()) == base  # no actions: the scenario itself


def test_go_live_actions_move_the_next_change():
    base = _small("phased")
    starts = sorted(c.start_week for c in base.change_programme)
    nxt = min(w for w in starts if w > 10)
    fwd = apply_actions(base, (Action(10, "golive_forward"),))
    assert sorted(c.start_week for c in fwd.planned()[0]) == sorted([*starts[:starts.index(nxt)], 10,
                                                                     *starts[starts.index(nxt) + 1:]])
    back = apply_actions(base, (Action(nxt, "golive_back"),))
    assert nxt + 13 in [c.start_week for c in back.planned()[0]]
    with pytest.raises(ActionError, match="no go-live is left"):
        apply_actions(base, (Action(base.horizon_weeks - 1, "golive_forward"),))


def test_impossible_actions_say_why():
    base = _small()
    s = Settings(base).plus(Action(20, "vigilance_off"))
    with pytest.raises(ActionError, match="not running"):
        s.plus(Action(25, "vigilance_off"))
    with pytest.raises(ActionError, match="already running"):
        Settings(base).plus(Action(5, "vigilance_on"))
    with pytest.raises(ActionError, match="at the run's setting"):
        Settings(base).plus(Action(5, "budget_restore"))
    with pytest.raises(ActionError, match="unknown action"):
        Action(3, "fire_everyone")


def test_budget_actions_make_a_schedule():
    base = _small()
    full = base.budget.quarterly_budget
    log = (Action(10, "budget_cut"), Action(20, "budget_cut"), Action(30, "budget_restore"))
    assert budget_schedule(base, log) == [(10, full * 0.75), (20, full * 0.75 * 0.75), (30, full)]


def test_settings_round_trip_through_the_exported_file():
    base = _small()
    s = Settings(base, seed=4).plus(Action(12, "inspection")).plus(Action(20, "vigilance_off"))
    text = scenario_yaml(s)
    assert "culturedrift run FILE --seeds 5" in text and "week 12: inspection" in text
    sc, log = scenario_from_text(text, "upload.yaml")
    assert sc == played_scenario(s) and log == s.actions
    assert sc.model_copy(update={k: getattr(base, k) for k in ("name", "title", "description")}) == s.scenario()
    with pytest.raises(ValueError, match=r"upload\.yaml: extends"):
        scenario_from_text("extends: phased.yaml\nname: x\n", "upload.yaml")


def test_an_exported_file_is_named_and_described_as_played():
    """Withdrawing vigilance from 'vigilance kept on' and saving: the file's name, title and description say
    so (the scenario's own words stay first); an untouched run keeps the scenario's own."""
    base = _small()
    assert played(Settings(base)) == Played(base.name, base.title, base.description)
    s = Settings(base).plus(Action(10, "vigilance_off")).plus(Action(10, "inspection"))
    sc, _ = scenario_from_text(scenario_yaml(s), "saved.yaml")
    assert sc.name == "phased_with_vigilance_w10-vigilance_off_w10-inspection"
    assert sc.title.startswith("Phased, vigilance kept on; vigilance off wk 10") and len(sc.title) <= 60
    assert sc.description.startswith(base.description)
    assert "week 10, withdraw culture vigilance; week 10, inspection now" in sc.description
    many = Settings(base)
    for w, kind in enumerate(["inspection", "incident", "retention", "inspection", "budget_cut", "incident",
                              "inspection", "golive_back"], start=3):
        many = many.plus(Action(w, kind))
    label = played(many, [("pace 2x", "change pace 2x the scenario's schedule")])
    assert len(label.title) <= 60 and label.title.startswith("Phased, vigilance kept on; pace 2x")
    assert re.search(r"\+\d+ more$", label.title) and "2-more" in label.name and "_adjusted_" in label.name
    assert "sliders moved from the scenario's settings: change pace 2x" in label.description
    assert "week 10, push the next go-live back 13 weeks" in label.description
    lever = Action(104, "vigilance_off")  # a twin's lever is named first, the scenario's title giving way
    twin = played(Settings(base).plus(Action(5, "inspection")).plus(lever), lever=lever)
    assert twin.title == "Phased, vigilance kept…; twin: vigilance off wk 104 +1 more"
    parse = scenario_from_text(scenario_yaml(many), "many.yaml")[0]  # what the file holds loads again
    again = Settings(parse, 0, (Action(20, "incident"),), many.actions)  # a loaded file's actions: named once
    assert played(again).name == f"{parse.name}_w20-incident" and played(again).title.count("incident wk") <= 2


def test_moved_sliders_are_named_in_the_exported_file():
    m = AppModel(preset="phased_with_vigilance", n_teams=3)
    assert m.adjusted() == [("3 teams", "3 teams (scenario: 20)")]
    m = AppModel(preset="phased_with_vigilance", n_teams=20, vigilance=0.0, pace=2.0)
    short = [s for s, _ in m.adjusted()]
    assert short == ["pace 2x", "vigilance none"]
    sc, _ = scenario_from_text(settings_yaml(m).decode(), "saved.yaml")
    assert sc.name == "phased_with_vigilance_adjusted"
    assert sc.title == "Phased, vigilance kept on; pace 2x, vigilance none"
    assert "culture vigilance none (scenario: 1)" in sc.description
    assert AppModel(preset="phased_with_vigilance").adjusted() == []


def test_saved_files_rerun_from_the_command_line_and_load_back_to_the_same_series(tmp_path, monkeypatch):
    """Moved sliders, vigilance withdrawn and an inspection, in twins: each downloaded settings file, re-run by
    `culturedrift run`, gives the page's series bit for bit, and loaded back into the page runs them again."""
    import pandas as pd

    from culturedrift.experiments.app_controls import Registry

    m = app_model_for("phased_with_vigilance", Twin("budget_cut", 6))(n_teams=3, pace=2.0, seed="2")
    for kind, week in [("vigilance_off", 4), ("inspection", 5)]:
        while m.week < week:
            m.step()
        m.act(kind)
    while m.week < 12:
        m.step()
    paths = [tmp_path / "saved.yaml", tmp_path / "twin.yaml"]
    for which, path in enumerate(paths):
        path.write_bytes(settings_yaml(m, which))
    subprocess.run([sys.executable, "-m", "culturedrift.experiments.cli", "run", *map(str, paths), "--seeds", "3",
                    "--weeks", "12", "--out", str(tmp_path / "out"), "--no-progress"], check=True,
                   capture_output=True, cwd=tmp_path)
    ts = pd.read_parquet(tmp_path / "out" / "timeseries.parquet")
    saved = [scenario_from_text(p.read_text(), p.name)[0] for p in paths]
    names = [sc.name for sc in saved]
    assert names[0] != names[1] and "vigilance_off" in names[0] and "budget_cut" in names[1]
    # `compare` names strategies by title: the twin's leads with its lever, however long the log
    assert saved[0].title == "Phased, vigilance kept on; pace 2x, 3 teams +2 more"
    assert saved[1].title.startswith("Phased, vigilance kept on; twin: budget cut wk 6")
    for run, name in zip(m.runs, names, strict=True):
        cli = ts[(ts["scenario"] == name) & (ts["seed"] == 2)].drop(columns=["scenario", "seed"])
        assert cli.reset_index(drop=True).equals(run.timeseries()), name
    reg = Registry()  # the page's scenarios, with the saved file loaded as through the file chooser
    monkeypatch.setattr("culturedrift.experiments.app.registry", lambda: reg)
    again = AppModel(preset=reg.add_text(paths[0].read_text(), "saved.yaml"), seed="2")
    assert again.settings.loaded == m.settings.actions and again.adjusted() == []
    while again.week < 12:
        again.step()
    assert again.main.timeseries().equals(m.main.timeseries())


def test_live_actions_and_replays_equal_a_run_built_from_the_settings():
    """Every action taken mid-run leaves the run exactly where a fresh run of the new settings would be."""
    m = WorkshopModel(Settings(_small("phased_with_vigilance", 3), seed=2), Twin("vigilance_off", 25))
    for kind, week in [("inspection", 3), ("budget_cut", 6), ("retention", 8), ("golive_back", 9),
                       ("vigilance_off", 30), ("incident", 31), ("budget_restore", 33), ("vigilance_on", 35)]:
        while m.week < week:
            m.step()
        m.act(kind)
    while m.week < 45:
        m.step()
    assert m.twin_notes  # the twin had already withdrawn vigilance at week 25: noted, not taken twice
    for run, settings in zip(m.runs, m.plan, strict=True):
        assert run.timeseries().equals(build_run(settings, 45).timeseries())


def test_twins_share_their_luck_until_the_lever():
    m = WorkshopModel(Settings(_small("phased_with_vigilance", 3), seed=1), Twin("inspection", 12))
    while m.week < 30:
        m.step()
    a, b = (r.timeseries().drop(columns="week") for r in m.runs)
    assert a.iloc[:13].equals(b.iloc[:13])  # rows 0..12: the state before the lever's week has run
    assert (a.iloc[13] != b.iloc[13]).any()


def test_debrief_gives_each_actions_change_against_the_run_without_it():
    m = app_model_for("phased_with_vigilance", Twin("budget_cut", 2))(n_teams=3)
    for _ in range(3):
        m.step()
    m.act("inspection")
    for _ in range(2):
        m.step()
    (row,) = action_effects(m.settings, m.week)
    labels = ("Mean morale", "12-month turnover", "Vacancy rate", "Agency worker rate",
              "Mean compliance habit", "Prescription", "Fragmentation")
    assert row["week"] == 3 and row["action"] == "Inspection now" and len(row["changes"]) == len(labels)
    assert row["changes"][labels.index("Prescription")].startswith("+0.")  # an inspection raises prescription
    html = debrief_html(m).decode()
    assert "Workshop debrief: Phased, vigilance kept on" in html and "twin minus this run" in html
    assert all(f"<th>{label}</th>" in html for label in labels)
    assert (change_text(0.012, "{:.1%}"), change_text(-0.0123, "{:.3f}"), change_text(0.0, "{:.3f}")) == \
        ("+1.2 pts", "-0.012", "0")


def _texts(widget) -> list[str]:
    """The text of a rendered component, in order."""
    out = []
    for c in getattr(widget, "children", None) or []:
        out += [c] if isinstance(c, str) else _texts(c)
    return out


def test_notes_under_the_series_name_only_the_marks_drawn():
    """Vigilance withdrawn by an action shows as its purple marker; the notes must not promise the red dashes
    the picture (drawn before the action) does not have."""
    import solara

    from culturedrift.experiments.app_panels import RunNotes

    m = AppModel(preset="phased_with_vigilance", n_teams=3)
    assert frames(m).series.marks.vigilance_off is None
    m.step()
    m.act("vigilance_off")
    box, _ = solara.render(RunNotes(m, 1), handle_error=False)
    notes = " ".join(_texts(box))
    assert "red dashes" not in notes and "▼ vigilance off (week 1)" in notes and "purple dotted lines" in notes
    withdrawn = AppModel(preset="phased_vigilance_withdrawn", n_teams=3)
    box, _ = solara.render(RunNotes(withdrawn, 0), handle_error=False)
    assert "vigilance stops at week 104 (red dashes)" in " ".join(_texts(box))


def test_turnover_is_worded_as_it_is_computed():
    """Turnover is leavers over the permanent staff in post (DfE), not over posts: with a fifth of posts vacant
    the two differ by a quarter, so the glossary and the series panel say what the catalogue computes."""
    from culturedrift.experiments.workshop import GLOSSARY
    from culturedrift.model.outputs import SERIES

    assert "permanent holders" in SERIES["turnover_rate_12m"].definition
    assert "share of the permanent staff in post" in GLOSSARY["Turnover rate"]
    (title, lines, _), = [p for p in viz.PANELS if p[1][0][0] == "turnover_rate_12m"]
    assert "permanent staff" in title and lines[0][1] == "permanent leavers / staff in post"


def test_port_in_use_is_reported_before_starting():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        msg = port_problem("127.0.0.1", port)
    assert msg and "already in use" in msg and f"--port {port + 1}" in msg
    assert port_problem("127.0.0.1", _free_port()) is None


# --- the real browser test -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need_browser():
    """Playwright and Debian's chromium: a hard failure in CI, a skip on a developer machine."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = [what for what, ok in (("the playwright package", sync_playwright is not None),
                                      (CHROMIUM, Path(CHROMIUM).exists())) if not ok]
    if missing:
        msg = f"browser test needs {' and '.join(missing)} (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return sync_playwright


# A genuine slippage run on seed 0: vigilance withdrawn at handover (week 104) in a tight labour market
# (North West-like pressure) with frequent serious incidents, both inside `warn`'s designed conditions; the
# compliance habit climbs from 0.46 to 0.59 and the recommended rule (a rise in the practice audit since
# handover) first fires in week 148, before material slippage begins (week 153).
SLIP_YAML = ("extends: " + str(preset_paths()["phased_vigilance_withdrawn"]) + "\nname: small_slip\n"
             "title: Small organisation, vigilance withdrawn\norganisation:\n  n_teams: 8\n"
             "turnover:\n  labour_market_pressure: 1.4\nslippage:\n  incident_rate_per_year: 0.8\n")


@pytest.fixture
def app_server(tmp_path):
    """`culturedrift app --scenario` on a small organisation, on a free 127.0.0.1 port; always torn down."""
    port = _free_port()
    small = tmp_path / "scenarios" / "small_org.yaml"
    small.parent.mkdir()
    small.write_text("extends: " + str(preset_paths()["phased_with_vigilance"]) + "\nname: small_org\n"
                     "organisation:\n  n_teams: 5\n")
    (small.parent / "small_slip.yaml").write_text(SLIP_YAML)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "culturedrift.experiments.cli", "app", "--port", str(port),
                             "--scenario", str(small.parent)], stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp_path, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):  # bounded wait for readiness (~60 s)
            if proc.poll() is not None:
                pytest.fail(f"app server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("app server did not answer within 60 s")
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _week(page) -> str:
    return page.inner_text(".cd-readout")


def _week_number(page) -> int:
    return int(re.match(r"Week (\d+)", _week(page)).group(1))


def _readout_week(page, k: int, selector: str = ".cd-readout") -> None:
    page.wait_for_function(f"document.querySelector('{selector}').innerText.startsWith('Week {k} of')")


def _step_to(page, week: int) -> list[tuple[str, str]]:
    """Click Step until the page shows `week`; (readout, twin readout or '') at each week."""
    seen = []
    while (k := _week_number(page)) < week:
        page.click("button:has-text('Step')")
        _readout_week(page, k + 1)
        twin = page.locator(".cd-twin-readout")
        if twin.count():  # its own page update: wait until it shows the same week
            page.wait_for_function(f"document.querySelector('.cd-twin-readout').innerText.startsWith("
                                   f"'Twin at week {k + 1}:')")
        seen.append((_week(page), twin.inner_text() if twin.count() else ""))
    return seen


def _prescription(text: str) -> float:
    return float(re.search(r"prescription ([0-9.]+)", text).group(1))


def _purple_pixels(page) -> int:
    """tab:purple pixels (the action markers) in the series image on the page."""
    import io

    import numpy as np
    from PIL import Image

    shot = page.locator(".cd-series").screenshot()
    img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    return int((np.abs(img - np.array([148, 103, 189])).sum(axis=2) < 60).sum())


def _pictures_are_data_urls(page) -> None:
    """The weekly pictures arrive as data URLs the page decodes itself, not blob URLs (which cost the browser
    process a fetch per picture): each decodes to an image of the page's picture size."""
    import base64
    import io

    from PIL import Image

    for selector, fmt in ((".cd-network", "jpeg"), (".cd-series", "jpeg")):
        src = page.get_attribute(selector, "src")
        head = f"data:image/{fmt};base64,"
        assert src.startswith(head), (selector, src[:40])
        with Image.open(io.BytesIO(base64.b64decode(src[len(head):]))) as img:
            assert img.format == fmt.upper() and img.width > 300


def _download(page, label: str, to: Path) -> Path:
    with page.expect_download() as d:
        page.click(f"button:has-text('{label}')")
    d.value.save_as(to)
    return to


@pytest.mark.slow
def test_app_in_a_real_browser(app_server, tmp_path):
    """A workshop in headless Chromium: act mid-run (marker, prescription jump), export the settings and re-run
    them from the command line to identical series, load the file back through the page, twins."""
    import pandas as pd

    sync_playwright = _need_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
            page.set_default_timeout(60_000)
            page.goto(app_server)
            page.wait_for_selector(".cd-readout")
            assert page.title().startswith("culturedrift")
            assert _week(page).startswith("Week 0 of 260")
            assert "small_org, seed 0" in page.inner_text("body")  # `--scenario`: the page opens on it

            # act mid-run: an inspection at week 3 shows as a marker and prescription jumps the next week
            _step_to(page, 3)
            _pictures_are_data_urls(page)
            before_marker = _purple_pixels(page)
            p3 = _prescription(_week(page))
            page.click(".cd-act-inspection")
            page.wait_for_selector(".cd-markers")
            assert page.inner_text(".cd-act-message") == "Done: week 3: Inspection now."
            assert "week 3: Inspection now" in page.inner_text(".cd-action-log")
            _step_to(page, 4)
            assert _prescription(_week(page)) > p3 + 0.05, _week(page)
            page.wait_for_function("document.querySelector('.cd-markers').innerText.includes('inspection (week 3)')")
            assert _purple_pixels(page) > before_marker + 10
            _step_to(page, 5)
            page.click(".cd-act-budget_cut")  # a budget action is a scheduled event too: it re-runs the same
            page.wait_for_function("document.querySelector('.cd-action-log').innerText.includes('week 5: Cut')")
            _step_to(page, 6)

            # export the settings and the data; the command line re-runs the settings to identical series
            yml = _download(page, "Settings (YAML)", tmp_path / "saved.yaml")
            saved = scenario_from_text(yml.read_text(), "saved.yaml")[0]
            assert "budget_change" in yml.read_text() and saved.name == "small_org_w3-inspection_w5-budget_cut"
            assert saved.title == "Small org; inspection wk 3, budget cut wk 5"  # says what the file is
            csv = _download(page, "Data (CSV)", tmp_path / "app.csv")
            out = tmp_path / "cli"
            subprocess.run([sys.executable, "-m", "culturedrift.experiments.cli", "run", str(yml), "--seeds", "1",
                            "--weeks", "6", "--out", str(out), "--no-progress"], check=True, capture_output=True,
                           cwd=tmp_path)
            app_ts = pd.read_csv(csv)
            cli_ts = pd.read_csv(out / "timeseries.csv")
            cols = [c for c in app_ts.columns if c in cli_ts.columns and c not in ("run", "scenario", "seed")]
            assert len(cols) > 10 and len(app_ts) == len(cli_ts) == 7
            assert (app_ts[cols].to_numpy() == cli_ts[cols].to_numpy()).all()

            # load the saved file back through the page's file chooser: it becomes the scenario, with its log
            page.set_input_files(".cd-upload", str(yml))
            page.wait_for_function(f"document.body.innerText.includes('{saved.name}, seed 0')")
            assert not page.locator(".cd-act-message").count()  # "Done: ..." was about the run before
            assert page.inner_text(".cd-preset").endswith(saved.title)
            assert "week 3: Inspection now" in page.inner_text(".cd-action-log")
            assert _week(page).startswith("Week 0 of 260")

            # twins: the same run plus an inspection at week 4; identical up to week 4, apart after it
            page.click(".cd-twin")
            page.wait_for_selector(".cd-twin-lever")
            page.click(".cd-twin-lever")
            page.click(".v-menu__content .v-list-item:has-text('inspection')")
            page.fill(".cd-twin-week input", "4")
            page.press(".cd-twin-week input", "Enter")
            page.wait_for_function("document.body.innerText.includes('twin (inspection now at week 4)')")
            seen = _step_to(page, 7)
            for main, twin in seen:
                k = int(re.match(r"Week (\d+)", main).group(1))
                same = main.split("·", 1)[1].strip() == twin.split(":", 1)[1].strip()
                assert same == (k <= 4), (k, main, twin)

            # play moves the page on week after week, both twins, until paused; Reset starts the same run again
            page.click("button:has-text('▶')")
            page.wait_for_function(
                "Number(document.querySelector('.cd-readout').innerText.match(/Week (\\d+)/)[1]) >= 11")
            page.click("button:has-text('❚❚')")
            page.wait_for_selector("button:has-text('▶')")
            assert _week_number(page) >= 11 and "Twin at week" in page.inner_text(".cd-twin-readout")
            page.click("button:has-text('Reset')")
            _readout_week(page, 0)
            assert f"{saved.name}, seed 0" in page.inner_text("body")
            page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        finally:
            browser.close()


def test_app_command_prints_the_address_and_stops(tmp_path):
    """`culturedrift app` announces its URL and a plain kill stops the server it started."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "culturedrift.experiments.cli", "app", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # its solara child is gone too: the port is free again
    with socket.socket() as s:
        for _ in range(40):
            try:
                s.bind(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("the app server kept running after `culturedrift app` was stopped")



def test_reset_without_page_parameters_rebuilds_the_bound_preset():
    """Mesa's Reset calls type(model)(**params); params may lack the preset after a preset change."""
    cls = app_model_for("tight_budget")
    assert cls is app_model_for("tight_budget")
    m = cls(n_teams=3)
    assert m.spec.name == "tight_budget" and m.spec.budget.quarterly_budget == 250 * 3 / 20  # scaled to size
    twin = app_model_for("tight_budget", Twin("budget_cut", 20))(n_teams=3)
    assert twin.twin == Twin("budget_cut", 20) and len(twin.runs) == 2
    assert m.spec.organisation.n_teams == 3
    assert isinstance(m, AppModel)


def test_picker_labels_are_display_titles_and_unique():
    from culturedrift.experiments.app_controls import Registry

    reg = Registry()
    titles = reg.titles()
    assert titles["phased_vigilance_withdrawn"] == "Phased, vigilance withdrawn"
    assert set(titles) == set(reg.names())
    name = reg.add_text(load_preset("big_bang").model_dump_json(), "copy.yaml")  # a loaded copy of a preset
    titles = reg.titles()
    assert name == "big_bang (loaded)" and titles[name] == "Big bang (loaded)"
    assert len(set(titles.values())) == len(titles)


def test_alarm_episodes_and_text():
    import numpy as np

    alarm = np.array([0, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    assert viz.alarm_episodes(alarm) == [(1, 2), (5, 5), (7, 7)]
    assert viz.alarm_text(alarm, 7) == "ALARM now; alarm so far: weeks 1-2, week 5, week 7"
    assert viz.alarm_text(alarm, 4) == "quiet now; alarm so far: weeks 1-2"
    assert viz.alarm_text(np.zeros(3, dtype=bool), 2) == "quiet now; alarm so far: never"


def test_observed_feed_holds_figures_between_reports_and_equals_observe_model():
    """The app's view of what leaders see is `observe_model` itself, recomputed only when a report arrives."""
    import numpy as np

    from culturedrift.model.observables import observe_model

    rule = viz.alarm_rule()
    m = AppModel(preset="phased_vigilance_withdrawn", n_teams=3).main
    feed = viz.ObservedFeed(m, rule)
    for _ in range(30):
        m.step()
        got = feed.frame()
        want = observe_model(m, rule)
        for c in want.columns:
            assert np.array_equal(got[c], want[c].to_numpy(), equal_nan=True), (m.week, c)


def _first_alarm_after(sc, week: int) -> int:
    """First week after `week` the recommended rule raises the alarm in a run of `sc` (seed 0), computed
    outside the app; the run must really slip (habit 0.10 above its low after `week`, warn's label)."""
    import numpy as np

    from culturedrift.model.observables import observe_model

    run = build_run(Settings(sc, 0), sc.horizon_weeks)
    habit = run.timeseries()["compliance_habit_mean"].to_numpy()[week:]
    rise = float(np.max(habit - np.minimum.accumulate(habit)))
    assert rise >= 0.10, f"not a slippage run: the compliance habit rises only {rise:.3f} after week {week}"
    alarm = observe_model(run, viz.alarm_rule())["alarm"].to_numpy()
    later = np.flatnonzero(alarm & (np.arange(alarm.size) > week))
    assert later.size, f"the recommended alarm rule ({viz.alarm_rule().describe()}) never fires after week {week}"
    return int(later[0])


@pytest.mark.slow
def test_observed_panel_shows_the_alarm_firing_in_a_slippage_run(app_server, tmp_path):
    """In headless Chromium: the picker shows display titles; the observable view renders beside the latent
    habit; playing the slippage run, the page reports the recommended rule's alarm in the week it fires."""
    sync_playwright = _need_browser()
    from culturedrift.model import load_scenario

    sc = load_scenario(tmp_path / "scenarios" / "small_slip.yaml")  # what the page runs for that file, seed 0
    withdrawn = viz.vigilance_off_week(build_run(Settings(sc, 0)))
    target = _first_alarm_after(sc, withdrawn)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(app_server)
            page.wait_for_selector(".cd-readout")
            page.click(".cd-preset")
            menu = page.inner_text(".v-menu__content")
            assert "Phased, vigilance withdrawn" in menu and "phased_vigilance_withdrawn" not in menu
            page.click(".v-menu__content .v-list-item:has-text('Small organisation, vigilance withdrawn')")
            page.wait_for_function("document.body.innerText.includes('small_slip, seed 0')")
            page.click(".cd-observed-switch")
            page.wait_for_selector(".cd-observed")
            page.wait_for_selector(".cd-alarm")
            assert "Week 0 of" in _week(page)
            page.click("button:has-text('▶')")
            page.wait_for_function(
                f"Number(document.querySelector('.cd-readout').innerText.match(/Week (\\d+)/)[1]) >= {target}",
                timeout=240_000)
            page.click("button:has-text('❚❚')")
            page.wait_for_selector("button:has-text('▶')")
            week = _week_number(page)
            page.wait_for_function(f"document.querySelector('.cd-alarm').innerText.includes('{week}')")
            text = page.inner_text(".cd-alarm")
            assert re.search(rf"weeks? {target}\b", text), (target, text)
            box = page.locator(".cd-observed").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 300
            page.screenshot(path=str(tmp_path / "observed.png"), full_page=True)
        finally:
            browser.close()
