"""`culturedrift app [--host 127.0.0.1] [--port 8765]`: the trainer's interactive app in the browser."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from culturedrift.experiments.commands._args import port_number

APP_MODULE = "culturedrift.experiments.app"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="start the trainer's interactive app (Mesa SolaraViz) on localhost",
                       description="Serve the interactive app: pick a preset, move the sliders, Reset, then play "
                       "or step week by week. Ctrl-C stops the server.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8765, help="port (default 8765)")
    p.set_defaults(func=run)


def server_command(host: str, port: int) -> list[str]:
    """The solara server command line for the app."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-open", "--log-level", "warning"]


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK and not args.host.startswith("127."):
        print(f"culturedrift app: warning: --host {args.host} opens the app to other machines on the network "
              "(anyone who reaches this port can use it); use the default 127.0.0.1 unless that is what you "
              "want", file=sys.stderr)
    host = "[" + args.host + "]" if ":" in args.host else args.host
    print(f"culturedrift app: serving at http://{host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    env = {**os.environ, "SOLARA_APP": APP_MODULE}
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
