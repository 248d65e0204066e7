"""Layer 2, analysis: paired statistics, decision-table maths, summaries over seeds, sensitivity indices."""
