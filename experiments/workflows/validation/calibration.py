"""Calibration of the baseline to the English workforce statistics by approximate Bayesian computation.

Method: rejection ABC (Pritchard et al. 1999; Beaumont et al. 2002). Parameter vectors are drawn
from uniform priors (experiments/calibration.yaml), the baseline is run once per draw, and each
run is summarised by four statistics: mean annual turnover, vacancy rate, agency worker rate and
cases per case holder. The distance of a run to the data is the Euclidean norm of
(simulated - target midpoint) / target half-width, so a run inside every target range is at
distance <= 2. The closest `accept_fraction` of draws form the approximate posterior; its
2.5-97.5% quantiles are the accepted parameter ranges and its medians the calibrated defaults.

The fit is then checked by a posterior predictive run of the calibrated defaults (annual
snapshots over several seeds against the target ranges), and the regional check asks whether the
high- and low-pressure target sets are reached by changing `turnover.labour_market_pressure` alone.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from culturedrift.experiments.reporting.sensitivity import parameter_label
from culturedrift.experiments.reporting.style import ROLE, figure_style, save
from culturedrift.experiments.workflows.validation.common import base_scenario, pmap
from culturedrift.model import simulate

SETTINGS = Path(__file__).resolve().parents[2] / "calibration.yaml"
STATS = ("turnover_rate_12m", "vacancy_rate", "agency_worker_share", "caseload_mean")


def load_settings(path: str | Path | None = None) -> dict[str, Any]:
    """The calibration settings and targets."""
    return yaml.safe_load(Path(path or SETTINGS).read_text())


def run_stats(updates: dict[str, Any], seed: int, horizon: int, from_week: int) -> dict[str, float]:
    """Baseline with `updates`: the four summary statistics (means over weeks from_week..horizon)."""
    sc = base_scenario("calibration", horizon_weeks=horizon).with_updates(updates) if updates else \
        base_scenario("calibration", horizon_weeks=horizon)
    res = simulate(sc, seed)
    ts = res.timeseries[res.timeseries["week"] >= from_week]
    out = {k: float(ts[k].mean()) for k in STATS}
    ev = res.events
    leave = ev[(ev["event"] == "leave") & (ev["employment"] == "permanent") & (ev["role"] != "partner")]
    out["leavers_under_2y"] = float((leave["tenure_weeks"] < 104).mean()) if len(leave) else float("nan")
    return out


def distance(stats: pd.DataFrame | dict[str, Any], targets: dict[str, dict[str, float]]) -> np.ndarray:
    """Euclidean distance in target half-widths from the target midpoints."""
    total = 0.0
    for k, t in targets.items():
        mid, half = (t["low"] + t["high"]) / 2, (t["high"] - t["low"]) / 2
        total = total + ((np.asarray(stats[k], float) - mid) / half) ** 2
    return np.sqrt(total)


def draw_prior(priors: dict[str, dict[str, Any]], n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n independent draws from the uniform priors."""
    cols = {}
    for path, p in priors.items():
        if p.get("integer"):
            cols[path] = rng.integers(int(p["low"]), int(p["high"]) + 1, n)
        else:
            cols[path] = rng.uniform(p["low"], p["high"], n)
    return pd.DataFrame(cols)


def _updates(row: pd.Series, priors: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: (int(row[k]) if priors[k].get("integer") else float(row[k])) for k in priors}


def abc(settings: dict[str, Any], draws: int, workers: int = 1) -> pd.DataFrame:
    """Rejection ABC: one row per prior draw with its statistics, distance and acceptance."""
    a = settings["abc"]
    rng = np.random.default_rng(a["seed"])
    theta = draw_prior(settings["priors"], draws, rng)
    seeds = rng.integers(0, 2**31 - 1, draws)
    tasks = [(_updates(theta.iloc[i], settings["priors"]), int(seeds[i]), settings["horizon_weeks"],
              settings["stat_from_week"]) for i in range(draws)]
    out = pd.DataFrame(pmap(run_stats, tasks, workers))
    df = pd.concat([theta, out], axis=1)
    df["seed"] = seeds
    df["distance"] = distance(df, settings["targets"])
    k = max(round(a["accept_fraction"] * draws), min(a["min_accepted"], draws))
    eps = np.sort(df["distance"].to_numpy())[k - 1]
    df["accepted"] = df["distance"] <= eps
    df.attrs["epsilon"] = float(eps)
    return df


def posterior_table(df: pd.DataFrame, settings: dict[str, Any]) -> pd.DataFrame:
    """Per parameter: prior range, accepted 2.5/50/97.5% quantiles and the share of the prior range kept."""
    acc = df[df["accepted"]]
    rows = []
    for k, p in settings["priors"].items():
        q = acc[k].quantile([0.025, 0.5, 0.975])
        rows.append({"parameter": k, "prior_low": p["low"], "prior_high": p["high"], "q025": q[0.025],
                     "median": q[0.5], "q975": q[0.975],
                     "range_kept": (q[0.975] - q[0.025]) / (p["high"] - p["low"])})
    return pd.DataFrame(rows)


