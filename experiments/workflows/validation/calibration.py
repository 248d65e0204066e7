"""The calibrated defaults against the national workforce figures, and the labour-market posterior they come from.

The labour market is calibrated by pattern-oriented ABC-SMC (`culturedrift calibrate`,
experiments/workflows/patterns.py): regional cross-section, leaver tenure profile and stability at
once, several seeds per draw. Its final population is committed as data/posterior_labour_market.csv
and the defaults in the code are its weighted medians. `validate` does not re-run that calibration; it

  * summarises the committed posterior (which parameters the patterns identify: the 95% interval
    against the prior range, on the prior's sampling scale), and
  * checks the defaults (CAL) by a posterior predictive run: annual snapshots of the default baseline
    over several seeds against the national 2013-2023 ranges of the DfE figures (experiments/
    calibration.yaml), a span of years the calibration did not fit (it fitted 2023 only).
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
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullLocator

from culturedrift.experiments.reporting.sensitivity import parameter_label
from culturedrift.experiments.reporting.style import ROLE, figure_style, save
from culturedrift.experiments.workflows import abc_smc
from culturedrift.experiments.workflows.patterns import DATA, load_patterns
from culturedrift.experiments.workflows.validation.common import base_scenario, pmap
from culturedrift.model import Scenario, simulate

SETTINGS = Path(__file__).resolve().parents[2] / "calibration.yaml"
POSTERIOR = DATA / "posterior_labour_market.csv"
STATS = ("turnover_rate_12m", "vacancy_rate", "agency_worker_share", "caseload_mean")


def load_settings(path: str | Path | None = None) -> dict[str, Any]:
    """The national targets and predictive-check sizes (experiments/calibration.yaml)."""
    return yaml.safe_load(Path(path or SETTINGS).read_text())


def default_value(path: str) -> Any:
    """The default in the code of a dotted scenario path ('-' for a region's own pressure)."""
    node: Any = Scenario(name="defaults").model_dump()
    for part in path.split("."):
        node = node.get(part, "-") if isinstance(node, dict) else "-"
    return node


def posterior_table(path: str | Path | None = None, patterns: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per parameter of the committed posterior: prior range, weighted 2.5/50/97.5%, share of the prior kept,
    whether the patterns identify it (share kept < 0.5) and the default in the code."""
    priors = abc_smc.priors_from((patterns or load_patterns())["priors"])
    df = pd.read_csv(path or POSTERIOR)
    w = df["weight"].to_numpy(float)
    rows = []
    for p in priors:
        z = p.to_unit(df[p.name].to_numpy(float))
        q = abc_smc.weighted_quantiles(z, w, (0.025, 0.5, 0.975))
        lo, hi = p.bounds
        kept = (q[2] - q[0]) / (hi - lo)
        rows.append({"parameter": p.name, "prior_low": p.low, "prior_high": p.high,
                     "q025": float(p.from_unit(q[0])), "median": float(p.from_unit(q[1])),
                     "q975": float(p.from_unit(q[2])), "range_kept": float(kept), "identified": bool(kept < 0.5),
                     "default in code": default_value(p.name)})
    out = pd.DataFrame(rows)
    out.attrs["particles"] = len(df)
    out.attrs["ess"] = float(w.sum() ** 2 / (w**2).sum())
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


def figure(fit: pd.DataFrame, pred: pd.DataFrame, posterior: str | Path | None, path: str | Path,
           patterns: dict[str, Any] | None = None) -> Path:
    """Top row: the defaults' annual values against each national range; below: the posterior of each
    calibrated parameter over its prior range (weighted histogram; the default in the code marked)."""
    priors = abc_smc.priors_from((patterns or load_patterns())["priors"])
    post = pd.read_csv(posterior or POSTERIOR)
    ncols = len(STATS)
    rows = 1 + -(-len(priors) // ncols)
    with figure_style():
        fig, axes = plt.subplots(rows, ncols, figsize=(3.9 * ncols, 3.3 * rows + 0.6), squeeze=False)
        return _draw(fig, axes, fit, pred, post, priors, Path(path))


def _draw(fig: Figure, axes: np.ndarray, fit: pd.DataFrame, pred: pd.DataFrame, post: pd.DataFrame,
          priors: list[abc_smc.Prior], path: Path) -> Path:
    """The panels of `figure` (kept apart so the shared style wraps all of them)."""
    for ax, (_, r) in zip(axes[0], fit.iterrows(), strict=False):
        ax.axhspan(r["target_low"], r["target_high"], color=ROLE["target"], alpha=0.25, label="DfE 2013-2023 range")
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
    flat = [ax for row in axes[1:] for ax in row]
    w = post["weight"].to_numpy(float)
    for ax, p in zip(flat, priors, strict=False):
        x = post[p.name].to_numpy(float)
        bins = np.geomspace(p.low, p.high, 16) if p.log else np.linspace(p.low, p.high, 16)
        ax.hist(x, bins=bins, weights=w / w.sum(), color=ROLE["main"], alpha=0.75, label="posterior (weighted)")
        if p.log:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlim(p.low, p.high)
        d = default_value(p.name)
        if isinstance(d, int | float):
            ax.axvline(float(d), color="k", lw=1.2, ls="--", label="default in code")
        title = parameter_label(p.name) if not p.name.startswith("pressure:") else \
            f"Labour-market pressure, {p.name.split(':', 1)[1]} (ratio to England)"
        ax.set_title(textwrap.fill(title, 36), fontsize=8.5)
        ax.set_xlabel(("value, log scale" if p.log else "value") + f" (prior {p.low:g}-{p.high:g})", fontsize=7.5)
        ax.set_ylabel("share of the posterior", fontsize=7.5)
        ax.tick_params(labelsize=7)
    spare = flat[len(priors):]
    for ax in spare:
        ax.set_visible(False)
    # legends in a spare panel (or below the figure), never over the data
    handles = axes[0][0].get_legend_handles_labels()
    more = flat[0].get_legend_handles_labels() if flat else ([], [])
    if spare:
        host = spare[-1]
        host.set_visible(True)
        host.axis("off")
        host.legend(handles[0] + more[0], handles[1] + more[1], loc="center", fontsize=8, frameon=False,
                    title="Key", title_fontsize=9)
    else:
        fig.legend(handles[0] + more[0], handles[1] + more[1], loc="lower center", ncol=5, fontsize=8,
                   frameon=False)
    fig.suptitle("Calibration: the defaults against the DfE national ranges (top) and the labour-market posterior "
                 "over each prior range (ABC-SMC)", fontsize=10.5, fontweight="bold")
    fig.tight_layout(h_pad=1.6)
    return save(fig, path, dpi=110)
