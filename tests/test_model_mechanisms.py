"""Each mechanism's direction, in isolation, on paired seeds (same seed, one thing changed)."""

from __future__ import annotations

import numpy as np

from culturedrift.model import CultureDriftModel, simulate
from tests.conftest import tiny

SEEDS = range(4)


def paired_mean(col: str, a, b, weeks=slice(None)) -> tuple[float, float]:
    """Mean of a timeseries column over weeks and seeds, for scenarios a and b on the same seeds."""
    ma = np.mean([simulate(a, s).timeseries[col].iloc[weeks].mean() for s in SEEDS])
    mb = np.mean([simulate(b, s).timeseries[col].iloc[weeks].mean() for s in SEEDS])
    return ma, mb


def change(**kw):
    base = {"name": "c", "kind": "role", "start_week": 5, "duration_weeks": 20, "affects": "staff",
            "disruption": 0.0}
    return {**base, **kw}


def test_more_change_load_lowers_morale():
    calm = tiny(change_programme=[change(disruption=0.0)])
    heavy = tiny(change_programme=[change(disruption=0.3)])
    a, b = paired_mean("morale_mean", calm, heavy, slice(10, 26))
    assert b < a - 0.02


def test_overlapping_changes_hurt_more_than_spread_ones():
    spread = tiny(horizon_weeks=60, change_programme=[change(name="a", start_week=2, duration_weeks=10,
                                                             disruption=0.15),
                                                      change(name="b", start_week=30, duration_weeks=10,
                                                             disruption=0.15)])
    stacked = tiny(horizon_weeks=60, change_programme=[change(name="a", start_week=2, duration_weeks=10,
                                                              disruption=0.15),
                                                       change(name="b", start_week=2, duration_weeks=10,
                                                              disruption=0.15)])
    trough_spread = np.mean([simulate(spread, s).summary["morale_trough"] for s in SEEDS])
    trough_stacked = np.mean([simulate(stacked, s).summary["morale_trough"] for s in SEEDS])
    assert trough_stacked < trough_spread


def test_reinforcement_lowers_the_compliance_habit():
    none = tiny()
    sup = tiny(interventions=[{"kind": "reflective_supervision", "start_week": 0}])
    a, b = paired_mean("compliance_habit_mean", none, sup, slice(-5, None))
    assert b < a - 0.05


def test_without_reinforcement_the_habit_drifts_back():
    sc = tiny(horizon_weeks=120, interventions=[{"kind": "reflective_supervision", "start_week": 0,
                                                 "end_week": 40, "intensity": 1.5}])
    for seed in SEEDS:
        c = simulate(sc, seed).timeseries["compliance_habit_mean"].to_numpy()
        assert c[40] < c[0] - 0.1, "reinforcement lowered the habit"
        assert c[-1] > c[40] + 0.03, "the habit drifts back once reinforcement stops"


def test_it_switchover_dips_capacity_then_recovers_and_training_shortens_it():
    it = change(name="it", kind="it_system", start_week=5, duration_weeks=4, disruption=0.0,
                learning={"initial_proficiency": 0.3, "learning_rate": 0.05, "capacity_dip": 0.4})
    plain = tiny(horizon_weeks=80, change_programme=[it])
    trained = tiny(horizon_weeks=80, change_programme=[it],
                   interventions=[{"kind": "training", "start_week": 5, "end_week": 30}])
    traces = {}
    for name, sc in (("plain", plain), ("trained", trained)):
        m = CultureDriftModel(sc, seed=1)
        prod = []
        while m.week < 80:
            m.step()
            prod.append(m.signals.productivity[m.state.staff].mean())
        prod = np.array(prod)
        assert prod[:5].min() == 1.0
        assert prod[6] < 0.9, "go-live cuts capacity"
        assert prod[-1] > prod[6] + 0.05, "the learning curve recovers"
        traces[name] = prod
    assert traces["trained"][20] > traces["plain"][20], "training shortens the dip"


