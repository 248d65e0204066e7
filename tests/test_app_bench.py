"""The app's browser benchmark leaves nothing behind: no folder in the temporary folder and no process, whether
it ends, fails, is interrupted (SIGTERM) or is killed outright (SIGKILL)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench_app_fps.py"


def _bench():
    """The benchmark script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_app_fps", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _mentioning(text: str) -> list[int]:
    """Pids of running processes whose command line mentions `text`."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            try:
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    out.append(int(proc.name))
            except OSError:
                pass
    return out


def test_scratch_folder_goes_on_error_and_tmpdir_is_restored(tmp_path, monkeypatch):
    bench = _bench()
    monkeypatch.setenv("TMPDIR", "/somewhere/else")
    with pytest.raises(RuntimeError), bench.scratch(tmp_path) as folder:
        (folder / "bench.yaml").write_text("name: x\n")
        assert os.environ["TMPDIR"] == str(folder)  # what the processes it starts write goes there too
        raise RuntimeError("a case failed")
    assert not list(tmp_path.iterdir()) and os.environ["TMPDIR"] == "/somewhere/else"
    assert signal.getsignal(signal.SIGTERM) is not bench._interrupt


def test_a_benchmark_started_by_a_benchmark_works_in_its_folder(tmp_path):
    """A baseline's benchmark (TMPDIR = the caller's folder) does not nest a second folder: Chromium's socket
    path two folders deep is longer than a socket path may be, and Chromium would not start."""
    bench = _bench()
    with bench.scratch(tmp_path) as outer:  # sets TMPDIR, as for the processes it starts
        with bench.scratch() as inner:
            assert inner == outer
        assert outer.exists()  # the caller removes it
        sock = outer / "org.chromium.Chromium.dCwYxS" / "SingletonSocket"
        assert len(str(sock).replace(str(tmp_path), "/tmp")) < 108
    assert not outer.exists()


def test_a_failing_benchmark_leaves_no_folder(tmp_path):
    """An unknown version to compare with fails before any case runs; its export folder goes with it."""
    run = subprocess.run([sys.executable, str(BENCH), "--ref", "no-such-ref", "--cases", "2"], cwd=ROOT,
                         env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "no-such-ref" in run.stderr
    assert not list(tmp_path.iterdir())


def test_a_child_stops_when_the_benchmark_is_killed_outright(tmp_path):
    """SIGKILL runs no cleanup: the kernel stops the children, and the next benchmark removes the folder."""
    bench = _bench()
    script = (f"import importlib.util, signal, subprocess, sys, time\n"
              f"spec = importlib.util.spec_from_file_location('b', {str(BENCH)!r})\n"
              "b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)\n"
              "from pathlib import Path\n"
              f"with b.scratch(Path({str(tmp_path)!r})) as f:\n"
              "    p = subprocess.Popen(['sleep', '300'], start_new_session=True,\n"
              "                         preexec_fn=b.dies_with_parent(signal.SIGTERM))\n"
              "    print(p.pid, flush=True)\n"
              "    time.sleep(300)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the benchmark's child outlived it")
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(f"{bench.SCRATCH_PREFIX}{parent.pid}_")
    alive = Path(f"{tmp_path}/{bench.SCRATCH_PREFIX}{os.getpid()}_mine")
    alive.mkdir()
    assert bench.sweep_stale(tmp_path) == [left] and alive.exists()  # a running benchmark's folder stays


@pytest.fixture
def short_tmp():
    """A scratch folder with a short path: Chromium aborts when its singleton socket's path (under TMPDIR) passes
    the 107 bytes a Unix socket address holds, which pytest's nested tmp_path can exceed (pytest-382/popen-gw1/...)."""
    path = Path(tempfile.mkdtemp(prefix="cdb", dir="/tmp" if Path("/tmp").is_dir() else None))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_an_interrupted_benchmark_stops_its_server_and_browser_and_removes_its_folder(short_tmp):
    """SIGTERM while the page is being measured: the app server and Chromium stop and the folder goes."""
    from tests.test_app import _need_browser

    _need_browser()
    tmp_path = short_tmp
    proc = subprocess.Popen([sys.executable, str(BENCH), "--cases", "2", "--seconds", "60", "--steps", "2"],
                            cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            folders = list(tmp_path.glob("culturedrift_bench_app_*"))
            users = _mentioning(str(folders[0])) if folders else []
            if any("chromium" in Path(f"/proc/{p}/cmdline").read_text(errors="replace") for p in users
                   if Path(f"/proc/{p}").exists()):
                break  # the server and the browser are running, both with the folder on their command line
            time.sleep(0.2)
        else:
            pytest.fail(f"the benchmark never reached the browser: {proc.communicate(timeout=60)[0][-2000:]}")
        (scratch,) = folders
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        for _ in range(100):
            if not _mentioning(str(scratch)):
                break
            time.sleep(0.2)
        assert not _mentioning(str(scratch)), "a process of the benchmark outlived it"
        assert not list(tmp_path.iterdir())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
