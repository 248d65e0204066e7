"""Words for the comparison report: scenarios in plain language, the decision table and the generated reading.

Text uses a small Markdown subset (**bold**, `code`) that `render.inline_html` turns into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from culturedrift.experiments.workflows.compare import METRIC as METRIC_BY_KEY
from culturedrift.experiments.workflows.compare import METRICS, Metric, ci_note

if TYPE_CHECKING:
    from culturedrift.experiments.workflows.compare import Comparison
    from culturedrift.model import Scenario

BEST = "\u2605"  # star: best value in its column
CLEAR_BETTER = "\u2713"  # check mark: clearly better than the reference
CLEAR_WORSE = "\u2717"  # ballot x: clearly worse than the reference
ARROW = {"higher": "\u2191", "lower": "\u2193"}
DASH = "\u2013"
MINUS = "\u2212"

# ---------------------------------------------------------------------------------------------- scenarios


def _weeks(start: int, end: int | None) -> str:
    return f"weeks {start}{DASH}{end}" if end is not None else f"week {start} to the end"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple) and not value:
        return "none"
    return str(value)


def settings_changed(sc: Scenario, against: Scenario) -> list[str]:
    """Settings outside the change programme and interventions that differ from another scenario's."""
    skip = {"name", "description", "horizon_weeks", "handover_week", "change_programme", "interventions"}
    mine = _flatten({k: v for k, v in sc.model_dump(mode="json").items() if k not in skip})
    other = _flatten({k: v for k, v in against.model_dump(mode="json").items() if k not in skip})
    out = []
    for path in sorted(set(mine) | set(other)):
        if mine.get(path) != other.get(path):
            out.append(f"`{path}` {_plain(mine.get(path))} (not {_plain(other.get(path))})")
    return out


def planned_support_cost(sc: Scenario) -> float:
    """Cost of the scheduled interventions if fully funded over the horizon (GBP thousand)."""
    return float(sum(iv.weekly_cost() * sum(iv.active(w) for w in range(sc.horizon_weeks))
                     for iv in sc.interventions))


def describe_scenario(sc: Scenario, reference: Scenario | None = None) -> list[str]:
    """A strategy's key settings in plain words, one sentence per item; other settings that differ from
    the reference strategy's are listed by name."""
    lines = []
    if sc.description:
        lines.append(sc.description.rstrip(".") + ".")
    years = sc.horizon_weeks / 52
    lines.append(f"Simulated for {sc.horizon_weeks} weeks ({years:.1f} years).")
    changes = sorted(sc.change_programme, key=lambda c: (c.start_week, c.name))
    if changes:
        first, last = changes[0].start_week, changes[-1].start_week
        items = ", ".join(f"{c.name.replace('_', ' ')} ({c.kind.replace('_', ' ')}, week {c.start_week})"
                          for c in changes)
        span = f"in week {first}" if first == last else f"between week {first} and week {last}"
        what = f"{len(changes)} fixed changes go" if len(changes) > 1 else "1 fixed change goes"
        lines.append(f"{what} live {span}: {items}. Programme support ends at handover, week {sc.handover}.")
    else:
        lines.append("No change programme: business as usual.")
    if sc.interventions:
        by_kind: dict[str, list[str]] = {}
        for iv in sc.interventions:
            when = _weeks(iv.start_week, iv.end_week)
            if iv.every_weeks:
                when += f", {iv.active_weeks} of every {iv.every_weeks} weeks"
            if iv.intensity != 1:
                when += f", at intensity {iv.intensity:g}"
            if iv.target != "staff":
                when += f", for {iv.target.replace('_', ' ')}"
            by_kind.setdefault(iv.name.replace("_", " "), []).append(when)
        items = "; ".join(f"{k} ({' and '.join(v)})" for k, v in by_kind.items())
        lines.append(f"Leadership support: {items}; planned cost GBP {planned_support_cost(sc):,.0f}k if fully "
                     "funded.")
    else:
        lines.append("No leadership interventions.")
    lines.append(f"Quarterly discretionary budget GBP {sc.budget.quarterly_budget:,.0f}k.")
    if reference is not None and reference.name != sc.name:
        changed = [c for c in settings_changed(sc, reference) if not c.startswith("`budget.quarterly_budget`")]
        if changed:
            lines.append(f"Other settings that differ from {reference.name}: " + "; ".join(changed) + ".")
    return lines


# --------------------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Cell:
    text: str
    best: bool = False
    verdict: str | None = None  # "better" / "worse" / "unclear" / "reference" (difference cells)


def _interval(m: Metric, lo: float, hi: float) -> str:
    a, b = m.fmt(lo), m.fmt(hi)
    return f"{a} to {b}" if a.startswith(MINUS) or b.startswith(MINUS) else f"{a}{DASH}{b}"


