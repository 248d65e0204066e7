"""Weeks per second of the trainer's app in a real browser: one run and twin runs, for the default 300-person
organisation (20 teams) and a 2,000-person one (180 teams). Targets: twins at 300 people >= 5 weeks/s,
2,000 people >= 2 weeks/s.

For each case starts `culturedrift app --scenario` (a copy of the default scenario with the organisation size,
and the budget grown with it as the app grows it) on a free 127.0.0.1 port and opens it in headless Chromium
(Playwright); twin mode is switched on in the page. A small script in the page samples the readout line ("Week
N of 260 ...") and the two images every 10 ms and keeps the time of every change, so the numbers are what the
page shows, not what the server computed:

- Step: clicks on Step, each waiting until the page shows the new week; the time from the click to the
  new week on the page gives frames per second (Playwright's own overhead is left out);
- Play: presses play, records for `--seconds`, presses pause. With render interval 1 every played week is
  one page update, so weeks the readout advanced per second = frames per second; the distinct images
  shown per second are reported too.

Also times the server-side work alone (step + both views rendered to image bytes), and prints the load
average before and after (the machine may be busy with other jobs).

`--baseline REF` measures an earlier version (a git ref, e.g. `main`) in the same invocation: for each case
it runs that version's own copy of this benchmark (exported from git into a temporary folder and imported
from there) right before this version's, so both see the same load. `--ref REF` measures a git ref the same
way instead of the working tree (edits made while it runs then cannot change what is measured).

Everything it writes (scenario files, exported versions, the temporary files of every process it starts: the
app servers, Chromium, a baseline's own benchmark) lives in one folder, `culturedrift_bench_app_<pid>_*` under the
system's temporary folder, removed however the benchmark ends: done, failed, Ctrl-C, `kill` (SIGTERM) or a closed
terminal (SIGHUP). Every process it starts is told to stop if the benchmark dies, and a folder left by a
benchmark killed outright (SIGKILL) is removed by the next one.

    .venv/bin/python benchmarks/bench_app_fps.py [--seconds 10] [--steps 10] [--cases 20,20t,180,180t]
                                                 [--baseline REF] [--ref REF]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from culturedrift.experiments.app import DEFAULT_PRESET, app_model_for
from culturedrift.experiments.app_controls import load_preset, preset_controls, preset_paths, scaled_budget
from culturedrift.experiments.app_panels import frames as _frames
from culturedrift.experiments.execution.executor import process_alive
from culturedrift.experiments.workshop import Twin

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_PREFIX = "culturedrift_bench_app_"
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# samples the readout and both images; window.cdLog = [[ms, week, network src changed, series src changed], ...]
SAMPLER = """() => {
  window.cdLog = [];
  let last = {week: null, net: null, ser: null};
  window.cdTimer = setInterval(() => {
    const r = document.querySelector('.cd-readout'), n = document.querySelector('.cd-network'),
          s = document.querySelector('.cd-series');
    if (!r || !n || !s) return;
    const m = r.innerText.match(/Week (\\d+)/), week = m ? Number(m[1]) : null;
    const net = n.getAttribute('src'), ser = s.getAttribute('src');
    if (week !== last.week || net !== last.net || ser !== last.ser) {
      window.cdLog.push([performance.now(), week, net !== last.net, ser !== last.ser]);
      last = {week, net, ser};
    }
  }, 10);
}"""


CLICK_STEP = """() => {
  const b = [...document.querySelectorAll('button')].find(b => b.innerText.trim().toLowerCase() === 'step');
  const t = performance.now();
  b.click();
  return t;
}"""


class Interrupted(KeyboardInterrupt):
    """A termination signal, raised as an interrupt so every `finally` on the way out runs."""


def _interrupt(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders of benchmarks that no longer run (killed outright); returns them."""
    gone = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        m = re.match(rf"{SCRATCH_PREFIX}(\d+)_", folder.name)
        if m and not process_alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


@contextmanager
def scratch(root: Path | None = None) -> Iterator[Path]:
    """One folder for everything this benchmark writes, also the TMPDIR of every process it starts; removed
    on the way out, whatever the way: SIGTERM and SIGHUP are raised as interrupts meanwhile."""
    tmpdir = os.environ.get("TMPDIR")
    # started by a benchmark (a baseline's run): work in its folder, which it removes, rather than nesting one
    # (Chromium's socket path in a folder two levels deep passes the 107 characters a socket path may have)
    inside = root is None and tmpdir is not None and Path(tmpdir).name.startswith(SCRATCH_PREFIX)
    if inside:
        folder = Path(tmpdir)
    else:
        sweep_stale(root)
        folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}_", dir=root))
    handlers = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    os.environ["TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        if tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = tmpdir
        if not inside:
            shutil.rmtree(folder, ignore_errors=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def dies_with_parent(sig: signal.Signals) -> Callable[[], None]:
    """A `preexec_fn` asking the kernel to send `sig` to the child when this process dies (even by SIGKILL)."""
    def preexec() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig))
    return preexec


