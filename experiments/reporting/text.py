"""Words for the comparison report: scenarios in plain language, the decision table and the generated reading.

Text uses a small Markdown subset (**bold**, `code`) that `render.inline_html` turns into HTML.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from culturedrift.experiments.analysis.decision import ComparisonData as Comparison
from culturedrift.experiments.analysis.decision import display_title
from culturedrift.experiments.analysis.metrics import METRIC as METRIC_BY_KEY
from culturedrift.experiments.analysis.metrics import METRICS, Metric
from culturedrift.experiments.analysis.paired import ci_note
from culturedrift.experiments.analysis.rank_stability import stability_lines
from culturedrift.experiments.reporting.style import style
from culturedrift.experiments.reporting.tables import BEST, CLEAR_BETTER, CLEAR_WORSE, Cell, Table
from culturedrift.model import Scenario

__all__ = ["BEST", "CLEAR_BETTER", "CLEAR_WORSE", "Cell", "Table"]

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
    skip = {"name", "title", "description", "horizon_weeks", "handover_week", "change_programme", "interventions"}
    mine = _flatten({k: v for k, v in sc.model_dump(mode="json").items() if k not in skip})
    other = _flatten({k: v for k, v in against.model_dump(mode="json").items() if k not in skip})
    out = []
    for path in sorted(set(mine) | set(other)):
        if mine.get(path) != other.get(path):
            out.append(f"`{path}` {_plain(mine.get(path))} (not {_plain(other.get(path))})")
    return out


def planned_support_cost(sc: Scenario, weeks: int | None = None) -> float:
    """Cost of the scheduled interventions if fully funded over the horizon or window (GBP thousand)."""
    end = weeks or sc.horizon_weeks
    _, planned = sc.planned()  # interventions started or stopped by scheduled events included
    return float(sum(iv.weekly_cost() * sum(iv.active(w) for w in range(end)) for iv in planned))


def describe_scenario(sc: Scenario, reference: Scenario | None = None, weeks: int | None = None) -> list[str]:
    """A strategy's key settings in plain words, one sentence per item; other settings that differ from
    the reference strategy's are listed by name. `weeks`: the window compared, when shorter than the horizon."""
    lines = [f"Scenario file name: `{sc.name}`."]
    if sc.description:
        lines.append(sc.description.rstrip(".") + ".")
    if weeks is not None and weeks != sc.horizon_weeks:
        lines.append(f"Compared over its first {weeks} weeks ({weeks / 52:.1f} years) of a {sc.horizon_weeks}-week "
                     "scenario: changes and interventions dated later have not happened yet.")
    else:
        lines.append(f"Simulated for {sc.horizon_weeks} weeks ({sc.horizon_weeks / 52:.1f} years).")
    planned_changes, interventions = sc.planned()  # as the scheduled events leave them
    changes = sorted(planned_changes, key=lambda c: (c.start_week, c.name))
    if changes:
        first, last = changes[0].start_week, changes[-1].start_week
        items = ", ".join(f"{c.name.replace('_', ' ')} ({c.kind.replace('_', ' ')}, week {c.start_week})"
                          for c in changes)
        span = f"in week {first}" if first == last else f"between week {first} and week {last}"
        what = f"{len(changes)} fixed changes go" if len(changes) > 1 else "1 fixed change goes"
        lines.append(f"{what} live {span}: {items}. Programme support ends at handover, week {sc.handover}.")
    else:
        lines.append("No change programme: business as usual.")
    if interventions:
        by_kind: dict[str, list[str]] = {}
        for iv in interventions:
            when = _weeks(iv.start_week, iv.end_week)
            if iv.every_weeks:
                when += f", {iv.active_weeks} of every {iv.every_weeks} weeks"
            if iv.intensity != 1:
                when += f", at intensity {iv.intensity:g}"
            if iv.target != "staff":
                when += f", for {iv.target.replace('_', ' ')}"
            by_kind.setdefault(iv.name.replace("_", " "), []).append(when)
        items = "; ".join(f"{k} ({' and '.join(v)})" for k, v in by_kind.items())
        lines.append(f"Leadership support: {items}; planned cost GBP {planned_support_cost(sc, weeks):,.0f}k if "
                     "fully funded (what was delivered is in the cost table).")
    else:
        lines.append("No leadership interventions.")
    lines.append(f"Quarterly discretionary budget GBP {sc.budget.quarterly_budget:,.0f}k.")
    if reference is not None and reference.name != sc.name:
        changed = [c for c in settings_changed(sc, reference) if not c.startswith("`budget.quarterly_budget`")]
        if changed:
            lines.append(f"Other settings that differ from {display_title(reference)}: " + "; ".join(changed) + ".")
    return lines


