"""report.md and report.html (self-contained: CSS inline, figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from culturedrift.experiments.reporting.figures import CAPTIONS, style
from culturedrift.experiments.reporting.text import (
    BEST,
    CLEAR_BETTER,
    CLEAR_WORSE,
    Cell,
    decision_markdown,
    describe_scenario,
    headers,
    legend,
    reading_sections,
    table_cells,
)
from culturedrift.experiments.workflows.compare import METRICS

if TYPE_CHECKING:
    from culturedrift.experiments.workflows.compare import Comparison

TITLE = "Strategy comparison"

CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 1180px; margin: 2em auto; padding: 0 1.2em;
       color: #1a1a1a; line-height: 1.45; }
h1, h2, h3 { font-family: 'Helvetica Neue', Arial, sans-serif; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #555; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; margin-right: 0.4em;
          vertical-align: -0.1em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-family: 'Helvetica Neue', Arial, sans-serif; font-size: 0.82em; }
th, td { border: 1px solid #ccc; padding: 0.35em 0.5em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; text-align: center; }
td.name, th.name { text-align: left; white-space: nowrap; font-weight: bold; }
td.best { font-weight: bold; background: #fff6d5; }
td.better { background: #e3f4e8; } td.worse { background: #fbe3e0; } td.reference { color: #777; }
td.best.better { background: #d3efdb; }
.note { font-size: 0.85em; color: #444; max-width: 70em; }
figure { margin: 1.2em 0; page-break-inside: avoid; } figure img { width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
ul.reading li { margin-bottom: 0.4em; }
dl dt { font-weight: bold; margin-top: 0.5em; } dl dd { margin-left: 1.2em; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-after: avoid; } table { font-size: 0.7em; } }
"""


