"""Each mechanism on its own: a host of a few slots, only that mechanism, its inputs written by hand.

What a mechanism reads from others (signals, their per-person state) is set here directly, so each
test shows exactly what the mechanism depends on and what it does with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from culturedrift.model.base import Mechanism, stream
from culturedrift.model.host import Host
from culturedrift.model.interventions.recognition import Recognition
from culturedrift.model.mechanisms.change_programme import Change, ChangeProgramme, LearningCurve
from culturedrift.model.mechanisms.culture import Culture, CultureParams
from culturedrift.model.mechanisms.leadership import BudgetParams, Leadership
from culturedrift.model.mechanisms.morale import Morale, MoraleParams
from culturedrift.model.mechanisms.relationships import RelationshipParams, Relationships
from culturedrift.model.mechanisms.slippage import Slippage, SlippageParams
from culturedrift.model.mechanisms.turnover import Turnover, TurnoverParams
from culturedrift.model.mechanisms.workload import Workload, WorkloadParams
from culturedrift.model.organisation import Layout, OrganisationParams, build_network

ORG = OrganisationParams(n_teams=2, team_size=4, overflow_slots_per_team=1, partner_agencies={"police": 3},
                         cross_team_ties=1, partner_ties=1, manager_peer_ties=1, partner_internal_ties=1)


def host_with(mech: type[Mechanism], pars: Any, interventions: Any = (), also: Any = (),
              **given: Any) -> tuple[Host, Any]:
    """A host of 16 slots (2 teams of a manager, 4 posts and 1 overflow slot; 3 police) with one mechanism.

    Every established post is filled; `given` per-person arrays (by name) stand in for other mechanisms'
    state, and anything else the mechanism reads from others is written to `host.signals` by the test.
    """
    layout = Layout(ORG)
    host = Host(layout, build_network(layout, ORG, stream(0, "organisation")), [(mech, pars), *also], seed=0,
                interventions=interventions)
    s = host.state
    s.filled[:] = s.is_post
    for name in ("tenure", "morale", "compliance_habit", "change_load", "workload", "direct_time",
                 "leaver_exposure", "sustained_pressure", "manager_control"):
        if name not in s.owner:
            s.add(name, "test", np.full(s.n, float(given.pop(name, 0.0))))
    assert not given, f"unknown inputs {sorted(given)}"
    return host, host.mechanisms[0]


def test_mechanisms_declare_disjoint_state_signals_and_channels() -> None:
    from culturedrift.model.mechanisms import MECHANISMS

    seen: dict[str, str] = {}
    for _, _, cls in MECHANISMS:
        for name in [p.name for p in cls.owns] + [s.name for s in cls.publishes] + [c.name for c in cls.channels]:
            assert name not in seen, f"{name} declared by {seen.get(name)} and {cls.name}"
            seen[name] = cls.name


def test_publishing_another_mechanisms_signal_is_refused() -> None:
    _, culture = host_with(Culture, CultureParams())
    with pytest.raises(AttributeError, match="does not publish"):
        culture.publish(prescription=0.5)


def test_leadership_pays_agency_workers_first_and_leaves_headroom_for_hires() -> None:
    # GBP 13k a quarter = 1k a week; two agency workers in posts cost 2 x 0.75
    host, lead = host_with(Leadership, BudgetParams(quarterly_budget=13.0, agency_worker_premium_per_week=0.75))
    host.state.agency_worker[[1, 2]] = True
    host.initialise()
    lead.step()
    sig = host.signals
    assert sig.agency_worker_spend == pytest.approx(1.5)
    assert sig.overspend == pytest.approx(0.5) and sig.hiring_headroom == 0.0
    host.state.agency_worker[:] = False
    host.week = 1
    lead.step()
    assert sig.spend == 0.0 and sig.hiring_headroom == pytest.approx((13.0 - 1.5) / 12)


def test_leadership_delivers_interventions_through_effect_channels_scaled_by_the_budget() -> None:
    # recognition costs 2k a week against a 1k weekly allowance: delivered at half strength
    host, lead = host_with(Leadership, BudgetParams(quarterly_budget=13.0),
                           interventions=[Recognition(support=0.01, cost_per_week=2.0, target="frontline")],
                           also=[(Morale, MoraleParams())])
    s = host.state
    host.signals.induction_weeks = 26.0  # who counts as a new hire (published by workload)
    host.initialise()
    host.reset_effects()
    lead.step()
    assert host.signals.shortfall == pytest.approx(1.0)
    assert np.allclose(host.effects.support[s.frontline & s.filled], 0.005)
    assert np.all(host.effects.support[~s.frontline] == 0.0)
    host.reset_effects()
    assert np.all(host.effects.support == 0.0)


def test_change_programme_load_learning_curve_and_new_hires() -> None:
    curve = LearningCurve(initial_proficiency=0.4, learning_rate=0.5, capacity_dip=0.5, extra_recording=0.1)
    change = Change(name="new_system", kind="it_system", start_week=2, duration_weeks=4, affects="frontline",
                    disruption=0.05, learning=curve)
    host, cp = host_with(ChangeProgramme, [change])
    s, sig = host.state, host.signals
    sig.induction_weeks = 26.0
    host.initialise()
    cp.step()
    assert sig.pace == 0 and not sig.learning_live and np.all(sig.productivity == 1.0)
    host.week = 2
    cp.step()
    assert sig.pace == 1 and sig.learning_live
    assert np.all(s.change_load[s.frontline] == 0.05) and np.all(s.change_load[~s.frontline] == 0.0)
    # go-live: 0.4, then half the gap closes in the same week
    assert np.allclose(s.proficiency[0, s.frontline], 0.7) and np.all(s.proficiency[0, ~s.frontline] == 1.0)
    assert np.allclose(sig.productivity[s.frontline], 1 - 0.5 * 0.3)
    slot = np.flatnonzero(s.frontline)[:1]
    cp.on_join(slot)
    assert s.proficiency[0, slot[0]] == curve.new_hire_proficiency


def test_workload_shares_cases_by_capacity_and_a_vacancy_loads_the_rest() -> None:
    host, wl = host_with(Workload, WorkloadParams(), tenure=500.0, compliance_habit=0.5)
    s, sig = host.state, host.signals
    sig.extra_recording, sig.productivity, sig.learning_live = np.zeros(s.n), np.ones(s.n), False
    host.initialise()
    team0 = s.frontline & (s.team == 0) & s.filled
    before = s.caseload[team0].copy()
    assert np.allclose(before, before[0]) and before[0] > 0
    assert s.caseload[team0].sum() == pytest.approx(sig.team_cases[0])
    s.filled[np.flatnonzero(team0)[0]] = False
    wl.update_capacity()
    wl.allocate()
    assert np.all(s.caseload[s.frontline & (s.team == 0) & s.filled] > before[0])


def test_relationships_build_ties_cut_leavers_and_measure_fragmentation() -> None:
    host, rel = host_with(Relationships, RelationshipParams(), tenure=100.0, morale=0.5, compliance_habit=0.5)
    s, sig, net = host.state, host.signals, host.network
    host.initialise()
    rel.start_record()
    assert sig.fragmentation.tolist() == [0.0, 0.0, 0.0]
    w0 = net.w.copy()
    rel.step()
    assert np.all(net.w >= w0) and net.w.sum() > w0.sum()
    leaver = np.flatnonzero(s.frontline & s.filled)[:1]
    host.leave(leaver)
    assert np.all(net.w[net.entries_of(leaver)] == 0.0)
    rel.measure()
    assert sig.fragmentation[0] > 0.0
    # neighbour sums: tie-weighted morale and habit
    rel.update_neighbour_sums()
    assert np.allclose(sig.neighbour_sums[:, 0], 0.5 * sig.neighbour_sums[:, 2])


def _morale_inputs(host: Host) -> None:
    s, sig = host.state, host.signals
    sig.neighbour_sums = np.zeros((s.n, 3))
    sig.baseline_tie_strength = np.zeros(s.n)
    sig.reference_direct_time = 0.3


def test_morale_recovers_toward_baseline_and_change_load_lowers_it() -> None:
    pars = MoraleParams(noise_sd=0.0)
    host, mor = host_with(Morale, pars, direct_time=0.3)
    _morale_inputs(host)
    s = host.state
    host.initialise()
    assert np.all(s.morale == pars.baseline)
    s.morale[:] = 0.3
    mor.step()
    # exponential approach: recovery pulls toward the baseline, contagion (no ties) toward one's own morale
    r, c = pars.recovery_rate, pars.contagion_rate
    assert np.allclose(s.morale, 0.3 - np.expm1(-(r + c)) * r * (pars.baseline - 0.3) / (r + c))
    s.morale[:] = pars.baseline
    s.change_load[:] = 0.2
    mor.step()
    assert np.all(s.morale < pars.baseline)
    before = s.morale.copy()
    host.effects.support[:] = 1.0
    mor.step()
    assert np.all(s.morale > before) and np.all(s.morale <= 1.0)  # bounded: no support pushes it past 1
    joiner = np.flatnonzero(s.frontline & s.filled)[:1]
    host.leave(joiner)
    host.join(joiner, agency_worker=False)
    assert s.morale[joiner[0]] == pars.new_hire_morale


def test_culture_reinforcement_pulls_staff_toward_the_target_and_hires_bring_sector_habits() -> None:
    pars = CultureParams(coworker_rate=0.0, manager_rate=0.0, reinforcement_rate=0.1, initial_sd=0.0,
                         conformity_rate=0.0)
    host, cult = host_with(Culture, pars)
    s, sig = host.state, host.signals
    sig.neighbour_sums, sig.prescription = np.zeros((s.n, 3)), 0.7  # slippage's (vacant manager posts)
    sig.induction_weeks = 26.0  # workload's: who holds the norm
    host.initialise()
    host.reset_effects()
    host.effects.reinforcement[:] = 1.0
    before = s.compliance_habit.copy()
    cult.step()
    assert np.all(s.compliance_habit[s.staff] < before[s.staff])
    assert np.all(s.compliance_habit[s.partner] == pars.partner_habit)
    slots = np.array([np.flatnonzero(s.frontline)[0], np.flatnonzero(s.partner)[0]])
    cult.on_join(slots)
    assert s.compliance_habit[slots[1]] == pars.partner_habit


def test_culture_team_norm_tips_and_a_tipped_team_conforms_to_the_new_culture() -> None:
    pars = CultureParams(coworker_rate=0.0, manager_rate=0.0, reinforcement_rate=0.0, initial_sd=0.0)
    host, cult = host_with(Culture, pars, tenure=100.0)
    s, sig = host.state, host.signals
    sig.neighbour_sums, sig.prescription, sig.induction_weeks = np.zeros((s.n, 3)), 0.7, 26.0
    host.initialise()
    # everyone starts at the initial habit, far above the threshold: no team has tipped
    assert np.allclose(sig.team_norm[s.staff], pars.initial_habit) and np.all(sig.norm_sustain < 0.01)
    assert sig.sector_habit == pars.sector_habit and sig.norm_protection == pars.norm_protection
    team0 = s.staff & (s.team == 0)
    s.compliance_habit[team0] = 0.2  # team 0 now practises the new culture; its held norm follows with a lag
    cult.step()
    lag = -np.expm1(-1.0 / pars.norm_weeks)
    assert np.allclose(cult.norm[0], pars.initial_habit + lag * (0.2 - pars.initial_habit))
    cult.norm[0] = 0.2  # as if held for long enough
    cult.step()
    assert np.all(sig.norm_sustain[team0] > 0.99) and np.all(sig.norm_sustain[~team0 & s.staff] < 0.01)
    # a tipped team's norm holders pull toward the target; an untipped team barely moves
    before = s.compliance_habit.copy()
    cult.step()
    team1 = s.staff & (s.team == 1)
    moved0, moved1 = before[team0] - s.compliance_habit[team0], before[team1] - s.compliance_habit[team1]
    assert np.all(moved0 > 0) and np.all(moved1 >= 0) and moved1.max() < 0.1 * moved0.min()


def _slippage_inputs(host: Host, overload: float = 0.0, tipped: float = 0.0) -> None:
    sig, t, n = host.signals, host.layout.n_teams, host.state.n
    sig.prescription_shift, sig.service_standard, sig.sector_habit = 0.0, 1.0, 0.7
    sig.team_cases, sig.team_capacity = np.full(t, 10.0 * (1 + overload)), np.full(t, 10.0)
    sig.norm_sustain, sig.team_norm, sig.norm_protection = np.full(n, tipped), np.full(n, 0.2), 0.8  # culture's


def test_slippage_prescription_jump_raises_prescription_and_overload_tightens_managers() -> None:
    pars = SlippageParams(incident_rate_per_year=0.0)
    host, slip = host_with(Slippage, pars, compliance_habit=0.3)
    _slippage_inputs(host, overload=0.5)
    s, sig = host.state, host.signals
    host.initialise()
    slip.step()
    p0 = sig.prescription
    assert np.all(s.control_tension[s.manager] > 0) and np.all(s.control_tension[~s.manager] == 0)
    host.reset_effects()
    host.add_effect("prescription_jump", None, 0.2)  # what an inspection event does
    slip.step()
    assert sig.prescription > p0 + 0.1
    # vigilance damps the tightening
    damped, _ = host_with(Slippage, pars, compliance_habit=0.3)
    _slippage_inputs(damped, overload=0.5)
    damped.initialise()
    damped.effects.control_damping = 0.9
    damped.mechanisms[0].step()
    assert np.all(damped.state.control_tension[s.manager] < s.control_tension[s.manager])
    # ... and so does a team whose norm has tipped, whose habits decay toward its own norm, not back
    tipped, _ = host_with(Slippage, pars, compliance_habit=0.3)
    _slippage_inputs(tipped, overload=0.5, tipped=1.0)
    tipped.initialise()
    tipped.mechanisms[0].step()
    t = tipped.state
    assert np.all(t.control_tension[s.manager] < s.control_tension[s.manager])
    assert np.all(t.compliance_habit[t.staff] < 0.3) and np.all(t.compliance_habit[t.staff] >= 0.2)
    assert np.all((s.manager_control >= s.compliance_habit) & (s.manager_control <= 1.0))


def test_turnover_decides_who_leaves_and_the_host_carries_it_out() -> None:
    pars = TurnoverParams(base_exit_hazard=1.0, manager_hazard_factor=1.0, initial_vacancy=0.0, partner_exit_hazard=0.0,
                          agency_worker_cover=False, permanent_fill_hazard=0.0)
    host, turn = host_with(Turnover, pars, morale=0.6)
    s, sig = host.state, host.signals
    sig.neighbour_sums = np.ones((s.n, 3))
    host.initialise()
    staff_in_post = int(np.count_nonzero(s.staff & s.filled))
    assert staff_in_post == 10
    turn.step()
    assert sig.leavers == staff_in_post and sig.leavers_permanent == staff_in_post
    assert not (s.staff & s.filled).any() and np.all(s.vacant_since[s.staff_post] == 0)
    assert np.all(s.leaver_exposure[s.partner & (s.leaver_exposure > 0)] > 0)
    host.join(np.flatnonzero(s.staff_post)[:2], agency_worker=True)
    assert sig.joiners == 2 and np.all(s.tenure[np.flatnonzero(s.staff_post)[:2]] == 0)
    assert np.all(s.intention[np.flatnonzero(s.staff_post)[:2]] == pars.new_hire_intention)


def test_norm_holders_follow_the_induction_period_on_the_compiled_path_too() -> None:
    """Who holds a team's norm is read from workload's induction period by the numpy and the compiled culture."""
    from culturedrift.model import CultureDriftModel
    from tests.conftest import tiny

    runs = {}
    for weeks in (8.0, 26.0):
        sc = tiny(horizon_weeks=12, burn_in_weeks=4, workload={"induction_weeks": weeks})
        ref, fast = CultureDriftModel(sc, 1, compiled=False), CultureDriftModel(sc, 1, compiled=True)
        ref.run()
        fast.run()
        assert ref.timeseries().equals(fast.timeseries()), weeks
        assert np.array_equal(ref.culture.norm, fast.culture.norm), weeks
        runs[weeks] = ref.culture.norm.copy()
    assert not np.array_equal(runs[8.0], runs[26.0])  # the induction period decides who holds the norm
