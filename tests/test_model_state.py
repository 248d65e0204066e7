"""State design: Mesa agents are handles on array slots; posts keep slots; the view equals the arrays."""

from __future__ import annotations

import mesa
import numpy as np

from culturedrift.model import CultureDriftModel
from culturedrift.model.agents import FrontlineWorker, Manager, PartnerWorker
from culturedrift.model.state import FRONTLINE, MANAGER, PARTNER
from tests.conftest import tiny


def test_agents_are_handles_on_filled_slots():
    m = CultureDriftModel(tiny(), seed=3)
    s = m.state
    slots = sorted(a.slot for a in m.agents)
    assert slots == list(np.flatnonzero(s.filled))
    for a in m.agents:
        assert m.agent_at[a.slot] is a
        assert a.morale == s.morale[a.slot]
        assert a.compliance_habit == s.compliance_habit[a.slot]
        assert a.turnover_intention == s.intention[a.slot]
        assert a.employment == ("agency_worker" if s.agency_worker[a.slot] else "permanent")
        expected = {FRONTLINE: FrontlineWorker, MANAGER: Manager, PARTNER: PartnerWorker}[int(s.role[a.slot])]
        assert type(a) is expected


def test_view_tracks_arrays_after_steps_and_writes_through():
    m = CultureDriftModel(tiny(), seed=4)
    for _ in range(15):
        m.step()
    s = m.state
    assert len(m.agents) == int(s.filled.sum())
    mean_view = m.agents.select(agent_type=FrontlineWorker).agg("morale", np.mean)
    assert np.isclose(mean_view, s.morale[s.frontline & s.filled].mean())
    a = next(iter(m.agents))
    a.morale = 0.123
    assert s.morale[a.slot] == 0.123


def test_datacollector_agent_reporters_work():
    m = CultureDriftModel(tiny(), seed=5)
    dc = mesa.DataCollector(model_reporters={"week": "week"},
                            agent_reporters={"habit": "compliance_habit", "role": "role"})
    dc.collect(m)
    m.step()
    dc.collect(m)
    df = dc.get_agent_vars_dataframe()
    last = df.index.get_level_values(0).max()
    assert len(df.loc[last]) == len(m.agents)
    assert set(df["role"]) <= {"frontline", "manager", "partner"}
    assert df["habit"].between(0, 1).all()


def test_a_leaver_keeps_the_post_and_the_new_hire_is_a_new_agent():
    m = CultureDriftModel(tiny(), seed=6)
    s, net = m.state, m.network
    slot = int(np.flatnonzero(s.frontline & s.filled & ~s.agency_worker)[0])
    old = m.agent_at[slot]
    entries = net.entries_of(np.array([slot]))
    assert net.w[entries].sum() > 0
    m.leave(np.array([slot]))
    assert not s.filled[slot] and m.agent_at[slot] is None
    assert old not in m.agents
    assert np.all(net.w[entries] == 0), "a leaver's ties vanish"
    m.join(np.array([slot]), agency_worker=False)
    new = m.agent_at[slot]
    assert new is not None and new is not old and new.unique_id != old.unique_id
    assert s.filled[slot] and s.tenure[slot] == 0
    w_new = net.w[entries]
    assert w_new.max() <= m.relationships.pars.new_tie_strength + 1e-12, "a new hire starts with weak ties"


def test_colleagues_feel_a_departure():
    m = CultureDriftModel(tiny(), seed=7)
    s, net = m.state, m.network
    slot = int(np.flatnonzero(s.frontline & s.filled)[0])
    ip = net.mat.indptr
    colleagues = net.col[ip[slot]:ip[slot + 1]]
    before = s.leaver_exposure[colleagues].copy()
    m.leave(np.array([slot]))
    assert np.all(s.leaver_exposure[colleagues] >= before)
    assert s.leaver_exposure[colleagues].sum() > before.sum()


def test_timeseries_can_be_read_mid_run():
    m = CultureDriftModel(tiny(), seed=8)
    assert len(m.timeseries()) == 1
    for _ in range(5):
        m.step()
    ts = m.timeseries()
    assert list(ts["week"]) == [0, 1, 2, 3, 4, 5]
    assert not ts.isna().drop(columns=["manager_control"]).any().any()
