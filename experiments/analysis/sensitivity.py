"""Sensitivity indices (Sobol', Morris, PRCC) and the warnings a reader needs before trusting them.

Small samples give wide bootstrap intervals; Sobol' estimates can then fall outside [0, 1]. Each index is
checked: an interval wider than the index itself, or an index outside [0, 1] beyond its interval, is flagged,
with the sample size that would bring the interval down to `TARGET_HALF_WIDTH` (intervals shrink as
1 / sqrt(samples)).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

TARGET_HALF_WIDTH = 0.05  # Sobol' index units: intervals of +-0.05 tell a 0.1 index from zero


def prcc(x: np.ndarray, y: np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
    """Partial rank correlation of y with each column of x, controlling for the other columns."""
    n, k = x.shape
    rx = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    dof = n - 2 - (k - 1)
    rows = []
    zc = stats.norm.ppf(0.5 + conf_level / 2)
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        if dof < 1 or res_x.std() < 1e-12 or res_y.std() < 1e-12:
            rows.append((math.nan, math.nan, math.nan, math.nan))
            continue
        r = float(np.clip(np.corrcoef(res_x, res_y)[0, 1], -0.999999, 0.999999))
        t = r * math.sqrt(dof / (1 - r * r))
        p = float(2 * stats.t.sf(abs(t), dof))
        if dof > 1:
            se = 1 / math.sqrt(dof - 1)
            lo, hi = math.tanh(math.atanh(r) - zc * se), math.tanh(math.atanh(r) + zc * se)
        else:
            lo = hi = math.nan
        rows.append((r, lo, hi, p))
    return pd.DataFrame(rows, columns=["prcc", "prcc_low", "prcc_high", "p_value"])


def sobol_indices(problem: dict[str, Any], y: np.ndarray, second: bool, conf: float, resamples: int,
                  seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Sobol' S1 and ST with bootstrap half-widths (SALib); S2 as well when the design sampled for it."""
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol.analyze(problem, y, calc_second_order=second, num_resamples=resamples, conf_level=conf,
                           seed=seed)
    t = pd.DataFrame({k: si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")})
    s2 = None
    if second:
        names = problem["names"]
        s2 = pd.DataFrame([(names[i], names[j], si["S2"][i, j], si["S2_conf"][i, j])
                           for i in range(len(names)) for j in range(i + 1, len(names))],
                          columns=["parameter", "parameter_2", "S2", "S2_conf"])
    return t, s2


def morris_indices(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int, conf: float, resamples: int,
                   seed: int) -> pd.DataFrame:
    """Morris mu, mu* (with bootstrap half-width) and sigma (SALib)."""
    from SALib.analyze import morris

    with warnings.catch_warnings():  # sigma of a single trajectory is undefined (NaN), not an error
        warnings.simplefilter("ignore", RuntimeWarning)
        si = morris.analyze(problem, x, y, num_resamples=resamples, conf_level=conf, num_levels=levels, seed=seed)
    return pd.DataFrame({k: np.asarray(si[k], dtype=float) for k in ("mu", "mu_star", "mu_star_conf", "sigma")})


def _samples_for(half_width: float, samples: int, target: float) -> int:
    """Samples (power of two, as Sobol' sequences prefer) that would bring a half-width down to `target`."""
    need = samples * (half_width / target) ** 2
    return int(2 ** math.ceil(math.log2(max(need, samples + 1))))


def index_warnings(table: pd.DataFrame, method: str, samples: int | None,
                   target: float = TARGET_HALF_WIDTH) -> pd.DataFrame:
    """One row per index a reader should not trust as shown: metric, parameter, index, value, half-width, problem
    and the suggested number of base samples (Sobol') or trajectories (Morris)."""
    cols = ["metric", "parameter", "index", "value", "half_width", "problem", "suggested_samples"]
    pairs = {"sobol": (("S1", "S1_conf"), ("ST", "ST_conf")), "morris": (("mu_star", "mu_star_conf"),)}.get(method)
    if not pairs or table.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for _, r in table.iterrows():
        for key, conf in pairs:
            v, h = float(r[key]), float(r[conf])
            if not (np.isfinite(v) and np.isfinite(h)):
                continue
            problems = []
            if 2 * h > abs(v):
                problems.append("confidence interval wider than the index")
            if method == "sobol" and (v - h > 1 or v + h < 0):
                problems.append("outside [0, 1] beyond its confidence interval")
            if not problems:
                continue
            goal = target if method == "sobol" else abs(v) / 4
            near_zero = abs(v) <= (target if method == "sobol" else 0.0)
            # an index near zero: the parameter hardly matters, no sample size is worth suggesting
            suggest = _samples_for(h, samples, goal) if samples and h > goal and not near_zero else None
            rows.append((r["metric"], r["parameter"], key, v, h, "; ".join(problems), suggest))
    return pd.DataFrame(rows, columns=cols)
