"""Parameter uncertainty in decisions: each seed's uncertain parameters drawn from the calibration posterior.

`culturedrift calibrate` writes the final ABC-SMC population as CSV (one column per parameter,
named by its dotted scenario path, and a `weight`). `compare --posterior FILE` gives every seed one
draw from it (by weight, from a stream keyed by the seed), the same draw for every strategy on
that seed, so strategies stay paired and the spread over seeds includes parameter uncertainty.
Columns that are not scenario paths (a fitted region's own pressure, statistics) are not applied.

Rank stability (experiments/analysis/rank_stability.py) then says in what share of draws each
strategy wins on each metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.model import Scenario, ScenarioError

POSTERIOR_STREAM = 4_721  # keys the per-seed draw; independent of every model stream


class PosteriorError(ScenarioError):
    """A posterior file that cannot be used: the file, the column and the reason."""


def load_posterior(path: str | Path, scenario: Scenario | None = None) -> pd.DataFrame:
    """The parameter columns (scenario paths) and normalised weights of a posterior file."""
    path = Path(path)
    if not path.is_file():
        raise PosteriorError(f"{path}: file not found")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise PosteriorError(f"{path}: not a readable CSV file: {e}") from None
    if df.empty:
        raise PosteriorError(f"{path}: no particles (rows)")
    if "weight" not in df.columns:
        raise PosteriorError(f"{path}: missing column 'weight' (write it with `culturedrift calibrate`)")
    probe = scenario or Scenario(name="probe")
    params = [c for c in df.columns if "." in c and ":" not in c]
    if not params:
        raise PosteriorError(f"{path}: no parameter columns (dotted scenario paths such as "
                             "turnover.base_exit_hazard)")
    for c in params:
        if not np.issubdtype(df[c].dtype, np.number) or not np.isfinite(df[c]).all():
            raise PosteriorError(f"{path}: column '{c}': every value must be a finite number")
        try:
            probe.with_updates({c: _plain(df[c].iloc[0])})
        except ScenarioError as e:
            raise PosteriorError(f"{path}: column '{c}' is not a usable scenario parameter: {e}") from None
    w = df["weight"].to_numpy(float)
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PosteriorError(f"{path}: column 'weight': weights must be finite, non-negative and not all zero")
    out = df[params].copy()
    out["weight"] = w / w.sum()
    out.attrs["path"] = str(path)
    return out


def _plain(v: Any) -> Any:
    """A numpy scalar as a Python int or float (integers stay integers)."""
    v = v.item() if hasattr(v, "item") else v
    return int(v) if isinstance(v, float) and v.is_integer() and abs(v) > 1 else v


def draws(posterior: pd.DataFrame, seeds: Iterable[int]) -> pd.DataFrame:
    """One posterior row per seed, chosen by weight from a stream keyed by the seed (independent of the others)."""
    params = [c for c in posterior.columns if c != "weight"]
    w = posterior["weight"].to_numpy(float)
    rows = []
    for s in seeds:
        i = int(np.random.default_rng([int(s), POSTERIOR_STREAM]).choice(len(posterior), p=w))
        rows.append({"seed": int(s), "particle": i, **{c: posterior[c].iloc[i] for c in params}})
    return pd.DataFrame(rows)


def apply_draw(scenario: Scenario, draw: pd.Series | dict[str, Any]) -> Scenario:
    """The scenario with one draw's parameters (name kept, so strategies stay paired by name and seed)."""
    up = {k: _plain(v) for k, v in dict(draw).items() if k not in ("seed", "particle")}
    for k in [k for k in up if k.endswith(("_weeks", "_min_weeks")) and isinstance(up[k], float)]:
        up[k] = round(up[k])
    return scenario.with_updates(up)