def test_budget_cap_binds_and_records_shortfall():
    cheap = tiny(budget={"quarterly_budget": 1000.0},
                 interventions=[{"kind": "recognition", "start_week": 0, "cost_per_week": 5.0}])
    poor = tiny(budget={"quarterly_budget": 20.0},
                interventions=[{"kind": "recognition", "start_week": 0, "cost_per_week": 5.0}])
    rich_ts = simulate(cheap, 1).timeseries
    poor_ts = simulate(poor, 1).timeseries
    assert rich_ts["shortfall"].iloc[-1] == 0
    assert poor_ts["shortfall"].iloc[-1] > 0
    # spending per quarter never exceeds the budget by more than the contracted agency cost
    q = poor_ts.iloc[1:].groupby((poor_ts["week"].iloc[1:] - 1) // 13)
    assert (q["intervention_cost_week"].sum() <= 20.0 + 1e-9).all()


def test_less_budget_means_less_agency_cover():
    rich = tiny(budget={"quarterly_budget": 2000.0})
    poor = tiny(budget={"quarterly_budget": 0.0})
    a, b = paired_mean("agency_worker_share", rich, poor, slice(10, None))
    assert b < a


def test_restructure_rewires_team_ties():
    sc = tiny(change_programme=[change(kind="structure", rewire_fraction=0.5)])
    m = CultureDriftModel(sc, seed=2)
    teams_before = m.state.team.copy()
    while m.week < 7:
        m.step()
    moved = np.flatnonzero(teams_before != m.state.team)
    assert moved.size > 0
    assert (m.state.frontline[moved]).all()
    assert np.bincount(m.state.team[m.state.frontline & m.state.is_post]).tolist() == \
        np.bincount(teams_before[m.state.frontline & m.state.is_post]).tolist()
    assert m.signals.fragmentation[0] > 0.1


def test_incident_raises_prescription_and_manager_control():
    calm = tiny(slippage={"incident_rate_per_year": 0.0})
    shock = tiny(slippage={"incident_rate_per_year": 0.0},
                 events=[{"week": 5, "kind": "serious_incident", "magnitude": 0.3}])
    a = simulate(calm, 1).timeseries
    b = simulate(shock, 1).timeseries
    assert b["prescription"].iloc[7] > a["prescription"].iloc[7] + 0.2
    assert b["manager_control"].iloc[15] > a["manager_control"].iloc[15]
    assert b["compliance_habit_mean"].iloc[-1] > a["compliance_habit_mean"].iloc[-1]


def test_sustained_workload_pressure_erodes_standards():
    normal = tiny(slippage={"incident_rate_per_year": 0.0})
    overloaded = tiny(slippage={"incident_rate_per_year": 0.0}, workload={"demand_cases_per_post": 30.0})
    a, b = paired_mean("compliance_habit_mean", normal, overloaded, slice(-5, None))
    assert b > a


def test_labour_market_pressure_raises_turnover():
    calm = tiny(horizon_weeks=80, turnover={"labour_market_pressure": 0.7})
    hot = tiny(horizon_weeks=80, turnover={"labour_market_pressure": 1.6})
    a, b = paired_mean("turnover_rate_12m", calm, hot)
    assert b > a


def test_exit_hazard_is_highest_early_in_tenure():
    m = CultureDriftModel(tiny(), seed=0)
    p = m.turnover.pars
    early = 1 + p.early_tenure_excess * np.exp(-0 / p.early_tenure_weeks)
    late = 1 + p.early_tenure_excess * np.exp(-520 / p.early_tenure_weeks)
    assert early > 2 * late
    events = simulate(tiny(horizon_weeks=150), 0).events
    leavers = events[(events.event == "leave") & (events.employment == "permanent") & (events.role != "partner")]
    assert len(leavers) > 0


def test_partner_liaison_speeds_interagency_repair():
    base = tiny(turnover={"labour_market_pressure": 2.0})
    liaison = tiny(turnover={"labour_market_pressure": 2.0},
                   interventions=[{"kind": "partner_liaison", "start_week": 0}])
    a, b = paired_mean("fragmentation_interagency", base, liaison, slice(-10, None))
    assert b < a


def test_caseload_cap_brings_in_overflow_agency_staff():
    demand = {"demand_cases_per_post": 24.0}
    base = tiny(workload=demand, budget={"quarterly_budget": 5000.0})
    cap = tiny(workload=demand, budget={"quarterly_budget": 5000.0},
               interventions=[{"kind": "caseload_cap", "start_week": 0, "cap_cases": 18.0}])
    a, b = paired_mean("caseload_mean", base, cap, slice(-10, None))
    assert b < a
    m = CultureDriftModel(cap, seed=0)
    m.run()
    assert (m.state.filled & ~m.state.is_post).any(), "overflow slots were opened"
