"""The benchmark's measuring pieces run and pair their rounds as `make bench` reads them (no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_executor
import bench_model


def test_spread_is_min_median_max():
    assert bench_model.spread([3.0, 1.0, 2.0]) == "1.00 / 2.00 / 3.00"
    assert bench_model.spread([5.0], "{:+.1f}") == "+5.0 / +5.0 / +5.0"


def test_yardstick_and_model_report_rates_after_a_warm_up_week():
    yard = bench_model.measure_yardstick(60, 2)
    assert yard["weeks"] == 2 and yard["agent_steps_per_s"] > 0 and yard["agent_steps_per_wall_s"] > 0
    model = bench_model.measure_model(60, 2)
    assert model["weeks"] == 2 and model["agent_steps_per_s"] > 0 and model["slots"] >= 60


def test_five_year_pairs_alternate_and_report_each_ratio(monkeypatch):
    from culturedrift.model import Scenario

    short = Scenario(name="short").with_updates({"horizon_weeks": 3, "burn_in_weeks": 1})
    monkeypatch.setattr("culturedrift.model.load_scenario", lambda _path: short)
    out = bench_model.five_year_runs(3)
    assert len(out["pair_ratios"]) == 3 and all(r > 0 for r in out["pair_ratios"])
    assert out["weeks"] == 4


def test_executor_rounds_pair_in_process_only_where_it_ran(monkeypatch):
    from culturedrift.model import Scenario

    short = Scenario(name="bench").with_updates({"horizon_weeks": 260, "organisation.n_teams": 2})
    monkeypatch.setattr(bench_executor, "Scenario", lambda name: short)
    out = bench_executor.measure(runs=4, rounds=2, dask=False, serial_rounds=1)
    assert out["serial_same"] and out["local2_same"]
    assert len(out["serial_walls"]) == 1 and len(out["local2_walls"]) == 2
    assert len(out["local2_speedups"]) == 1


def test_model_and_yardstick_take_turns_in_two_kept_processes():
    out = bench_model.interleaved(100, rounds=2, turns=2, model_weeks=2, yard_weeks=1)
    assert len(out["model"]) == len(out["yardstick"]) == len(out["ratios"]) == 2
    assert all(r > 0 for r in out["ratios"]) and out["slots"] >= 100