def table_cells(cmp: Comparison) -> tuple[list[tuple[str, list[Cell]]], list[tuple[str, list[Cell]]]]:
    """Outcome cells (median and 90% interval) and difference cells (mean and 95% CI) per strategy."""
    t = cmp.decision_table.set_index("scenario")
    d = cmp.differences.set_index(["scenario", "metric"])
    outcome, diffs = [], []
    for name in cmp.names:
        r = t.loc[name]
        orow, drow = [], []
        for m in METRICS:
            orow.append(Cell(f"{m.fmt(r[f'{m.key}_median'])} ({_interval(m, r[f'{m.key}_p05'], r[f'{m.key}_p95'])})",
                             best=bool(r[f"{m.key}_best"])))
            if name == cmp.reference:
                drow.append(Cell("reference", verdict="reference"))
                continue
            v = d.loc[(name, m.key)]
            ci = (f"[{m.fmt_diff(v['diff_lo'])}, {m.fmt_diff(v['diff_hi'])}]" if np.isfinite(v["diff_lo"])
                  else "[n/a]")
            drow.append(Cell(f"{m.fmt_diff(v['diff'])} {ci}", verdict=v["verdict"]))
        outcome.append((name, orow))
        diffs.append((name, drow))
    return outcome, diffs


def headers() -> list[str]:
    """Column headers: label, unit and which direction is better."""
    return [f"{m.label} ({m.unit}) {ARROW[m.better]}" for m in METRICS]


def legend(cmp: Comparison) -> str:
    """The footnote under the decision table."""
    return (f"{ARROW['higher']} higher is better, {ARROW['lower']} lower is better; {BEST} best median in its "
            f"column (ties at the precision shown all marked); {CLEAR_BETTER} clearly better / {CLEAR_WORSE} clearly "
            f"worse than the reference ({cmp.reference}): the 95% confidence interval excludes zero. "
            + ci_note(cmp.ci_method, len(cmp.seeds)))


def _md_cell(c: Cell) -> str:
    text = c.text
    if c.verdict == "better":
        text += f" {CLEAR_BETTER}"
    elif c.verdict == "worse":
        text += f" {CLEAR_WORSE}"
    return f"**{text}** {BEST}" if c.best else text


