"""The optimiser's figures and report.html, written for a strategy team that does not read the code."""

from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from culturedrift.experiments.reporting.html import Figure, page, raw
from culturedrift.experiments.reporting.html import inline as inline_html
from culturedrift.experiments.reporting.style import DPI, RC, style
from culturedrift.experiments.reporting.text import describe_scenario
from culturedrift.experiments.workflows.optimise.spec import METRIC, fmt_lever, lever_label

if TYPE_CHECKING:
    from culturedrift.experiments.workflows.optimise.workflow import Outcome

REC_COLOUR = "#D55E00"


def _axis(key: str) -> str:
    m = METRIC[key]
    return f"{m.label} ({m.unit}) \u2014 {m.better} is better"


#: where each recommendation's number sits around its star (points): up-right, down-right, up-left, down-left
LABEL_OFFSETS = ((7, 7), (7, -16), (-16, 7), (-16, -16))
#: room (points) kept between the outermost point and the axes, so a star and its number never touch an axis
EDGE_ROOM = 26.0


def _make_room(fig: plt.Figure, ax: plt.Axes) -> None:
    """EDGE_ROOM points of margin on every side, whatever the axes' size and data range: no star on an axis."""
    w, h = (ax.get_position().size * fig.get_size_inches()) * 72
    ax.margins(x=EDGE_ROOM / w, y=EDGE_ROOM / h)


def pareto_figure(o: Outcome, path: Path) -> Path:
    """Every trial (grey), the Pareto front (orange), the recommendations (numbered) and the shipped strategies."""
    with plt.rc_context(RC):
        fig = _pareto(o)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def _pareto(o: Outcome) -> plt.Figure:
    """The Pareto figure drawn but not saved, so a test can see where every star and number falls."""
    objs = o.spec.objectives
    pairs = list(itertools.combinations(objs, 2)) or [(objs[0], objs[0])]
    # wide enough for the title and a two-column legend even with one pair of objectives
    fig, axes = plt.subplots(1, len(pairs), figsize=(max(5.2 * len(pairs) + 0.6, 8.6), 5.6), squeeze=False)
    stars: dict[plt.Axes, list[tuple[float, float, str]]] = {ax: [] for ax in axes[0]}
    for ax, (ox, oy) in zip(axes[0], pairs, strict=True):
        mx, my = METRIC[ox], METRIC[oy]
        t = o.trials
        if not t.empty:
            feas = t[t["feasible"]]
            infeas = t[~t["feasible"]]
            ax.scatter(feas[f"objective.{ox}"] * mx.scale, feas[f"objective.{oy}"] * my.scale, s=14,
                       color="#9a9a9a", alpha=0.6, label="candidate schedules tried", zorder=1)
            if len(infeas):
                ax.scatter(infeas[f"objective.{ox}"] * mx.scale, infeas[f"objective.{oy}"] * my.scale,
                           s=14, marker="x", color="#c9c9c9", label="breaks a constraint", zorder=1)
        p = o.pareto
        if not p.empty:
            ax.scatter(p[f"objective.{ox}"] * mx.scale, p[f"objective.{oy}"] * my.scale, s=30,
                       color=REC_COLOUR, alpha=0.85, label="Pareto front (no other is better on all)",
                       zorder=2)
            for _, r in p[p["recommended"].notna()].iterrows():
                x, y = r[f"objective.{ox}"] * mx.scale, r[f"objective.{oy}"] * my.scale
                ax.scatter([x], [y], s=180, marker="*", color=REC_COLOUR, edgecolor="black", linewidth=0.8,
                           zorder=4)
                stars[ax].append((x, y, str(r["recommended"]).rsplit("_", 1)[-1]))
        for i, (_, r) in enumerate(o.shipped.iterrows()):
            st = style(i + 2)  # orange is kept for the search's own schedules
            ax.scatter([r[f"objective.{ox}"] * mx.scale], [r[f"objective.{oy}"] * my.scale], s=70,
                       marker=st["marker"], color=st["color"], edgecolor="white", zorder=3,
                       label=f"shipped: {r['strategy']}")
        ax.set_xlabel(_axis(ox))
        ax.set_ylabel(_axis(oy))
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], marker="*", color=REC_COLOUR, markeredgecolor="black", linestyle="",
                              markersize=13))
    labels.append("recommended schedule (number = file suffix)")
    ncol = min(2 * len(pairs), 4, len(labels))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False)
    stat = "mean" if o.spec.m.statistic == "mean" else "worst decile"
    fig.suptitle(f"What the search found: {stat} over {len(o.spec.search_seeds())} paired search seeds",
                 x=0.03, ha="left", fontsize=13, fontweight="bold")
    rows = -(-len(labels) // ncol)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14 + 0.055 * rows, top=0.88,
                        wspace=0.3)
    for ax in axes[0]:
        _make_room(fig, ax)
        _number_stars(fig, ax, stars[ax])
    return fig