def stop(proc: subprocess.Popen, sig: signal.Signals, timeout: float) -> None:
    """Ask a child (and its process group) to stop with `sig`; kill the group if it has not within `timeout` s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_side(teams: int, twin: bool, weeks: int = 30) -> float:
    """Weeks per second of step + render of every view, no browser."""
    m = app_model_for(DEFAULT_PRESET, Twin() if twin else None)(n_teams=teams)
    f = _frames(m)
    views = ["series", *(f"network{i}" for i in range(len(m.runs)))]
    for v in views:
        f.frame(v, m.week)
    t0 = time.perf_counter()
    for _ in range(weeks):
        m.step()
        for v in views:
            f.frame(v, m.week)
    return weeks / (time.perf_counter() - t0)


def week_of(page) -> int:
    return int(re.match(r"Week (\d+)", page.inner_text(".cd-readout")).group(1))


def play_rates(log: list, t_start: float, t_stop: float) -> dict[str, float]:
    """Rates from the sampler's log between pressing play and pressing pause (page clock, ms)."""
    rows = [r for r in log if t_start <= r[0] <= t_stop]
    weeks = [r[1] for r in rows if r[1] is not None]
    seconds = (t_stop - t_start) / 1000
    first = next((r[0] for r in rows if r[1] is not None and r[1] > weeks[0]), None) if weeks else None
    return {"seconds": seconds, "weeks": (weeks[-1] - weeks[0]) if weeks else 0,
            "weeks_per_s": ((weeks[-1] - weeks[0]) / seconds) if weeks else 0.0,
            "network_frames_per_s": sum(r[2] for r in rows) / seconds,
            "series_frames_per_s": sum(r[3] for r in rows) / seconds,
            "first_frame_s": ((first - t_start) / 1000) if first is not None else float("nan")}


