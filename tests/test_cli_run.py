"""`culturedrift run` end to end on tiny settings: the documented output layout."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from culturedrift.experiments.cli import main
from culturedrift.model.outputs import summary_keys

TS_REQUIRED = ["scenario", "seed", "week", "morale_mean", "morale_p10", "morale_p90", "compliance_habit_mean",
               "compliance_habit_high_share", "turnover_rate_12m", "vacancy_rate", "agency_worker_share",
               "caseload_mean", "time_with_children", "fragmentation", "service_standard", "cost_cumulative",
               "overspend", "change_load"]


def test_run_writes_the_documented_layout(tmp_path, capsys):
    out = tmp_path / "r"
    code = main(["run", "scenarios/baseline.yaml", "scenarios/phased.yaml", "--seeds", "2", "--weeks", "120",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Morale trough (0-1 scale)" in printed and str(out) in printed
    assert "Peak 12-month turnover (%)" in printed  # shares in percent, as `compare` prints them
    assert "Slippage (% of attained shift lost)" in printed  # headers whole, never cut
    for name in ("timeseries.parquet", "timeseries.csv", "summary.csv", "summary.json", "events.parquet",
                 "timeseries.png"):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(TS_REQUIRED) <= set(ts.columns)
    assert set(ts["scenario"]) == {"baseline", "phased"} and set(ts["seed"]) == {0, 1}
    assert len(ts) == 2 * 2 * 121
    assert ts.equals(pd.read_csv(out / "timeseries.csv")[ts.columns].astype(ts.dtypes.to_dict())) or \
        len(pd.read_csv(out / "timeseries.csv")) == len(ts)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scenario", "seed", *summary_keys()]
    assert len(summary) == 4
    assert len(json.loads((out / "summary.json").read_text())) == 4
    ev = pd.read_parquet(out / "events.parquet")
    assert list(ev.columns) == ["scenario", "seed", "week", "event", "role", "employment", "tenure_weeks", "slot"]
    assert set(ev["event"]) <= {"join", "leave"} and set(ev["employment"]) <= {"permanent", "agency_worker"}
    assert ev["week"].between(1, 120).all()


def test_parallel_run_equals_serial(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["run", "scenarios/big_bang.yaml", "--seeds", "2", "--weeks", "60", "--no-progress"]
    assert main([*args, "--out", str(a)]) == 0
    assert main([*args, "--out", str(b), "--workers", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(a / "timeseries.parquet"), pd.read_parquet(b / "timeseries.parquet"))


@pytest.mark.slow
def test_console_script_runs(tmp_path):
    exe = [sys.executable, "-m", "culturedrift.experiments.cli"]
    ok = subprocess.run([*exe, "run", "scenarios/tight_budget.yaml", "--weeks", "40", "--out", str(tmp_path),
                         "--no-progress"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*exe, "run", "scenarios/nope.yaml"], capture_output=True, text=True)
    assert bad.returncode == 2 and "file not found" in bad.stderr and "Traceback" not in bad.stderr
