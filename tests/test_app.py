"""The trainer's app: the pure preset + sliders -> Scenario function, the app model, and a real browser test."""

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
from culturedrift.experiments.app import (
    AppModel,
    Controls,
    build_scenario,
    compress_programme,
    controls_text,
    load_preset,
    model_params,
    parse_seed,
    preset_controls,
    preset_paths,
)
from culturedrift.experiments.commands.app import server_command

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
    assert out.budget.quarterly_budget == 150
    assert out.turnover.labour_market_pressure == 1.4
    assert out.slippage.incident_rate_per_year == 2.0
    assert out.slippage.inspection_interval_weeks == 156
    assert out.organisation.n_teams == 6
    assert build_scenario(sc, replace(c, inspection_interval=0)).slippage.inspection_interval_weeks is None
    assert sc.organisation.n_teams == 20  # the preset itself is untouched


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
    assert m.seed == 3 and m.spec.organisation.n_teams == 4 and m.note is None
    assert viz.vigilance_off_week(m) == 30
    for _ in range(3):
        m.step()
    assert m.week == 3
    assert viz.readout_text(m).startswith("Week 3 of 260")
    assert "4 teams (44 staff posts)" in controls_text(m)
    same = AppModel(preset="phased", n_teams=4, vigilance=1.0, vigilance_off_week=30, seed="3")
    for _ in range(3):
        same.step()
    assert viz.current_values(same) == viz.current_values(m)  # the app's runs are reproducible


def test_network_positions_are_deterministic_and_distinct():
    m = AppModel(preset="baseline", n_teams=5)
    a, b = viz.network_positions(m), viz.network_positions(m)
    assert (a == b).all()
    staff_and_partners = m.state.is_post | m.state.partner
    pts = {tuple(p.round(6)) for p in a[staff_and_partners]}
    assert len(pts) == int(staff_and_partners.sum())


def test_app_renderers_produce_images_that_change_week_to_week():
    from culturedrift.experiments.app import _frames

    m = AppModel(preset="phased_vigilance_withdrawn", n_teams=6)
    f = _frames(m)
    net0, ser0 = f.frame("network", m.week), f.frame("series", m.week)
    assert net0.startswith(b"\xff\xd8\xff") and ser0.startswith(b"\x89PNG")  # network JPEG, series PNG
    for _ in range(4):
        m.step()
    assert f.frame("series", m.week) != ser0
    assert f.frame("network", m.week) != net0


def test_a_model_on_a_page_steps_only_after_the_page_showed_its_week():
    """Play cannot run ahead of the page: week w+1 waits until both panels have shown week w."""
    import threading

    from culturedrift.experiments.app import gate

    m = AppModel(preset="baseline", n_teams=3)
    m.step()  # no page yet: no waiting
    g = gate(m)
    g.timeout = 0.01
    assert g.shown() == -1 and not g.wait(1)  # nothing shown yet: the wait gives up after its timeout
    g.show("network", 1)
    assert not g.wait(1)  # one panel is not enough
    g.show("series", 1)
    assert g.wait(1) and g.shown() == 1
    m.step()
    assert m.week == 2
    g.timeout = 60.0
    stepper = threading.Thread(target=m.step)
    stepper.start()
    stepper.join(0.2)
    assert stepper.is_alive() and m.week == 2  # waiting for the page to show week 2
    g.show("network", 2)
    g.show("series", 2)
    stepper.join(60)
    assert not stepper.is_alive() and m.week == 3


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


@pytest.fixture
def app_server(tmp_path):
    """The app served on a free 127.0.0.1 port for this test; always torn down."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(server_command("127.0.0.1", port), stdout=log, stderr=subprocess.STDOUT,
                            cwd=Path(__file__).resolve().parent.parent, start_new_session=True)
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


@pytest.mark.slow
def test_app_in_a_real_browser(app_server, tmp_path):
    sync_playwright = _need_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(45_000)
            page.goto(app_server)
            page.wait_for_selector(".cd-readout")
            assert _week(page).startswith("Week 0 of 260")
            assert "phased_vigilance_withdrawn" in page.inner_text("body")

            # pick a preset: the page reloads the model and the sliders
            page.click(".cd-preset")
            page.click(".v-menu__content .v-list-item:has-text('phased_with_vigilance')")
            page.wait_for_function("document.body.innerText.includes('phased_with_vigilance, seed 0')")
            assert "vigilance 1.0, never stops" in page.inner_text(".cd-controls")

            # move the organisation-size slider down by 10 teams (keyboard on the slider), then Reset
            slider = page.locator(".v-input:has-text('Organisation size') [role=slider]")
            slider.focus()
            for _ in range(10):
                slider.press("ArrowLeft")
            page.click("button:has-text('Reset')")
            page.wait_for_function(
                "document.querySelector('.cd-controls').innerText.includes('10 teams (110 staff posts)')")
            # Reset keeps the picked preset and its other settings
            assert "phased_with_vigilance, seed 0" in page.inner_text("body")
            assert "vigilance 1.0, never stops" in page.inner_text(".cd-controls")

            # step a few weeks; the plotted values and both pictures change
            before = _week(page)
            series_before = page.get_attribute(".cd-series", "src")
            network_before = page.get_attribute(".cd-network", "src")
            for k in range(1, 4):
                page.click("button:has-text('Step')")
                page.wait_for_function(
                    f"document.querySelector('.cd-readout').innerText.startsWith('Week {k} of')")
            after = _week(page)
            assert after.startswith("Week 3 of 260")
            assert after.split("·", 1)[1] != before.split("·", 1)[1], (before, after)
            assert page.get_attribute(".cd-series", "src") != series_before
            assert page.get_attribute(".cd-network", "src") != network_before
            size = page.eval_on_selector(".cd-network", "img => [img.naturalWidth, img.naturalHeight, img.complete]")
            assert size[0] > 300 and size[1] > 300 and size[2], size

            # play: the page itself moves on, week after week (readout and both pictures), until paused
            series_before = page.get_attribute(".cd-series", "src")
            network_before = page.get_attribute(".cd-network", "src")
            page.click("button:has-text('▶')")
            page.wait_for_function(  # bounded: at most 20 s for the page to show week 8
                "Number(document.querySelector('.cd-readout').innerText.match(/Week (\\d+)/)[1]) >= 8",
                timeout=20_000)
            page.click("button:has-text('❚❚')")
            page.wait_for_selector("button:has-text('▶')")
            played = _week_number(page)
            assert played >= 8, _week(page)
            assert page.get_attribute(".cd-series", "src") != series_before
            assert page.get_attribute(".cd-network", "src") != network_before
            # paused: Step works again
            page.wait_for_selector("button:has-text('Step'):not([disabled])")
            page.click("button:has-text('Step')")
            page.wait_for_function(
                f"Number(document.querySelector('.cd-readout').innerText.match(/Week (\\d+)/)[1]) > {played}")
            page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
            assert (tmp_path / "app.png").stat().st_size > 10_000
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
    from culturedrift.experiments.app import app_model_for

    cls = app_model_for("tight_budget")
    assert cls is app_model_for("tight_budget")
    m = cls(n_teams=3)
    assert m.spec.name == "tight_budget" and m.spec.budget.quarterly_budget == 250
    assert m.spec.organisation.n_teams == 3
    assert isinstance(m, AppModel)
