"""`culturedrift animate SCENARIO.yaml --out FILE.(gif|mp4) [--seed S] [--weeks W]`: a slide-deck animation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from culturedrift.experiments.commands._args import nonnegative_int, positive_int, weeks_count
from culturedrift.model import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("animate", help="write the network view and key series week by week as a GIF or mp4",
                       description="Run one scenario and animate it for slide decks: the organisation's network "
                       "(coloured by compliance habit) beside morale, turnover, vacancy, compliance and "
                       "fragmentation. GIF needs nothing extra; mp4 needs ffmpeg.")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("--out", required=True, metavar="FILE.(gif|mp4)", help="output file; the suffix picks the format")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    p.add_argument("--weeks", type=weeks_count, default=None, help="weeks to show (default: the scenario's horizon)")
    p.add_argument("--every", type=positive_int, default=1, help="show every Nth week (default 1: every week)")
    p.add_argument("--fps", type=positive_int, default=8, help="frames per second (default 8)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.animate import AnimationError, animate, check_output

    try:
        check_output(Path(args.out))
        scenario = load_scenario(args.scenario)
        n = animate(scenario, args.out, seed=args.seed, weeks=args.weeks, fps=args.fps, every=args.every)
    except AnimationError as e:
        print(f"culturedrift animate: error: {e}", file=sys.stderr)
        return 2
    print(f"Wrote {args.out}: {n} frames ({scenario.name}, seed {args.seed})")
    return 0