def in_browser(seconds: float, steps: int, teams: int, twin: bool, work: Path) -> dict[str, object]:
    """Step and Play rates in headless Chromium against an app server on a scenario of `teams` (files in `work`)."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="scenario_", dir=work))
    base = load_preset(DEFAULT_PRESET)  # the same authority at this size: its budget grows with it, as the app's does
    budget = scaled_budget(base, replace(preset_controls(base), n_teams=teams))
    (folder / "bench.yaml").write_text(f"extends: {preset_paths()[DEFAULT_PRESET]}\nname: bench_{teams}_teams\n"
                                       f"organisation:\n  n_teams: {teams}\nbudget:\n  quarterly_budget: {budget}\n")
    proc = subprocess.Popen([sys.executable, "-m", "culturedrift.experiments.cli", "app", "--port", str(port),
                             "--scenario", str(folder)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=dies_with_parent(signal.SIGTERM))
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                page.set_default_timeout(60_000)
                page.goto(url)
                page.wait_for_selector(".cd-readout")
                if twin:
                    page.click(".cd-twin")
                    page.wait_for_selector(".cd-twin-readout")
                controls = page.inner_text(".cd-controls")
                page.evaluate(SAMPLER)
                step_ms = []
                for k in range(1, steps + 1):  # click (in the page), then wait until the page shows week k
                    t_click = page.evaluate(CLICK_STEP)
                    page.wait_for_function(f"window.cdLog.some(r => r[1] === {k})")
                    shown = page.evaluate(f"window.cdLog.find(r => r[1] === {k})[0]")
                    step_ms.append(shown - t_click)
                step_fps = 1000 * len(step_ms) / sum(step_ms)

                t_start = page.evaluate("performance.now()")
                page.click("button:has-text('▶')")
                time.sleep(seconds)
                t_stop = page.evaluate("performance.now()")
                page.click("button:has-text('❚❚')")
                page.wait_for_selector("button:has-text('▶')")
                log = page.evaluate("window.cdLog")
            finally:
                browser.close()
        return {"controls": controls, "step_fps": step_fps, **play_rates(log, t_start, t_stop)}
    finally:
        stop(proc, signal.SIGTERM, 15)
        shutil.rmtree(folder, ignore_errors=True)


def baseline_tree(ref: str, work: Path) -> Path:
    """The version `ref` exported from git into a temporary folder whose `culturedrift` package holds its own
    `model` and `experiments` (links), so that version is what imports there: first on PYTHONPATH, and as the
    working folder of every process started from it (the app server's too), it wins over this checkout."""
    folder = Path(tempfile.mkdtemp(prefix=f"version_{re.sub(r'[^A-Za-z0-9]', '_', ref)}_", dir=work))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    for name in ("model", "experiments"):
        (folder / "culturedrift" / name).symlink_to(folder / name)
    return folder


TABLE_ROW = re.compile(r"^(\d+ teams, (?:one run|twin runs))\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", re.M)


def run_exported(folder: Path, case: str, seconds: float, steps: int) -> tuple[float, float, float]:
    """(server, Step, Play) weeks/s of an exported version for one case, from its own benchmark's table."""
    env = {**os.environ, "PYTHONPATH": str(folder)}  # TMPDIR too: what an older version leaves behind is ours
    # its own session, so one Ctrl-C reaches it once (forwarded below) and it stops its server before it exits
    proc = subprocess.Popen([sys.executable, str(folder / "benchmarks" / "bench_app_fps.py"), "--cases", case,
                             "--seconds", str(seconds), "--steps", str(steps)], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=dies_with_parent(signal.SIGINT))
    try:
        out, _ = proc.communicate()
    finally:
        stop(proc, signal.SIGINT, 60)
    if proc.returncode:
        raise RuntimeError(f"the benchmark of {folder.name} failed ({proc.returncode}):\n{out[-2000:]}")
    rows = TABLE_ROW.findall(out)
    if not rows:
        raise RuntimeError(f"the baseline benchmark printed no result table:\n{out[-2000:]}")
    return tuple(float(x) for x in rows[-1][1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to play (default 10)")
    ap.add_argument("--steps", type=int, default=10, help="Step clicks to time (default 10)")
    ap.add_argument("--cases", default="20,20t,180,180t",
                    help="teams per case, 't' = twin mode (default 20,20t,180,180t: 300 and 2,000 people)")
    ap.add_argument("--baseline", metavar="REF", help="also measure this git ref (e.g. main), case by case, "
                    "in the same invocation")
    ap.add_argument("--ref", metavar="REF", help="measure this git ref (exported like the baseline) instead of the "
                    "working tree, so edits made while the benchmark runs cannot change what it measures")
    args = ap.parse_args()
    with scratch() as work:
        base = baseline_tree(args.baseline, work) if args.baseline else None
        this = baseline_tree(args.ref, work) if args.ref else None
        rows = measure(args, base, this, work)
    print(f"load average (1, 5, 15 min) after: {loadavg()}")
    width = max(28, *(len(r[0]) + 2 for r in rows))
    print(f"\n{'case':<{width}}{'server weeks/s':>16}{'Step weeks/s':>14}{'Play weeks/s':>14}")
    for what, server, step, play in rows:
        print(f"{what:<{width}}{server:>16.1f}{step:>14.1f}{play:>14.1f}")


def measure(args: argparse.Namespace, base: Path | None, this: Path | None,
            work: Path) -> list[tuple[str, float, float, float]]:
    """(case, server, Step, Play weeks/s) per case, the baseline's row first when there is one; `this`: the
    version measured is an exported ref, not the working tree."""
    rows = []
    for case in args.cases.split(","):
        teams, twin = int(case.rstrip("t")), case.endswith("t")
        what = f"{teams} teams, {'twin runs' if twin else 'one run'}"
        if base is not None:
            print(f"--- {what}, baseline {args.baseline}; load average (1, 5, 15 min) before: {loadavg()}", flush=True)
            rows.append((f"{what} [{args.baseline}]", *run_exported(base, case, args.seconds, args.steps)))
            print("server {:.1f}, Step {:.1f}, Play {:.1f} weeks/s".format(*rows[-1][1:]), flush=True)
        print(f"--- {what}; load average (1, 5, 15 min) before: {loadavg()}", flush=True)
        if this is not None:
            rows.append((f"{what} [{args.ref}]", *run_exported(this, case, args.seconds, args.steps)))
            print("server {:.1f}, Step {:.1f}, Play {:.1f} weeks/s".format(*rows[-1][1:]), flush=True)
            continue
        server = server_side(teams, twin)
        print(f"server-side step + render of every view: {server:.1f} weeks/s", flush=True)
        r = in_browser(args.seconds, args.steps, teams, twin, work)
        print(r["controls"])
        print(f"in the browser, Step (click -> page shows the new week): {r['step_fps']:.1f} weeks/s")
        print(f"in the browser, Play (render interval 1): {r['weeks_per_s']:.1f} weeks/s "
              f"({r['weeks']} weeks shown in {r['seconds']:.1f} s; first new week after {r['first_frame_s']:.2f} s; "
              f"images: network {r['network_frames_per_s']:.1f}/s, series {r['series_frames_per_s']:.1f}/s)")
        rows.append((what, server, r["step_fps"], r["weeks_per_s"]))
    return rows


if __name__ == "__main__":
    main()