# --------------------------------------------------------------------------------------------- the table


def _interval(m: Metric, lo: float, hi: float) -> str:
    a, b = m.fmt(lo), m.fmt(hi)
    return f"{a} to {b}" if a.startswith(MINUS) or b.startswith(MINUS) else f"{a}{DASH}{b}"


def _swatches(cmp: Comparison) -> dict[str, str]:
    return {cmp.titles[n]: style(i)["color"] for i, n in enumerate(cmp.names)}


def table_cells(cmp: Comparison) -> tuple[list[tuple[str, list[Cell]]], list[tuple[str, list[Cell]]]]:
    """Outcome cells (median and 90% interval) and difference cells (mean and 95% CI) per strategy title."""
    t = cmp.decision_table.set_index("scenario")
    d = cmp.differences.set_index(["scenario", "metric"])
    outcome, diffs = [], []
    for name in cmp.names:
        r = t.loc[name]
        orow, drow = [], []
        for m in METRICS:
            if not r[f"{m.key}_applies"]:
                orow.append(Cell("n/a", verdict="n/a"))
            else:
                orow.append(Cell(f"{m.fmt(r[f'{m.key}_median'])} "
                                 f"({_interval(m, r[f'{m.key}_p05'], r[f'{m.key}_p95'])})",
                                 best=bool(r[f"{m.key}_best"])))
            if name == cmp.reference:
                drow.append(Cell("reference", verdict="reference"))
                continue
            v = d.loc[(name, m.key)]
            if v["verdict"] == "n/a":
                drow.append(Cell("n/a", verdict="n/a"))
                continue
            ci = (f"[{m.fmt_diff(v['diff_lo'])}, {m.fmt_diff(v['diff_hi'])}]" if np.isfinite(v["diff_lo"])
                  else "[n/a]")
            drow.append(Cell(f"{m.fmt_diff(v['diff'])} {ci}",
                             verdict=v["verdict"] if m.ranked else None))
        outcome.append((cmp.titles[name], orow))
        diffs.append((cmp.titles[name], drow))
    return outcome, diffs


def decision_tables(cmp: Comparison) -> tuple[Table, Table]:
    """The decision table's two parts (outcomes; differences against the reference) as tables."""
    outcome, diffs = table_cells(cmp)
    sw = _swatches(cmp)
    return Table(headers(), outcome, swatches=sw), Table(headers(), diffs, swatches=sw)


def median_table(cmp: Comparison) -> Table:
    """Medians only, for the console: one row per strategy, n/a where a metric does not apply."""
    t = cmp.decision_table.set_index("scenario")
    rows = []
    for name in cmp.names:
        r = t.loc[name]
        rows.append((cmp.titles[name], [Cell(m.fmt(r[f"{m.key}_median"]), best=bool(r[f"{m.key}_best"]))
                                        if r[f"{m.key}_applies"] else Cell("n/a") for m in METRICS]))
    return Table(headers(), rows)


