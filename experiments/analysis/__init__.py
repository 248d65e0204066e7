"""Layer 2, analysis: paired statistics, metric definitions and the decision-table maths (no files, no figures)."""
