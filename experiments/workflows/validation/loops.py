"""Polarity checks of Munro's feedback loops by perturbation (nudge one run, compare with its pair).

For each loop of the Review's systems analysis (Munro 2011, ch. 2), the loop's first variable -
local prescription - is raised by `NUDGE_SIZE` at week `NUDGE_WEEK` of a baseline run, and every
downstream variable's response is measured as the mean difference from the paired unperturbed run
(same seed) over a window after the nudge. A link check passes when the 95% CI of that response
has the expected sign.

The loop as a whole: the response of the loop's last variable, times the sign of the structural
link that closes the loop back onto prescription, is the sign the loop returns to its own start -
positive for a reinforcing loop, negative for a balancing one (polarity of a loop = product of
its link polarities; Richardson 1995, Sterman 2000 ch. 5). As a second, independent check the
loop's unique link is cut (a knockout) and the response of the return variable is compared with
the intact model: a reinforcing loop amplifies it (intact - cut > 0), a balancing loop damps it.

How the loops map to model variables (see docs/ODD.md, "Munro's loops in the model"):

R1 prescription -> compliance habit (recording time) -> less time with children -> fewer cases held
   to standard (capacity; relationship-based work) -> poorer outcomes (unworked share of cases)
   -> visible omissions -> more prescription.
R2 prescription -> compliance -> less time with children -> lower morale -> turnover intention
   -> turnover -> higher caseloads and less experience (both in workload = caseload / capacity, as
   new starters' capacity carries a novice penalty) -> sustained pressure (lower capability to meet
   demand) -> procedure as a defence (goal erosion, managers' control) -> more
   prescription in practice.
B  prescription -> procedural compliance -> omissions hidden by recording everything (fewer
   visible omissions) -> less pressure for prescription.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from culturedrift.model import Scenario

NUDGE_WEEK = 52
NUDGE_SIZE = 0.3
HORIZON = 156


@dataclass(frozen=True)
class Link:
    """A downstream variable of the loop and the expected sign of its response to the nudge."""

    column: str
    label: str
    expected: int
    lo: int = NUDGE_WEEK + 1
    hi: int = HORIZON


@dataclass(frozen=True)
class Loop:
    key: str
    name: str
    polarity: int  # +1 reinforcing, -1 balancing
    links: tuple[Link, ...]
    closing: str  # the structural link from the last variable back to prescription
    closing_sign: int
    knockout: dict[str, Any]  # parameter updates that cut the loop's unique link
    knockout_label: str
    return_column: str  # response compared between the intact and the cut model
    return_label: str


_P = Link("prescription", "local prescription", +1, NUDGE_WEEK + 1, NUDGE_WEEK + 26)
_C = Link("compliance_habit_mean", "compliance habit", +1)
_T = Link("time_with_children", "time with children", -1)

LOOPS: dict[str, Loop] = {
    "R1": Loop("R1", "prescription -> compliance time -> less time with children -> relationships -> outcomes",
               +1, (_P, _C, _T,
                    Link("capacity_mean", "cases held to standard (relationship-based work)", -1),
                    Link("omissions_unworked", "unworked share of cases (poorer outcomes)", +1)),
               "unworked cases become visible omissions that raise prescription (slippage.omission_sensitivity)", +1,
               {"workload.direct_time_elasticity": 0.0}, "capacity no longer depends on time with children",
               "omissions_unworked", "unworked share of cases"),
    "R2": Loop("R2", "prescription -> morale -> retention -> caseload and experience -> capability -> "
               "more prescription", +1,
               (_P, _C, _T, Link("morale_mean", "morale", -1),
                Link("turnover_intention", "turnover intention", +1),
                Link("turnover_rate_12m", "12-month turnover", +1, NUDGE_WEEK + 26, HORIZON),
                Link("workload_mean", "workload: caseload / capacity (vacancies and inexperience)", +1),
                Link("sustained_pressure", "sustained pressure (lower capability to meet demand)", +1)),
               "sustained pressure makes staff fall back on procedure and managers tighten control "
               "(goal erosion; slippage.goal_erosion_rate, tighten_rate)", +1,
               {"turnover.intention_morale": 0.0}, "turnover intention no longer depends on morale",
               "turnover_rate_12m", "12-month turnover"),
    "B": Loop("B", "prescription -> procedural compliance -> fewer visible omissions -> less pressure", -1,
              (_P, _C, Link("omission_visibility", "share of omissions left visible", -1)),
              "visible omissions raise prescription (slippage.omission_sensitivity)", +1,
              {"slippage.omission_masking": 0.0}, "recording everything no longer hides omissions",
              "prescription", "local prescription"),
}


def _window(ts: pd.DataFrame, col: str, lo: int, hi: int) -> float:
    w = ts["week"]
    return float(ts.loc[(w >= lo) & (w <= hi), col].mean())


def _scenario(n_teams: int | None, horizon: int) -> Scenario:
    sc = base_scenario("loop", horizon_weeks=horizon)
    return sc.with_updates({"organisation.n_teams": n_teams}) if n_teams else sc


def _response(nudged: pd.DataFrame, base: pd.DataFrame, col: str, lo: int, hi: int) -> float:
    return _window(nudged, col, lo, hi) - _window(base, col, lo, hi)


def _seed_responses(keys: tuple[str, ...], seed: int, n_teams: int | None, horizon: int,
                    knockout: bool) -> dict[str, dict[str, float]]:
    """One seed: the shared intact pair (without / with the nudge), then each loop's knockout pair."""
    sc = _scenario(n_teams, horizon)
    base = run_with_nudge(sc, seed)
    nudged = run_with_nudge(sc, seed, "prescription", NUDGE_WEEK, NUDGE_SIZE)
    out: dict[str, dict[str, float]] = {}
    for key in keys:
        loop = LOOPS[key]
        r = {link.column: _response(nudged, base, link.column, link.lo, min(link.hi, horizon)) for link in loop.links}
        if knockout:
            cut = sc.with_updates(loop.knockout)
            cut_base = run_with_nudge(cut, seed)
            cut_nudged = run_with_nudge(cut, seed, "prescription", NUDGE_WEEK, NUDGE_SIZE)
            col, lo = loop.return_column, NUDGE_WEEK + 1
            r["_gain"] = (_response(nudged, base, col, lo, horizon)
                          - _response(cut_nudged, cut_base, col, lo, horizon))
        out[key] = r
    return out


