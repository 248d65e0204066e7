"""Sweeps: experiment validation, designs, seeds, chunked execution, failures, resume."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows.sweep import (
    ExperimentError,
    SweepDirError,
    SweepStore,
    load_experiment,
    run_seed,
    sweep,
)
from culturedrift.model import simulate_summary
from culturedrift.model.outputs import summary_keys

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")
TINY = {"horizon_weeks": 20, "burn_in_weeks": 4, "organisation.n_teams": 3}
METRICS = ["morale_trough", "peak_turnover_12m", "peak_vacancy", "slippage"]


def experiment(tmp_path: Path, name: str = "exp", **fields) -> Path:
    """Write a tiny experiment file and return its path."""
    data = {"name": "tiny", "base": BASELINE, "overrides": TINY, "design": "lhs", "samples": 6, "replicates": 2,
            "seed": 7, "metrics": METRICS,
            "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4},
                           "morale.change_effect": {"low": 0.001, "high": 0.004}}}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}  # None: leave the field out
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def values(out: Path) -> pd.DataFrame:
    return SweepStore(out).results().drop(columns=["error"])


# -- experiment files ----------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "expect"), [
    ({"parameters": {"turnover.no_such_field": {"low": 0, "high": 1}}},
     ["parameters.turnover.no_such_field", "unknown field 'no_such_field'"]),
    ({"parameters": {"turnover.labour_market_pressure": {"low": 1.2, "high": 1.2}}},
     ["parameters.turnover.labour_market_pressure", "empty range"]),
    ({"parameters": {"turnover.labour_market_pressure": {"values": []}}}, ["values", "empty list"]),
    ({"design": "halton"}, ["design", "'grid', 'lhs', 'sobol' or 'morris'"]),
    ({"colour": "blue"}, ["colour", "unknown field"]),
    ({"metrics": ["happiness"]}, ["metrics", "unknown metric"]),
    ({"design": "sobol", "samples": 6}, ["samples", "power of two"]),
    ({"design": "grid"}, ["samples", "not used by a grid"]),
    ({"samples": None}, ["samples", "required for a lhs design"]),
    ({"parameters": {"turnover.base_exit_hazard": {"low": 0.001, "high": 2.0}}},
     ["parameters.turnover.base_exit_hazard", "2.0 is not usable", "less than or equal to 1"]),
    ({"parameters": {"turnover.recruitment_min_weeks": {"values": [2, -1]}}},
     ["parameters.turnover.recruitment_min_weeks", "-1"]),
    ({"design": "morris", "parameters": {"a.b": {"mean": 1, "sd": 0.1}, "c.d": {"low": 0, "high": 1}}},
     ["parameters.a.b", "bounded"]),
    ({"overrides": {"turnover.bogus": 1}}, ["overrides", "bogus"]),
    ({"base": "missing.yaml"}, ["base", "file not found"]),
])
def test_bad_experiment_files_name_file_field_and_reason(tmp_path, fields, expect):
    path = experiment(tmp_path, **fields)
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    msg = str(err.value)
    assert str(path) in msg
    for part in expect:
        assert part in msg, msg


def test_bad_experiment_through_cli_exits_2(tmp_path, capsys):
    path = experiment(tmp_path, design="factorial")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "culturedrift sweep: error:" in err and "design" in err
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_not_yaml_mapping(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(ExperimentError, match="must be a mapping"):
        load_experiment(p)


@pytest.mark.parametrize(("design", "extra", "n_points"), [
    ("grid", {"parameters": {"turnover.labour_market_pressure": {"low": 0.8, "high": 1.2, "steps": 3},
                             "turnover.recruitment_min_weeks": {"values": [2, 3]}}}, 6),
    ("lhs", {"samples": 10}, 10),
    ("sobol", {"samples": 8}, 8 * 4),
    ("sobol", {"samples": 8, "second_order": True}, 8 * 6),
    ("morris", {"samples": 3, "levels": 4}, 3 * 3),
])
def test_designs_have_the_expected_points_within_bounds(tmp_path, design, extra, n_points):
    fields = {"design": design, "samples": None, **extra}
    prep = load_experiment(experiment(tmp_path, **fields))
    assert len(prep.points) == n_points == prep.experiment.n_points()
    lmp = prep.points["turnover.labour_market_pressure"]
    lo, hi = (0.8, 1.2) if design == "grid" else (0.7, 1.4)
    assert lmp.between(lo, hi).all()
    if design == "grid":
        assert prep.points["turnover.recruitment_min_weeks"].dtype == np.int64
        assert sorted(set(lmp.round(9))) == [0.8, 1.0, 1.2]
    else:
        assert prep.unit.shape == (n_points, 2)
    # the same file always gives the same design
    again = load_experiment(experiment(tmp_path, name="again", **fields))
    pd.testing.assert_frame_equal(prep.points, again.points)
    assert prep.hash == again.hash


def test_distributions_and_whole_numbers(tmp_path):
    prep = load_experiment(experiment(tmp_path, samples=200, parameters={
        "slippage.decay_rate": {"dist": "loguniform", "low": 0.001, "high": 0.1},
        "turnover.labour_market_pressure": {"dist": "triangular", "low": 0.5, "mode": 0.6, "high": 2.0},
        "workload.demand_cases_per_post": {"dist": "normal", "mean": 16.5, "sd": 1, "low": 15, "high": 17},
        "turnover.recruitment_min_weeks": {"low": 2, "high": 5},
        "turnover.agency_worker_cover": {"values": [True, False]},
    }))
    p = prep.points
    assert p["slippage.decay_rate"].between(0.001, 0.1).all()
    assert np.median(np.log10(p["slippage.decay_rate"])) == pytest.approx(-2, abs=0.2)  # log-uniform
    assert p["turnover.labour_market_pressure"].median() < 1.1  # skewed toward the mode
    assert p["workload.demand_cases_per_post"].between(15, 17).all()
    weeks = p["turnover.recruitment_min_weeks"]
    assert weeks.dtype == np.int64 and set(weeks) <= {2, 3, 4, 5}
    assert set(p["turnover.agency_worker_cover"]) == {True, False}


def test_description_does_not_change_the_hash_but_content_does(tmp_path):
    a = load_experiment(experiment(tmp_path, "a", description="one"))
    b = load_experiment(experiment(tmp_path, "b", description="two"))
    c = load_experiment(experiment(tmp_path, "c", seed=8))
    assert a.hash == b.hash != c.hash


def test_run_seeds_depend_only_on_experiment_seed_point_and_replicate():
    seeds = {run_seed(7, p, r) for p in range(50) for r in range(4)}
    assert len(seeds) == 200
    assert run_seed(7, 3, 1) == int(np.random.SeedSequence(7, spawn_key=(3, 1)).generate_state(1)[0])
    assert run_seed(7, 3, 1, common=True) == run_seed(7, 0, 1)


# -- running -------------------------------------------------------------------------------------
def test_sweep_writes_every_run_and_matches_direct_calls(tmp_path):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    rep = sweep(path, out, workers=1, progress=False, log=None)
    assert rep.complete and rep.computed == 12 and rep.failed.empty
    res = SweepStore(out).results()
    assert list(res["run"]) == list(range(12)) and (res["status"] == "ok").all()
    for f in ("manifest.json", "points.parquet", "design.parquet", "experiment.yaml", "results.parquet",
              "results.csv"):
        assert (out / f).is_file(), f
    assert not (out / "failures.csv").exists()
    row = res.iloc[5]
    params = {k: row[k] for k in ("turnover.labour_market_pressure", "morale.change_effect")}
    direct = simulate_summary({**TINY, **params}, int(row["seed"]), base=BASELINE)
    assert all(direct[m] == row[m] for m in METRICS)
    assert row["seed"] == run_seed(7, 2, 1)


def test_local_pool_is_bit_identical_to_in_process_whatever_the_chunking(tmp_path):
    path = experiment(tmp_path)
    sweep(path, tmp_path / "serial", workers=1, progress=False, log=None)
    sweep(path, tmp_path / "pool", workers=2, chunk_size=5, progress=False, log=None)
    pd.testing.assert_frame_equal(values(tmp_path / "serial"), values(tmp_path / "pool"))


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    # each value is valid alone; a handover after the horizon is not: those runs fail inside the workers
    path = experiment(tmp_path, design="grid", samples=None, replicates=3,
                      overrides={"burn_in_weeks": 4, "organisation.n_teams": 3},
                      parameters={"horizon_weeks": {"values": [20, 30]}, "handover_week": {"values": [10, 25]}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--chunk-size", "3", "--no-progress"]) == 0
    res = SweepStore(out).results()
    bad = res["handover_week"] > res["horizon_weeks"]
    assert bad.sum() == 3 and (~bad).any()
    assert (res.loc[bad, "status"] == "failed").all() and (res.loc[~bad, "status"] == "ok").all()
    assert res.loc[bad, "error"].str.contains("handover_week=25 is beyond horizon_weeks=20").all()
    assert res.loc[bad, METRICS].isna().all().all() and res.loc[~bad, METRICS].notna().all().all()
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) == bad.sum() and "handover_week" in failures
    text = capsys.readouterr().out
    assert f"{bad.sum()} of 12 runs failed" in text and "ScenarioError" in text

    # failed runs count as done on --resume, and are computed again with --retry-failed
    rep = sweep(path, out, workers=1, resume=True, progress=False, log=None)
    assert rep.computed == 0 and len(rep.failed) == bad.sum()
    rep = sweep(path, out, workers=1, resume=True, retry_failed=True, progress=False, log=None)
    assert rep.computed == bad.sum() and len(rep.failed) == bad.sum()
    assert len(SweepStore(out).results()) == 12


def test_parameters_valid_alone_but_not_together_fail_that_run_only(tmp_path):
    # each value is valid on its own (checked up front); handover after the horizon is not
    path = experiment(tmp_path, design="grid", samples=None, replicates=1, overrides={"burn_in_weeks": 4},
                      parameters={"horizon_weeks": {"values": [20, 30]}, "handover_week": {"values": [10, 25]}})
    rep = sweep(path, tmp_path / "out", workers=1, progress=False, log=None)
    assert rep.complete and len(rep.failed) == 1
    bad = rep.failed.iloc[0]
    assert (bad["horizon_weeks"], bad["handover_week"]) == (20, 25)
    assert bad["error"].startswith("ScenarioError:") and "handover_week=25 is beyond horizon_weeks=20" in bad["error"]


def test_resume_recomputes_only_missing_runs(tmp_path):
    path = experiment(tmp_path)
    full = tmp_path / "full"
    sweep(path, full, workers=1, progress=False, log=None)
    part = tmp_path / "part"
    sweep(path, part, workers=1, chunk_size=2, flush_seconds=0, progress=False, log=None)
    parts = sorted((part / "runs").glob("part-*.parquet"))
    assert len(parts) == 6
    for p in parts[1::2]:  # lose half the chunks, and leave a half-written file behind
        p.unlink()
    (part / "runs" / ".part-s000-000099.parquet.tmp").write_bytes(b"PAR1 half a file")
    (part / "results.parquet").unlink()
    with pytest.raises(SweepDirError, match="--resume"):
        sweep(path, part, workers=1, progress=False, log=None)
    rep = sweep(path, part, workers=1, resume=True, progress=False, log=None)
    assert rep.done_before == 6 and rep.computed == 6 and rep.complete
    ids = pd.concat([pq.read_table(p).to_pandas() for p in (part / "runs").glob("part-*.parquet")])["run"]
    assert sorted(ids) == list(range(12))  # every run once
    pd.testing.assert_frame_equal(values(full), values(part))
    pd.testing.assert_frame_equal(pd.read_parquet(full / "results.parquet").drop(columns="error"),
                                  pd.read_parquet(part / "results.parquet").drop(columns="error"))


def test_directory_rules(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out, workers=1, progress=False, log=None)
    other = experiment(tmp_path, "other", seed=99)
    with pytest.raises(SweepDirError, match="different experiment"):
        sweep(other, out, workers=1, resume=True, progress=False, log=None)
    assert main(["sweep", str(other), "--out", str(out), "--no-progress"]) == 2
    assert "different experiment" in capsys.readouterr().err
    # --resume of a finished sweep does nothing; --overwrite starts again
    assert sweep(path, out, workers=1, resume=True, progress=False, log=None).computed == 0
    rep = sweep(other, out, workers=1, overwrite=True, progress=False, log=None)
    assert rep.computed == 12 and SweepStore(out).manifest()["experiment"]["seed"] == 99
    # a non-empty directory that is not a sweep is left alone
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(SweepDirError, match="not a sweep directory"):
        sweep(path, junk, workers=1, progress=False, log=None)
    # --resume into an empty directory simply starts
    assert sweep(path, tmp_path / "fresh", workers=1, resume=True, progress=False, log=None).computed == 12


def test_cli_argument_conflicts(tmp_path, capsys):
    path = str(experiment(tmp_path))
    out = str(tmp_path / "o")
    assert main(["sweep", path, "--out", out, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert main(["sweep", path, "--out", out, "--resume", "--overwrite"]) == 2
    assert main(["sweep", path, "--out", out, "--retry-failed"]) == 2
    err = capsys.readouterr().err
    assert "--workers" in err and "contradict" in err and "--retry-failed needs --resume" in err


def test_simulate_summary_drops_into_salib():
    from SALib import ProblemSpec

    names = ["turnover.labour_market_pressure", "morale.change_effect"]
    sp = ProblemSpec({"names": names, "bounds": [[0.7, 1.4], [0.001, 0.004]], "outputs": ["peak_turnover_12m"]})

    def wrapped(X: np.ndarray) -> np.ndarray:
        return np.array([simulate_summary({**TINY, **dict(zip(names, row, strict=True))}, seed=i)
                         ["peak_turnover_12m"] for i, row in enumerate(X)])

    sp.sample_latin(4, seed=1).evaluate(wrapped)
    assert sp.results.shape == (4,) and np.isfinite(sp.results).all()
    # EMA Workbench calls a function model with keyword arguments named like the uncertainties
    out = simulate_summary(**{**TINY, "turnover.labour_market_pressure": np.float64(1.1)}, seed=np.int64(3))
    assert set(out) == set(summary_keys()) and all(isinstance(v, float) for v in out.values())
    assert out == simulate_summary({**TINY, "turnover.labour_market_pressure": 1.1}, 3)


# -- the real thing: kill -9 and resume ------------------------------------------------------------
@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path):
    path = experiment(tmp_path, samples=40, replicates=3)  # 120 tiny runs
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "culturedrift.experiments.cli", "sweep", str(path), "--out", str(out),
           "--workers", "2",
           "--chunk-size", "2", "--flush-seconds", "0", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("runs/part-*.parquet")):
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no chunk written within 60 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # the pool's processes, left without their parent
            os.killpg(proc.pid, signal.SIGKILL)
    before = SweepStore(out).runs()
    assert 0 < len(before) < 120
    assert not (out / "results.parquet").exists()
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "2", "--no-progress"]) == 0
    ids = pd.concat([pq.read_table(p).to_pandas() for p in (out / "runs").glob("part-*.parquet")])["run"]
    assert sorted(ids) == list(range(120))  # every run exactly once
    ref = tmp_path / "ref"
    sweep(path, ref, workers=1, progress=False, log=None)
    pd.testing.assert_frame_equal(values(ref), values(out))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "experiments").glob("sweep_*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_sweep_range_brackets_its_base_scenarios_own_value(path: Path) -> None:
    """A sensitivity result is read around the model's calibrated defaults: a range that leaves the base's own
    value out (decay once ran 0.004-0.025 around a default of 0.003) answers a question about another model."""
    from culturedrift.experiments.workflows.sweep.experiment import _get, load_experiment

    prep = load_experiment(path)
    dumped = prep.base.model_dump(mode="python")
    for name, spec in prep.experiment.parameters.items():
        own, ends = _get(dumped, name), [float(v) for v in spec.ends()]
        assert min(ends) <= own <= max(ends), f"{path.name}: {name} ranges {min(ends)}-{max(ends)}, base has {own}"
