"""`culturedrift validate`: calibration, stylized facts and loop checks in one report (Markdown and HTML).

Sizes (documented in docs/validation.md):

    default   predictive check of the defaults 20 seeds, stylized facts 20 paired seeds, loops 30 paired
              seeds (with knockouts), patterns 12 seeds, loop-gain map 3 x 3 operating points x 4 paired
              seeds, support range 8 paired seeds, region scenarios (REG, XS) 12 seeds each, no runaway and
              extreme conditions 4 seeds per scenario
    --quick   predictive 6 seeds, facts and loops 6 seeds, patterns 4, loop gains at two operating points
              x 2 seeds, support range 3 seeds

The labour-market calibration itself (ABC-SMC) is `culturedrift calibrate`; validate reads its committed
posterior (data/posterior_labour_market.csv) and checks what it produced.

Outputs in DIR: validation_report.md, validation_report.html, calibration.png, effects.png,
effects.csv (one row per checked effect), posterior.csv (identification), validation.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.execution.executor import local_map
from culturedrift.experiments.reporting.html import markdown_page
from culturedrift.experiments.reporting.style import ROLE, figure_style, save
from culturedrift.experiments.reporting.tables import markdown_table
from culturedrift.experiments.workflows.validation import calibration as cal
from culturedrift.experiments.workflows.validation import labour_market as lm
from culturedrift.experiments.workflows.validation import loopgain, patterns
from culturedrift.experiments.workflows.validation.common import Effect
from culturedrift.experiments.workflows.validation.facts import FACTS, run_facts
from culturedrift.experiments.workflows.validation.loops import LOOPS, LoopResult, run_loops


@dataclass(frozen=True)
class Size:
    pred_seeds: int
    fact_seeds: int
    loop_seeds: int
    pattern_seeds: int = 2  # patterns from evidence (P1-P5), seeds per arm
    gain_seeds: int = 0  # loop-gain map, paired seeds per operating point (0: not run)
    support_seeds: int = 0  # support-range check, paired seeds per arm (0: not run)
    gain_grid: bool = False  # the full 3 x 3 operating-point map (else two points: national and stretched)
    labour_market_seeds: int = 4  # labour-market checks (RUN, EXT), seeds per scenario
    region_seeds: int = 0  # REG and XS, seeds per region scenario (0: labour_market_seeds)


DEFAULT = Size(pred_seeds=20, fact_seeds=20, loop_seeds=30, pattern_seeds=12, region_seeds=12,
               gain_seeds=4, support_seeds=8, gain_grid=True)
QUICK = Size(pred_seeds=6, fact_seeds=6, loop_seeds=6, pattern_seeds=4, gain_seeds=2,
             support_seeds=3)
#: the two operating points of the small loop-gain map: the national one and a stretched one
SMALL_MAP = [{"workload.demand_cases_per_post": 16.8, "workload.capacity_cases": 20.0},
             {"workload.demand_cases_per_post": 19.5, "workload.capacity_cases": 18.0}]


def md_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A DataFrame as a GitHub Markdown table (the shared table writer)."""
    return markdown_table(df, digits=int(floatfmt.strip(".g") or 4))


def effects_frame(effects: list[Effect]) -> pd.DataFrame:
    return pd.DataFrame([e.as_row() for e in effects])


def _effect_table(effects: list[Effect]) -> pd.DataFrame:
    return pd.DataFrame([{"result": "PASS" if e.passed else "FAIL", "comparison": e.name, "metric": e.metric,
                          "effect": f"{e.mean:+.4g}", "95% CI": f"[{e.lo:+.4g}, {e.hi:+.4g}]", "n": e.n,
                          "expected": "+" if e.expected > 0 else "-", "note": e.note} for e in effects])


def _short(e: Effect) -> str:
    """A label for one effect: the loop variable for loop links, else the metric."""
    if e.check in LOOPS and ": " in e.name and not e.name.startswith("supporting"):
        return e.name.split(": ", 1)[1]
    if e.name.startswith("loop as a whole"):
        return e.name
    return e.metric


