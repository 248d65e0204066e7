"""Layer 2, analysis: paired statistics, metric definitions (where each applies), decision-table maths, summaries
over seeds, sensitivity indices. No files, no figures."""