def calibrated_values(table: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Posterior medians, rounded to the precision the defaults are written with."""
    out = {}
    for _, r in table.iterrows():
        p = settings["priors"][r["parameter"]]
        v = float(r["median"])
        out[r["parameter"]] = round(v) if p.get("integer") else float(f"{v:.3g}")
    return out


# --- posterior predictive check of the defaults in the code ---

def annual_snapshots(seed: int, updates: dict[str, Any] | None = None, years: int = 5) -> list[dict[str, float]]:
    """A 5-year baseline: each year's turnover (12-month rate at year end) and mean vacancy, agency, caseload."""
    sc = base_scenario("predictive", horizon_weeks=52 * years)
    if updates:
        sc = sc.with_updates(updates)
    ts = simulate(sc, seed).timeseries
    rows = []
    for y in range(1, years + 1):
        yr = ts[(ts["week"] > 52 * (y - 1)) & (ts["week"] <= 52 * y)]
        rows.append({"seed": seed, "year": y, "turnover_rate_12m": float(yr["turnover_rate_12m"].iloc[-1]),
                     "vacancy_rate": float(yr["vacancy_rate"].mean()),
                     "agency_worker_share": float(yr["agency_worker_share"].mean()),
                     "caseload_mean": float(yr["caseload_mean"].mean())})
    return rows


def predictive(settings: dict[str, Any], seeds: int, workers: int = 1,
               updates: dict[str, Any] | None = None) -> pd.DataFrame:
    """Annual snapshots of the baseline over `seeds` seeds (seed offset keeps them apart from the ABC)."""
    rows = pmap(annual_snapshots, [(1000 + s, updates) for s in range(seeds)], workers)
    return pd.DataFrame([r for rr in rows for r in rr])


def fit_table(pred: pd.DataFrame, targets: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Model (median and 95% interval of annual values; 95% CI of the mean) against each target range."""
    rows = []
    for k, t in targets.items():
        v = pred[k].to_numpy()
        per_seed = pred.groupby("seed")[k].mean().to_numpy()
        se = per_seed.std(ddof=1) / np.sqrt(per_seed.size) if per_seed.size > 1 else np.nan
        mean = float(per_seed.mean())
        rows.append({"statistic": k, "label": t.get("label", k), "target_low": t["low"], "target_high": t["high"],
                     "model_mean": mean, "mean_lo": mean - 1.96 * se, "mean_hi": mean + 1.96 * se,
                     "annual_q025": float(np.quantile(v, 0.025)), "annual_median": float(np.median(v)),
                     "annual_q975": float(np.quantile(v, 0.975)),
                     "share_years_in_range": float(((v >= t["low"]) & (v <= t["high"])).mean()),
                     "mean_in_range": bool(t["low"] <= mean <= t["high"])})
    return pd.DataFrame(rows)


# --- regional labour markets: pressure alone ---

def region_scan(settings: dict[str, Any], workers: int = 1, seeds: int | None = None) -> pd.DataFrame:
    """Mean statistics over seeds for each labour-market pressure on the grid."""
    r = settings["regions"]
    n = seeds or r["seeds"]
    grid = r["pressure_grid"]
    tasks = [({"turnover.labour_market_pressure": float(p)}, 2000 + s, settings["horizon_weeks"],
              settings["stat_from_week"]) for p in grid for s in range(n)]
    out = pd.DataFrame(pmap(run_stats, tasks, workers))
    out["pressure"] = [t[0]["turnover.labour_market_pressure"] for t in tasks]
    return out.groupby("pressure", as_index=False)[list(STATS)].mean()


def region_fit(scan: pd.DataFrame, settings: dict[str, Any]) -> pd.DataFrame:
    """For each regional target set: the best pressure on the grid and whether every statistic is in its band."""
    rows = []
    for key in ("low", "high"):
        reg = settings["regions"][key]
        d = distance(scan, reg["targets"])
        best = scan.iloc[int(np.argmin(d))]
        row = {"region": key, "label": reg["label"], "best_pressure": float(best["pressure"]),
               "distance": float(d.min())}
        ok = True
        for k, t in reg["targets"].items():
            row[k] = float(best[k])
            ok &= t["low"] <= best[k] <= t["high"]
        row["all_in_band"] = bool(ok)
        rows.append(row)
    return pd.DataFrame(rows)


def figure(abc_df: pd.DataFrame, fit: pd.DataFrame, pred: pd.DataFrame, scan: pd.DataFrame | None,
           settings: dict[str, Any], path: str | Path) -> Path:
    """Top row: model vs data per statistic (target range shaded; annual 95% interval; mean with CI);
    bottom row: accepted vs prior parameter draws, and the statistics against labour-market pressure."""
    priors = list(settings["priors"])
    n_bottom = len(priors) + (1 if scan is not None else 0)
    ncols = max(len(STATS), -(-n_bottom // 2))
    with figure_style():
        fig, axes = plt.subplots(3, ncols, figsize=(3.6 * ncols, 10.4), squeeze=False)
        return _draw(fig, axes, abc_df, fit, pred, scan, settings, Path(path), priors)


def _draw(fig: Figure, axes: np.ndarray, abc_df: pd.DataFrame, fit: pd.DataFrame, pred: pd.DataFrame,
          scan: pd.DataFrame | None, settings: dict[str, Any], path: Path, priors: list[str]) -> Path:
    """The panels of `figure` (kept apart so the shared style wraps all of them)."""
    for ax, (_, r) in zip(axes[0], fit.iterrows(), strict=False):
        ax.axhspan(r["target_low"], r["target_high"], color=ROLE["target"], alpha=0.25, label="DfE 2013-2023")
        v = pred[r["statistic"]]
        ax.violinplot(v, positions=[0], showextrema=False)
        ax.errorbar([0.35], [r["annual_median"]], yerr=[[r["annual_median"] - r["annual_q025"]],
                    [r["annual_q975"] - r["annual_median"]]], fmt="o", color=ROLE["main"], capsize=4,
                    label="model: annual values (median, 95%)")
        ax.errorbar([0.6], [r["model_mean"]], yerr=[[r["model_mean"] - r["mean_lo"]], [r["mean_hi"] - r["model_mean"]]],
                    fmt="s", color="k", capsize=4, label="model: mean (95% CI)")
        ax.set_xlim(-0.6, 1.0)
        ax.set_xticks([])
        ax.set_title(textwrap.fill(r["label"], 34), fontsize=9)
        ax.set_ylabel("cases per case holder" if r["statistic"] == "caseload_mean" else "rate (share, 0-1)",
                      fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].legend(fontsize=7, loc="lower left")
    for ax in axes[0][len(STATS):]:
        ax.set_visible(False)
    acc = abc_df[abc_df["accepted"]]
    flat = list(axes[1]) + list(axes[2])
    for ax, k in zip(flat, priors, strict=False):
        p = settings["priors"][k]
        bins = np.linspace(p["low"], p["high"], 16)
        ax.hist(abc_df[k], bins=bins, color="0.8", density=True, label="prior draws")
        ax.hist(acc[k], bins=bins, color=ROLE["main"], alpha=0.7, density=True, label="accepted")
        ax.set_title(textwrap.fill(parameter_label(k), 36), fontsize=8.5)
        ax.set_xlabel("parameter value (units in the title)", fontsize=7.5)
        ax.set_ylabel("density (per unit of the parameter)", fontsize=7.5)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(labelsize=7)
    flat[0].legend(fontsize=7)
    used = len(priors)
    if scan is not None:
        ax = flat[used]
        for k, c in zip(("turnover_rate_12m", "vacancy_rate", "agency_worker_share"),
                        (ROLE["second"], ROLE["warn"], ROLE["highlight"]),
                        strict=True):
            ax.plot(scan["pressure"], scan[k], "o-", color=c, label=k, ms=3)
        ax.axvline(1.0, color="0.5", lw=0.8)
        ax.set_xlabel("labour-market pressure (ratio to England)", fontsize=7.5)
        ax.set_ylabel("rate (share, 0-1)", fontsize=7.5)
        ax.set_title("Regional: pressure alone", fontsize=9)
        ax.legend(fontsize=7)
        used += 1
    for ax in flat[used:]:
        ax.set_visible(False)
    fig.suptitle("Calibration: rejection ABC against DfE children's social work workforce statistics", fontsize=11,
                 fontweight="bold")
    fig.tight_layout(h_pad=1.6)
    return save(fig, path, dpi=110)


def run_calibration(draws: int, pred_seeds: int, workers: int = 1, regions: bool = True,
                    settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole calibration experiment: ABC, posterior table, predictive fit of the defaults, regions."""
    settings = settings or load_settings()
    abc_df = abc(settings, draws, workers)
    table = posterior_table(abc_df, settings)
    pred = predictive(settings, pred_seeds, workers)
    fit = fit_table(pred, settings["targets"])
    scan = region_scan(settings, workers) if regions else None
    reg = region_fit(scan, settings) if scan is not None else None
    return {"settings": settings, "abc": abc_df, "posterior": table, "calibrated": calibrated_values(table, settings),
            "predictive": pred, "fit": fit, "scan": scan, "regions": reg}
