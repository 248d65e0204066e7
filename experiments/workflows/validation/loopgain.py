"""Loop gains measured honestly: the intact model against the model with the loop's *closing* link cut.

A prescription pulse is applied at week `NUDGE_WEEK` (the loops' common starting point) and each loop's
gain is the difference, intact minus cut, of the response *at the loop's own starting variable* over the
following two years, paired by seed (the cut runs share every random stream with the intact runs).
A reinforcing loop makes the response larger (gain > 0), a balancing loop smaller (gain < 0); a gain
indistinguishable from zero means the loop does not act at that operating point.

Closing links cut (each the only structural link from the loop's last variable back to its start):

R1+B  visible omissions raise prescription (`slippage.omission_sensitivity` = 0). R1 (unworked cases
      become omissions) and B (recording hides omissions) share this link, so the cut removes both:
      the gain is their net effect on prescription.
B     omission masking (`slippage.omission_masking` = 0): the balancing part alone, on prescription.
R2    sustained pressure makes people fall back on procedure (`slippage.goal_erosion_rate` = 0): the
      loop through morale, turnover and caseloads, on the compliance habit (prescription in practice).

The map runs the same measurement over a grid of operating points (open cases per post x capacity per
worker) and names the loop with the largest gain in each: where each loop dominates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from culturedrift.experiments.workflows.validation.common import base_scenario, paired_effect, pmap, run_with_nudge

NUDGE_WEEK = 52
NUDGE_SIZE = 0.3
HORIZON = 156


@dataclass(frozen=True)
class Cut:
    key: str
    label: str
    updates: dict[str, Any]
    start: str  # the loop's own starting variable (a column of run_with_nudge's record)
    polarity: int  # +1 reinforcing, -1 balancing


CUTS: dict[str, Cut] = {
    "R1+B": Cut("R1+B", "omissions -> prescription cut (R1 and B together)", {"slippage.omission_sensitivity": 0.0},
                "prescription", +1),
    "B": Cut("B", "recording no longer hides omissions", {"slippage.omission_masking": 0.0}, "prescription", -1),
    "R2": Cut("R2", "sustained pressure no longer drives procedure (goal erosion)", {"slippage.goal_erosion_rate": 0.0},
              "compliance_habit_mean", +1),
}

#: operating points of the map: (open cases per frontline post, cases a worker can hold to standard)
DEMANDS = (14.0, 16.8, 19.5)
CAPACITIES = (18.0, 20.0, 22.0)


def _window(ts: pd.DataFrame, col: str, lo: int, hi: int) -> float:
    w = ts["week"]
    return float(ts.loc[(w >= lo) & (w <= hi), col].mean())


STARTS = ("prescription", "compliance_habit_mean")


def _responses(updates: dict[str, Any], seed: int, horizon: int, n_teams: int | None) -> dict[str, float]:
    """Pulse response (nudged minus unnudged, same seed) of each starting variable, weeks after the pulse."""
    sc = base_scenario("loopgain", horizon_weeks=horizon).with_updates(updates)
    if n_teams:
        sc = sc.with_updates({"organisation.n_teams": n_teams})
    base = run_with_nudge(sc, seed)
    nudged = run_with_nudge(sc, seed, "prescription", NUDGE_WEEK, NUDGE_SIZE)
    return {col: _window(nudged, col, NUDGE_WEEK + 1, horizon) - _window(base, col, NUDGE_WEEK + 1, horizon)
            for col in STARTS}


def _seed_gains(point: dict[str, Any], seed: int, horizon: int, n_teams: int | None) -> dict[str, float]:
    """One seed at one operating point: each loop's gain, intact minus cut, at its starting variable."""
    intact = _responses(point, seed, horizon, n_teams)
    out = {f"intact_{col}": v for col, v in intact.items()}
    for k, cut in CUTS.items():
        out[k] = intact[cut.start] - _responses({**point, **cut.updates}, seed, horizon, n_teams)[cut.start]
    return out


