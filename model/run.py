"""One run: `simulate(scenario, seed)` and the flat function external tools call."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from culturedrift.model.model import CultureDriftModel
from culturedrift.model.outputs import summarise
from culturedrift.model.scenario import Scenario, ScenarioError, parse_scenario


@dataclass
class RunResult:
    """The outputs of one (scenario, seed) run."""

    scenario: str
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, float]
    events: pd.DataFrame
    handover_week: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def summary_row(self) -> dict[str, Any]:
        """The summary with its scenario and seed."""
        return {"scenario": self.scenario, "seed": self.seed, **self.summary}


def _tag(df: pd.DataFrame, scenario: str, seed: int) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "seed", seed)
    df.insert(0, "scenario", scenario)
    return df


def simulate(scenario: Scenario | dict[str, Any], seed: int = 0, weeks: int | None = None,
             diagnostics: tuple[str, ...] = ()) -> RunResult:
    """Run one scenario with one seed to its horizon, or for `weeks` weeks, and return its outputs.

    With `weeks` shorter than the horizon, changes and interventions dated later simply have not
    happened yet when the run stops (a window on the same scenario, not a different scenario).
    `diagnostics` adds series of the output catalogue that are recorded only on request.
    """
    if isinstance(scenario, dict):
        scenario = parse_scenario(scenario)
    if weeks is not None and int(weeks) < 1:
        raise ScenarioError(f"{scenario.name}: weeks must be at least 1, got {weeks}")
    model = CultureDriftModel(scenario, seed, weeks, diagnostics)
    model.run()
    ts = model.timeseries()
    return RunResult(scenario=scenario.name, seed=int(seed), timeseries=_tag(ts, scenario.name, seed),
                     summary=summarise(ts, scenario.handover), events=_tag(model.events_frame(), scenario.name, seed),
                     handover_week=scenario.handover,
                     meta={"programme_start": scenario.programme_start, "horizon_weeks": model.horizon})


_BASE_CACHE: dict[str, Scenario] = {}


def simulate_summary(params: dict[str, Any] | None = None, seed: int = 0,
                     base: Scenario | str | Path | None = None, **fields: Any) -> dict[str, float]:
    """Flat entry point for SALib / EMA Workbench: scenario field paths in, summary metrics out.

    `params` maps dotted scenario field paths (e.g. ``"turnover.labour_market_pressure"``) to values;
    the same paths may also come as keyword arguments (``**fields``), which is how EMA Workbench calls
    a function model: ``simulate_summary(**{"turnover.labour_market_pressure": 1.2, "seed": 3})``.
    NumPy scalars (as SALib samples) are accepted. `base` is a Scenario, a scenario file path, or None
    for the default (baseline) scenario. Returns every summary metric as a float.
    """
    if base is None:
        base_sc = Scenario(name="default")
    elif isinstance(base, Scenario):
        base_sc = base
    else:
        key = str(base)
        if key not in _BASE_CACHE:
            from culturedrift.model.scenario import load_scenario

            _BASE_CACHE[key] = load_scenario(key)
        base_sc = _BASE_CACHE[key]
    updates = {**(params or {}), **fields}
    updates = {k: v.item() if hasattr(v, "item") and getattr(v, "ndim", None) == 0 else v
               for k, v in updates.items()}
    sc = base_sc.with_updates(updates) if updates else base_sc
    model = CultureDriftModel(sc, int(seed))  # as `simulate`, without the event log and tagged frames nobody reads
    model.run()
    return {k: float(v) for k, v in summarise(model.timeseries(), sc.handover).items()}