def _number_stars(fig: plt.Figure, ax: plt.Axes, stars: list[tuple[float, float, str]]) -> None:
    """Each recommendation's number on the side of its star farthest from the other stars and numbers.

    Recommendations cluster on the front; a number put in a fixed direction can sit nearer another star than
    its own, and a reader then credits the wrong schedule.
    """
    ax.autoscale_view()
    pts = 72 / fig.dpi  # display pixels to points
    xy = ax.transData.transform([(x, y) for x, y, _ in stars]) * pts if stars else np.empty((0, 2))
    placed: list[np.ndarray] = []
    for i, (x, y, text) in enumerate(stars):
        others = [xy[k] for k in range(len(stars)) if k != i] + placed

        def room(off: tuple[int, int], i: int = i, others: list[np.ndarray] = others) -> float:
            centre = xy[i] + np.array(off) + (3, 4)  # a one-digit bold number's middle, from its anchor
            return min((float(np.hypot(*(centre - o))) for o in others), default=np.inf)

        best = max(LABEL_OFFSETS, key=room)  # ties: the first in LABEL_OFFSETS
        placed.append(xy[i] + np.array(best) + (3, 4))
        ax.annotate(text, (x, y), xytext=best, textcoords="offset points", fontsize=10, fontweight="bold",
                    zorder=5)


def importance_figure(o: Outcome, path: Path) -> Path:
    """Which levers mattered: fANOVA importance per objective (share of the explained variation)."""
    imp = o.importances
    objs = [x for x in o.spec.objectives if x in set(imp["objective"])]
    levers = [lv.key for lv in o.spec.levers]
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, len(objs), figsize=(4.2 * len(objs) + 3.5, 0.42 * len(levers) + 1.8),
                                 sharey=True, squeeze=False)
        for k, (ax, obj) in enumerate(zip(axes[0], objs, strict=True)):
            s = imp[imp["objective"] == obj].set_index("lever")["importance"].reindex(levers).fillna(0.0)
            ax.barh(range(len(levers)), s.to_numpy() * 100, color=style(k + 2)["color"])
            ax.set_yticks(range(len(levers)), [lever_label(x) for x in levers])
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("% of the variation explained")
            ax.set_title(METRIC[obj].label, fontsize=10)
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle("Which levers mattered (fANOVA importance over the trials)", x=0.02, ha="left",
                     fontsize=12, fontweight="bold")
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def _img(path: Path, caption: str) -> str:
    return str(Figure(path, caption).html())


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td{' class=name' if i == 0 else ''}>{html.escape(str(v))}</td>"
                                    for i, v in enumerate(r)) + "</tr>" for r in df.itertuples(index=False))
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _fmt(key: str, v: float) -> str:
    return METRIC[key].fmt(v) + ("%" if METRIC[key].unit == "%" else "")


def lever_table(o: Outcome) -> pd.DataFrame:
    """What was searched: each lever and its range."""
    return pd.DataFrame([{"Lever": lever_label(lv.key), "From": fmt_lever(lv, lv.low), "To": fmt_lever(lv, lv.high)}
                         for lv in o.spec.levers])


