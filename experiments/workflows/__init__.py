"""Layer 4, workflows: compare, sweep, validation, calibration and the like, orchestrating layers 1-3."""