def inline_html(text: str) -> str:
    """Escape, then the Markdown subset used in generated text: **bold** and `code`."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _settings_line(cmp: Comparison) -> str:
    weeks = cmp.weeks or max(s.horizon_weeks for s in cmp.scenarios)
    seeds = cmp.seeds
    seed_text = f"seeds {seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else \
        "seeds " + ", ".join(map(str, seeds))
    return (f"{len(cmp.names)} strategies x {len(seeds)} seeds ({seed_text}) = {len(cmp.results)} runs of "
            f"{weeks} weeks; reference strategy: {cmp.reference}. Every strategy runs on the same seeds with common "
            "random numbers, so differences between strategies on a seed come from the strategy, not from luck.")


def markdown_report(cmp: Comparison, figures: dict[str, Path]) -> str:
    """report.md: figures referenced as files next to it."""
    lines = [f"# {TITLE}: {', '.join(cmp.names)}", "", _settings_line(cmp), "", "## What was compared", ""]
    ref = cmp.scenarios[cmp.names.index(cmp.reference)]
    for sc in cmp.scenarios:
        lines += [f"### {sc.name}{' (reference)' if sc.name == cmp.reference else ''}", ""]
        lines += [f"- {s}" for s in describe_scenario(sc, ref)] + [""]
    lines += ["## Reading of the result", ""]
    for title, items in reading_sections(cmp):
        lines += [f"### {title}", "", *[f"- {s}" for s in items], ""]
    lines += [decision_markdown(cmp, level=2), "## Figures", ""]
    for name in figures:
        lines += [f"![{CAPTIONS.get(name, name)}]({name})", "", f"*{CAPTIONS.get(name, name)}*", ""]
    lines += _glossary_md()
    return "\n".join(lines)


def _glossary_md() -> list[str]:
    lines = ["## What the metrics mean", ""]
    lines += [f"- **{m.label}** ({m.unit}; {m.better} is better): {m.definition}" for m in METRICS]
    lines += ["", _caveat(), ""]
    return lines


def _caveat() -> str:
    return ("The numbers come from a simulation model whose parameters are partly assumptions (see the scenario "
            "files and the model's parameter notes). Read the differences between strategies, and their intervals, "
            "rather than the absolute levels.")


def _html_table(head: list[str], rows: list[tuple[str, list[Cell]]], cmp: Comparison) -> str:
    idx = {n: i for i, n in enumerate(cmp.names)}
    out = ["<div class='scroll'><table><thead><tr><th class='name'>Strategy</th>"]
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for name, cells in rows:
        colour = style(idx[name])["color"]
        out.append(f"<tr><td class='name'><span class='swatch' style='background:{colour}'></span>"
                   f"{html.escape(name)}</td>")
        for c in cells:
            classes = [k for k, on in (("best", c.best), (c.verdict or "", c.verdict is not None)) if on and k]
            text = html.escape(c.text)
            if c.verdict == "better":
                text += f" {CLEAR_BETTER}"
            elif c.verdict == "worse":
                text += f" {CLEAR_WORSE}"
            if c.best:
                text += f" {BEST}"
            out.append(f"<td class='{' '.join(classes)}'>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def html_report(cmp: Comparison, figures: dict[str, Path]) -> str:
    """report.html: one self-contained file."""
    outcome, diffs = table_cells(cmp)
    idx = {n: i for i, n in enumerate(cmp.names)}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{TITLE}</title>",
             f"<style>{CSS}</style></head><body>",
             f"<h1>{TITLE}</h1><p class='meta'>{html.escape(', '.join(cmp.names))}</p>",
             f"<p>{html.escape(_settings_line(cmp))}</p>"]
    parts.append("<h2>What was compared</h2>")
    ref = cmp.scenarios[cmp.names.index(cmp.reference)]
    for sc in cmp.scenarios:
        colour = style(idx[sc.name])["color"]
        tag = " (reference)" if sc.name == cmp.reference else ""
        parts.append(f"<h3><span class='swatch' style='background:{colour}'></span>{html.escape(sc.name)}{tag}</h3>"
                     "<ul>" + "".join(f"<li>{inline_html(s)}</li>" for s in describe_scenario(sc, ref)) + "</ul>")
    parts.append("<h2>Reading of the result</h2>")
    for title, items in reading_sections(cmp):
        parts.append(f"<h3>{html.escape(title)}</h3><ul class='reading'>")
        parts += [f"<li>{inline_html(s)}</li>" for s in items]
        parts.append("</ul>")
    parts += ["<h2>Decision table</h2>", "<h3>Outcomes: median (90% interval over seeds)</h3>",
              _html_table(headers(), outcome, cmp),
              f"<h3>Difference against {html.escape(cmp.reference)}: mean paired difference [95% CI]</h3>",
              _html_table(headers(), diffs, cmp), f"<p class='note'>{html.escape(legend(cmp))}</p>"]
    parts.append("<h2>Figures</h2>")
    for name, path in figures.items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        cap = html.escape(CAPTIONS.get(name, name))
        parts.append(f"<figure><img alt='{cap}' src='data:image/png;base64,{data}'><figcaption>{cap}</figcaption>"
                     "</figure>")
    parts.append("<h2>What the metrics mean</h2><dl>")
    parts += [f"<dt>{html.escape(m.label)} ({html.escape(m.unit)}; {m.better} is better)</dt>"
              f"<dd>{html.escape(m.definition)}</dd>" for m in METRICS]
    parts += [f"</dl><p class='note'>{html.escape(_caveat())}</p>", "</body></html>"]
    return "\n".join(parts)


def write_reports(cmp: Comparison, out: Path, figures: dict[str, Path]) -> dict[str, Path]:
    """Write report.md and report.html into `out`."""
    out = Path(out)
    md = out / "report.md"
    md.write_text(markdown_report(cmp, figures), encoding="utf-8")
    page = out / "report.html"
    page.write_text(html_report(cmp, figures), encoding="utf-8")
    return {"report.md": md, "report.html": page}
