"""How well an indicator warns of culture slippage: labels, ROC and AUC, alarm rules, lead time, intervals.

Everything here works on a *panel*: one row per run and week (from handover on), with the columns
`run`, `seed`, `week`, `onset` (week material slippage begins in that run, NaN if it never does) and
one column per indicator, oriented so that a higher value means "more worrying". It knows nothing of
the simulation, so a planted signal can be scored exactly like a model run.

Definitions (stated in the report):
- material slippage begins (onset) in the first week t after handover where the mean compliance habit
  has risen by at least `threshold` above its lowest level since handover;
- a decision point is a week tau (every `step` weeks from handover, while a full horizon is still ahead
  and before onset); its label is 1 when onset falls in (tau, tau + horizon];
- an alarm rule fires when the indicator is above its alarm level; its level is chosen on the training
  runs (largest hit rate less false-alarm rate at the decision points, Youden's J);
- hit rate: share of slipping runs where the alarm fires in the `horizon` weeks before onset;
  false-alarm rate: share of negative decision points where the alarm fires;
  lead time: onset minus the first alarm week in the window [onset - horizon, onset + horizon]
  (negative when the alarm comes only after slippage has begun);
- intervals: 95% percentile intervals from resampling test seeds with replacement (all runs of a seed
  together), so they reflect variation over seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

BOOT_SEED = 16


def onset_week(compliance: np.ndarray, start: int, threshold: float) -> float:
    """First week at or after `start` where the habit is `threshold` above its minimum since `start`."""
    c = np.asarray(compliance, dtype=float)[start:]
    if c.size == 0:
        return np.nan
    rise = c - np.minimum.accumulate(c)
    hit = np.flatnonzero(rise >= threshold)
    return float(start + hit[0]) if hit.size else np.nan


def decision_mask(panel: pd.DataFrame, step: int, horizon: int) -> np.ndarray:
    """Decision points: every `step` weeks from handover, with a full horizon still ahead, before onset."""
    week = panel["week"].to_numpy()
    start = panel["handover"].to_numpy()
    last = panel.groupby("run")["week"].transform("max").to_numpy()
    onset = panel["onset"].to_numpy(dtype=float)
    on_grid = (week >= start) & ((week - start) % step == 0) & (week <= last - horizon)
    before = ~(onset <= week)  # NaN onset compares False: never slipped, always before
    return on_grid & before


def labels(panel: pd.DataFrame, horizon: int) -> np.ndarray:
    """1 where onset falls within (week, week + horizon], else 0."""
    week = panel["week"].to_numpy()
    onset = panel["onset"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return ((onset > week) & (onset <= week + horizon)).astype(int)


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (NaN scores dropped; NaN when one class is missing)."""
    ok = np.isfinite(score)
    y, score = np.asarray(y)[ok], np.asarray(score)[ok]
    if y.size == 0 or y.min() == y.max():
        return np.nan
    return float(roc_auc_score(y, score))


def roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False-alarm rate and hit rate along the ROC curve."""
    ok = np.isfinite(score)
    fpr, tpr, _ = roc_curve(np.asarray(y)[ok], np.asarray(score)[ok])
    return fpr, tpr


def youden_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """Alarm level with the largest hit rate less false-alarm rate (Youden's J) on these points."""
    ok = np.isfinite(score)
    y, score = np.asarray(y)[ok], np.asarray(score)[ok]
    if y.size == 0 or y.min() == y.max():
        return np.nan
    fpr, tpr, thr = roc_curve(y, score)
    j = tpr - fpr
    best = int(np.argmax(j[1:])) + 1  # skip the "never alarm" point (threshold +inf)
    return float(thr[best])


def run_alarms(panel: pd.DataFrame, col: str, level: float, horizon: int) -> pd.DataFrame:
    """Per run: onset, first alarm in the onset window, lead time, hit; and whether a non-slipping run alarmed.

    The alarm fires in a week when the indicator is at or above `level`. For a run with an onset the
    window is [onset - horizon, onset + horizon]; a hit is an alarm at or before onset. A run without
    onset "false-alarms" when the alarm fires in any of its weeks.
    """
    rows = []
    for (run, seed), g in panel.groupby(["run", "seed"], sort=False):
        week = g["week"].to_numpy()
        fire = g[col].to_numpy(dtype=float) >= level
        onset = float(g["onset"].iloc[0])
        if np.isfinite(onset):
            window = fire & (week >= onset - horizon) & (week <= onset + horizon)
            first = float(week[window][0]) if window.any() else np.nan
            lead = onset - first if np.isfinite(first) else np.nan
            rows.append({"run": run, "seed": seed, "onset": onset, "first_alarm": first, "lead_weeks": lead,
                         "hit": bool(np.isfinite(lead) and lead >= 0), "false_alarm_run": np.nan})
        else:
            rows.append({"run": run, "seed": seed, "onset": np.nan, "first_alarm": np.nan, "lead_weeks": np.nan,
                         "hit": np.nan, "false_alarm_run": bool(fire.any())})
    return pd.DataFrame(rows)


@dataclass
class Score:
    """How one indicator warns on the test runs, with 95% intervals over seeds."""

    indicator: str
    level: float  # alarm level chosen on the training runs (oriented scale)
    auc: float
    auc_ci: tuple[float, float]
    hit_rate: float
    hit_rate_ci: tuple[float, float]
    false_alarm_rate: float
    false_alarm_rate_ci: tuple[float, float]
    lead_weeks: float  # median over slipping test runs that the alarm caught in their window
    lead_ci: tuple[float, float]
    n_points: int
    n_positive: int
    n_slipping_runs: int

    def row(self) -> dict[str, float | str | int]:
        """Flat dict for a table."""
        return {"indicator": self.indicator, "alarm_level": self.level, "auc": self.auc, "auc_lo": self.auc_ci[0],
                "auc_hi": self.auc_ci[1], "hit_rate": self.hit_rate, "hit_rate_lo": self.hit_rate_ci[0],
                "hit_rate_hi": self.hit_rate_ci[1], "false_alarm_rate": self.false_alarm_rate,
                "false_alarm_rate_lo": self.false_alarm_rate_ci[0], "false_alarm_rate_hi": self.false_alarm_rate_ci[1],
                "lead_weeks": self.lead_weeks, "lead_lo": self.lead_ci[0], "lead_hi": self.lead_ci[1],
                "n_points": self.n_points, "n_positive": self.n_positive, "n_slipping_runs": self.n_slipping_runs}


def _stats(y: np.ndarray, s: np.ndarray, onset: np.ndarray, hit: np.ndarray, lead: np.ndarray,
           level: float) -> tuple[float, float, float, float]:
    """AUC, hit rate, false-alarm rate and median notice of points (y, s) and runs (onset, hit, lead)."""
    a = auc(y, s)
    neg = (y == 0) & np.isfinite(s)
    far = float(np.mean(s[neg] >= level)) if neg.any() else np.nan
    slipping = np.isfinite(onset)
    h = float(hit[slipping].mean()) if slipping.any() else np.nan
    ld = lead[slipping & np.isfinite(lead)]
    return a, h, far, float(np.median(ld)) if ld.size else np.nan


def score(points_train: pd.DataFrame, points_test: pd.DataFrame, panel_test: pd.DataFrame, col: str,
          horizon: int, resamples: int = 400) -> Score:
    """Alarm level from the training points, then AUC, hit, false-alarm rate and lead time on the test runs."""
    level = youden_threshold(points_train["y"].to_numpy(), points_train[col].to_numpy(dtype=float))
    runs = run_alarms(panel_test, col, level, horizon) if np.isfinite(level) else \
        run_alarms(panel_test.assign(**{col: -np.inf}), col, 0.0, horizon)
    y, s = points_test["y"].to_numpy(), points_test[col].to_numpy(dtype=float)
    onset, lead = runs["onset"].to_numpy(dtype=float), runs["lead_weeks"].to_numpy(dtype=float)
    hit = runs["hit"].to_numpy(dtype=float)
    a, h, far, ld = _stats(y, s, onset, hit, lead, level)
    seeds = np.unique(points_test["seed"])
    rng = np.random.default_rng(BOOT_SEED)
    pt_idx = {k: np.flatnonzero(points_test["seed"].to_numpy() == k) for k in seeds}
    run_idx = {k: np.flatnonzero(runs["seed"].to_numpy() == k) for k in seeds}
    boot = []
    for _ in range(resamples):
        pick = rng.choice(seeds, seeds.size, replace=True)
        i = np.concatenate([pt_idx[k] for k in pick])
        j = np.concatenate([run_idx[k] for k in pick])
        boot.append(_stats(y[i], s[i], onset[j], hit[j], lead[j], level))
    b = np.array(boot, dtype=float)

    def ci(k: int) -> tuple[float, float]:
        v = b[:, k][np.isfinite(b[:, k])]
        return (float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))) if v.size else (np.nan, np.nan)

    return Score(col, level, a, ci(0), h, ci(1), far, ci(2), ld, ci(3), len(points_test), int(y.sum()),
                 int(np.isfinite(onset).sum()))


def critical_slowing(values: np.ndarray, arrivals: np.ndarray, window: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Rolling variance and lag-1 autocorrelation of the last `window` reports (linear trend removed).

    `values` is the weekly series of the latest available figure; `arrivals` marks the weeks a new
    report arrives. Scheffer et al. (2009): near a tipping point recovery slows, so variance and
    lag-1 autocorrelation rise. Returns two weekly series (NaN until `window` reports have arrived).
    """
    v = np.asarray(values, dtype=float)
    idx = np.flatnonzero(np.asarray(arrivals, bool) & np.isfinite(v))
    var = np.full(v.size, np.nan)
    ac1 = np.full(v.size, np.nan)
    x = np.arange(window, dtype=float)
    for k in range(window - 1, idx.size):
        seg = v[idx[k - window + 1:k + 1]]
        resid = seg - np.polyval(np.polyfit(x, seg, 1), x)
        end = idx[k + 1] if k + 1 < idx.size else v.size
        var[idx[k]:end] = resid.var(ddof=1)
        a, b = resid[:-1], resid[1:]
        den = np.sqrt((a * a).sum() * (b * b).sum())
        ac1[idx[k]:end] = float((a * b).sum() / den) if den > 0 else 0.0
    return var, ac1
