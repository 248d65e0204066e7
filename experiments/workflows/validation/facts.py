"""Stylized facts SF1-SF6: paired-seed experiments, each effect with a 95% confidence interval.

Each fact compares two or more arms on the same seeds (common random numbers) and checks the
direction of one or more effects; a fact holds when every one of its effects has a 95% CI on the
expected side of zero. Arms are built in code from the default scenario and the shipped scenario
files, so that each comparison changes one thing only:

SF1 pace       phased programme vs the same changes and support compressed into the first quarter
SF2 slippage   vigilance stopped at handover vs kept on; and stopped at handover under higher turnover
SF3 ties       a wave of leavers vs none (jump, months to repair); raised labour-market pressure;
               partner liaison after the wave (difference in differences of the shock's excess)
SF4 IT         a case-recording system alone vs none; with and without training
SF5 Munro      more inspection and incident pressure vs the baseline: the causal chain's signs
SF6 budget     phased with vigilance on GBP 400k vs 250k a quarter
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.workflows.validation.common import (
    Effect,
    base_scenario,
    paired_effect,
    pmap,
    run_with_nudge,
)
from culturedrift.model import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


@dataclass(frozen=True)
class Arm:
    """One arm of an experiment: a scenario and an optional nudge."""

    scenario: Scenario
    nudge: str | None = None
    week: int = 0
    size: float = 0.0


def run_arms(arms: dict[str, Arm], seeds: int, workers: int = 1, seed0: int = 0) -> dict[str, list[pd.DataFrame]]:
    """Every arm on seeds seed0..seed0+seeds-1; timeseries per arm in seed order."""
    keys = list(arms)
    tasks = [(arms[k].scenario, seed0 + s, arms[k].nudge, arms[k].week, arms[k].size) for k in keys
             for s in range(seeds)]
    out = pmap(run_with_nudge, tasks, workers)
    return {k: out[i * seeds:(i + 1) * seeds] for i, k in enumerate(keys)}


def _diff(a: list[pd.DataFrame], b: list[pd.DataFrame], f: Callable[[pd.DataFrame], float]) -> list[float]:
    return [f(x) - f(y) for x, y in zip(a, b, strict=True)]


def window_mean(col: str, lo: int, hi: int) -> Callable[[pd.DataFrame], float]:
    """Mean of a series over weeks lo..hi (inclusive)."""
    return lambda ts: float(ts.loc[(ts["week"] >= lo) & (ts["week"] <= hi), col].mean())


def window_max(col: str, lo: int = 0, hi: int = 10**9) -> Callable[[pd.DataFrame], float]:
    """Maximum of a series over weeks lo..hi."""
    return lambda ts: float(ts.loc[(ts["week"] >= lo) & (ts["week"] <= hi), col].max())


def window_min(col: str, lo: int = 0, hi: int = 10**9) -> Callable[[pd.DataFrame], float]:
    """Minimum of a series over weeks lo..hi."""
    return lambda ts: float(ts.loc[(ts["week"] >= lo) & (ts["week"] <= hi), col].min())


def _org(sc: Scenario, n_teams: int | None) -> Scenario:
    return sc.with_updates({"organisation.n_teams": n_teams}) if n_teams else sc


# --- SF1: pace ---

def sf1_arms(horizon: int = 156, n_teams: int | None = None) -> dict[str, Arm]:
    """Phased (shipped) vs fast: the same changes and support, go-lives compressed into the first quarter."""
    phased = load_scenario(SCENARIOS / "phased.yaml").with_updates({"horizon_weeks": horizon})
    fast_starts = {"principal_social_worker": 0, "safeguarding_board_governance": 0, "single_assessment": 4,
                   "early_help_restructure": 4, "case_recording_system": 8, "timescales_removed": 8}
    upd: dict[str, Any] = {"name": "fast"}
    shift = {}
    for i, c in enumerate(phased.change_programme):
        new = fast_starts.get(c.name, c.start_week)
        upd[f"change_programme.{i}.start_week"] = new
        shift[c.start_week] = new
    for i, iv in enumerate(phased.interventions):
        if iv.kind == "training" and iv.start_week in shift:  # training follows its system's go-live
            d = shift[iv.start_week] - iv.start_week
            upd[f"interventions.{i}.start_week"] = iv.start_week + d
            upd[f"interventions.{i}.end_week"] = iv.end_week + d
    fast = phased.with_updates(upd)
    return {"phased": Arm(_org(phased, n_teams)), "fast": Arm(_org(fast, n_teams))}


def sf1(seeds: int, workers: int = 1, horizon: int = 156, n_teams: int | None = None) -> list[Effect]:
    r = run_arms(sf1_arms(horizon, n_teams), seeds, workers)
    name = "fast vs phased pace (same changes and support)"
    return [paired_effect("SF1", name, "morale trough", _diff(r["fast"], r["phased"], window_min("morale_mean")), -1),
            paired_effect("SF1", name, "peak 12-month turnover",
                          _diff(r["fast"], r["phased"], window_max("turnover_rate_12m")), +1)]


# --- SF2: slippage after handover ---

def sf2_arms(horizon: int = 260, n_teams: int | None = None, turnover_factor: float = 1.5) -> dict[str, Arm]:
    kept = load_scenario(SCENARIOS / "phased_with_vigilance.yaml").with_updates({"horizon_weeks": horizon})
    withdrawn = load_scenario(SCENARIOS / "phased_vigilance_withdrawn.yaml").with_updates({"horizon_weeks": horizon})
    base = withdrawn.turnover.base_exit_hazard
    high = withdrawn.with_updates({"name": "withdrawn_high_turnover",
                                   "turnover.base_exit_hazard": base * turnover_factor})
    return {"kept": Arm(_org(kept, n_teams)), "withdrawn": Arm(_org(withdrawn, n_teams)),
            "withdrawn_high_turnover": Arm(_org(high, n_teams))}


def slippage_of(handover: int, end: int | None = None) -> Callable[[pd.DataFrame], float]:
    """Rise of the mean compliance habit from handover to `end` (default: the horizon)."""
    def f(ts: pd.DataFrame) -> float:
        c = ts.set_index("week")["compliance_habit_mean"]
        return float(c.loc[end if end is not None else c.index[-1]] - c.loc[handover])
    return f


def sf2(seeds: int, workers: int = 1, horizon: int = 260, n_teams: int | None = None) -> list[Effect]:
    arms = sf2_arms(horizon, n_teams)
    h = arms["withdrawn"].scenario.handover
    r = run_arms(arms, seeds, workers)
    slip = slippage_of(h)
    year = slippage_of(h, min(h + 52, horizon))
    # the rebound is read over the year after handover: with culture memory (team norms) the habit rises
    # after vigilance stops and then settles, so handover-to-horizon measures persistence, which P2 checks
    return [
        paired_effect("SF2", "vigilance stopped at handover", "rebound (habit rise in the year after handover)",
                      [year(t) for t in r["withdrawn"]], +1, note=f"handover week {h}; one-sample"),
        paired_effect("SF2", "vigilance stopped vs kept on", "slippage", _diff(r["withdrawn"], r["kept"], slip), +1),
        paired_effect("SF2", "higher turnover (exit hazard x1.5), vigilance stopped", "habit rise in the year after "
                      "handover", _diff(r["withdrawn_high_turnover"], r["withdrawn"], year), +1,
                      note="new hires bring the sector's habits"),
    ]


# --- SF3: fragmentation and its repair ---

SHOCK_WEEK = 26
SHOCK_SIZE = 0.15


def sf3_arms(horizon: int = 156, n_teams: int | None = None) -> dict[str, Arm]:
    base = _org(base_scenario("sf3", horizon_weeks=horizon), n_teams)
    liaison = base.with_updates({"name": "sf3_liaison", "interventions": [
        {"kind": "partner_liaison", "start_week": SHOCK_WEEK, "end_week": SHOCK_WEEK + 52}]})
    high = base.with_updates({"name": "sf3_high_pressure", "turnover.labour_market_pressure": 1.4})
    return {"none": Arm(base), "shock": Arm(base, "leavers", SHOCK_WEEK, SHOCK_SIZE),
            "liaison": Arm(liaison), "liaison_shock": Arm(liaison, "leavers", SHOCK_WEEK, SHOCK_SIZE),
            "high_pressure": Arm(high)}


def half_repair_weeks(shock: pd.DataFrame, none: pd.DataFrame, col: str = "fragmentation_team",
                      week: int = SHOCK_WEEK) -> float:
    """Weeks after the shock until its excess fragmentation has fallen to half its peak (13-week smoothing)."""
    ex = (shock.set_index("week")[col] - none.set_index("week")[col]).loc[week + 1:]
    ex = ex.rolling(5, center=True, min_periods=1).mean()
    peak_at = int(ex.idxmax())
    after = ex.loc[peak_at:]
    below = after[after <= ex.max() / 2]
    return float(below.index[0] - week) if len(below) else float(after.index[-1] - week)


def sf3(seeds: int, workers: int = 1, horizon: int = 156, n_teams: int | None = None) -> list[Effect]:
    r = run_arms(sf3_arms(horizon, n_teams), seeds, workers)
    w = SHOCK_WEEK
    jump = window_mean("fragmentation_team", w + 1, w + 4)
    half = [half_repair_weeks(a, b) for a, b in zip(r["shock"], r["none"], strict=True)]
    area = window_mean("fragmentation_interagency", w + 1, w + 52)
    excess_none = _diff(r["shock"], r["none"], area)
    excess_liaison = _diff(r["liaison_shock"], r["liaison"], area)
    return [
        paired_effect("SF3", f"{SHOCK_SIZE:.0%} of case holders leave at week {w}", "team fragmentation, weeks "
                      f"{w + 1}-{w + 4}", _diff(r["shock"], r["none"], jump), +1),
        paired_effect("SF3", "repair takes months", "weeks to repair half the shock's fragmentation, minus 8",
                      [h - 8 for h in half], +1, unit="weeks",
                      note=f"median half-repair {np.median(half):.0f} weeks; one-sample against 8 weeks (2 months)"),
        paired_effect("SF3", "labour-market pressure 1.4 vs 1.0", "mean fragmentation",
                      _diff(r["high_pressure"], r["none"], window_mean("fragmentation", 1, horizon)), +1),
        paired_effect("SF3", "partner liaison after the wave", "shock's excess inter-agency fragmentation, "
                      f"weeks {w + 1}-{w + 52}",
                      [a - b for a, b in zip(excess_liaison, excess_none, strict=True)], -1,
                      note="difference in differences: (liaison shock - liaison) - (shock - none)"),
    ]


# --- SF4: IT switchover ---

IT_WEEK = 26


def sf4_arms(horizon: int = 156, n_teams: int | None = None) -> dict[str, Arm]:
    base = _org(base_scenario("sf4_none", horizon_weeks=horizon), n_teams)
    it = base.with_updates({"name": "sf4_it", "change_programme": [
        {"name": "case_recording_system", "kind": "it_system", "start_week": IT_WEEK, "duration_weeks": 26,
         "affects": "staff", "disruption": 0.04, "learning": {}}]})
    trained = it.with_updates({"name": "sf4_it_training", "interventions": [
        {"kind": "training", "start_week": IT_WEEK, "end_week": IT_WEEK + 26}]})
    return {"none": Arm(base), "it": Arm(it), "it_training": Arm(trained)}


def dip_weeks(ts: pd.DataFrame, week: int = IT_WEEK, level: float = 0.95) -> float:
    """Weeks from go-live until frontline productivity is back above `level`."""
    p = ts.set_index("week")["productivity"].loc[week + 1:]
    ok = p[p >= level]
    return float(ok.index[0] - week) if len(ok) else float(p.index[-1] - week)


def sf4(seeds: int, workers: int = 1, horizon: int = 156, n_teams: int | None = None) -> list[Effect]:
    r = run_arms(sf4_arms(horizon, n_teams), seeds, workers)
    w = IT_WEEK
    during = (w + 1, w + 52)
    late = (max(horizon - 26, w + 53), horizon)
    return [
        paired_effect("SF4", "IT switchover vs none", f"mean caseload, weeks {during[0]}-{during[1]}",
                      _diff(r["it"], r["none"], window_mean("caseload_mean", *during)), +1, unit="cases"),
        paired_effect("SF4", "IT switchover vs none", f"mean morale, weeks {during[0]}-{during[1]}",
                      _diff(r["it"], r["none"], window_mean("morale_mean", *during)), -1),
        paired_effect("SF4", "IT switchover: the dip is temporary", f"productivity, weeks {late[0]}-{late[1]} "
                      f"vs weeks {during[0]}-{during[0] + 12}",
                      [window_mean("productivity", *late)(t) - window_mean("productivity", during[0],
                                                                            during[0] + 12)(t) for t in r["it"]],
                      +1, note="productivity recovers toward 1"),
        paired_effect("SF4", "training vs none during the switchover", "weeks until productivity >= 0.95",
                      [dip_weeks(a) - dip_weeks(b) for a, b in zip(r["it_training"], r["it"], strict=True)], -1,
                      unit="weeks"),
        paired_effect("SF4", "training vs none during the switchover", f"mean caseload, weeks {during[0]}-{during[1]}",
                      _diff(r["it_training"], r["it"], window_mean("caseload_mean", *during)), -1, unit="cases"),
    ]


# --- SF5: Munro's loop from prescription to caseloads ---

def sf5_arms(horizon: int = 260, n_teams: int | None = None) -> dict[str, Arm]:
    base = _org(base_scenario("sf5_base", horizon_weeks=horizon), n_teams)
    pressed = base.with_updates({"name": "sf5_pressure", "slippage.inspection_interval_weeks": 26,
                                 "slippage.inspection_magnitude": 0.15, "slippage.incident_rate_per_year": 1.5})
    return {"base": Arm(base), "pressure": Arm(pressed)}


SF5_CHAIN = (("prescription", "prescription", +1), ("compliance_habit_mean", "compliance habit", +1),
             ("time_with_children", "time with children", -1), ("morale_mean", "morale", -1),
             ("turnover_rate_12m", "12-month turnover", +1), ("caseload_mean", "cases per case holder", +1))


def sf5(seeds: int, workers: int = 1, horizon: int = 260, n_teams: int | None = None) -> list[Effect]:
    r = run_arms(sf5_arms(horizon, n_teams), seeds, workers)
    lo = 26
    return [paired_effect("SF5", "inspections every 26 weeks and 1.5 incidents a year vs baseline",
                          f"mean {label}, weeks {lo}-{horizon}",
                          _diff(r["pressure"], r["base"], window_mean(col, lo, horizon)), sign)
            for col, label, sign in SF5_CHAIN]


# --- SF6: tight budget ---

def sf6_arms(horizon: int = 260, n_teams: int | None = None) -> dict[str, Arm]:
    full = load_scenario(SCENARIOS / "phased_with_vigilance.yaml").with_updates({"horizon_weeks": horizon})
    tight = full.with_updates({"name": "tight", "budget.quarterly_budget": 250.0})
    return {"full": Arm(_org(full, n_teams)), "tight": Arm(_org(tight, n_teams))}


def sf6(seeds: int, workers: int = 1, horizon: int = 260, n_teams: int | None = None) -> list[Effect]:
    r = run_arms(sf6_arms(horizon, n_teams), seeds, workers)
    name = "quarterly budget GBP 250k vs 400k (phased, vigilance kept)"
    return [paired_effect("SF6", name, "agency worker rate (mean)", _diff(r["tight"], r["full"],
                                        window_mean("agency_worker_share", 1, horizon)), -1),
            paired_effect("SF6", name, "peak cases per case holder",
                          _diff(r["tight"], r["full"], window_max("caseload_mean")), +1, unit="cases"),
            paired_effect("SF6", name, "lowest service standard",
                          _diff(r["tight"], r["full"], window_min("service_standard")), -1),
            paired_effect("SF6", name, "morale trough", _diff(r["tight"], r["full"], window_min("morale_mean")), -1),
            paired_effect("SF6", name, "peak 12-month turnover",
                          _diff(r["tight"], r["full"], window_max("turnover_rate_12m")), +1)]


FACTS: dict[str, tuple[str, Callable[..., list[Effect]]]] = {
    "SF1": ("A faster change pace gives a deeper morale trough and a higher peak turnover than a phased one", sf1),
    "SF2": ("When vigilance stops at handover the compliance habit rebounds, faster under higher turnover", sf2),
    "SF3": ("Turnover fragments working relationships; repair takes months; partner liaison speeds it", sf3),
    "SF4": ("An IT switchover dips productivity: caseloads up, morale down, temporarily; training shortens it", sf4),
    "SF5": ("Munro's loop: prescription -> compliance -> less time with children -> morale -> turnover -> "
            "caseloads", sf5),
    "SF6": ("A tighter budget (less agency cover, programme scaled down) gives worse transition risk", sf6),
}


def run_facts(seeds: int, workers: int = 1, only: list[str] | None = None, **kw: Any) -> dict[str, list[Effect]]:
    """Every stylized fact (or `only` some) at `seeds` paired seeds."""
    return {k: fn(seeds, workers, **kw) for k, (_, fn) in FACTS.items() if only is None or k in only}
