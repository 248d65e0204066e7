"""Fingerprints of the model's outputs: every weekly series, summary metric and event of the shipped scenarios.

A refactor must leave them bit-identical; a change that alters outputs on purpose regenerates them
(`python tests/golden/fingerprint.py --write`) in the same commit and says why in its message.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from culturedrift.model import load_scenario, simulate

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("model.json")
SCENARIOS = ("baseline", "big_bang", "phased", "phased_with_vigilance", "phased_vigilance_withdrawn", "tight_budget")
SEEDS = (0, 1)


def _digest(values: np.ndarray) -> str:
    """Hash of the exact bytes (float64 / int64), so any change in any bit shows."""
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()[:16]


def _column(series: pd.Series) -> dict[str, object]:
    if pd.api.types.is_numeric_dtype(series):
        arr = series.to_numpy(dtype=np.float64)
        return {"sha": _digest(arr), "sum": float(np.nansum(arr))}
    return {"sha": hashlib.sha256("\x1f".join(map(str, series)).encode()).hexdigest()[:16], "sum": None}


def fingerprints() -> dict[str, dict[str, object]]:
    """Per (scenario, seed): a hash and a sum per output column, and the summary metrics exactly."""
    out: dict[str, dict[str, object]] = {}
    for name in SCENARIOS:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        for seed in SEEDS:
            r = simulate(sc, seed)
            out[f"{name}/{seed}"] = {
                "timeseries": {c: _column(r.timeseries[c]) for c in r.timeseries.columns},
                "events": {c: _column(r.events[c]) for c in r.events.columns},
                "summary": {k: float(v) for k, v in r.summary.items()},
            }
    return out


if __name__ == "__main__":
    if "--write" in sys.argv:
        GOLDEN.write_text(json.dumps(fingerprints(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