def loop_gains(seeds: int, workers: int = 1, points: list[dict[str, Any]] | None = None, horizon: int = HORIZON,
               n_teams: int | None = None) -> pd.DataFrame:
    """One row per operating point and loop: gain (mean, 95% CI over paired seeds), relative gain, dominant loop."""
    points = points if points is not None else [
        {"workload.demand_cases_per_post": d, "workload.capacity_cases": c} for d in DEMANDS for c in CAPACITIES]
    tasks = [(pt, s, horizon, n_teams) for pt in points for s in range(seeds)]
    rows = pmap(_seed_gains, tasks, workers)
    out = []
    for i, pt in enumerate(points):
        df = pd.DataFrame(rows[i * seeds:(i + 1) * seeds])
        for k, cut in CUTS.items():
            e = paired_effect(k, cut.label, f"{cut.start} response, intact - cut", df[k], cut.polarity)
            ref = float(df[f"intact_{cut.start}"].mean())
            out.append({"demand_cases_per_post": pt.get("workload.demand_cases_per_post"),
                        "capacity_cases": pt.get("workload.capacity_cases"), "loop": k, "start": cut.start,
                        "gain": e.mean, "lo": e.lo, "hi": e.hi, "n": e.n,
                        "intact_response": ref, "share_of_response": e.mean / ref if ref else float("nan"),
                        "resolved": bool(e.lo > 0 or e.hi < 0)})
    table = pd.DataFrame(out)
    # dominant loop per point: the largest |share of the intact response| among resolved gains
    dom = {}
    for key, g in table.groupby(["demand_cases_per_post", "capacity_cases"], sort=False):
        g = g[g["resolved"]]
        dom[key] = str(g.loc[g["share_of_response"].abs().idxmax(), "loop"]) if len(g) else "none resolved"
    table["dominant"] = [dom[(a, b)] for a, b in zip(table["demand_cases_per_post"], table["capacity_cases"],
                                                      strict=True)]
    return table


def gain_map(table: pd.DataFrame) -> pd.DataFrame:
    """The map: one row per operating point (with demand / capacity), each loop's gain and the dominant loop."""
    wide = table.pivot_table(index=["demand_cases_per_post", "capacity_cases"], columns="loop", values="gain",
                             sort=False)[list(CUTS)].reset_index()
    wide.insert(2, "demand / capacity", wide["demand_cases_per_post"] / wide["capacity_cases"])
    dom = table.drop_duplicates(["demand_cases_per_post", "capacity_cases"]).set_index(
        ["demand_cases_per_post", "capacity_cases"])["dominant"]
    wide["dominant"] = [dom[(a, b)] for a, b in zip(wide["demand_cases_per_post"], wide["capacity_cases"], strict=True)]
    return wide.sort_values("demand / capacity").reset_index(drop=True)


def main() -> None:  # pragma: no cover - a measurement script
    """Print the map at a small size (python -m ...loopgain SEEDS WORKERS)."""
    import sys

    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    t = loop_gains(seeds, workers)
    pd.set_option("display.width", 200)
    print(t.to_string(index=False))
    print(gain_map(t).to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    main()


def map_markdown(table: pd.DataFrame, seeds: int) -> list[str]:
    """The loop-gain map as a Markdown section."""
    wide = gain_map(table)
    out = ["## Loop gains: intact minus closing-link cut, and where each loop dominates", "",
           f"Prescription pulse +{NUDGE_SIZE} at week {NUDGE_WEEK}; response = mean over weeks {NUDGE_WEEK + 1}-"
           f"{HORIZON} of the loop's starting variable (prescription for R1+B and B, the compliance habit for R2), "
           f"nudged minus unnudged; gain = intact response minus the response with the closing link cut; "
           f"{seeds} paired seeds per point. Dominant: the loop with the largest gain relative to the intact "
           "response among those whose 95% CI excludes zero.", "",
           "| open cases per post | capacity per worker | demand / capacity | gain R1+B | gain B | gain R2 "
           "| dominant |",
           "|---|---|---|---|---|---|---|"]
    for r in wide.itertuples(index=False):
        out.append(f"| {r[0]:g} | {r[1]:g} | {r[2]:.2f} | {r[3]:+.2g} | {r[4]:+.2g} | {r[5]:+.2g} | {r[6]} |")
    return [*out, ""]