def effects_figure(groups: dict[str, list[Effect]], path: Path) -> Path:
    """Forest plot: each effect standardised by its CI half-width (so every check reads against 0)."""
    import matplotlib.pyplot as plt

    items = [(k, e) for k, es in groups.items() for e in es]
    with figure_style():
        fig, ax = plt.subplots(figsize=(10, 0.3 * len(items) + 1.8))
        for i, (_k, e) in enumerate(items):
            half = (e.hi - e.lo) / 2 if np.isfinite(e.hi - e.lo) and e.hi > e.lo else 1.0
            z, zl, zh = (e.expected * x / half for x in (e.mean, e.lo, e.hi))
            lo, hi = min(zl, zh), max(zl, zh)
            supporting = e.name.startswith("supporting")  # a knockout: reported, outside the verdict
            c = ROLE["neutral"] if supporting else ROLE["target"] if e.passed else ROLE["second"]
            ax.plot([lo, hi], [i, i], color=c, lw=2)
            ax.plot([z], [i], "o" if e.passed else "X", color=c, mfc="white" if supporting else c)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(range(len(items)))
        ax.set_yticklabels([f"{k}: {_short(e)[:60]}" for k, e in items], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("effect in the expected direction (units of its 95% CI half-width; pass: interval right of 0)",
                      fontsize=8)
        fig.suptitle("Validation effects: green circle passes, orange cross fails", x=0.02, ha="left", fontsize=11,
                     fontweight="bold")
        fig.text(0.02, 1 - 0.55 / fig.get_size_inches()[1], "grey hollow marker: a supporting knockout, reported "
                 "but outside the verdict", ha="left", va="top", fontsize=8)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.8 / fig.get_size_inches()[1]))
        return save(fig, path, dpi=110)


def power_notes(facts: dict[str, list[Effect]], loops: dict[str, LoopResult]) -> dict[str, str]:
    """Per failing check: whether too few seeds explain it (every failing effect on the expected side, its interval
    including zero) and how many paired seeds would resolve it, or that an estimate points the wrong way."""
    groups = {**facts, **{k: [*lr.links, lr.whole] for k, lr in loops.items()}}
    out = {}
    for k, es in groups.items():
        failing = [e for e in es if not e.passed]
        if not failing:
            continue
        if all(e.power_limited for e in failing):
            need = [e.seeds_needed for e in failing if e.seeds_needed]
            n = max(e.n for e in failing)
            out[k] = (f"power-limited: estimate(s) on the expected side, interval includes zero at {n} seeds"
                      + (f"; about {max(need)} paired seeds would resolve it" if need else ""))
        else:
            wrong = [e for e in failing if not e.power_limited]
            out[k] = f"not power-limited: {len(wrong)} estimate(s) on the wrong side of zero"
    return out