def front_table(o: Outcome) -> pd.DataFrame:
    """The Pareto front: objectives and lever values, one row per schedule."""
    rows = []
    for _, r in o.pareto.iterrows():
        row = {"Schedule": r["recommended"] if isinstance(r["recommended"], str) else f"trial {int(r['trial'])}"}
        row.update({METRIC[x].label: _fmt(x, r[f"objective.{x}"]) for x in o.spec.objectives})
        row.update({lever_label(lv.key): fmt_lever(lv, r[lv.key]) for lv in o.spec.levers})
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_sentences(o: Outcome) -> list[str]:
    """The out-of-sample finding in plain words, honest when nothing wins."""
    v = o.verdicts
    if v.empty:
        return ["No out-of-sample comparison was made (no recommended schedule or no shipped strategy)."]
    n = len(o.spec.report_seeds())
    lines = []
    shipped = list(dict.fromkeys(v["shipped"]))
    for r in dict.fromkeys(v["recommended"]):
        sub = v[v["recommended"] == r]
        beaten = [h for h in shipped if sub[sub["shipped"] == h]["beats"].all()]
        parts = []
        for h in shipped:
            hv = sub[sub["shipped"] == h]
            better = [METRIC[x].label.lower() for x in hv[hv["verdict"] == "better"]["objective"]]
            worse = [METRIC[x].label.lower() for x in hv[hv["verdict"] == "worse"]["objective"]]
            txt = f"against {h}: better on {', '.join(better) or 'nothing'}"
            txt += f", worse on {', '.join(worse)}" if worse else ", worse on nothing"
            parts.append(txt)
        head = (f"**{r} beats every shipped strategy** on fresh seeds" if len(beaten) == len(shipped) else
                f"**{r}** beats {len(beaten)} of {len(shipped)} shipped strategies on fresh seeds"
                + (f" ({', '.join(beaten)})" if beaten else ""))
        lines.append(f"{head} — {'; '.join(parts)}.")
    if not o.winners:
        lines.append(f"Honest reading: no recommended schedule is clearly better than every shipped strategy on "
                     f"at least one objective without being clearly worse on another, over {n} fresh seeds. "
                     "Differences that the 95% intervals cannot separate from zero count as neither better nor "
                     "worse.")
    return lines


def constraint_sentences(o: Outcome) -> list[str]:
    """What the constraints cost: where candidates that break them do better than any that keep them."""
    t = o.trials
    if t.empty or t["feasible"].all() or not t["feasible"].any():
        return []
    feas, infeas = t[t["feasible"]], t[~t["feasible"]]
    parts = []
    for x in o.spec.objectives:
        m = METRIC[x]
        col = f"objective.{x}"
        best_in = feas[col].max() if m.better == "higher" else feas[col].min()
        best_out = infeas[col].max() if m.better == "higher" else infeas[col].min()
        if m.better_of(best_out, best_in):
            parts.append(f"{m.label.lower()} {_fmt(x, best_out)} against {_fmt(x, best_in)}")
    if not parts:
        return []
    return [f"{len(infeas)} of {len(t)} candidates broke a constraint (e.g. a change live after its key date). The "
            f"best of them reached {'; '.join(parts)} within the constraints: that is what the constraints cost."]


