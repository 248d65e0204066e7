"""Scheduled events that carry out decisions mid-run: each equals the plan it stands for, and the trainer's
app, whose every action is one such event, is reproduced exactly by `culturedrift run` from the exported file.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from culturedrift.experiments.app_model import WorkshopModel
from culturedrift.experiments.workshop import Action, Settings, Twin, scenario_yaml
from culturedrift.model import CultureDriftModel, simulate
from culturedrift.model.scenario import ScenarioError, load_scenario
from tests.conftest import tiny

WEEKS = 40


def _series(sc, seed: int = 3, weeks: int = WEEKS) -> pd.DataFrame:
    return simulate(sc, seed, weeks=weeks).timeseries.drop(columns=["scenario"])


def _with_programme():
    """A tiny organisation with a two-change programme and culture vigilance, and no random incidents."""
    return tiny(horizon_weeks=60, slippage={"incident_rate_per_year": 0.0}, change_programme=[
        {"name": "new_system", "kind": "it_system", "start_week": 10, "duration_weeks": 8,
         "learning": {"initial_proficiency": 0.4}},
        {"name": "new_teams", "kind": "structure", "start_week": 25, "duration_weeks": 6, "rewire_fraction": 0.2}],
        interventions=[{"kind": "culture_vigilance", "start_week": 0}])


def test_starting_and_ending_interventions_by_events_equals_planning_their_windows():
    sc = _with_programme()
    planned = sc.with_updates({"interventions": [
        {"kind": "culture_vigilance", "start_week": 0, "end_week": 12},
        {"kind": "retention", "start_week": 15, "label": "retention from week 15"}]})
    by_events = sc.with_updates({"events": [
        {"kind": "intervention_end", "week": 12, "intervention_kind": "culture_vigilance"},
        {"kind": "intervention_start", "week": 15,
         "intervention": {"kind": "retention", "start_week": 15, "label": "retention from week 15"}}]})
    assert by_events.planned()[1] == planned.interventions
    assert _series(by_events).equals(_series(planned))
    assert not _series(by_events).equals(_series(sc))  # the events did something


def test_moving_a_go_live_by_an_event_equals_planning_the_new_date():
    sc = _with_programme()
    for change, week, start in (("new_teams", 20, 33), ("new_teams", 12, 12), ("new_system", 10, 14)):
        moved = sc.with_updates({f"change_programme.{0 if change == 'new_system' else 1}.start_week": start})
        by_event = sc.with_updates({"events": [{"kind": "go_live", "week": week, "change": change,
                                                "start_week": start}]})
        assert [c.start_week for c in by_event.planned()[0]] == [c.start_week for c in moved.change_programme]
        assert by_event.handover == moved.handover and by_event.programme_start == moved.programme_start
        assert _series(by_event, weeks=60).equals(_series(moved, weeks=60)), (change, week, start)
        assert not _series(by_event, weeks=60).equals(_series(sc, weeks=60))  # the move did something
    with pytest.raises(ScenarioError, match="went live at week 10 already"):
        sc.with_updates({"events": [{"kind": "go_live", "week": 15, "change": "new_system", "start_week": 20}]})
    with pytest.raises(ScenarioError, match="no change named"):
        sc.with_updates({"events": [{"kind": "go_live", "week": 5, "change": "nothing", "start_week": 20}]})
    with pytest.raises(ScenarioError, match="beyond horizon_weeks"):
        sc.with_updates({"events": [{"kind": "go_live", "week": 5, "change": "new_teams", "start_week": 58}]})


def test_a_budget_change_takes_effect_next_quarter_or_at_once():
    sc = tiny(horizon_weeks=30, budget={"quarterly_budget": 300.0})
    cut = 100.0
    model = {}
    for at_once in (False, True):
        m = CultureDriftModel(sc.with_updates({"events": [{"kind": "budget_change", "week": 5,
                                                           "quarterly_budget": cut, "at_once": at_once}]}), 0)
        base = CultureDriftModel(sc, 0)
        for _ in range(5):
            m.step()
            base.step()
        assert m.leadership.remaining == base.leadership.remaining  # nothing before its week
        m.step()
        base.step()
        model[at_once] = (m, base)
    later, _ = model[False]
    at_once, base = model[True]
    # at once: what is left of the quarter falls by the cut pro rata to the 8 weeks left of 13
    spent_later = later.signals.spend
    assert later.leadership.budget == at_once.leadership.budget == cut
    assert at_once.leadership.remaining + at_once.signals.spend == pytest.approx(
        base.leadership.remaining + base.signals.spend + (cut - 300.0) * 8 / 13)
    assert spent_later == base.signals.spend  # next quarter: this quarter is untouched
    for m in (later, at_once):
        while m.week < 14:
            m.step()
    assert later.leadership.allowance == pytest.approx(cut / 13)  # the new quarter runs on the new budget


def test_every_app_action_is_an_event_the_cli_reproduces_exactly(tmp_path):
    """Live actions (pressure, programmes, vigilance, budget cut and restore, go-live moves) in twin runs; the
    exported file of each run, re-run by `culturedrift run`, gives the app's series bit for bit."""
    base = load_scenario("phased_with_vigilance").with_updates({"organisation.n_teams": 3})
    m = WorkshopModel(Settings(base, seed=0), Twin("budget_cut", 20))
    for kind, week in [("inspection", 3), ("budget_cut", 6), ("retention", 8), ("golive_back", 9),
                       ("vigilance_off", 30), ("incident", 31), ("budget_restore", 33),
                       ("vigilance_on", 35), ("golive_forward", 38)]:
        while m.week < week:
            m.step()
        m.act(kind)
    while m.week < 45:
        m.step()
    kinds = {e.kind for e in m.plan[0].scenario().events}
    assert {"budget_change", "intervention_start", "intervention_end", "go_live", "inspection"} <= kinds
    for which, (run, settings) in enumerate(zip(m.runs, m.plan, strict=True)):
        path = tmp_path / f"run{which}.yaml"
        path.write_text(scenario_yaml(settings, name=f"workshop{which}"))
        out = tmp_path / f"out{which}"
        subprocess.run([sys.executable, "-m", "culturedrift.experiments.cli", "run", str(path), "--seeds", "1",
                        "--weeks", "45", "--out", str(out), "--no-progress"], check=True, capture_output=True)
        ts = pd.read_parquet(out / "timeseries.parquet")
        cli = ts[ts["seed"] == 0].drop(columns=["scenario", "seed"]).reset_index(drop=True)
        live = run.timeseries()
        assert list(cli.columns) == list(live.columns)
        assert cli.equals(live), f"run {which}: the CLI re-run differs from the app"
    # the budget actions matter: the same log without them spends differently
    without = Settings(base, 0, tuple(a for a in m.settings.actions if not a.kind.startswith("budget")))
    ts = simulate(without.scenario(), 0, weeks=45).timeseries
    assert not ts["cost_week"].equals(m.runs[0].timeseries()["cost_week"])
    assert Action(6, "budget_cut") in m.settings.actions