@dataclass
class LoopResult:
    loop: Loop
    links: list[Effect]
    whole: Effect  # the signal the loop returns to prescription (expected: the loop's polarity)
    gain: Effect | None  # intact - cut response of the return variable

    @property
    def passed(self) -> bool:
        """Every link and the loop's returned sign have the expected signs.

        The knockout gain is supporting evidence, reported with its own result but not part of the
        verdict: near the baseline's operating point (case holders at ~80% of capacity) the loops that
        close through unworked cases are weak, and the gain needs many seeds to resolve.
        """
        return all(e.passed for e in self.links) and self.whole.passed

    @property
    def effects(self) -> list[Effect]:
        return [*self.links, self.whole, *([self.gain] if self.gain else [])]


def _summarise(key: str, df: pd.DataFrame, horizon: int, knockout: bool) -> LoopResult:
    loop = LOOPS[key]
    nudge = f"prescription +{NUDGE_SIZE} at week {NUDGE_WEEK}"
    links = [paired_effect(key, f"{nudge}: {link.label}", f"mean response, weeks {link.lo}-{min(link.hi, horizon)}",
                           df[link.column], link.expected) for link in loop.links]
    last = loop.links[-1]
    whole = paired_effect(key, f"loop as a whole ({'reinforcing' if loop.polarity > 0 else 'balancing'})",
                          f"signal returned to prescription = {last.label} response x closing sign "
                          f"({loop.closing_sign:+d})", df[last.column] * loop.closing_sign, loop.polarity,
                          note=loop.closing)
    gain = None
    if knockout:
        gain = paired_effect(key, f"supporting - knockout: {loop.knockout_label}",
                             f"{loop.return_label} response, intact - cut", df["_gain"], loop.polarity,
                             note="a reinforcing loop amplifies the response, a balancing loop damps it")
    return LoopResult(loop, links, whole, gain)


def run_loops(seeds: int, workers: int = 1, keys: tuple[str, ...] | None = None, n_teams: int | None = None,
              horizon: int = HORIZON, knockout: bool = True, seed0: int = 0) -> dict[str, LoopResult]:
    """Every loop (or `keys`): link responses, the loop's returned sign and the knockout gain."""
    keys = tuple(keys or LOOPS)
    rows = pmap(_seed_responses, [(keys, seed0 + s, n_teams, horizon, knockout) for s in range(seeds)], workers)
    return {k: _summarise(k, pd.DataFrame([r[k] for r in rows]), horizon, knockout) for k in keys}


def check_loop(key: str, seeds: int, workers: int = 1, **kw: Any) -> LoopResult:
    """One loop's checks."""
    return run_loops(seeds, workers, keys=(key,), **kw)[key]


def structural_sign(loop: Loop) -> int:
    """Product of the expected signs along the loop, as declared (link signs between successive variables)."""
    signs = [link.expected for link in loop.links]
    # successive ratios of response signs give the link polarities; their product telescopes
    return int(np.sign(signs[0] * signs[-1] * loop.closing_sign))
