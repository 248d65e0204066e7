"""`warn`: early-warning indicators of culture slippage, their notice, and vigilance that acts on them."""

from culturedrift.experiments.workflows.warning.experiment import (
    WarnError,
    WarnExperiment,
    WarnResult,
    load_experiment,
    run_warning,
)

__all__ = ["WarnError", "WarnExperiment", "WarnResult", "load_experiment", "run_warning"]
