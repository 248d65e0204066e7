"""Parameter sweeps: experiment files, design points, chunked execution (local pool or Dask), resumable output.

    from culturedrift.experiments.workflows.sweep import load_experiment, sweep, SweepStore
    report = sweep("experiments/sweep_lhs.yaml", "results/lhs", workers=2)
    SweepStore("results/lhs").results()      # one row per run: parameters and summary metrics
"""

from culturedrift.experiments.execution.executor import auto_chunk_size
from culturedrift.experiments.workflows.sweep.engine import (
    SweepReport,
    SweepRun,
    run_one,
    sweep,
)
from culturedrift.experiments.workflows.sweep.experiment import (
    DESIGNS,
    Experiment,
    ExperimentError,
    ParamSpec,
    Prepared,
    experiment_hash,
    load_experiment,
    parse_experiment,
    prepare,
    run_seed,
)
from culturedrift.experiments.workflows.sweep.store import SweepDirError, SweepStore

__all__ = ["DESIGNS", "Experiment", "ExperimentError", "ParamSpec", "Prepared",
           "SweepDirError", "SweepReport", "SweepRun", "SweepStore", "auto_chunk_size", "experiment_hash",
           "load_experiment",
           "parse_experiment", "prepare", "run_one", "run_seed", "sweep"]
