"""Hostile input: every bad file, option or output folder is a one-line exit-2 message naming the file, the field
or the limit, with no traceback, nothing written into --out and nothing written outside it.

In process (fast): each case calls the command line's `main` on tiny settings.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.model import scenario as scenario_mod

ROOT = Path(__file__).resolve().parents[1]
TINY = {"name": "tiny", "horizon_weeks": 20, "burn_in_weeks": 4,
        "organisation": {"n_teams": 3, "team_size": 5, "partner_agencies": {"police": 3, "health": 3, "education": 3}}}


def write(path: Path, data: dict | str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def refused(argv: list[str], capsys, *needles: str, out: Path | None = None) -> str:
    """The command exits 2 with one short message holding every needle; --out is left as it was (absent)."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err) < 4000, err
    for n in needles:
        assert n in err, (n, err)
    if out is not None:
        assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())
    return err


SCENARIO_CASES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a text file"),
    "latin1": ("name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    "duplicate key": ("name: dup\nturnover:\n  base_exit_hazard: 0.002\n  base_exit_hazard: 0.5\n",
                      "duplicate key 'base_exit_hazard'"),
    "deep nesting": ("name: deep\nx: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested"),
    "not a mapping": ("- a\n- b\n", "must be a mapping"),
    "infinite float": ({**TINY, "turnover": {"induction_weeks": float("inf")}}, "turnover.induction_weeks"),
    "huge partner count": ({**TINY, "organisation": {**TINY["organisation"], "partner_agencies": {"police": 1e12}}},
                           "organisation.partner_agencies"),
    "boolean for a number": ({**TINY, "horizon_weeks": True}, "horizon_weeks: expected a number"),
    "text for a number": ({**TINY, "horizon_weeks": "52"}, "horizon_weeks: expected a number"),
    "too big": ("name: big\n" + "# padding\n" * 120_000, "larger than the limit"),
}


@pytest.mark.parametrize("case", list(SCENARIO_CASES))
def test_bad_scenario_files_are_one_line_errors(case, tmp_path, capsys):
    data, needle = SCENARIO_CASES[case]
    path = write(tmp_path / "s.yaml", data)
    out = tmp_path / "out"
    err = refused(["run", str(path), "--out", str(out), "--no-progress"], capsys, needle, out=out)
    assert str(path) in err


def test_many_unknown_keys_print_a_capped_list(tmp_path, capsys):
    path = write(tmp_path / "s.yaml", {**TINY, **{f"unknown_{i}": i for i in range(500)}})
    err = refused(["run", str(path), "--out", str(tmp_path / "o"), "--no-progress"], capsys, "more problems")
    assert err.count("\n") <= scenario_mod.MAX_ERRORS_SHOWN + 3


def test_long_or_bad_extends_chains(tmp_path, capsys):
    write(tmp_path / "s0.yaml", TINY)
    for i in range(1, 40):
        write(tmp_path / f"s{i}.yaml", {"extends": f"s{i - 1}.yaml", "name": f"s{i}"})
    refused(["run", str(tmp_path / "s39.yaml"), "--out", str(tmp_path / "o")], capsys, "extends", "chain")
    write(tmp_path / "odd.yaml", {"extends": "/etc/passwd", "name": "odd"})
    refused(["run", str(tmp_path / "odd.yaml"), "--out", str(tmp_path / "o")], capsys, "extends", ".yaml")


def test_unreadable_file_is_named(tmp_path, capsys, monkeypatch):
    path = write(tmp_path / "s.yaml", TINY)

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)  # the suite may run as root, which reads anything
    refused(["run", str(path), "--out", str(tmp_path / "o")], capsys, str(path), "permission denied")


