"""The week's shortcuts against the general path they stand for: the same bits in the weeks they skip work."""

from __future__ import annotations

import numpy as np
import pytest

from culturedrift.model import kernels
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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weekly_stats_list_holders_outside_the_staff_over_every_slot(seed: int) -> None:
    """The record lists case holders and managers among the staff in post; masks where some are not staff (never in a
    model, possible for a caller) take the pass over every slot: numpy's reductions, bit for bit, either way."""
    r = np.random.default_rng(seed)
    n = 700
    staff = r.random(n) < 0.7
    filled = r.random(n) < 0.8
    for inside in (True, False):
        frontline = r.random(n) < 0.6
        frontline &= staff if inside else np.ones(n, bool)
        manager = ~frontline & (r.random(n) < 0.5) & (staff if inside else True)
        staff_post, agency_worker = staff & (r.random(n) < 0.9), filled & (r.random(n) < 0.2)
        v = [r.random(n) for _ in range(7)]
        got = kernels.weekly_stats(staff, filled, frontline, manager, staff_post, agency_worker, *v, 0.5)
        sf, hf, mf = staff & filled, frontline & filled, manager & filled
        want = {"morale_mean": v[0][sf].mean(), "habit_mean": v[1][sf].mean(), "manager_control": v[2][mf].mean(),
                "intention_mean": v[3][sf].mean(), "n_holders": float(hf.sum()), "workload_mean": v[4][hf].mean(),
                "direct_time_mean": v[5][hf].mean(), "change_load_mean": v[6][sf].mean()}
        for key, value in want.items():
            assert np.float64(got[kernels.STATS.index(key)]).tobytes() == np.float64(value).tobytes(), (inside, key)


@pytest.mark.parametrize("live", [[], [0], [0, 2], [0, 1, 3]])
def test_learning_curves_two_changes_a_pass_are_the_references_change_by_change(live: list[int]) -> None:
    """The learning curves' kernel takes live changes in pairs and writes fresh rows: ChangeProgramme's numpy code,
    change by change, to the last bit (slots outside a change, at full proficiency, with and without training)."""
    r = np.random.default_rng(len(live))
    n = 1001
    prof = r.random((4, n))
    prof[:, ::5] = 1.0
    affects = r.random((4, n)) < 0.6
    rate, dip, rec, lasting = (r.random(4) for _ in range(4))
    boost = np.where(r.random(n) < 0.5, r.random(n), 0.0)
    want = prof.copy()
    prod, extra = np.ones(n), np.zeros(n)
    for k in live:  # ChangeProgramme.step's numpy reference
        p, who = want[k], affects[k]
        gap = 1.0 - p
        gap *= who
        p += gap * np.minimum(rate[k] * (1.0 + boost), 1.0)
        np.subtract(1.0, p, out=gap)
        gap *= who
        prod *= 1.0 - dip[k] * gap
        extra += rec[k] * gap + lasting[k] * who
    out = np.full((2, n), np.nan)
    kernels.learning_curves(prof, affects, np.array(live, np.int64), rate, dip, rec, lasting, boost, out)
    assert prof.tobytes() == want.tobytes()
    assert out[0].tobytes() == prod.tobytes() and out[1].tobytes() == extra.tobytes()
