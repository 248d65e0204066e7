"""The comparison report: figures (PNG), decision table (Markdown) and report.md / report.html."""

from culturedrift.experiments.reporting.figures import write_figures
from culturedrift.experiments.reporting.render import write_reports

__all__ = ["write_figures", "write_reports"]