@pytest.mark.parametrize("argv, needle", [
    (["--weeks", "1000000000"], "--weeks"),
    (["--seeds", "1e9"], "--seeds"),
    (["--seeds", "0"], "--seeds"),
    (["--workers", "100000"], "--workers"),
])
def test_command_line_bounds(argv, needle, tmp_path, capsys):
    path = write(tmp_path / "s.yaml", TINY)
    with pytest.raises(SystemExit) as e:
        main(["run", str(path), "--out", str(tmp_path / "o"), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_or_unwritable_is_refused_before_any_run(tmp_path, capsys, monkeypatch):
    path = write(tmp_path / "s.yaml", TINY)
    afile = write(tmp_path / "afile", "x")
    refused(["run", str(path), "--out", str(afile)], capsys, "is not a directory")
    refused(["run", str(path), "--out", str(afile / "sub")], capsys, "is a file")
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if Path(p) == ro else real(p, mode, **k))
    refused(["run", str(path), "--out", str(ro / "x")], capsys, "not writable")


def test_planted_symlinks_are_never_written_through(tmp_path, capsys):
    path = write(tmp_path / "s.yaml", TINY)
    victim = write(tmp_path / "victim.txt", "keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").symlink_to(victim)
    refused(["run", str(path), "--out", str(out), "--no-progress"], capsys, "symbolic link")
    assert victim.read_text() == "keep me"
    link = tmp_path / "linked"
    link.symlink_to(out)
    refused(["run", str(path), "--out", str(link), "--no-progress"], capsys, "symbolic link")


def test_atomic_write_refuses_links_and_leaves_no_temp_file(tmp_path):
    from culturedrift.experiments.execution.errors import InputError
    from culturedrift.experiments.execution.files import atomic_write, write_text

    victim = write(tmp_path / "victim", "keep")
    (tmp_path / "a.txt").symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        write_text(tmp_path / "a.txt", "new")
    assert victim.read_text() == "keep"

    def boom(p: Path) -> None:
        p.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(tmp_path / "b.txt", boom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "victim"]


EXPERIMENT = {"name": "x", "base": str(ROOT / "scenarios" / "baseline.yaml"), "design": "lhs", "samples": 2,
              "seed": 1, "overrides": {"horizon_weeks": 10, "burn_in_weeks": 2, "organisation.n_teams": 3},
              "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4}}}


@pytest.mark.parametrize("case", ["flush nan", "flush huge", "bad scheduler", "duplicate key", "binary", "runs link"])
def test_hostile_sweeps(case, tmp_path, capsys):
    path = write(tmp_path / "e.yaml", EXPERIMENT)
    out = tmp_path / "out"
    extra: list[str] = []
    needle = {"flush nan": "--flush-seconds", "flush huge": "--flush-seconds", "bad scheduler": "foo://bar",
              "duplicate key": "duplicate key", "binary": "not a text file", "runs link": "symbolic link"}[case]
    if case == "flush nan":
        extra = ["--flush-seconds", "nan"]
    elif case == "flush huge":
        extra = ["--flush-seconds", "1e9"]
    elif case == "bad scheduler":
        extra = ["--scheduler", "foo://bar"]
    elif case == "duplicate key":
        write(path, path.read_text() + "samples: 3\n")
    elif case == "binary":
        write(path, b"\x00\x01\x02\xff")
    elif case == "runs link":
        out.mkdir()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (out / "runs").symlink_to(elsewhere)
    argv = ["sweep", str(path), "--out", str(out), "--no-progress", *extra]
    if case.startswith("flush"):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and needle in capsys.readouterr().err
        assert not out.exists()
        return
    refused(argv, capsys, needle)
    if case == "runs link":
        assert not any((tmp_path / "elsewhere").iterdir())
        assert sorted(p.name for p in out.iterdir()) == ["runs"]
    else:
        assert not out.exists()


def test_resume_refuses_a_sweep_started_with_other_package_versions(tmp_path, capsys):
    import json

    path = write(tmp_path / "e.yaml", EXPERIMENT)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    (out / "results.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(manifest))
    refused(["sweep", str(path), "--out", str(out), "--resume", "--no-progress"], capsys, "numpy 0.0.1")


def test_a_truncated_part_file_is_named_with_the_fix(tmp_path, capsys):
    path = write(tmp_path / "e.yaml", EXPERIMENT)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:40])
    (out / "results.parquet").unlink()
    refused(["sweep", str(path), "--out", str(out), "--resume", "--no-progress"], capsys, part.name, "--resume")
    refused(["sensitivity", str(out)], capsys, part.name)


@pytest.mark.parametrize("design", ["grid", "lhs", "sobol"])
def test_huge_designs_are_refused_before_anything_is_allocated(design, tmp_path, capsys):
    params = {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4},
              "morale.change_effect": {"low": 0.001, "high": 0.004},
              "slippage.decay_rate": {"low": 0.004, "high": 0.02}}
    data = {**EXPERIMENT, "design": design, "parameters": params}
    if design == "grid":
        data.pop("samples")
        for p in params.values():
            p["steps"] = 1000
    elif design == "lhs":
        data.update(samples=10_000_000, replicates=100_000)
    else:
        data.update(samples=8_388_608)
    path = write(tmp_path / "e.yaml", data)
    out = tmp_path / "out"
    t0 = time.perf_counter()
    refused(["sweep", str(path), "--out", str(out), "--no-progress"], capsys, "past the limit", out=out)
    assert time.perf_counter() - t0 < 10


def test_disk_full_is_a_message_and_leaves_no_half_file(tmp_path, capsys, monkeypatch):
    import pandas as pd

    path = write(tmp_path / "s.yaml", TINY)
    out = tmp_path / "out"

    def full(self, *a, **k):
        raise OSError(28, "No space left on device", str(out / "timeseries.csv"))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    refused(["run", str(path), "--out", str(out), "--no-progress"], capsys, "No space left on device")
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
