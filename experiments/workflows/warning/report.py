"""The warn report: a page a director reads in five minutes (report.md, report.html) with its figures and tables."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from culturedrift.experiments.execution.files import staging
from culturedrift.experiments.reporting.html import markdown_page
from culturedrift.experiments.reporting.style import COLOURS, DPI, RC
from culturedrift.experiments.workflows.warning.experiment import (
    CALENDAR,
    NOISE,
    OWN,
    RISE,
    WarnResult,
    column_of,
    kind_of,
    rise_window,
    rule_of,
)
from culturedrift.model.observables import OBSERVABLE, RECOMMENDED_RULE, AlarmRule

TITLE = "Early warning of culture slippage"
SHOWN = ("obs_procedural_practice", "obs_recording_time", "obs_time_with_children", "obs_caseload",
         "obs_morale_survey", "obs_vacancy")


def label(col: str) -> str:
    """Readable name of a scored column."""
    if col in OBSERVABLE:
        return OBSERVABLE[col].label
    if col.startswith(RISE):
        key = col.removeprefix(RISE)
        avg = ", 3-report mean" if rise_window(key) > 1 else ""
        return f"{OBSERVABLE[key].label}{avg}: change since handover"
    if col.startswith("csd_"):
        what, src = col.split(":", 1)
        return f"{'Variance' if what == 'csd_var' else 'Lag-1 autocorrelation'} of {OBSERVABLE[src].label.lower()}"
    return {"combo:logistic": "Logistic model (all observables)", "combo:tree": "Small tree (depth 2)",
            NOISE: "Control: pure noise", CALENDAR: "Control: weeks since handover"}.get(col, col)


def level_text(col: str, level: float) -> str:
    """An oriented alarm level back in the indicator's own units and words (the rule it makes, as it fires)."""
    if not np.isfinite(level):
        return "n/a"
    if col in OBSERVABLE:
        return rule_of(col, level, 0).condition()
    if col.startswith(RISE):
        return rule_of(col, level, 0).condition(baseline="its level at handover")
    if col.startswith("combo:"):
        return f"risk above {level:.2f}"
    if col == CALENDAR:
        return f"first {-level:.0f} weeks after handover"
    return f"above {level:.3g}"


def _ci(v: float, lo: float, hi: float, fmt: str = "{:.2f}", pct: bool = False) -> str:
    if not np.isfinite(v):
        return "n/a"
    f = (lambda x: f"{100 * x:.0f}%") if pct else fmt.format
    return f"{f(v)} [{f(lo)}, {f(hi)}]" if np.isfinite(lo) else f(v)


def _align(*left: bool) -> str:
    """A Markdown table's separator row: text columns left-aligned, numbers right-aligned."""
    return "|" + "".join(":---|" if is_text else "---:|" for is_text in left)


def ranking_table(res: WarnResult, kinds: tuple[str, ...] | None = None) -> list[str]:
    """Markdown table of the scored indicators, best AUC first."""
    t = res.scores if kinds is None else res.scores[res.scores["kind"].isin(kinds)]
    head = ["Rank", "Indicator", "Kind", "AUC [95% CI]", "Notice, weeks (median) [95% CI]", "Hit rate [CI]",
            "False-alarm rate [CI]", "Alarm level"]
    lines = ["| " + " | ".join(head) + " |", _align(False, True, True, False, False, False, False, True)]
    for i, r in enumerate(t.itertuples(), 1):
        lines.append("| " + " | ".join([
            str(i), label(r.indicator), r.kind, _ci(r.auc, r.auc_lo, r.auc_hi),
            _ci(r.lead_weeks, r.lead_lo, r.lead_hi, "{:.0f}"), _ci(r.hit_rate, r.hit_rate_lo, r.hit_rate_hi, pct=True),
            _ci(r.false_alarm_rate, r.false_alarm_rate_lo, r.false_alarm_rate_hi, pct=True),
            level_text(r.indicator, r.alarm_level)]) + " |")
    return lines