def build_report(calib: dict[str, Any], facts: dict[str, list[Effect]], loops: dict[str, LoopResult],
                 size: Size, seconds: float, quick: bool, evidence: dict[str, Any] | None = None,
                 labour: list[lm.Check] | None = None) -> tuple[str, dict[str, bool]]:
    """The report in Markdown and the pass/fail verdict per check."""
    evidence = evidence or {}
    verdict: dict[str, bool] = {}
    labour = labour or []
    for k, bands in evidence.get("patterns", {}).items():
        verdict[k] = all(b.passed for b in bands)
    fit = calib["fit"]
    verdict["CAL"] = bool(fit["mean_in_range"].all())
    for k, es in facts.items():
        verdict[k] = all(e.passed for e in es)
    for k, lr in loops.items():
        verdict[k] = lr.passed
    for c in labour:
        verdict[c.key] = c.passed
    claims = {"CAL": "Baseline with the calibrated defaults reproduces the English workforce figures (mean inside "
                     "each DfE 2013-2023 range; the calibration fitted 2023 only)",
              **{k: v[0] for k, v in patterns.PATTERNS.items()},
              **{k: v[0] for k, v in FACTS.items()},
              **{k: f"Munro loop {k} ({'reinforcing' if v.polarity > 0 else 'balancing'}): {v.name}"
                 for k, v in LOOPS.items()},
              **{c.key: c.claim for c in labour}}

    labour_keys = {c.key for c in labour}

    def kind(k: str) -> str:
        if k.startswith("CAL"):
            return "predictive check of the defaults (can fail)"
        if k in patterns.PATTERNS:
            return "pattern from evidence (can fail)"
        if k in labour_keys:
            return "labour-market pattern or extreme condition (can fail)"
        return "mechanism check (confirms coded signs)"
    L = ["# culturedrift validation report", ""]
    L.append(f"Size: {'quick' if quick else 'default'} - predictive check {size.pred_seeds} seeds, stylized facts "
             f"{size.fact_seeds} paired seeds, loops {size.loop_seeds} paired seeds, patterns {size.pattern_seeds} "
             f"seeds, loop gains {size.gain_seeds} paired seeds per operating point, support range "
             f"{size.support_seeds} paired seeds. Run time {seconds:.0f} s.")
    L.append("")
    L.append("A check passes when every effect it lists has a 95% confidence interval (Student t over paired "
             "seeds) entirely on the expected side of zero. Method and interpretation: docs/validation.md; "
             "the model itself: docs/ODD.md.")
    L += ["", "## Summary", ""]
    power = power_notes(facts, loops)
    L.append(md_table(pd.DataFrame([{"check": k, "kind": kind(k), "claim": claims.get(k, k),
                                     "result": "PASS" if v else "FAIL", "why it fails": power.get(k, "")}
                                    for k, v in verdict.items()])))
    n_pass = sum(verdict.values())
    n_power = sum(v.startswith("power-limited") for v in power.values())
    L += ["", f"**{n_pass} of {len(verdict)} checks pass.**"]
    if n_power:
        L.append(f"{n_power} of the {len(verdict) - n_pass} failures are power-limited: the estimates point the "
                 f"expected way but {'the quick size' if quick else 'this size'} has too few seeds for the 95% "
                 "interval to exclude zero" + (" (expected with `--quick`: run the default size before drawing "
                                               "conclusions)" if quick else "") + ".")
    L.append("")

    # calibration
    post = calib["posterior"]
    L += ["## Calibration (ABC-SMC posterior) and the national check of the defaults", ""]
    L.append(f"The labour market is calibrated by `culturedrift calibrate` (pattern-oriented ABC-SMC over the DfE 2023 "
             f"regional cross-section, the leaver tenure profile and stability; data/patterns.yaml). Committed "
             f"posterior: {post.attrs.get('particles', '?')} particles, effective sample size "
             f"{post.attrs.get('ess', float('nan')):.0f} (data/posterior_labour_market.csv). A parameter is identified "
             "when its 95% posterior interval keeps less than half of its prior range (log scale for log-uniform "
             "priors). The defaults in the code lie inside every 95% interval (how they were chosen: "
             "docs/validation.md, Labour market).")
    L += ["", md_table(post), ""]
    L.append("Fit of the baseline defaults in the code (posterior predictive: annual values over "
             f"{fit.attrs.get('seeds', size.pred_seeds)} seeds x 5 years) against the DfE 2013-2023 national ranges "
             "(years the calibration did not fit):")
    L += ["", md_table(fit.drop(columns="statistic"))]
    L += ["", "![Calibration](calibration.png)", ""]

    if evidence.get("patterns"):
        L += patterns.patterns_markdown(evidence["patterns"])
    if evidence.get("gains") is not None:
        L += loopgain.map_markdown(evidence["gains"], size.gain_seeds)
    if evidence.get("support") is not None:
        L += patterns.support_markdown(evidence["support"])

    L += ["## Stylized facts (mechanism checks: each confirms the sign of coded links)", ""]
    for k, es in facts.items():
        L += [f"### {k}: {FACTS[k][0]} - {'PASS' if verdict[k] else 'FAIL'}", "", md_table(_effect_table(es)), ""]
    L += ["## Munro loop polarity checks (mechanism checks; the loop gains above are the test of whether "
          "the loops act)", "",
          "Nudge: local prescription raised at one week of a baseline run; responses are paired differences "
          "from the unperturbed run on the same seed.", ""]
    for k, lr in loops.items():
        lp = lr.loop
        L += [f"### {k}: {lp.name} ({'reinforcing' if lp.polarity > 0 else 'balancing'}) - "
              f"{'PASS' if verdict[k] else 'FAIL'}", "", f"Closing link: {lp.closing}.", "",
              md_table(_effect_table(lr.effects)), ""]
    L += ["![Effects](effects.png)", ""]
    if labour:
        L += lm.markdown(labour, md_table)
    return "\n".join(L), verdict


