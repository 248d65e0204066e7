"""Paired statistics: the one place that turns per-seed differences into a mean and a confidence interval.

Strategies run on the same seeds share their random draws (common random numbers), so the difference
between two strategies on one seed is the strategy's effect plus little noise; these helpers summarise
those differences. Compare, validation and the optimiser all use them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

CiMethod = Literal["t", "bootstrap"]
CONFIDENCE = 0.95  # confidence level of the paired-difference intervals
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20110510  # fixed: the same outputs give the same intervals


class PairedError(ValueError):
    """A paired statistic asked for in a way that cannot be computed (unknown method...)."""


def paired_ci(diffs: Sequence[float] | np.ndarray, method: CiMethod = "t",
              confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of paired differences and its confidence interval: (mean, low, high).

    "t": the paired t-interval (mean +- t * sd / sqrt(n)); "bootstrap": percentile interval of the mean
    over `BOOTSTRAP_RESAMPLES` resamples of seeds with a fixed generator. Two or more differences that
    are all equal give a zero-width interval; fewer than two give NaN bounds. NaNs are ignored (a metric
    that does not apply on a seed drops that seed).
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan
    if np.all(d == d[0]):
        return float(d[0]), float(d[0]), float(d[0])
    alpha = 1.0 - confidence
    if method == "t":
        half = float(stats.t.ppf(1 - alpha / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        return mean, mean - half, mean + half
    if method == "bootstrap":
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        means = d[rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))].mean(axis=1)
        lo, hi = np.quantile(means, (alpha / 2, 1 - alpha / 2))
        return mean, float(lo), float(hi)
    raise PairedError(f"unknown confidence-interval method {method!r}; use 't' or 'bootstrap'")


def t_interval(diffs: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Paired t-interval that never returns NaN bounds for n >= 1: (mean, low, high, n); one value -> +-inf.

    Validation checks need a verdict even at one seed (an infinite interval is 'not shown'), where the
    decision table prefers 'n/a'.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if n == 1:
        return mean, -math.inf, math.inf, 1
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def seeds_for_halfwidth(diffs: Sequence[float] | np.ndarray, halfwidth: float,
                        confidence: float = CONFIDENCE) -> int | None:
    """Seeds needed for a t-interval of the given half-width, from the spread seen so far (None if unknown)."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    if d.size < 2 or not np.isfinite(halfwidth) or halfwidth <= 0:
        return None
    sd = float(d.std(ddof=1))
    if sd == 0:
        return int(d.size)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    return max(math.ceil((z * sd / halfwidth) ** 2), 2)


def ci_note(method: CiMethod, n_seeds: int) -> str:
    """The footnote that says how the differences and their intervals were computed."""
    how = ("paired t-interval (mean difference +- t(0.975, n-1) x sd / sqrt(n))" if method == "t" else
           f"percentile bootstrap over seeds ({BOOTSTRAP_RESAMPLES:,} resamples of the {n_seeds} paired "
           "differences)")
    return (f"Difference = mean over the {n_seeds} seeds of (strategy − reference) on the same seed "
            f"(common random numbers); 95% confidence interval by {how}. Median and 90% interval "
            f"(5th-95th percentile) are over seeds.")
