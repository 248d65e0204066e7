"""report.md and report.html of a comparison: the same sections from the same text, in two formats."""

from __future__ import annotations

from pathlib import Path

from culturedrift.experiments.analysis.decision import ComparisonData as Comparison
from culturedrift.experiments.analysis.metrics import METRICS
from culturedrift.experiments.reporting import html as h
from culturedrift.experiments.reporting.figures import CAPTIONS
from culturedrift.experiments.reporting.style import style
from culturedrift.experiments.reporting.text import (
    FUNDING_NOTE,
    LEVER_NOTE,
    RANK_STABILITY_NOTE,
    RANK_STABILITY_TABLE_TITLE,
    decision_markdown,
    decision_tables,
    describe_scenario,
    funding_table,
    legend,
    lever_table,
    rank_stability_table,
    reading_sections,
)

TITLE = "Strategy comparison"


def _settings_line(cmp: Comparison) -> str:
    seeds = cmp.seeds
    seed_text = f"seeds {seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else \
        "seeds " + ", ".join(map(str, seeds))
    window = (f"the first {cmp.weeks} weeks of each scenario (a window: later changes have not happened yet)"
              if cmp.weeks else f"{cmp.horizon} weeks")
    return (f"{len(cmp.names)} strategies x {len(seeds)} seeds ({seed_text}) = {len(cmp.results)} runs of "
            f"{window}; reference strategy: {cmp.titles[cmp.reference]}. Every strategy runs on the same seeds with "
            "common random numbers, so differences between strategies on a seed come from the strategy, not from "
            "luck.")


def _metric_notes() -> list[str]:
    out = []
    for m in METRICS:
        how = f"{m.better} is better" if m.ranked else "not ranked"
        out.append(f"**{m.label}** ({m.unit}; {how}): {m.definition}"
                   + (f" n/a: {m.not_applicable}." if m.not_applicable else ""))
    return out


def _caveat() -> str:
    return ("The numbers come from a simulation model whose parameters are partly assumptions (see the scenario "
            "files and the model's parameter notes). Read the differences between strategies, and their intervals, "
            "rather than the absolute levels.")


def markdown_report(cmp: Comparison, figures: dict[str, Path]) -> str:
    """report.md: figures referenced as files next to it."""
    titles = cmp.titles
    lines = [f"# {TITLE}: {', '.join(titles.values())}", "", _settings_line(cmp), "", "## What was compared", ""]
    ref = cmp.scenarios[cmp.names.index(cmp.reference)]
    for sc in cmp.scenarios:
        lines += [f"### {titles[sc.name]}{' (reference)' if sc.name == cmp.reference else ''}", ""]
        lines += [f"- {s}" for s in describe_scenario(sc, ref, cmp.weeks)] + [""]
    lines += ["## Reading of the result", ""]
    for title, items in reading_sections(cmp):
        lines += [f"### {title}", "", *[f"- {s}" for s in items], ""]
    lines += [decision_markdown(cmp, level=2), "## Figures", ""]
    for name in figures:
        lines += [f"![{CAPTIONS.get(name, name)}]({name})", "", f"*{CAPTIONS.get(name, name)}*", ""]
    lines += ["## What the metrics mean", "", *[f"- {s}" for s in _metric_notes()], "", _caveat(), ""]
    return "\n".join(lines)


def html_report(cmp: Comparison, figures: dict[str, Path]) -> str:
    """report.html: one self-contained page with the same sections as report.md."""
    titles = cmp.titles
    idx = {n: i for i, n in enumerate(cmp.names)}
    blocks = [h.paragraph(_settings_line(cmp)), h.heading(2, "What was compared")]
    ref = cmp.scenarios[cmp.names.index(cmp.reference)]
    for sc in cmp.scenarios:
        tag = " (reference)" if sc.name == cmp.reference else ""
        blocks += [h.heading(3, titles[sc.name] + tag, style(idx[sc.name])["color"]),
                   h.bullets(describe_scenario(sc, ref, cmp.weeks))]
    blocks.append(h.heading(2, "Reading of the result"))
    for title, items in reading_sections(cmp):
        blocks += [h.heading(3, title), h.bullets(items, "reading")]
    outcome, diffs = decision_tables(cmp)
    blocks += [h.heading(2, "Decision table"), h.heading(3, "Outcomes: median (90% interval over seeds)"),
               h.raw(outcome.html()),
               h.heading(3, f"Difference against {titles[cmp.reference]}: mean paired difference [95% CI]"),
               h.raw(diffs.html()), h.paragraph(legend(cmp), "note"),
               h.heading(3, "Cost: planned, delivered and unfunded"), h.raw(funding_table(cmp).html()),
               h.paragraph(FUNDING_NOTE, "note")]
    if not cmp.levers.empty:
        blocks += [h.heading(3, "Contribution of each lever (switched off on the same seeds)"),
                   h.raw(lever_table(cmp).html()), h.paragraph(LEVER_NOTE, "note")]
    if cmp.rank_stability is not None:
        blocks += [h.heading(3, RANK_STABILITY_TABLE_TITLE), h.raw(rank_stability_table(cmp).html()),
                   h.paragraph(RANK_STABILITY_NOTE, "note")]
    blocks.append(h.heading(2, "Figures"))
    blocks += [h.Figure(path, CAPTIONS.get(name, name)).html() for name, path in figures.items()]
    blocks += [h.heading(2, "What the metrics mean"), h.bullets(_metric_notes()), h.paragraph(_caveat(), "note")]
    return h.page(TITLE, blocks, subtitle=", ".join(titles.values()))


def write_reports(cmp: Comparison, out: Path, figures: dict[str, Path]) -> dict[str, Path]:
    """Write report.md and report.html into `out`."""
    out = Path(out)
    md = out / "report.md"
    md.write_text(markdown_report(cmp, figures), encoding="utf-8")
    page = out / "report.html"
    page.write_text(html_report(cmp, figures), encoding="utf-8")
    return {"report.md": md, "report.html": page}
