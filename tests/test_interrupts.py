"""Ctrl-C, kill and races on the real command line (subprocesses, each bounded by a timeout).

- Ctrl-C (SIGINT) or kill (SIGTERM) of calibrate, validate, compare and sweep: exit code 130, "interrupted"
  printed once, no process left behind;
- SIGKILL of a command using a process pool: its workers, fork server and resource tracker exit by themselves;
- two `run`s into one --out, many times: never a mixed or lost result (the second is refused while the
  first writes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "culturedrift.experiments.cli"]
TINY = {"horizon_weeks": 30, "burn_in_weeks": 4,
        "organisation": {"n_teams": 3, "team_size": 5, "partner_agencies": {"police": 3, "health": 3, "education": 3}}}


def group_alive(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    alive = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            alive.append(int(d.name))
    return alive


def wait_gone(pgid: int, seconds: float = 15.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def like_a_terminal() -> None:
    """In the child before exec: Ctrl-C and kill at their defaults, as a shell at a terminal starts a command.
    A test runner started as a background job of a non-interactive shell ignores SIGINT, and an ignored signal is
    inherited across exec: the command would then never see the Ctrl-C this file sends it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def signals_ignored_or_blocked(pid: int) -> set[int]:
    """SIGINT/SIGTERM ignored or blocked in a process (from /proc: masks of signal numbers, bit n-1)."""
    masks = {k: int(v, 16) for k, v in (line.split(":\t") for line in Path(f"/proc/{pid}/status").read_text()
                                          .splitlines() if line.startswith(("SigIgn:", "SigBlk:")))}
    return {s for s in (signal.SIGINT, signal.SIGTERM) if (masks["SigIgn"] | masks["SigBlk"]) >> (s - 1) & 1}


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], cwd=cwd, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=like_a_terminal)


def wait_for_workers(proc: subprocess.Popen, n: int, seconds: float = 60.0) -> None:
    """Until the command's process group holds `n` processes (its pool is up and running)."""
    deadline = time.monotonic() + seconds
    while len(group_alive(proc.pid)) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the pool did not start"
        time.sleep(0.1)
    time.sleep(1.0)


def finish(proc: subprocess.Popen, sig: int) -> tuple[int, str]:
    try:
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        for pid in group_alive(proc.pid):  # never leave anything behind, even when the test fails
            os.kill(pid, signal.SIGKILL)


def tiny_experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny", "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "overrides": {"horizon_weeks": 30, "burn_in_weeks": 4, "organisation.n_teams": 3},
        "design": "lhs", "samples": 400, "replicates": 2, "seed": 5,
        "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4}}}))
    return path


COMMANDS = {
    "calibrate": lambda tmp: ["calibrate", "--workers", "2", "--out", str(tmp / "out")],
    "validate": lambda tmp: ["validate", "--workers", "2", "--out", str(tmp / "out")],
    "compare": lambda tmp: ["compare", "scenarios/baseline.yaml", "scenarios/phased.yaml", "--seeds", "400",
                            "--workers", "2", "--out", str(tmp / "out")],
    "sweep": lambda tmp: ["sweep", str(tiny_experiment(tmp)), "--workers", "2", "--out", str(tmp / "out")],
}


@pytest.mark.parametrize("command, sig", [("calibrate", signal.SIGINT), ("validate", signal.SIGINT),
                                          ("compare", signal.SIGTERM), ("sweep", signal.SIGINT)])
def test_ctrl_c_or_kill_exits_130_and_leaves_no_process(command, sig, tmp_path):
    proc = start(COMMANDS[command](tmp_path), ROOT)
    wait_for_workers(proc, 3)
    assert signals_ignored_or_blocked(proc.pid) == set(), "the command did not start as from a terminal"
    code, err = finish(proc, sig)
    assert code == 130, err
    assert err.count("interrupted") == 1, err
    assert "Traceback" not in err, err
    assert wait_gone(proc.pid) == []
    if command != "sweep":  # a sweep keeps its finished runs for --resume; the others leave no half result
        out = tmp_path / "out"
        assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]


def test_sigkill_leaves_no_worker_fork_server_or_tracker(tmp_path):
    proc = start(COMMANDS["sweep"](tmp_path), ROOT)
    wait_for_workers(proc, 3)
    members = group_alive(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    try:
        left = wait_gone(proc.pid, 15)
        assert left == [], f"left behind: {left} (group had {members})"
    finally:
        for pid in group_alive(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_two_runs_into_one_out_never_mix(tmp_path):
    for name, turnover in (("a", 0.001), ("b", 0.02)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"name": name, **TINY,
                                                               "turnover": {"base_exit_hazard": turnover}}))
    rounds = 6
    procs = []
    for r in range(rounds):  # every round races two writers into its own folder; rounds run side by side
        for name in ("a", "b"):
            procs.append((r, name, start(["run", str(tmp_path / f"{name}.yaml"), "--seeds", "3", "--no-progress",
                                          "--out", str(tmp_path / f"race{r}")], tmp_path)))
    results: dict[int, dict[str, tuple[int, str]]] = {}
    try:
        for r, name, p in procs:
            _, err = p.communicate(timeout=240)
            results.setdefault(r, {})[name] = (p.returncode, err)
    finally:
        for _, _, p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=10)
    for r, res in results.items():
        codes = {n: c for n, (c, _) in res.items()}
        assert set(codes.values()) <= {0, 2}, res
        assert 0 in codes.values(), res
        for c, err in res.values():
            if c == 2:
                assert "another run is writing" in err, err
        out = tmp_path / f"race{r}"
        ts = pd.read_parquet(out / "timeseries.parquet")
        summary = pd.read_csv(out / "summary.csv")
        csv = pd.read_csv(out / "timeseries.csv")
        events = pd.read_parquet(out / "events.parquet")
        owners = {*ts["scenario"], *summary["scenario"], *csv["scenario"], *events.get("scenario", ts["scenario"])}
        assert len(owners) == 1, f"round {r}: files from {owners}"  # one writer's complete result, never mixed
        assert len(summary) == 3 and len(csv) == len(ts)
        assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
