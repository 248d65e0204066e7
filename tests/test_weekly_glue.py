"""The week's shortcuts against the general path they stand for: the same bits in the weeks they skip work."""

from __future__ import annotations

import numpy as np

from culturedrift.model.base import stream
from culturedrift.model.host import Host
from culturedrift.model.interventions.recognition import Recognition
from culturedrift.model.mechanisms.leadership import BudgetParams, Leadership
from culturedrift.model.mechanisms.morale import Morale, MoraleParams
from culturedrift.model.organisation import Layout, OrganisationParams, build_network

ORG = OrganisationParams(n_teams=2, team_size=4, overflow_slots_per_team=1, partner_agencies={"police": 3},
                         cross_team_ties=1, partner_ties=1, manager_peer_ties=1, partner_internal_ties=1)
SIGNALS = ("spend", "agency_worker_spend", "intervention_spend", "overspend", "shortfall", "hiring_headroom")


def leadership(interventions: list) -> tuple[Host, Leadership]:
    """A host of 16 slots with leadership (and morale, which reads the support channel)."""
    layout = Layout(ORG)
    host = Host(layout, build_network(layout, ORG, stream(0, "organisation")),
                [(Leadership, BudgetParams(quarterly_budget=30.0)), (Morale, MoraleParams())], seed=0,
                interventions=interventions)
    s = host.state
    s.filled[:] = s.is_post
    for name in ("tenure", "compliance_habit", "change_load", "workload", "direct_time", "leaver_exposure"):
        if name not in s.owner:  # what the other mechanisms would own: zeros
            s.add(name, "test", np.zeros(s.n))
    host.signals.induction_weeks = 26.0
    host.initialise()
    return host, host.mechanism("leadership")


def test_a_week_without_interventions_gives_the_bits_of_funding_and_delivering_nothing() -> None:
    """Leadership's week without an active intervention skips funding and delivery: its signals and budget are those
    of the general path given an active intervention that costs nothing and adds nothing."""
    bare, lead = leadership([])
    idle, other = leadership([Recognition(support=0.0, cost_per_week=0.0, target="frontline")])
    r = np.random.default_rng(3)
    for week in range(30):  # across two quarter starts, agency workers coming and going, over budget and under
        agency = r.random(bare.state.n) < 0.4
        for host in (bare, idle):
            host.week = week
            host.state.agency_worker[:] = agency & host.state.filled
            host.reset_effects()
        lead.step()
        other.step()
        for name in SIGNALS:
            a, b = getattr(bare.signals, name), getattr(idle.signals, name)
            assert np.float64(a).tobytes() == np.float64(b).tobytes(), (week, name, a, b)
        assert np.float64(lead.remaining).tobytes() == np.float64(other.remaining).tobytes()
        assert lead.scale == other.scale == 1.0