def headers() -> list[str]:
    """Column headers: label, unit and which direction is better (no arrow: not ranked)."""
    return [f"{m.label} ({m.unit}){' ' + ARROW[m.better] if m.ranked else ''}" for m in METRICS]


def legend(cmp: Comparison) -> str:
    """The footnote under the decision table."""
    na = "; ".join(f"{m.label}: {m.not_applicable}" for m in METRICS if m.not_applicable)
    unranked = ", ".join(m.label.lower() for m in METRICS if not m.ranked)
    return (f"{ARROW['higher']} higher is better, {ARROW['lower']} lower is better; {BEST} best median in its "
            f"column among the strategies where the metric applies (ties at the precision shown all marked); "
            f"no star is given on {unranked} (not ranked: less spend can simply mean less money). "
            f"{CLEAR_BETTER} clearly better / {CLEAR_WORSE} clearly worse than the reference "
            f"({cmp.titles[cmp.reference]}): the 95% confidence interval excludes zero. "
            f"n/a: the metric does not apply ({na}). " + ci_note(cmp.ci_method, len(cmp.seeds)))


def _week(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.0f}"


def funding_table(cmp: Comparison) -> Table:
    """Planned, delivered and unfunded cost per strategy and when interventions were cut (medians over seeds)."""
    f = cmp.funding.set_index("scenario")
    rows = []
    n = len(cmp.seeds)
    for name in cmp.names:
        r = f.loc[name]
        if r["seeds_with_cuts"]:
            when = (f"weeks {_week(r['cut_first_week'])}{DASH}{_week(r['cut_last_week'])} "
                    f"({r['cut_weeks']:.0f} weeks cut; {r['seeds_with_cuts']} of {n} seeds)")
        else:
            when = "never"
        rows.append((cmp.titles[name], [Cell(f"{r['planned_cost']:,.0f}"), Cell(f"{r['delivered_cost']:,.0f}"),
                                        Cell(f"{r['agency_cost']:,.0f}"), Cell(f"{r['intervention_cost']:,.0f}"),
                                        Cell(f"{r['unfunded_cost']:,.0f}"), Cell(when),
                                        Cell(f"{r['agency_hires_refused']:,.0f}"), Cell(f"{r['overspend']:,.0f}")]))
    head = ["Planned cost (GBP k)", "Delivered cost (GBP k)", "of which agency-worker premium (GBP k)",
            "of which interventions (GBP k)", "Unfunded interventions (GBP k)", "Interventions cut in",
            "Agency-worker cover refused (weekly hire attempts)", "Overspend (GBP k)"]
    return Table(head, rows, swatches=_swatches(cmp))


FUNDING_NOTE = ("Medians over seeds, totals over the horizon (GBP thousand). Planned = delivered + unfunded. Each week "
                "the quarterly budget pays the agency workers already in post first (contracts: never cut), then "
                "the active interventions (all scaled down together when the rest of the budget cannot pay for them: "
                "the unfunded part), and only then new agency-worker cover. Cover refused counts weekly attempts to "
                "hire cover for an empty post that the budget could not pay for: an empty post is tried again each "
                "week it stays empty, so one post refused for ten weeks counts up to ten times (it measures cover "
                "held back, not posts or people; not costed, so a small budget still lowers planned agency spend). "
                "Overspend: agency contracts above the week's budget.")