def _md_table(head: list[str], rows: list[tuple[str, list[Cell]]]) -> list[str]:
    lines = ["| Strategy | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for name, cells in rows:
        lines.append(f"| {name} | " + " | ".join(_md_cell(c) for c in cells) + " |")
    return lines


def decision_markdown(cmp: Comparison, level: int = 1) -> str:
    """decision_table.md: outcomes and paired differences, one row per strategy, with the footnote."""
    outcome, diffs = table_cells(cmp)
    h = "#" * level
    lines = [f"{h} Decision table", "",
             f"{len(cmp.names)} strategies on the same {len(cmp.seeds)} seeds; reference: **{cmp.reference}**.", "",
             f"{h}# Outcomes: median (90% interval over seeds)", "", *_md_table(headers(), outcome), "",
             f"{h}# Difference against {cmp.reference}: mean paired difference [95% CI]", "",
             *_md_table(headers(), diffs), "", legend(cmp), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ reading


def _size(m: Metric, value: float) -> str:
    """An unsigned difference with its unit; 'less than 0.001' when it rounds to zero."""
    text = m.with_unit(value, diff=True)
    if value != 0 and float(m.fmt_diff(value, signed=False).replace(",", "")) == 0:
        step = 10.0 ** -m.decimals / m.scale
        return "less than " + m.with_unit(step, diff=True)
    return text


def _magnitude(m: Metric, mean: float, lo: float, hi: float) -> str:
    """'by 1.2 points (95% CI 0.8 to 1.6)' in the direction of the mean."""
    if mean < 0:
        mean, lo, hi = -mean, -hi, -lo
    size = _size(m, mean)
    if not np.isfinite(lo):
        return f"by {size} (too few seeds for a confidence interval)"
    return f"by {size} (95% CI {m.fmt_diff(lo, signed=lo < 0)} to {m.fmt_diff(hi, signed=hi < 0)})"


def contrast(cmp: Comparison, a: str, b: str, m: Metric) -> str:
    """'**a** has <phrase> than **b** by X (95% CI ...)', saying when the difference is not clear."""
    mean, lo, hi = cmp.paired(a, b, m.key)
    if lo == hi == mean == 0:
        return f"**{a}** and **{b}** are identical on every seed"
    if not np.isfinite(mean):
        return f"**{a}** and **{b}** cannot be compared"
    phrase = m.more if mean > 0 else m.less
    text = f"**{a}** has {phrase} than **{b}** {_magnitude(m, mean, lo, hi)}"
    if np.isfinite(lo) and lo <= 0 <= hi:
        text += "; the interval includes zero, so the two cannot be told apart on this"
    return text


def _ranked(cmp: Comparison, m: Metric) -> list[str]:
    """Strategies from best to worst: by median, ties broken by the mean over seeds."""
    t = cmp.decision_table.set_index("scenario")[f"{m.key}_median"]
    mean = cmp.summary.groupby("scenario")[m.key].mean()
    return sorted(cmp.names, key=lambda n: (-m.sign * round(t[n] * m.scale, m.decimals), -m.sign * mean[n],
                                            cmp.names.index(n)))


def _best_names(cmp: Comparison, m: Metric) -> list[str]:
    t = cmp.decision_table.set_index("scenario")
    return [n for n in cmp.names if t.loc[n, f"{m.key}_best"]]


def _join(names: list[str]) -> str:
    names = [f"**{n}**" for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def headline(cmp: Comparison) -> list[str]:
    """Which strategy is best on transition risk, culture and cost, and what the risk leader costs."""
    out = []
    leaders_by_group = {}
    for group in dict.fromkeys(m.group for m in METRICS):
        ms = [m for m in METRICS if m.group == group]
        wins = {n: sum(n in _best_names(cmp, m) for m in ms) for n in cmp.names}
        top = max(wins.values())
        leaders = [n for n in cmp.names if wins[n] == top]
        leaders_by_group[group] = leaders
        what = ", ".join(m.label.lower() for m in ms)
        out.append(f"{group} ({what}): {_join(leaders)} {'is' if len(leaders) == 1 else 'are'} best (or tied best) "
                   f"on {top} of {len(ms)}.")
    cost = METRIC_BY_KEY["total_cost"]
    for n in leaders_by_group.get("Transition risk", []):
        if n != cmp.reference:
            out.append(f"At what cost: {contrast(cmp, n, cmp.reference, cost)} over the horizon.")
    return out


def metric_lines(cmp: Comparison) -> list[str]:
    """Per metric: the best strategy and how it compares with the next best."""
    out = []
    t = cmp.decision_table.set_index("scenario")
    for m in METRICS:
        ranked = _ranked(cmp, m)
        best, second = ranked[0], ranked[1]
        tied = _best_names(cmp, m)
        med = t.loc[best, f"{m.key}_median"]
        who = (f"**{best}**" if len(tied) <= 1 else f"{_join(sorted(tied, key=ranked.index))} (tied at the "
               "precision shown)")
        line = f"{m.label}: best under {who}, median {m.with_unit(med)}. Against the next best: " \
               f"{contrast(cmp, best, second, m)}."
        if m.key == "morale_trough":
            at_start = [n for n in cmp.names if cmp.metric_values(n, "morale_trough_week").median() == 0]
            if at_start:
                line += (f" For {_join(at_start)} the lowest morale is at the start (week 0, median over seeds): "
                         "the strategy did not push morale below its starting level.")
        out.append(line)
    return out


def diff_with_ci(m: Metric, mean: float, lo: float, hi: float) -> str:
    """'+1.7 [+1.2, +2.2] pts': a signed difference, its 95% CI and a short unit."""
    unit = " pts" if m.unit == "%" else " GBP k" if m.unit.startswith("GBP") else ""
    ci = f" [{m.fmt_diff(lo)}, {m.fmt_diff(hi)}]" if np.isfinite(lo) else ""
    return f"{m.fmt_diff(mean)}{ci}{unit}"


def reference_lines(cmp: Comparison) -> list[str]:
    """Per strategy: where it is clearly better or worse than the reference."""
    out = []
    d = cmp.differences.set_index(["scenario", "metric"])
    for name in cmp.names:
        if name == cmp.reference:
            continue
        parts = []
        for verdict, word in (("better", "clearly better"), ("worse", "clearly worse")):
            items = []
            for m in METRICS:
                v = d.loc[(name, m.key)]
                if v["verdict"] == verdict:
                    items.append(f"{m.label.lower()} {diff_with_ci(m, v['diff'], v['diff_lo'], v['diff_hi'])}")
            if items:
                parts.append(f"{word} on " + "; ".join(items))
        unclear = [m.label.lower() for m in METRICS
                   if d.loc[(name, m.key)]["verdict"] not in ("better", "worse")]
        if unclear:
            parts.append("no clear difference in " + ", ".join(unclear))
        out.append(f"**{name}** against **{cmp.reference}**: " + "; ".join(parts) + ".")
    return out


def reading_sections(cmp: Comparison) -> list[tuple[str, list[str]]]:
    """The generated reading in sections: headline, metric by metric, against the reference."""
    if len(cmp.names) < 2:
        return [("Headline", [f"Only one strategy (**{cmp.names[0]}**) was run; there is nothing to compare."])]
    return [("Headline", headline(cmp)), ("Metric by metric", metric_lines(cmp)),
            (f"Against the reference ({cmp.reference})", reference_lines(cmp))]


def reading(cmp: Comparison) -> list[str]:
    """The generated reading as a flat list of statements."""
    return [line for _, lines in reading_sections(cmp) for line in lines]