def _row(res: WarnResult, col: str) -> pd.Series | None:
    t = res.scores.set_index("indicator")
    return t.loc[col] if col in t.index else None


# ------------------------------------------------------------------------------------------------ figures


def fig_ranking(res: WarnResult, path: Path) -> Path:
    """AUC and notice per indicator, with 95% intervals over seeds."""
    t = res.scores[np.isfinite(res.scores["auc"])].iloc[::-1]
    colours = {"observable": COLOURS[2], "observable (rise)": COLOURS[6], "critical slowing down": COLOURS[1],
               "combination": COLOURS[3],
               "control": "#7F7F7F"}
    with plt.rc_context(RC):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 0.38 * max(len(t), 3) + 2.0), sharey=True,
                                     gridspec_kw={"width_ratios": [1.2, 1]})
        y = np.arange(len(t))
        c = [colours[k] for k in t["kind"]]
        a1.errorbar(t["auc"], y, xerr=[t["auc"] - t["auc_lo"], t["auc_hi"] - t["auc"]], fmt="none", ecolor=c)
        a1.scatter(t["auc"], y, c=c, zorder=3)
        a1.axvline(0.5, color="k", lw=0.8, ls=":")
        a1.set_yticks(y, [label(i) for i in t["indicator"]])
        a1.set_xlabel("AUC on test runs\n(0.5 = no information)")  # two lines: the panels' labels never meet
        a1.set_xlim(0.2, 1.0)
        lead = t["lead_weeks"].fillna(np.nan)
        a2.errorbar(lead, y, xerr=[(lead - t["lead_lo"]).clip(lower=0), (t["lead_hi"] - lead).clip(lower=0)],
                    fmt="none", ecolor=c)
        a2.scatter(lead, y, c=c, zorder=3)
        a2.axvline(0, color="k", lw=0.8, ls=":")
        hz = res.experiment.label.horizon_weeks
        a2.set_xlabel(f"Notice before slippage, weeks\n(median; at most {hz})")
        if np.isfinite(t["lead_lo"]).any():  # room right of the cap, so points at the full horizon are not cut
            a2.set_xlim(min(float(np.nanmin(t["lead_lo"])), 0.0) - 0.06 * hz, hz * 1.08)
        if t.empty:  # too few test runs with and without slippage to score anything: say so
            a1.set_yticks([])
            a1.text(0.5, 0.5, "no indicator could be scored on the test runs", ha="center", va="center",
                    transform=a1.transAxes, bbox={"fc": "white", "ec": "none"})
            a2.set_xlim(-res.experiment.label.horizon_weeks / 2, res.experiment.label.horizon_weeks + 2)
        kinds = [k for k in colours if k in set(t["kind"])] or list(colours)
        handles = [plt.Line2D([], [], ls="", marker="o", color=colours[k], label=k) for k in kinds]
        # the key sits in a band of its own under the title, so it never covers the title or a point
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.42 / fig.get_figheight()),
                   ncol=len(handles), fontsize=8, frameon=False, handletextpad=0.2, columnspacing=1.2)
        fig.suptitle("Which indicators warn, and how early", x=0.01, ha="left", fontweight="bold")
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.62 / fig.get_figheight()))
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def fig_roc(res: WarnResult, path: Path, n: int = 6) -> Path:
    """ROC curves on the test runs: the best observables, the combinations and the controls."""
    t = res.scores
    top = list(t[t["kind"].str.startswith("observable")]["indicator"][:n - 2])
    cols = top + [c for c in ("combo:logistic", NOISE, CALENDAR) if c in res.curves]
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(6.4, 5.6))
        for i, col in enumerate(cols):
            if col not in res.curves:
                continue
            fpr, tpr = res.curves[col]
            r = _row(res, col)
            ls = ":" if kind_of(col) == "control" else "-"
            ax.plot(fpr, tpr, ls, color=COLOURS[(i + 1) % len(COLOURS)] if ls == "-" else "#7F7F7F",
                    label=f"{label(col)} (AUC {r['auc']:.2f})", lw=1.6)
        ax.plot([0, 1], [0, 1], color="k", lw=0.6)
        ax.set_xlabel("False-alarm rate (share of quiet decision points flagged)")
        ax.set_ylabel("Hit rate (share of pre-slippage points flagged)")
        ax.set_title("ROC on test runs (decision points every month)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7.5, loc="lower right")
        else:  # too few test runs with slippage to draw any curve: say so rather than show an empty chart
            ax.text(0.5, 0.55, "no indicator could be scored on the test runs", ha="center", transform=ax.transAxes)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def fig_example(res: WarnResult, path: Path) -> Path:
    """One slipping test run: the latent habit beside what leaders see, with the recommended alarm."""
    run = res.example_run
    g = res.panel[res.panel["run"] == run]
    info = res.runs.set_index("run").loc[run]
    with plt.rc_context(RC):
        fig, axes = plt.subplots(len(SHOWN) + 1, 1, figsize=(9, 1.55 * (len(SHOWN) + 1) + 0.6), sharex=True)
        wk = g["week"].to_numpy()
        onset = float(g["onset"].iloc[0])
        ax = axes[0]
        ax.plot(wk, g["latent_compliance_habit"], color="k", lw=1.6)
        ax.set_ylabel("habit\n(latent)")
        ax.set_title(f"Latent compliance habit (not visible to leaders): {info['strategy']}, seed {info['seed']}",
                     fontsize=10, loc="left")
        alarm = None
        if res.rule is not None:
            o = OBSERVABLE[res.rule.indicator]
            full = np.full(int(wk.max()) + 1, np.nan)
            full[wk] = o.sign * g[o.key].to_numpy()
            h = int(g["handover"].iloc[0])
            rule = replace(res.rule, baseline_from=h) if res.rule.baseline_from is not None else res.rule
            alarm = rule.fires(full, np.arange(0, full.size, o.cadence_weeks) + o.lag_weeks)[wk]
        for ax, key in zip(axes[1:], SHOWN, strict=True):
            o = OBSERVABLE[key]
            ax.step(wk, o.sign * g[key] * o.scale, where="post", color=COLOURS[2], lw=1.3)
            ax.set_ylabel(o.unit if len(o.unit) < 10 else o.unit.replace(" ", "\n", 1), fontsize=8)
            ax.set_title(f"{o.label}: {o.describe()}", fontsize=8.5, loc="left")
        for ax in axes:
            if np.isfinite(onset):
                ax.axvline(onset, color=COLOURS[1], lw=1.2, ls="--")
            if alarm is not None and alarm.any():
                ax.fill_between(wk, 0, 1, where=alarm, transform=ax.get_xaxis_transform(), color=COLOURS[1],
                                alpha=0.12, step="post", lw=0)
        axes[-1].set_xlabel("Week (from the start of the programme; the panel starts at handover)")
        note = "dashed line: material slippage begins" + (f"; shaded: alarm ({res.rule.describe()})" if res.rule
                                                           else "")
        lines = textwrap.wrap(note, 130)  # a rule in words can outrun the figure's width
        fig.text(0.01, 0.005, "\n".join(lines), fontsize=8.5, va="bottom")
        fig.tight_layout(rect=(0, 0.018 * len(lines) + 0.005, 1, 1))
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def policy_table(res: WarnResult) -> tuple[list[str], pd.DataFrame]:
    """Fixed vs adaptive vigilance: culture kept, slippage, cost (median and paired difference with 95% CI)."""
    cmp = res.policy
    summ = _policy_per_seed(res)
    ref = cmp.reference
    rows = []
    for name in cmp.names:
        s = summ[summ["scenario"] == name].set_index("seed").sort_index()
        r = summ[summ["scenario"] == ref].set_index("seed").sort_index()
        row = {"strategy": name}
        for key in ("culture_kept", "slippage", "total_cost", "spend_after"):
            d = (s[key] - r[key]).to_numpy()
            half = 1.96 * d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else np.nan
            row[key] = float(s[key].median())
            row[f"{key}_diff"] = float(d.mean())
            row[f"{key}_lo"] = float(d.mean() - half)
            row[f"{key}_hi"] = float(d.mean() + half)
        rows.append(row)
    df = pd.DataFrame(rows)

    def cell(r: pd.Series, key: str, fmt: str) -> str:
        base = fmt.format(r[key])
        if r["strategy"] == ref:
            return f"{base} (reference)"
        f = fmt[2:-1]
        return f"{base} ({r[f'{key}_diff']:+{f}} [{r[f'{key}_lo']:+{f}}, {r[f'{key}_hi']:+{f}}])"

    head = ["Strategy", "Culture kept, habit points", "Slippage after handover", "Vigilance and support spend after "
            "handover, GBP k", "Total cost, GBP k"]
    lines = ["| " + " | ".join(head) + " |", _align(True, False, False, False, False)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join([r["strategy"], cell(r, "culture_kept", "{:.3f}"), cell(r, "slippage", "{:.3f}"),
                                        cell(r, "spend_after", "{:.0f}"), cell(r, "total_cost", "{:.0f}")]) + " |")
    return lines, df


def fig_policy(res: WarnResult, path: Path) -> Path:
    """Culture kept against vigilance spend after handover, per strategy (median and 10-90% over seeds)."""
    per_seed = _policy_per_seed(res)
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for i, name in enumerate(res.policy.names):
            g = per_seed[per_seed["scenario"] == name]
            x, y = g["spend_after"], g["culture_kept"]
            col = COLOURS[i % len(COLOURS)]
            ax.errorbar(x.median(), y.median(), xerr=[[x.median() - x.quantile(0.1)], [x.quantile(0.9) - x.median()]],
                        yerr=[[y.median() - y.quantile(0.1)], [y.quantile(0.9) - y.median()]], fmt="o", color=col,
                        ms=8, capsize=3, label=name)
        ax.set_xlabel("Vigilance and support spend after handover (GBP thousand)")
        ax.set_ylabel("Culture kept at the horizon (habit points)")
        ax.set_title("Acting on the alarm: what vigilance buys (median, 10-90% over seeds)", fontsize=10, loc="left")
        ax.legend(fontsize=8, frameon=False, loc="best")
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def _policy_per_seed(res: WarnResult) -> pd.DataFrame:
    cmp = res.policy
    ts = cmp.timeseries
    after = ts["week"] > ts["scenario"].map({n: h for n, (_, h) in cmp.programmes.items()})
    spend = ts[after].groupby(["scenario", "seed"])["intervention_cost_week"].sum().rename("spend_after")
    return cmp.summary.merge(spend.reset_index(), on=["scenario", "seed"])


# ------------------------------------------------------------------------------------------------ text


def shipped_rule_note(rule: AlarmRule) -> str:
    """Say when this run recommends another indicator or reading than the rule shipped with the model."""
    if (rule.indicator, rule.window, rule.baseline_from) == \
            (RECOMMENDED_RULE.indicator, RECOMMENDED_RULE.window, RECOMMENDED_RULE.baseline_from):
        return ""
    shipped = RECOMMENDED_RULE.describe()
    return (f" It differs from the rule shipped with the model (`RECOMMENDED_RULE`: {shipped[0].lower()}"
            f"{shipped[1:]}), which adaptive vigilance and the trainer's app use unless told otherwise; the "
            f"policy comparison below uses this run's rule. Why the shipped rule was chosen: "
            f"docs/early_warning.md, section 4.")


def headline(res: WarnResult) -> list[str]:
    """The five-minute summary, as bullet points."""
    exp, t = res.experiment, res.scores
    obs = t[t["kind"].str.startswith("observable")]
    out = []
    top = obs.head(5)
    names = ", ".join(f"{label(r.indicator).lower()} (AUC {_ci(r.auc, np.nan, np.nan)})" for r in top.itertuples())
    out.append(f"**Best observable indicators** (ranked by how well they separate the months before a slide from "
               f"quiet months, on runs not used to set them): {names}.")
    if res.rule is not None:
        r = _row(res, column_of(res.rule))  # the rule's own row: a rise rule is scored apart from its level
        what = res.rule.describe()
        out.append(f"**Recommended alarm rule: act when {what[0].lower() + what[1:]}.** On test runs it flags "
                   f"{r['hit_rate']:.0%} of slides before they become material (95% CI {r['hit_rate_lo']:.0%}-"
                   f"{r['hit_rate_hi']:.0%}), with a median notice of {r['lead_weeks']:.0f} weeks "
                   f"(95% CI {r['lead_lo']:.0f} to {r['lead_hi']:.0f}), and sounds in {r['false_alarm_rate']:.0%} "
                   f"of quiet months (95% CI {r['false_alarm_rate_lo']:.0%}-{r['false_alarm_rate_hi']:.0%})."
                   f"{shipped_rule_note(res.rule)}")
    else:
        out.append("**No single observable separates the months before a slide from quiet months clearly enough** "
                   "(no AUC interval clears 0.5): no alarm rule is recommended.")
    cal = _row(res, CALENDAR)
    if cal is not None and np.isfinite(cal["auc"]):
        beat = obs[obs["auc_lo"] > cal["auc_hi"]]
        out.append(f"**Against the calendar:** the naive rule 'worry in the first months after handover' scores AUC "
                   f"{cal['auc']:.2f}; {len(beat)} observable indicator{'s' if len(beat) != 1 else ''} beat"
                   f"{'s' if len(beat) == 1 else ''} it with intervals that do not overlap. "
                   + ("Most slides here begin soon after support is withdrawn, so *when support stops* is itself a "
                      "strong warning." if cal["auc_lo"] > 0.5 else
                      "The calendar itself carries no warning here (its interval includes 0.5): slides do not "
                      "bunch in the months after handover, so leaders have to watch, not count weeks."))
    csd = t[(t["kind"] == "critical slowing down") & np.isfinite(t["auc"])]
    if not csd.empty:
        good = csd[csd["auc_lo"] > 0.5]
        best = csd.iloc[0]
        verdict = ("Generic critical-slowing-down signals (rising variance and lag-1 autocorrelation of a monthly "
                   "audit series; Scheffer et al. 2009) ")
        if good.empty:
            verdict += (f"do **not** work here: the best scores AUC {best.auc:.2f} [{best.auc_lo:.2f}, "
                        f"{best.auc_hi:.2f}]. Slippage in this model is a push by withdrawn support, incidents and "
                        "workload, not a system drifting slowly towards a tipping point, and monthly audits of 20 "
                        "cases are too noisy for variance to carry the signal.")
        else:
            verdict += (f"carry some information ({len(good)} of {len(csd)} with AUC interval above 0.5; best "
                        f"{label(best.indicator).lower()}, AUC {best.auc:.2f} [{best.auc_lo:.2f}, {best.auc_hi:.2f}]"
                        f"), but less than the best direct indicators; they are no substitute for watching practice.")
        out.append(verdict)
    if res.policy is not None:
        _, df = policy_table(res)
        ad = df[df["strategy"].str.contains("adaptive")]
        if not ad.empty:
            a = ad.iloc[0]
            ref = res.policy.reference
            r0 = df[df["strategy"] == ref].iloc[0]
            same = a["culture_kept_lo"] <= 0 <= a["culture_kept_hi"]
            out.append(f"**Cost of acting on it:** vigilance switched on by the alarm ({a['strategy']}) keeps "
                       f"{a['culture_kept']:.3f} habit points of culture change against {r0['culture_kept']:.3f} for "
                       f"{ref} (paired difference {a['culture_kept_diff']:+.3f} [{a['culture_kept_lo']:+.3f}, "
                       f"{a['culture_kept_hi']:+.3f}]; {'not distinguishable' if same else 'a clear difference'}) "
                       f"and spends GBP {a['spend_after']:.0f}k on vigilance after handover against GBP "
                       f"{r0['spend_after']:.0f}k (difference {a['spend_after_diff']:+.0f}k "
                       f"[{a['spend_after_lo']:+.0f}, {a['spend_after_hi']:+.0f}]).")
            rest = df[~df["strategy"].str.contains("adaptive") & (df["strategy"] != ref)]
            if not rest.empty and r0["culture_kept"] > 0:
                w = rest.loc[rest["spend_after"].idxmin()]  # the cheapest fixed policy: vigilance withdrawn
                gain = w["culture_kept_diff"]
                share = (a["culture_kept_diff"] - gain) / -gain if gain < 0 else float("nan")
                out.append(f"**Against doing nothing after handover:** {w['strategy']} (GBP {w['spend_after']:.0f}k) "
                           f"keeps {w['culture_kept']:.3f} (paired difference with {ref} {gain:+.3f} "
                           f"[{w['culture_kept_lo']:+.3f}, {w['culture_kept_hi']:+.3f}])"
                           + (f"; adaptive vigilance wins back {share:.0%} of what keeping vigilance on adds."
                              if np.isfinite(share) else "."))
    noise = _row(res, NOISE)
    if noise is not None and np.isfinite(noise["auc"]):
        out.append(f"Check: an indicator of pure noise scores AUC {noise['auc']:.2f} [{noise['auc_lo']:.2f}, "
                   f"{noise['auc_hi']:.2f}], as it should (0.5 = no information).")
    if not np.isfinite(t["auc"]).any():
        out.append("**Too few test runs slipped (or stayed quiet) to score any indicator:** run more seeds or "
                   "conditions before reading the rankings.")
    if not res.runs.empty:
        out.append(f"{label_lines(res)[0]} A warning counts if it comes within {exp.label.horizon_weeks} weeks "
                   "before (how many runs are labelled, and why: *How this was done*).")
    return out


def label_lines(res: WarnResult) -> tuple[str, str]:
    """What counts as material slippage, and how many runs it labels and why: (headline sentence, method bullet)."""
    exp, runs = res.experiment, res.runs
    thr = exp.label.threshold
    slips = runs["onset"].notna()
    by = slips.groupby(runs["strategy"], sort=False).mean().sort_values(ascending=False)
    att = runs["culture_attainment"] if "culture_attainment" in runs else pd.Series(np.nan, index=runs.index)
    per = att.groupby(runs["strategy"], sort=False).median()
    shares = ", ".join(f"{k} {v:.0%}" + (f" (reached {per[k]:.3f})" if np.isfinite(per[k]) else "")
                       for k, v in by.items())
    reached = f"{thr / att.median():.0%} of the culture change the median run had reached by handover " \
        f"({att.median():.3f} habit points)" if att.notna().any() and att.median() > 0 else "a declared setting"
    what = (f"**Material slippage** = the mean compliance habit climbs {thr:.2f} habit points above its lowest level "
            f"since handover: {reached}.")
    kept = runs["vigilance_kept"].astype(bool) if "vigilance_kept" in runs else pd.Series(False, index=runs.index)
    head = f"{what[:-1]}; {slips.mean():.0%} of runs are labelled"
    text = [what, f"**Runs labelled:** {slips.mean():.0%} of runs slip materially (by strategy, with the median "
                  f"culture change it reached by handover: {shares})."]
    if kept.any():
        k = runs[kept]
        med, p90 = k["max_rise"].median(), k["max_rise"].quantile(0.9)
        head += f", {slips[kept].mean():.0%} of those with culture vigilance kept on to the horizon"
        if thr <= p90:
            lost = f", {med / k['culture_attainment'].median():.0%} of what they reached" \
                if "culture_attainment" in k and k["culture_attainment"].median() > 0 else ""
            text.append(f"With culture vigilance kept on to the horizon {slips[kept].mean():.0%} are labelled, on "
                        f"purpose: in these futures vigilance slows the slide but does not stop it (the habit still "
                        f"climbs a median {med:.3f} above its post-handover low{lost}; 90th percentile {p90:.3f}).")
        else:
            text.append(f"With culture vigilance kept on to the horizon {slips[kept].mean():.0%} are labelled: the "
                        f"threshold sits above the rises seen there (median {med:.3f}, 90th percentile {p90:.3f}).")
    if "end_rise" in runs and slips.any():
        lasting = (runs.loc[slips, "end_rise"] >= thr).mean()
        text.append(f"In {lasting:.0%} of labelled runs the habit is still {thr:.2f} or more above that low at the "
                    "horizon: the loss lasts, it is not a passing spike.")
    if per.notna().any():
        low = per.idxmin()
        if 0 < per[low] < 0.75 * att.median():
            x = thr / per[low]
            size = f"{x:.1f} times the culture change it reached" if x > 1 else f"{x:.0%} of the culture change it " \
                "reached"
            text.append(f"The threshold is in habit points, the same size of slide for every strategy, not a share of "
                        f"what each reached: {low} (reached {per[low]:.3f}) is labelled only when it slides by "
                        f"{size}.")
    return head + ".", " ".join(text)


def outside_ranges(res: WarnResult) -> str:
    """The varied fields whose range leaves out the value the strategies themselves set (a stale design)."""
    out = []
    for k, (lo, hi) in res.experiment.conditions.ranges.items():
        col = f"{OWN}{k}"
        if col in res.runs and res.runs[col].notna().any():
            own = float(res.runs[col].median())
            if not lo <= own <= hi:
                out.append(f"`{k}` {lo:g}-{hi:g} lies wholly {'above' if own < lo else 'below'} the strategies' own "
                           f"value {own:g}")
    if not out:
        return ""
    return (" **Note:** " + "; ".join(out) + ", so every future is run away from the strategies' own setting and the "
            "scores describe those conditions, not the default ones.")


def method_lines(res: WarnResult) -> list[str]:
    """How the futures were designed and the indicators scored."""
    exp, runs = res.experiment, res.runs
    n_runs = len(runs)
    slipped = runs["onset"].notna().mean()
    lines = [
        f"- **Futures:** {len(exp.strategies)} strategies x {exp.conditions.samples} "
        f"draw{'s' if exp.conditions.samples != 1 else ''} of uncertain conditions "
        f"(Latin hypercube over {', '.join(f'`{k}` {lo:g}-{hi:g}' for k, (lo, hi) in exp.conditions.ranges.items())})"
        f" x {exp.seeds} seeds = {n_runs} runs "
        f"{f'of {exp.horizon_weeks} weeks' if exp.horizon_weeks else 'to each scenario horizon'}; "
        f"{slipped:.0%} of runs slip materially after handover.{outside_ranges(res)}",
        f"- **Train/test:** seeds {res.train_seeds} set the alarm levels and fit the combinations; seeds "
        f"{res.test_seeds} (disjoint) are scored. Intervals: 95% percentile intervals over {exp.resamples} resamples "
        "of test seeds (all runs of a seed together).",
        f"- **Label:** at each decision point (every {exp.label.step_weeks} weeks from handover, while "
        f"{exp.label.horizon_weeks} weeks remain, before slippage has begun) the label is 1 if material slippage "
        f"begins within {exp.label.horizon_weeks} weeks. {label_lines(res)[1]}",
        "- **Alarm level:** per indicator, the level with the largest hit rate less false-alarm rate on training runs "
        "(Youden's J). **Hit rate:** share of slipping test runs where the alarm sounds in the "
        f"{exp.label.horizon_weeks} weeks before onset. "
        "**False-alarm rate:** share of quiet decision points where it sounds. **Notice:** weeks from the first "
        "alarm to onset (negative = the alarm came after slippage began), median over slipping runs.",
        "- **Observed, not latent:** indicators are the figures leaders have, with each return's cadence, reporting "
        "lag and measurement error (table below); measurement has its own random streams, so the latent runs are "
        "those of `compare` and `run` on the same seeds.",
    ]
    return lines


def observables_table() -> list[str]:
    """How each observable is measured."""
    lines = ["| Indicator | Measures (latent) | How measured | Source / assumption |", _align(True, True, True, True)]
    for o in OBSERVABLE.values():
        lines.append(f"| {o.label} ({o.unit}) | `{o.latent}` | {o.describe()} | {o.source} |")
    return lines


def markdown(res: WarnResult, figs: dict[str, str]) -> str:
    """report.md (figures as files next to it)."""
    exp = res.experiment
    lines = [f"# {TITLE}", "", f"Experiment `{exp.name}`" + (f": {exp.description}" if exp.description else ""), "",
             "## In five minutes", ""]
    lines += [f"- {x}" for x in headline(res)] + [""]
    lines += ["## Which indicators warn, and how early", "", f"![ranking]({figs['ranking']})", ""]
    lines += [*ranking_table(res), ""]
    lines += ["## What leaders see beside what is happening", ""]
    if figs.get("example"):
        lines += [f"![example]({figs['example']})", "", "Top panel: the compliance habit leaders cannot see. Below: "
                  "the figures they do see, each held until the next report arrives.", ""]
    else:
        lines += ["No test run slipped materially, so there is no example of what leaders would have seen.", ""]
    lines += [f"![roc]({figs['roc']})", ""]
    if res.policy is not None:
        tbl, _ = policy_table(res)
        lines += ["## Acting on the alarm: adaptive against fixed vigilance", "",
                  f"Paired seeds 0-{res.policy.seeds[-1]}; each cell: median over seeds (mean paired difference "
                  f"against {res.policy.reference} [95% CI]). Adaptive vigilance uses the recommended rule"
                  + (f" ({res.rule.describe()})" if res.rule else "") + ".", ""]
        lines += [*tbl, "", f"![policy]({figs['policy']})", ""]
    lines += ["## How this was done", "", *method_lines(res), "", "## The observable indicators", ""]
    lines += [*observables_table(), ""]
    return "\n".join(lines)


def html(md_text: str, figs: dict[str, Path]) -> str:
    """report.html: the Markdown on the shared page, figures embedded."""
    return markdown_page(md_text, TITLE, images={p.name: p for p in figs.values()})


def write_report(res: WarnResult, out: str | Path) -> dict[str, Path]:
    """Write tables, figures, report.md and report.html into `out` (staged, then moved; report.html last)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with staging(out) as stage:
        res.scores.to_csv(stage / "indicator_scores.csv", index=False)
        res.runs.to_csv(stage / "runs.csv", index=False)
        keep = [c for c in res.panel.columns if not c.startswith(("csd_", "control_"))]
        res.panel[keep].to_parquet(stage / "panel.parquet", index=False)
        figs = {"ranking": fig_ranking(res, stage / "fig_indicator_ranking.png"),
                "roc": fig_roc(res, stage / "fig_roc.png")}
        if res.example_run is not None:
            figs["example"] = fig_example(res, stage / "fig_observed_vs_latent.png")
        if res.policy is not None:
            figs["policy"] = fig_policy(res, stage / "fig_vigilance_policies.png")
            res.policy.decision_table.to_csv(stage / "policy_decision_table.csv", index=False)
        rule = {"indicator": res.rule.indicator, "threshold": res.rule.threshold, "window": res.rule.window,
                "baseline_from": res.rule.baseline_from, "text": res.rule.describe()} if res.rule else None
        (stage / "warn.json").write_text(json.dumps({"experiment": res.experiment.model_dump(mode="json"),
                                                     "train_seeds": res.train_seeds, "test_seeds": res.test_seeds,
                                                     "recommended_rule": rule}, indent=1))
        md = markdown(res, {k: p.name for k, p in figs.items()} | ({"example": ""} if "example" not in figs else {}))
        (stage / "report.md").write_text(md)
        (stage / "report.html").write_text(html(md, figs))
        names = sorted(p.name for p in stage.iterdir())
        written = {}
        for name in [n for n in names if n != "report.html"] + ["report.html"]:
            (stage / name).replace(out / name)
            written[name] = out / name
        return written