def decision_markdown(cmp: Comparison, level: int = 1) -> str:
    """decision_table.md: outcomes, paired differences and funding, one row per strategy, with the footnotes."""
    outcome, diffs = decision_tables(cmp)
    h = "#" * level
    ref = cmp.titles[cmp.reference]
    window = f" over the first {cmp.weeks} weeks" if cmp.weeks else ""
    lines = [f"{h} Decision table", "",
             f"{len(cmp.names)} strategies on the same {len(cmp.seeds)} seeds{window}; reference: **{ref}**.", "",
             f"{h}# Outcomes: median (90% interval over seeds)", "", outcome.markdown(), "",
             f"{h}# Difference against {ref}: mean paired difference [95% CI]", "",
             diffs.markdown(), "", legend(cmp), "",
             f"{h}# Cost: planned, delivered and unfunded", "", funding_table(cmp).markdown(), "", FUNDING_NOTE, ""]
    if not cmp.levers.empty:
        lines += [f"{h}# Contribution of each lever (switched off on the same seeds)", "", lever_table(cmp).markdown(),
                  "", LEVER_NOTE, ""]
    if cmp.rank_stability is not None:
        lines += [f"{h}# {RANK_STABILITY_TABLE_TITLE}", "", rank_stability_table(cmp).markdown(), "",
                  RANK_STABILITY_NOTE, ""]
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
    """'**A** has <phrase> than **B** by X (95% CI ...)', saying when the difference is not clear."""
    ta, tb = cmp.titles[a], cmp.titles[b]
    mean, lo, hi = cmp.paired(a, b, m.key)
    if lo == hi == mean == 0:
        return f"**{ta}** and **{tb}** are identical on every seed"
    if not np.isfinite(mean):
        return f"**{ta}** and **{tb}** cannot be compared on this"
    phrase = m.more if mean > 0 else m.less
    text = f"**{ta}** has {phrase} than **{tb}** {_magnitude(m, mean, lo, hi)}"
    if np.isfinite(lo) and lo <= 0 <= hi:
        text += "; the interval includes zero, so the two cannot be told apart on this"
    return text


def _eligible(cmp: Comparison, m: Metric) -> list[str]:
    t = cmp.decision_table.set_index("scenario")
    return [n for n in cmp.names if t.loc[n, f"{m.key}_applies"]]


def _ranked(cmp: Comparison, m: Metric) -> list[str]:
    """Strategies where the metric applies, best to worst: by median, ties broken by the mean over seeds."""
    t = cmp.decision_table.set_index("scenario")[f"{m.key}_median"]
    mean = cmp.summary.groupby("scenario", observed=True)[m.key].mean()
    return sorted(_eligible(cmp, m), key=lambda n: (-m.sign * round(t[n] * m.scale, m.decimals), -m.sign * mean[n],
                                                    cmp.names.index(n)))


def _best_names(cmp: Comparison, m: Metric) -> list[str]:
    t = cmp.decision_table.set_index("scenario")
    return [n for n in cmp.names if t.loc[n, f"{m.key}_best"]]


