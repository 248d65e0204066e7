"""Global sensitivity of the decision outputs and of rank reversals between strategies (Morris, SALib).

The uncertain dynamics parameters (each over the range its evidence allows, RANGES) are sampled by a
Morris design; at every design point the strategies (`baseline`, `big_bang`, `phased`,
`phased_with_vigilance`) run on the same seed, and the decision contrasts a strategy team reads from
the decision table are computed:

    pace_morale      phased minus big bang, morale trough (> 0: phased is gentler on morale)
    pace_turnover    phased minus big bang, peak 12-month turnover (< 0: phased loses fewer staff)
    phased_free      phased minus baseline, mean 12-month turnover (<= 0: "phased costs nothing")
    vigilance_value  phased with vigilance minus phased, culture attainment (> 0: vigilance pays)

For each contrast: Morris mu* (with its bootstrap CI) and sigma per parameter, in the contrast's units
per the full range of the parameter, and the share of design points at which the contrast has the
other sign from its value at the defaults: a rank reversal within the evidence ranges. Beside it, the
share of seeds *at the defaults* whose contrast has the other sign from the mean: the reversals seed luck
alone produces, so a reversal share near it says the ranges add little to what one run's luck does.

Run: python -m culturedrift.experiments.workflows.validation.ranking [TRAJECTORIES] [WORKERS] [OUT]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.workflows.validation.common import pmap
from culturedrift.model import load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
STRATEGIES = ("baseline", "big_bang", "phased", "phased_with_vigilance")

#: parameter: (low, high, source of the range)
RANGES: dict[str, tuple[float, float, str]] = {
    "culture.reinforcement_rate": (0.008, 0.03, "P1 band: half the shift in 26-156 weeks"),
    "culture.conformity_rate": (0.0, 0.025, "assumption: from no memory to twice the default"),
    "culture.norm_threshold": (0.35, 0.55, "assumption: tipping between a third and two thirds of the way"),
    "slippage.decay_rate": (0.001, 0.01, "P2 band: improvement decays over years"),
    "morale.change_effect": (0.001, 0.004, "assumption: half to twice the default"),
    "morale.change_fatigue": (1.0, 3.0, "declared range"),
    "interventions.0.support": (0.0, 0.004, "engagement: none to the supervision evidence's top"),
    "interventions.1.support": (0.0, 0.004, "supervision: Mor Barak et al. 2009; Carpenter et al. 2013"),
    "workload.capacity_cases": (18.0, 22.0, "P5: 0.8-0.95 of capacity at national caseloads"),
    "turnover.labour_market_pressure": (0.8, 1.2, "regions: DfE 2023 turnover 14.2-15.9%"),
}
CONTRASTS = {
    "pace_morale": ("phased", "big_bang", "morale_trough", +1),
    "pace_turnover": ("phased", "big_bang", "peak_turnover_12m", -1),
    "phased_free": ("phased", "baseline", "mean_turnover_12m", -1),
    "vigilance_value": ("phased_with_vigilance", "phased", "culture_attainment", +1),
}


def _point(values: dict[str, float], seed: int, horizon: int) -> dict[str, float]:
    """Every strategy at one design point, one shared seed: the summary metrics each contrast needs."""
    out = {}
    for name in STRATEGIES:
        sc = load_scenario(SCENARIOS / f"{name}.yaml").with_updates({"horizon_weeks": horizon})
        upd = {k: v for k, v in values.items() if not k.startswith("interventions.") or sc.interventions}
        res = simulate(sc.with_updates(upd), seed).summary
        for m in ("morale_trough", "peak_turnover_12m", "mean_turnover_12m", "culture_attainment"):
            out[f"{name}.{m}"] = float(res[m])
    return out


def contrasts(rows: pd.DataFrame) -> pd.DataFrame:
    """The decision contrasts from per-strategy summaries."""
    return pd.DataFrame({k: rows[f"{a}.{m}"] - rows[f"{b}.{m}"] for k, (a, b, m, _) in CONTRASTS.items()})


def morris(trajectories: int = 4, workers: int = 1, horizon: int = 260, levels: int = 4,
           seed: int = 20110510) -> dict[str, Any]:
    """Morris design over RANGES, every strategy per point; indices and reversal shares per contrast."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    names = list(RANGES)
    problem = {"num_vars": len(names), "names": names, "bounds": [[RANGES[n][0], RANGES[n][1]] for n in names]}
    x = sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    seeds = np.repeat(np.arange(trajectories), len(names) + 1)  # one seed per trajectory: paired steps
    tasks = [({n: float(v) for n, v in zip(names, row, strict=True)}, int(s), horizon)
             for row, s in zip(x, seeds, strict=True)]
    rows = pd.DataFrame(pmap(_point, tasks, workers))
    c = contrasts(rows)
    defaults = contrasts(pd.DataFrame(pmap(_point, [({}, s, horizon) for s in range(trajectories)], workers)))
    tables = []
    for k in CONTRASTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = analyze.analyze(problem, x, c[k].to_numpy(), num_levels=levels, seed=seed)
        tables.append(pd.DataFrame({"contrast": k, "parameter": names, "mu_star": si["mu_star"],
                                    "mu_star_conf": si["mu_star_conf"], "mu": si["mu"], "sigma": si["sigma"]}))
    table = pd.concat(tables, ignore_index=True)
    at_default = defaults.mean()
    reversal = {k: float((np.sign(c[k]) != np.sign(at_default[k])).mean()) for k in CONTRASTS}
    luck = {k: float((np.sign(defaults[k]) != np.sign(at_default[k])).mean()) for k in CONTRASTS}
    return {"table": table, "points": pd.concat([pd.DataFrame(x, columns=names), rows, c], axis=1),
            "default": at_default, "default_sd": defaults.std(ddof=1), "reversal_share": reversal,
            "seed_reversal_share": luck,
            "trajectories": trajectories, "runs": len(tasks) * len(STRATEGIES)}


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a measurement script
    argv = sys.argv[1:] if argv is None else argv
    r = int(argv[0]) if argv else 4
    workers = int(argv[1]) if len(argv) > 1 else 1
    out = Path(argv[2]) if len(argv) > 2 else Path("results/ranking")
    out.mkdir(parents=True, exist_ok=True)
    res = morris(r, workers)
    res["table"].to_csv(out / "morris.csv", index=False)
    res["points"].to_csv(out / "points.csv", index=False)
    pd.set_option("display.width", 200)
    print(f"{res['runs']} runs; contrasts at the defaults (mean over {r} seeds):")
    summary = pd.DataFrame({"default": res["default"], "sd": res["default_sd"],
                            "reversal share": pd.Series(res["reversal_share"]),
                            "seed-luck reversal share": pd.Series(res["seed_reversal_share"])})
    summary.to_csv(out / "summary.csv", index_label="contrast")
    print(summary.to_string())
    print(res["table"].sort_values(["contrast", "mu_star"], ascending=[True, False]).to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    main()
