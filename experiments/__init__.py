"""Orchestration over the model: runs, output files, figures and the command line."""
