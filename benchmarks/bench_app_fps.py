"""Frames per second of the trainer's app in a real browser, stepping the 300-person model.

Starts the app on a free 127.0.0.1 port, opens it in headless Chromium (Playwright), presses play
and counts how many weeks the page's readout advances in a fixed time: with render interval 1 every
week is one page update, so weeks per second = frames per second. Also times the server-side
rendering alone (step + both figures to PNG) without the browser.

    .venv/bin/python benchmarks/bench_app_fps.py [--seconds 10] [--preset phased_vigilance_withdrawn]
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

from experiments.app import AppModel, _frames
from experiments.commands.app import server_command

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def server_side(preset: str, weeks: int = 60) -> float:
    """Frames per second of step + render of both views, no browser."""
    m = AppModel(preset=preset)
    f = _frames(m)
    f.png("network", m.week), f.png("series", m.week)
    t0 = time.perf_counter()
    for _ in range(weeks):
        m.step()
        f.png("network", m.week), f.png("series", m.week)
    return weeks / (time.perf_counter() - t0)


def week_of(page) -> int:
    return int(re.match(r"Week (\d+)", page.inner_text(".cd-readout")).group(1))


def in_browser(seconds: float) -> tuple[float, int]:
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
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_selector(".cd-readout")
            n_staff = page.inner_text(".cd-controls")
            t_step = time.perf_counter()
            for k in range(1, 11):  # Step button: each click waits for the page to show the new week
                page.click("button:has-text('Step')")
                page.wait_for_function(f"document.querySelector('.cd-readout').innerText.startsWith('Week {k} ')")
            step_fps = 10 / (time.perf_counter() - t_step)
            page.click("button:has-text('▶')")
            page.wait_for_function("!document.querySelector('.cd-readout').innerText.startsWith('Week 10 ')")
            w0, t0 = week_of(page), time.perf_counter()
            time.sleep(seconds)
            w1, t1 = week_of(page), time.perf_counter()
            browser.close()
        print(n_staff)
        print(f"in the browser, Step button (click -> page shows the new week): {step_fps:.1f} frames/s")
        return (w1 - w0) / (t1 - t0), w1 - w0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--preset", default="phased_vigilance_withdrawn")
    args = ap.parse_args()
    print(f"server-side render only: {server_side(args.preset):.1f} frames/s")
    fps, weeks = in_browser(args.seconds)
    print(f"in the browser (play, render interval 1): {fps:.1f} frames/s ({weeks} weeks in {args.seconds:.0f} s)")


if __name__ == "__main__":
    main()
