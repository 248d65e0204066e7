"""Frames per second of the trainer's app in a real browser, running the 300-person model.

Starts the app on a free 127.0.0.1 port and opens it in headless Chromium (Playwright). A small
script in the page samples the readout line ("Week N of 260 ...") and the two images every 10 ms and
keeps the time of every change, so the numbers are what the page shows, not what the server computed:

- Step: clicks on Step, each waiting until the page shows the new week; the time from the click to the
  new week on the page gives frames per second (Playwright's own overhead is left out);
- Play: presses play, records for `--seconds`, presses pause. With render interval 1 every played week is
  one page update, so weeks the readout advanced per second = frames per second; the distinct images
  shown per second are reported too.

Also times the server-side work alone (step + both views rendered to image bytes), and prints the load
average before and after (the machine may be busy with other jobs).

    .venv/bin/python benchmarks/bench_app_fps.py [--seconds 10] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from culturedrift.experiments.app import AppModel
from culturedrift.experiments.app_panels import frames as _frames
from culturedrift.experiments.commands.app import server_command

ROOT = Path(__file__).resolve().parent.parent
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


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_side(weeks: int = 60) -> float:
    """Frames per second of step + render of both views, no browser."""
    m = AppModel()
    f = _frames(m)
    f.frame("network", m.week), f.frame("series", m.week)
    t0 = time.perf_counter()
    for _ in range(weeks):
        m.step()
        f.frame("network", m.week), f.frame("series", m.week)
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


def in_browser(seconds: float, steps: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(server_command("127.0.0.1", port), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
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
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to play (default 10)")
    ap.add_argument("--steps", type=int, default=10, help="Step clicks to time (default 10)")
    args = ap.parse_args()
    print(f"load average (1, 5, 15 min) before: {loadavg()}")
    print(f"server-side step + render of both views: {server_side():.1f} frames/s")
    r = in_browser(args.seconds, args.steps)
    print(r["controls"])
    print(f"in the browser, Step (click -> page shows the new week): {r['step_fps']:.1f} frames/s")
    print(f"in the browser, Play (render interval 1): {r['weeks_per_s']:.1f} frames/s "
          f"({r['weeks']} weeks shown in {r['seconds']:.1f} s; first new week after {r['first_frame_s']:.2f} s; "
          f"images: network {r['network_frames_per_s']:.1f}/s, series {r['series_frames_per_s']:.1f}/s)")
    print(f"load average (1, 5, 15 min) after: {loadavg()}")


if __name__ == "__main__":
    main()
