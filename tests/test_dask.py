"""A real Dask cluster (a `dask scheduler` and two `dask worker` processes on 127.0.0.1) gives the
same sweep, bit for bit, as the local process pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.experiments.execution.dask_setup import SIMULATION_CONFIG, environment, local_cluster, yaml_text
from culturedrift.experiments.execution.executor import DaskCluster
from culturedrift.experiments.workflows.sweep import SweepStore, sweep

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@pytest.fixture
def cluster(tmp_path):
    """Scheduler + 2 single-threaded workers on 127.0.0.1, started with the simulation settings as
    docs/execution.md shows; yields the scheduler address; always torn down."""
    sched_file = tmp_path / "scheduler.json"
    common = {"cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
              "env": os.environ | environment()}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)], **common)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, "dask scheduler exited"
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                           "--memory-limit", "0"], **common))
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        _stop(procs)


@pytest.mark.slow
def test_dask_cluster_matches_local_pool_bit_for_bit(tmp_path, cluster, capsys):
    data = {"name": "dask", "base": str(ROOT / "scenarios" / "baseline.yaml"),
            "overrides": {"horizon_weeks": 20, "burn_in_weeks": 4, "organisation.n_teams": 3},
            "design": "sobol", "samples": 4, "replicates": 2, "seed": 11,
            "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4},
                           "slippage.decay_rate": {"dist": "loguniform", "low": 0.004, "high": 0.025}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["sweep", str(path), "--out", str(tmp_path / "dask"), "--scheduler", cluster,
                 "--chunk-size", "3", "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert "Dask cluster" in shown and "interactive defaults" not in shown  # the settings reached the workers
    sweep(path, tmp_path / "local", workers=2, progress=False, log=None)
    dask_res = SweepStore(tmp_path / "dask").results()
    local_res = SweepStore(tmp_path / "local").results()
    assert len(dask_res) == 4 * 4 * 2 and (dask_res["status"] == "ok").all()
    pd.testing.assert_frame_equal(dask_res, local_res, check_exact=True)


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    data = {"name": "x", "base": str(ROOT / "scenarios" / "baseline.yaml"), "design": "lhs", "samples": 2,
            "seed": 1, "overrides": {"horizon_weeks": 10},
            "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    from culturedrift.experiments.execution import executor

    monkeypatch.setattr(executor, "DASK_CONNECT_TIMEOUT", 2.0)  # do not wait 20 s for nobody
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9",
                 "--no-progress"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # the scheduler is checked before --out is made


@pytest.mark.slow
def test_a_scheduler_lost_mid_sweep_ends_with_a_message_and_the_resume_command(tmp_path, cluster, capsys):
    import threading

    from distributed import Client

    data = {"name": "lost", "base": str(ROOT / "scenarios" / "baseline.yaml"),
            "overrides": {"horizon_weeks": 20, "burn_in_weeks": 4, "organisation.n_teams": 3},
            "design": "lhs", "samples": 400, "replicates": 1, "seed": 3,
            "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"

    def shut_down_when_runs_are_saved() -> None:
        deadline = time.monotonic() + 120
        while not list(out.glob("runs/part-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
        with Client(cluster, timeout=30) as c:
            c.shutdown()  # the scheduler and its workers go away mid-sweep

    killer = threading.Thread(target=shut_down_when_runs_are_saved, daemon=True)
    killer.start()
    t0 = time.monotonic()
    code = main(["sweep", str(path), "--out", str(out), "--scheduler", cluster, "--chunk-size", "2",
                 "--flush-seconds", "0", "--no-progress"])
    killer.join(timeout=30)
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Dask" in err and "--resume" in err and "Traceback" not in err, err
    assert time.monotonic() - t0 < 150
    assert 0 < len(SweepStore(out).runs()) < 400  # what finished is kept for --resume


def test_an_address_that_is_not_a_dask_scheduler_is_refused_within_the_bound(tmp_path, capsys, monkeypatch):
    import socket

    from culturedrift.experiments.execution import executor

    data = {"name": "x", "base": str(ROOT / "scenarios" / "baseline.yaml"), "design": "lhs", "samples": 2,
            "seed": 1, "overrides": {"horizon_weeks": 10},
            "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setattr(executor, "DASK_CONNECT_TIMEOUT", 2.0)
    with socket.socket() as mute:  # accepts connections (backlog) and never says a word
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        address = f"tcp://127.0.0.1:{mute.getsockname()[1]}"
        t0 = time.monotonic()
        code = main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", address, "--no-progress"])
        took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Dask scheduler" in err and "Traceback" not in err, err
    assert took < 20 and not (tmp_path / "o").exists()


def test_simulation_settings_read_the_same_from_environment_and_yaml():
    import dask.config

    from_env = dask.config.collect_env(environment())
    from_yaml = yaml.safe_load(yaml_text())
    for key, value in SIMULATION_CONFIG.items():
        assert dask.config.get(key, config=from_env) == value
        assert dask.config.get(key, config=from_yaml) == value
    assert environment()["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] == "False"


def test_workers_on_dask_defaults_are_named_in_the_executor_label():
    with local_cluster(1, config={}, processes=False, protocol="tcp://") as c, DaskCluster(c.scheduler_address) as ex:
        assert ex.untuned and "1 on Dask's interactive defaults" in ex.label
    with local_cluster(1, processes=False, protocol="tcp://") as c, DaskCluster(c.scheduler_address) as ex:
        assert not ex.untuned and "defaults" not in ex.label
