"""Extending the model: a toy metric, intervention, mechanism and event kind, each in a temporary module.

Each test writes the module a contributor would write (the only hand-written file; a new mechanism adds
one line to the mechanism list too, done here by building the schema from an extended list), imports
it, runs a tiny scenario and checks the addition takes part; the catalogue and registries are restored.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np

from culturedrift.model import CultureDriftModel, simulate
from culturedrift.model.events import EVENTS
from culturedrift.model.interventions import REGISTRY
from culturedrift.model.mechanisms import MECHANISMS
from culturedrift.model.outputs import SERIES, SUMMARIES, withdraw
from culturedrift.model.scenario import scenario_class
from tests.conftest import TINY


def load_module(tmp_path: Path, name: str, source: str) -> ModuleType:
    """Import a module written to a temporary file (as a contributor's new file)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


TOY_METRIC = '''
    import numpy as np

    from culturedrift.model.outputs import STAFF, Series, Summary, declare

    declare(Series(key="toy_low_morale_share", label="Low morale", unit="share", better="lower", applies=STAFF,
                   definition="Share of staff in post with morale below 0.5.",
                   compute=lambda o: np.count_nonzero(o.morale < 0.5) / o.n_staff))
    declare(Summary(key="toy_peak_low_morale", label="Peak low morale", unit="share", better="lower",
                    applies="weeks 0 to the horizon", definition="Highest weekly share with low morale.",
                    compute=lambda v: v.ts["toy_low_morale_share"].max()))
'''


def test_a_toy_metric_is_one_declaration(tmp_path):
    try:
        load_module(tmp_path, "toy_metric", TOY_METRIC)
        r = simulate(scenario_class()(**TINY), 0)
        share = r.timeseries["toy_low_morale_share"]
        assert share.between(0, 1).all() and len(share) == TINY["horizon_weeks"] + 1
        assert r.summary["toy_peak_low_morale"] == share.max()
    finally:
        withdraw("toy_low_morale_share")
        withdraw("toy_peak_low_morale")
    assert "toy_low_morale_share" not in SERIES and "toy_peak_low_morale" not in SUMMARIES


TOY_INTERVENTION = '''
    from typing import Literal

    from culturedrift.model.base import param
    from culturedrift.model.interventions.base import Intervention


    class ToyBonus(Intervention):
        """A bonus paid in shopping vouchers: a little morale, nothing else."""

        kind: Literal["toy_bonus"] = "toy_bonus"
        cost_per_week: float = param(1.0, "GBP thousand per week", "Vouchers (test)", ge=0)
        support: float = param(0.02, "morale per week", "Test size", ge=0, le=0.1)

        def effect(self, model, whom, strength):
            model.add_effect("support", whom, self.support * strength)
'''


def test_a_toy_intervention_is_one_module_acting_through_an_effect_channel(tmp_path):
    try:
        load_module(tmp_path, "toy_intervention", TOY_INTERVENTION)
        schema = scenario_class()  # a kind defined outside model/interventions/ joins the schema
        without = simulate(schema(**TINY), 0).timeseries
        with_bonus = simulate(schema(**TINY, interventions=[{"kind": "toy_bonus", "start_week": 5}]), 0).timeseries
        assert (without["morale_mean"].iloc[:6] == with_bonus["morale_mean"].iloc[:6]).all()
        assert with_bonus["morale_mean"].iloc[-1] > without["morale_mean"].iloc[-1] + 0.05
        assert with_bonus["intervention_cost_week"].iloc[-1] > 0
    finally:
        REGISTRY.pop("toy_bonus", None)


TOY_MECHANISM = '''
    import numpy as np

    from culturedrift.model.base import Mechanism, PersonState, Signal, Strict, param


    class GossipParams(Strict):
        rate: float = param(0.2, "per week", "How fast gossip follows low morale (test)", ge=0, le=1)


    class Gossip(Mechanism):
        """Gossip builds where morale is low; it owns its state and publishes the organisation's level."""

        name = "gossip"
        title = "Gossip"
        category = "test"
        owns = (PersonState("gossip", "Gossip heard, 0-1", on_hire=0.0),)
        publishes = (Signal("gossip_level", "0-1", "Mean gossip among staff in post"),)

        def init(self) -> None:
            self.publish(gossip_level=0.0)

        def step(self) -> None:
            s = self.state
            s.gossip += self.pars.rate * ((s.morale < 0.6) - s.gossip)
            staff = s.staff & s.filled
            self.publish(gossip_level=float(s.gossip[staff].mean()))
'''


def test_a_toy_mechanism_is_one_module_and_one_line(tmp_path):
    mod = load_module(tmp_path, "toy_mechanism", TOY_MECHANISM)
    schema = scenario_class([*MECHANISMS, ("gossip", mod.GossipParams, mod.Gossip)])  # the one line
    sc = schema(**TINY, gossip={"rate": 0.5})
    model = CultureDriftModel(sc, 0)
    assert [m.name for m in model.mechanisms][-1] == "gossip" and model.gossip.pars.rate == 0.5
    model.run()
    s = model.state
    assert s.owner["gossip"] == "gossip" and np.all((s.gossip >= 0) & (s.gossip <= 1))
    assert 0 < model.signals.gossip_level <= 1
    # the rest of the model is untouched: same outputs as without the mechanism
    base = simulate(scenario_class()(**TINY), 0).timeseries
    assert model.timeseries().equals(base.drop(columns=["scenario", "seed"]))


def test_events_can_be_scheduled_in_the_scenario_or_added_to_a_running_model():
    sc = scenario_class()(**TINY, events=[{"kind": "morale_nudge", "week": 4, "size": -0.3}])
    planned = simulate(sc, 0).timeseries["morale_mean"]
    model = CultureDriftModel(scenario_class()(**TINY), 0)
    for _ in range(4):
        model.step()
    model.add_event({"kind": "morale_nudge", "size": -0.3}, now=True)
    model.run()
    live = model.timeseries()["morale_mean"]
    assert (planned == live).all() and planned.iloc[5] < planned.iloc[4] - 0.1
    assert set(EVENTS) >= {"inspection", "serious_incident", "prescription_pulse", "morale_nudge", "leaver_wave",
                           "budget_change"}


TOY_EVENT = '''
    from typing import Literal

    from culturedrift.model.base import param
    from culturedrift.model.events import Event


    class ToyAwayDay(Event):
        """A team away day: one week of support for everyone in post, through the morale effect channel."""

        kind: Literal["toy_away_day"] = "toy_away_day"
        support: float = param(0.2, "morale per week", "Test size", ge=0, le=1)

        def apply(self, host):
            s = host.state
            host.add_effect("support", s.staff & s.filled, self.support)
'''


def test_a_toy_event_kind_is_one_class(tmp_path):
    try:
        load_module(tmp_path, "toy_event", TOY_EVENT)
        schema = scenario_class()  # a kind defined outside model/events.py joins the schema
        without = simulate(schema(**TINY), 0).timeseries["morale_mean"]
        with_day = simulate(schema(**TINY, events=[{"kind": "toy_away_day", "week": 10}]), 0).timeseries["morale_mean"]
        assert with_day.iloc[:11].equals(without.iloc[:11])  # rows 0..10: before its week has run
        assert with_day.iloc[11] > without.iloc[11] + 0.02
        model = CultureDriftModel(schema(**TINY), 0)
        model.add_event({"kind": "toy_away_day", "week": 10})  # or added to a running model
        model.run()
        assert model.timeseries()["morale_mean"].equals(with_day)
    finally:
        EVENTS.pop("toy_away_day", None)
    assert "toy_away_day" not in EVENTS
