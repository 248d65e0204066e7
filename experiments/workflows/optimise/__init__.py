"""Pacing optimiser (`culturedrift optimise`) and scenario discovery (`culturedrift robustness`).

A workflow package: it reads specs, asks optuna for candidate schedules, scores them through the
runner (local processes or Dask), and writes tables, figures, scenario YAML and a report.
"""