def html_report(o: Outcome, figs: dict[str, Path]) -> str:
    """report.html: what was searched, what was found, trade-offs, which levers mattered, where advice fails."""
    s = o.spec
    stat = ("the **mean** over the evaluation points" if s.m.statistic == "mean" else
            "the **worst decile** (90th percentile of a lower-is-better metric, 10th of a higher-is-better one)")
    objs = ", ".join(f"{METRIC[x].label} ({METRIC[x].better} is better)" for x in s.objectives)
    seeds = s.search_seeds()
    cons = []
    for c in s.m.constraints:
        if hasattr(c, "live_by"):
            cons.append("every fixed change live by its key date (" + ", ".join(
                f"{k.replace('_', ' ')}: week {w}" for k, w in c.live_by.items()) + ")")
        else:
            cons.append(f"{METRIC[c.metric].label} {'at most' if c.max is not None else 'at least'} "
                        f"{_fmt(c.metric, c.max if c.max is not None else c.min)}")
    p = ["<h2>In short</h2><ul class='reading'>"]
    p += [f"<li>{inline_html(x)}</li>" for x in verdict_sentences(o) + constraint_sentences(o)]
    if o.robustness is not None:
        p += [f"<li>{inline_html(x)}</li>" for x in o.robustness.headline()]
    p.append("</ul>")
    p += ["<h2>What was searched</h2>",
          f"<p>Starting from the base scenario <code>{html.escape(s.m.base)}</code>, the search tried "
          f"{len(o.trials)} candidate schedules ({s.search.sampler.upper()} sampler of optuna, seed {s.search.seed}) "
          f"over these levers:</p>", _table(lever_table(o)),
          f"<p>Objectives: {html.escape(objs)}. Constraints: {html.escape('; '.join(cons) or 'none')}.</p>",
          "<p>" + str(inline_html(
              f"Each candidate was scored on the same {len(seeds)} search seeds ({seeds[0]}-{seeds[-1]}, common "
              "random numbers: candidates on one seed share their luck), and each objective is " + stat + ". The "
              "mean is the default because with a handful of seeds it is the least noisy statistic, and pairing "
              "makes the differences between candidates sharper than the spread of each.")) + "</p>"]
    p += ["<h2>What was found: the trade-offs</h2>",
          "<p>No schedule is best on everything. The <b>Pareto front</b> holds the schedules that no other schedule "
          "beats on every objective at once: moving along it buys one objective with another. Stars are the "
          "recommended schedules, written as scenario files in <code>recommended/</code>.</p>",
          _img(figs["fig_pareto.png"], "Each dot is a candidate schedule scored on the search seeds; orange: the "
               "Pareto front; stars: recommended; coloured markers: the shipped hand-made strategies on the same "
               "seeds."),
          "<h3>Pareto front</h3>", _table(front_table(o))]
    if o.comparison is not None:
        n = len(s.report_seeds())
        p += ["<h2>Checked on fresh seeds</h2>",
              f"<p>The recommended schedules and the shipped strategies were run again on {n} fresh seeds "
              f"(0-{n - 1}, none of them used by the search), so a schedule that only did well by luck on the "
              "search seeds shows up here. Better / worse means the 95% confidence interval of the paired "
              "difference lies entirely on one side of zero.</p>", _verdict_html(o),
              "<p>Full decision table and figures: <a href='compare/report.html'>compare/report.html</a>.</p>"]
        p.append("<h3>The recommended schedules</h3>")
        for sc in o.recommended:
            p.append(f"<h4>{html.escape(sc.name)} (<code>recommended/{html.escape(sc.name)}.yaml</code>)</h4><ul>")
            p += [f"<li>{inline_html(x)}</li>" for x in describe_scenario(sc)[1:]]
            p.append("</ul>")
    if "fig_importance.png" in figs:
        p += ["<h2>Which levers mattered</h2>",
              "<p>The share of the variation in each objective over the trials that each lever explains "
              "(fANOVA importance, optuna). A lever with a small share hardly changed the outcome within its "
              "range: it can be set for other reasons.</p>",
              _img(figs["fig_importance.png"], "Lever importance per objective")]
    if o.robustness is not None:
        p += ["<h2>Where the advice fails</h2>", o.robustness.html_section(prefix="robustness/")]
    p += ["<h2>Caveats</h2><p class='note'>The numbers come from a simulation model whose parameters are partly "
          "assumptions. A recommendation is only as good as the levers and ranges searched and the objectives "
          "chosen; read the trade-offs, not one number. Reproduce with <code>culturedrift optimise "
          f"{html.escape(s.path.name)}</code>; the study (all trials) is in <code>study.db</code>.</p>"]
    return page(f"Rollout optimisation: {s.name}", [raw("\n".join(p))], subtitle=s.m.description)


def _verdict_html(o: Outcome) -> str:
    v = o.verdicts
    objs = o.spec.objectives
    head = "".join(f"<th>{html.escape(METRIC[x].label)}</th>" for x in objs)
    rows = []
    mark = {"better": "\u2713 better", "worse": "\u2717 worse", "unclear": "unclear"}
    for (r, h), g in v.groupby(["recommended", "shipped"], sort=False):
        g = g.set_index("objective")
        cells = []
        for x in objs:
            m = METRIC[x]
            d = g.loc[x]
            diff = f"{m.fmt_diff(d['diff'])} [{m.fmt_diff(d['diff_lo'])}, {m.fmt_diff(d['diff_hi'])}]"
            cells.append(f"<td class='{d['verdict']}'>{mark.get(d['verdict'], d['verdict'])}<br>"
                         f"<small>{html.escape(diff)}</small></td>")
        beats = "yes" if g["beats"].iloc[0] else "no"
        rows.append(f"<tr><td class='name'>{html.escape(r)} vs {html.escape(h)}</td>{''.join(cells)}"
                    f"<td class='{'better' if beats == 'yes' else ''}'>{beats}</td></tr>")
    return ("<div class='scroll'><table><thead><tr><th class='name'>Recommended vs shipped</th>" + head +
            "<th>Beats it?</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
            "<p class='note'>Cells: verdict, then the mean paired difference (recommended \u2212 shipped) with its "
            "95% interval, in the metric's display unit (percentage points for rates).</p>")
