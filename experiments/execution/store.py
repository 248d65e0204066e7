"""The output layout of `culturedrift run` (a documented contract other commands read).

DIR/timeseries.parquet, timeseries.csv  one row per (scenario, seed, week)
DIR/summary.csv, summary.json           one row per (scenario, seed)
DIR/events.parquet                      one row per person joining or leaving
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from culturedrift.experiments.execution.files import atomic_write
from culturedrift.model import RunResult


def frames(results: Sequence[RunResult]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Timeseries, summary and events of many runs as three DataFrames."""
    ts = pd.concat([r.timeseries for r in results], ignore_index=True)
    summary = pd.DataFrame([r.summary_row() for r in results])
    events = pd.concat([r.events for r in results], ignore_index=True)
    return ts, summary, events


def write_outputs(results: Sequence[RunResult], out: str | Path) -> dict[str, Path]:
    """Write the run outputs into `out`; each file is written whole (unique temp file, then rename)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ts, summary, events = frames(results)
    paths = {
        "timeseries.parquet": lambda p: ts.to_parquet(p, index=False),
        "timeseries.csv": lambda p: ts.to_csv(p, index=False),
        "summary.csv": lambda p: summary.to_csv(p, index=False),
        "summary.json": lambda p: p.write_text(json.dumps(summary.to_dict(orient="records"), indent=1)),
        "events.parquet": lambda p: events.to_parquet(p, index=False),
    }
    return {name: atomic_write(out / name, write, fsync=False) for name, write in paths.items()}

