"""Writing a comparison: data files, decision tables, figures and report, with nothing half-written left."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from culturedrift.experiments.analysis.decision import CompareError, ComparisonData
from culturedrift.experiments.analysis.metrics import INTERVAL, METRICS
from culturedrift.experiments.analysis.paired import CONFIDENCE
from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.files import check_out, staging
from culturedrift.experiments.execution.store import write_outputs
from culturedrift.experiments.reporting.figures import FIGURE_FORMATS, write_figures
from culturedrift.experiments.reporting.render import write_reports
from culturedrift.experiments.reporting.text import decision_markdown

DATA_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "summary.json", "events.parquet")
FIGURE_STEMS = ("fig_transition_risks", "fig_culture_work_cost", "fig_tradeoff", "fig_differences")
OUTPUT_FILES = (*DATA_FILES, "decision_table.csv", "decision_table.md", "differences.csv", "funding.csv", "levers.csv",
                "comparison.json", *(f"{s}.{x}" for s in FIGURE_STEMS for x in FIGURE_FORMATS),
                "rank_stability.csv", "posterior_draws.csv", "report.md", "report.html")


def write_comparison(cmp: ComparisonData, out: str | Path, figures: bool = True, report: bool = True,
                     on_step: Callable[[str], None] | None = None,
                     formats: tuple[str, ...] = ("png",)) -> dict[str, Path]:
    """Write data files, decision tables, figures and report into `out`; nothing half-written is left.

    Everything is first written into a hidden staging directory inside `out`; only when all of it has been
    written are the files moved into place (renames on one file system), report.html last. The report of
    an earlier comparison, and any of its outputs this one does not write, are removed before the new
    files go in, so a report in `out` always describes the files next to it. On failure the staging
    directory is removed and `out` keeps what it had. `formats`: figure file types besides the PNG the
    report embeds ("svg", "pdf"). Returns the paths written, by file name.
    """
    out = Path(out)
    try:
        check_out(out, OUTPUT_FILES)
    except InputError as e:
        raise CompareError(str(e)) from None
    out.mkdir(parents=True, exist_ok=True)
    say = on_step or (lambda _msg: None)
    with staging(out) as stage:
        say("data files")
        write_outputs(cmp.results, stage)
        say("decision table")
        cmp.decision_table.to_csv(stage / "decision_table.csv", index=False)
        cmp.differences.to_csv(stage / "differences.csv", index=False)
        cmp.funding.to_csv(stage / "funding.csv", index=False)
        if not cmp.levers.empty:
            cmp.levers.to_csv(stage / "levers.csv", index=False)
        if cmp.rank_stability is not None:
            cmp.rank_stability.to_csv(stage / "rank_stability.csv", index=False)
            cmp.posterior_draws.to_csv(stage / "posterior_draws.csv", index=False)
        (stage / "comparison.json").write_text(json.dumps(manifest(cmp), indent=1))
        (stage / "decision_table.md").write_text(decision_markdown(cmp))
        figs: dict[str, Path] = {}
        if figures:
            say("figures")
            figs = write_figures(cmp, stage, formats)
        if report:
            say("report")
            write_reports(cmp, stage, figs)
        names = sorted(p.name for p in stage.iterdir())
        last = [n for n in ("report.md", "report.html") if n in names]
        for stale in ("report.html", "report.md", *(n for n in OUTPUT_FILES if n not in names)):
            (out / stale).unlink(missing_ok=True)
        written = {}
        for name in [n for n in names if n not in last] + last:
            (stage / name).replace(out / name)
            written[name] = out / name
        return written


def manifest(cmp: ComparisonData) -> dict[str, Any]:
    """What was compared and how: enough to reproduce the comparison."""
    return {
        "strategies": cmp.names,
        "reference": cmp.reference,
        "seeds": cmp.seeds,
        "weeks": cmp.weeks,
        "runs": len(cmp.results),
        "interval_over_seeds": list(INTERVAL),
        "difference_confidence": CONFIDENCE,
        "ci_method": cmp.ci_method,
        "metrics": {m.key: {"label": m.label, "unit": m.unit, "better": m.better, "definition": m.definition,
                            "not_applicable": m.not_applicable} for m in METRICS},
        "titles": cmp.titles,
        "scenarios": {s.name: s.model_dump(mode="json") for s in cmp.scenarios},
    }