def _join(cmp: Comparison, names: list[str]) -> str:
    names = [f"**{cmp.titles[n]}**" for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _not_applicable(cmp: Comparison, m: Metric) -> str:
    gone = [n for n in cmp.names if n not in _eligible(cmp, m)]
    return f" Not ranked for {_join(cmp, gone)}: {m.not_applicable}." if gone and m.not_applicable else ""


def headline(cmp: Comparison) -> list[str]:
    """Which strategy is best on transition risk, culture and cost, and what the risk leader costs."""
    out = []
    leaders_by_group = {}
    for group in dict.fromkeys(m.group for m in METRICS):
        ms = [m for m in METRICS if m.group == group and m.ranked]
        wins = {n: sum(n in _best_names(cmp, m) for m in ms) for n in cmp.names}
        top = max(wins.values())
        leaders = [n for n in cmp.names if wins[n] == top]
        leaders_by_group[group] = leaders
        what = ", ".join(m.label.lower() for m in ms)
        out.append(f"{group} ({what}): {_join(cmp, leaders)} {'is' if len(leaders) == 1 else 'are'} best (or tied "
                   f"best) on {top} of {len(ms)}.")
    cost = METRIC_BY_KEY["planned_cost"]
    for n in leaders_by_group.get("Transition risk", []):
        if n != cmp.reference:
            out.append(f"At what cost: {contrast(cmp, n, cmp.reference, cost)} over the horizon (planned cost: what "
                       "the strategy costs if fully funded).")
    out += funding_lines(cmp)
    if cmp.weeks:
        late = [n for n in cmp.names if cmp.programmes[n][1] >= cmp.weeks]
        if late:
            out.append(f"Window: only the first {cmp.weeks} weeks are compared; handover comes later for "
                       f"{_join(cmp, late)}, so their slippage cannot be judged yet.")
    return out


def funding_lines(cmp: Comparison) -> list[str]:
    """Strategies whose plan was not fully funded: how much was cut and when (medians over seeds)."""
    f = cmp.funding.set_index("scenario")
    out = []
    ref = f.loc[cmp.reference, "agency_hires_refused"]
    for n in cmp.names:
        r = f.loc[n]
        if n != cmp.reference and r["agency_hires_refused"] > ref + 5:
            out.append(f"Cover cut: **{cmp.titles[n]}** was refused agency-worker cover for empty posts "
                       f"{r['agency_hires_refused']:,.0f} times for lack of budget ({ref:,.0f} for the reference; "
                       "weekly hire attempts, so a post refused for several weeks counts once a week; median over "
                       "seeds): those posts stayed empty, which lowers its agency spend and so its planned cost.")
        if r["unfunded_cost"] > 0.5 and r["planned_intervention_cost"] > 0:
            share = r["unfunded_cost"] / r["planned_intervention_cost"]
            out.append(f"Unfunded: **{cmp.titles[n]}** could not pay for GBP {r['unfunded_cost']:,.0f}k "
                       f"({share:.0%}) of its planned interventions; they were scaled down in weeks "
                       f"{_week(r['cut_first_week'])}{DASH}{_week(r['cut_last_week'])} (median over seeds). Its "
                       f"delivered cost (GBP {r['delivered_cost']:,.0f}k) understates the plan (GBP "
                       f"{r['planned_cost']:,.0f}k): less was spent because the budget ran short, not because the "
                       "plan is cheaper.")
    return out


def metric_lines(cmp: Comparison) -> list[str]:
    """Per ranked metric: the best strategy and how it compares with the next best."""
    out = []
    t = cmp.decision_table.set_index("scenario")
    for m in METRICS:
        if not m.ranked:
            continue
        ranked = _ranked(cmp, m)
        if not ranked:
            out.append(f"{m.label}: does not apply to any strategy here ({m.not_applicable}).")
            continue
        best = ranked[0]
        tied = _best_names(cmp, m)
        med = t.loc[best, f"{m.key}_median"]
        who = (f"**{cmp.titles[best]}**" if len(tied) <= 1 else
               f"{_join(cmp, sorted(tied, key=ranked.index))} (tied at the precision shown)")
        line = f"{m.label}: best under {who}, median {m.with_unit(med)}."
        if len(ranked) > 1:
            line += f" Against the next best: {contrast(cmp, best, ranked[1], m)}."
        line += _not_applicable(cmp, m)
        if m.key == "morale_trough":
            at_start = [n for n in cmp.names if cmp.metric_values(n, "morale_trough_week").median() == 0]
            if at_start:
                line += (f" For {_join(cmp, at_start)} the lowest morale is at the start (week 0, median over seeds): "
                         "the strategy did not push morale below its starting level.")
        out.append(line)
    return out


def diff_with_ci(m: Metric, mean: float, lo: float, hi: float) -> str:
    """'+1.7 [+1.2, +2.2] pts': a signed difference, its 95% CI and a short unit."""
    unit = " pts" if m.unit == "%" or m.diff_unit == "points" else " GBP k" if m.unit.startswith("GBP") else ""
    ci = f" [{m.fmt_diff(lo)}, {m.fmt_diff(hi)}]" if np.isfinite(lo) else ""
    return f"{m.fmt_diff(mean)}{ci}{unit}"


def levers(cmp: Comparison, name: str) -> str:
    """The levers behind a strategy's differences: its fixed changes and interventions, and budget if different."""
    sc = cmp.scenarios[cmp.names.index(name)]
    ref = cmp.scenarios[cmp.names.index(cmp.reference)]
    end = cmp.horizon
    mine = cmp.active_interventions(name)
    theirs = set(cmp.active_interventions(cmp.reference))
    parts = []
    n_changes = sum(c.start_week < end for c in sc.planned()[0])
    n_ref = sum(c.start_week < end for c in ref.planned()[0])
    if n_changes != n_ref:
        parts.append(f"{n_changes} fixed changes (reference {n_ref})")
    added = [k.replace("_", " ") for k in mine if k not in theirs]
    if added:
        parts.append("interventions " + ", ".join(added))
    removed = [k.replace("_", " ") for k in theirs if k not in mine]
    if removed:
        parts.append("without " + ", ".join(removed))
    if sc.budget.quarterly_budget != ref.budget.quarterly_budget:
        parts.append(f"budget GBP {sc.budget.quarterly_budget:,.0f}k a quarter (reference "
                     f"{ref.budget.quarterly_budget:,.0f}k)")
    # scheduled events (inspections, incidents, leaver waves, ...) that one side has and the other not: a twin that
    # differs only by an event owes its differences to that event
    ref_events = [e.model_dump() for e in ref.events]
    own_events = [e.model_dump() for e in sc.events]
    extra = [_event(e) for e in sc.events if e.model_dump() not in ref_events]
    if extra:
        parts.append("events " + ", ".join(extra))
    missing = [_event(e) for e in ref.events if e.model_dump() not in own_events]
    if missing:
        parts.append("without the reference's events " + ", ".join(missing))
    return "; ".join(parts) if parts else "no scheduled lever differs (other settings differ: see above)"


def _event(e: Any) -> str:
    """'inspection at week 30': an event as a director reads it."""
    return f"{e.kind.replace('_', ' ')} at week {e.week}"


def reference_lines(cmp: Comparison) -> list[str]:
    """Per strategy: where it is clearly better or worse than the reference, and the levers behind it."""
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
        unclear = [m.label.lower() for m in METRICS if m.ranked and d.loc[(name, m.key)]["verdict"] == "unclear"]
        if unclear:
            parts.append("no clear difference in " + ", ".join(unclear))
        na = [m.label.lower() for m in METRICS if d.loc[(name, m.key)]["verdict"] == "n/a"]
        if na:
            parts.append("not comparable on " + ", ".join(na))
        out.append(f"**{cmp.titles[name]}** against **{cmp.titles[cmp.reference]}**: " + "; ".join(parts)
                   + f". Levers that differ: {levers(cmp, name)}.")
    return out


LEVER_METRICS = ("morale_trough", "peak_turnover_12m", "culture_attainment", "culture_kept", "planned_cost")


def lever_table(cmp: Comparison) -> Table:
    """Each strategy's levers (rows) by key metric: the paired effect of the lever, i.e. as run − without it."""
    lv = cmp.levers.set_index(["scenario", "lever", "metric"])
    metrics = [METRIC_BY_KEY[k] for k in LEVER_METRICS]
    rows = []
    for name in cmp.names:
        for lever in dict.fromkeys(cmp.levers.loc[cmp.levers["scenario"] == name, "lever"]):
            cells = []
            for m in metrics:
                v = lv.loc[(name, lever, m.key)]
                if v["verdict"] == "n/a":
                    cells.append(Cell("n/a", verdict="n/a"))
                else:
                    cells.append(Cell(diff_with_ci(m, v["contribution"], v["contribution_lo"], v["contribution_hi"]),
                                      verdict=v["verdict"]))
            rows.append((f"{cmp.titles[name]}: {lever.replace('_', ' ')}", cells))
    head = [f"{m.label} ({m.diff_unit or m.unit}){' ' + ARROW[m.better]}" for m in metrics]
    return Table(head, rows, label_header="Strategy: lever")


LEVER_NOTE = ("Contribution of a lever = mean paired difference (strategy as run − the same strategy with that "
              "intervention switched off) on the same seeds, with its 95% CI; ✓ / ✗: clearly helps / clearly hurts on "
              "that metric. Contributions need not add up to the strategy's difference from the reference: levers "
              "interact and share one budget.")


def lever_lines(cmp: Comparison) -> list[str]:
    """Per strategy: the levers that clearly moved a key metric, in words."""
    if cmp.levers.empty:
        return []
    out = []
    for name in cmp.names:
        g = cmp.levers[(cmp.levers["scenario"] == name) & cmp.levers["metric"].isin(LEVER_METRICS)
                       & cmp.levers["verdict"].isin(["better", "worse"])]
        if g.empty:
            continue
        parts = []
        for lever, gl in g.groupby("lever", sort=False):
            items = [f"{METRIC_BY_KEY[r.metric].label.lower()} "
                     f"{diff_with_ci(METRIC_BY_KEY[r.metric], r.contribution, r.contribution_lo, r.contribution_hi)}"
                     for r in gl.itertuples()]
            parts.append(f"{lever.replace('_', ' ')} ({'; '.join(items)})")
        out.append(f"**{cmp.titles[name]}**: switching a lever off on the same seeds shows what it did: "
                   + "; ".join(parts) + ".")
    return out


RANK_STABILITY_TITLE = "Rank stability across the calibration posterior"
RANK_STABILITY_TABLE_TITLE = "Rank stability: share of posterior draws in which each strategy is best"
RANK_STABILITY_NOTE = ("Each seed ran with its own draw of the uncertain parameters from the calibration posterior, "
                       "the same draw for every strategy on that seed; share of draws in which each strategy is best "
                       "on the metric (ties share the win); ★: most often best. Below 70%: the ranking is not stable.")


def rank_stability_lines(cmp: Comparison) -> list[str]:
    """With `--posterior`: per metric, which strategy wins in how many posterior draws, with display titles."""
    table = cmp.rank_stability.assign(strategy=cmp.rank_stability["strategy"].map(cmp.titles))
    return stability_lines(table, cmp.posterior_source)


def rank_stability_table(cmp: Comparison) -> Table:
    """With `--posterior`: metrics (rows) by strategy, the share of posterior draws in which it is best."""
    rs = cmp.rank_stability
    rows = []
    for _, g in rs.groupby("metric", sort=False):
        share = dict(zip(g["strategy"], g["win_share"], strict=True))
        top = max(share.values())
        rows.append((str(g["label"].iloc[0]),
                     [Cell(f"{share[n]:.0%}", best=bool(share[n] == top)) for n in cmp.names]))
    return Table([cmp.titles[n] for n in cmp.names], rows, label_header="Metric: share of draws best")


def reading_sections(cmp: Comparison) -> list[tuple[str, list[str]]]:
    """The generated reading in sections: headline, metric by metric, against the reference."""
    if len(cmp.names) < 2:
        return [("Headline", [f"Only one strategy (**{cmp.titles[cmp.names[0]]}**) was run; there is nothing to "
                              "compare.", *funding_lines(cmp)])]
    sections = [("Headline", headline(cmp)), ("Metric by metric", metric_lines(cmp)),
                (f"Against the reference ({cmp.titles[cmp.reference]})", reference_lines(cmp))]
    levers = lever_lines(cmp)
    if levers:
        sections.append(("Which levers produced the differences", levers))
    if cmp.rank_stability is not None:
        sections.append((RANK_STABILITY_TITLE, rank_stability_lines(cmp)))
    return sections


def reading(cmp: Comparison) -> list[str]:
    """The generated reading as a flat list of statements."""
    return [line for _, lines in reading_sections(cmp) for line in lines]