def validate(out: str | Path, quick: bool = False, workers: int = 2, size: Size | None = None,
             progress: bool = True) -> dict[str, bool]:
    """Run the predictive check, patterns, facts, loops and labour-market checks; write the report."""
    size = size or (QUICK if quick else DEFAULT)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if progress:
            print(f"[{time.perf_counter() - t0:6.0f} s] {msg}", flush=True)

    settings = cal.load_settings()
    say(f"calibration: posterior summary and predictive check of the defaults ({size.pred_seeds} seeds)")
    table = cal.posterior_table()
    pred = cal.predictive(settings, size.pred_seeds, workers)
    fit = cal.fit_table(pred, settings["targets"])
    fit.attrs["seeds"] = size.pred_seeds
    calib = {"settings": settings, "posterior": table, "predictive": pred, "fit": fit}
    cal.figure(fit, pred, None, out / "calibration.png")
    say(f"stylized facts: {size.fact_seeds} paired seeds")
    facts = run_facts(size.fact_seeds, workers)
    say(f"loops: {size.loop_seeds} paired seeds")
    loops = run_loops(size.loop_seeds, workers)
    say(f"patterns from evidence: {size.pattern_seeds} seeds")
    evidence: dict[str, Any] = {"patterns": patterns.run_patterns(size.pattern_seeds, workers)}
    if size.gain_seeds:
        say(f"loop gains: {size.gain_seeds} paired seeds per operating point")
        evidence["gains"] = loopgain.loop_gains(size.gain_seeds, workers, None if size.gain_grid else SMALL_MAP)
    if size.support_seeds:
        say(f"support range: {size.support_seeds} paired seeds")
        evidence["support"] = patterns.support_range(size.support_seeds, workers)
    say(f"labour market: regional pattern ({size.region_seeds or size.labour_market_seeds} seeds per region), "
        f"no runaway and extreme conditions ({size.labour_market_seeds} seeds)")
    with local_map(workers) as map_fn:
        labour = lm.run_checks(size.labour_market_seeds, map_fn, size.region_seeds or None)
    seconds = time.perf_counter() - t0
    groups = {**facts, **{k: lr.effects for k, lr in loops.items()}}
    effects_figure(groups, out / "effects.png")
    md, verdict = build_report(calib, facts, loops, size, seconds, quick, evidence, labour)
    (out / "validation_report.md").write_text(md)
    (out / "validation_report.html").write_text(markdown_page(md, "culturedrift validation report"))
    effects_frame([e for es in groups.values() for e in es]).to_csv(out / "effects.csv", index=False)
    pd.DataFrame([b.as_row() for bs in evidence["patterns"].values() for b in bs]).to_csv(out / "patterns.csv",
                                                                                          index=False)
    for key, name in (("gains", "loop_gains.csv"), ("support", "support_range.csv")):
        if evidence.get(key) is not None:
            evidence[key].to_csv(out / name, index=False)
    table.to_csv(out / "posterior.csv", index=False)
    (out / "validation.json").write_text(json.dumps({
        "verdict": verdict, "power": power_notes(facts, loops),
        "size": size.__dict__, "seconds": seconds, "posterior": table.to_dict(orient="records"),
        "fit": fit.to_dict(orient="records"),
        "patterns": [b.as_row() for bs in evidence["patterns"].values() for b in bs],
        "effects": [e.as_row() for es in groups.values() for e in es]}, indent=1, default=float))
    say("done")
    return verdict
