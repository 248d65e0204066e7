"""`culturedrift app [--host 127.0.0.1] [--port 8765] [--scenario FILE_OR_FOLDER ...]`: the trainer's app."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from culturedrift.experiments.commands._args import port_number

APP_MODULE = "culturedrift.experiments.app"
COOKIE_WARNING = "Cookies with samesite=none require https"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="start the trainer's interactive app (Mesa SolaraViz) on localhost",
                       description="Serve the interactive app: pick a preset, move the sliders, Reset, then play "
                       "or step week by week. Ctrl-C stops the server.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8765, help="port (default 8765)")
    p.add_argument("--scenario", action="append", default=[], metavar="FILE_OR_FOLDER",
                   help="offer this scenario file (or every *.yaml in this folder) beside the shipped ones; "
                   "repeatable")
    p.set_defaults(func=run)


def server_command(host: str, port: int) -> list[str]:
    """The solara server command line for the app."""
    # solara warns on every page load that samesite=none cookies need https; on localhost http the lax
    # fallback it then uses is right, so that one warning is silenced (nothing else)
    return [sys.executable, "-W", f"ignore:{COOKIE_WARNING}:UserWarning", "-m", "solara", "run", APP_MODULE,
            "--host", host, "--port", str(port),
            "--production", "--no-open", "--log-level", "warning"]


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (None if it can): checked before starting it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return (f"port {port} on {host} is already in use (another app, or an earlier `culturedrift app` "
                        f"still running). Stop it, or pick another port: culturedrift app --port {port + 1}")
            return f"cannot listen on {host}:{port}: {e.strerror or e}"
    return None


def check_scenarios(paths: list[str]) -> str:
    """The --scenario paths, validated now (so a bad file is named before the server starts)."""
    from culturedrift.experiments.app_controls import extra_paths
    from culturedrift.model import load_scenario

    spec = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    for p in paths:
        if not Path(p).exists():
            raise ValueError(f"--scenario {p}: no such file or folder")
    found = extra_paths(spec)
    if paths and not found:
        raise ValueError(f"--scenario {', '.join(paths)}: no *.yaml scenario files there")
    for f in found:
        load_scenario(f)  # raises ScenarioError naming the file and the field
    return spec


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.app_controls import SCENARIOS_ENV

    if args.host not in LOOPBACK and not args.host.startswith("127."):
        print(f"culturedrift app: warning: --host {args.host} opens the app to other machines on the network "
              "(anyone who reaches this port can use it); use the default 127.0.0.1 unless that is what you "
              "want", file=sys.stderr)
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"culturedrift app: {problem}", file=sys.stderr)
        return 2
    try:
        spec = check_scenarios(args.scenario)
    except ValueError as e:
        print(f"culturedrift app: {e}", file=sys.stderr)
        return 2
    host = "[" + args.host + "]" if ":" in args.host else args.host
    print(f"culturedrift app: serving at http://{host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    # no "runs on Solara" banner: on a projector it sits over the series
    env = {**os.environ, "SOLARA_APP": APP_MODULE, SCENARIOS_ENV: spec, "SOLARA_THEME_SHOW_BANNER": "False"}
    proc = subprocess.Popen(server_command(args.host, args.port), env=env)

    def stop(signum: int, _frame: object) -> None:  # a plain `kill` stops the server too, not only Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("culturedrift app: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
