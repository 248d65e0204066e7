"""Bounded weekly updates: every state in [0, 1] moves by exponential approach, never by an explicit Euler step.

A state x pulled by several forces, force i at rate r_i >= 0 toward target y_i in [0, 1], moves in one
week to

    x' = x + (1 - exp(-R)) * (Y - x),   R = sum r_i,   Y = sum r_i y_i / R,

which is the exact solution of dx/dt = sum r_i (y_i - x) over a week with the rates held fixed. For small
rates it equals the explicit step x + sum r_i (y_i - x); for any rates it stays between x and the
weighted target, so it cannot overshoot, oscillate or leave [0, 1] (an explicit step with
rate > 1 does all three), and it is smooth and monotone in every rate and target.
"""

from __future__ import annotations

import numpy as np


def approach(x: np.ndarray, rates: list[np.ndarray | float], targets: list[np.ndarray | float],
             out: np.ndarray | None = None) -> np.ndarray:
    """One week of exponential approach of x toward the rate-weighted targets (written into `out`, default x)."""
    total = np.zeros_like(x)
    pull = np.zeros_like(x)
    for r, y in zip(rates, targets, strict=True):
        total += r
        pull += np.multiply(r, y)
    safe = np.where(total > 0.0, total, 1.0)
    target = np.where(total > 0.0, pull / safe, x)
    step = -np.expm1(-total)  # 1 - exp(-R), accurate for small R
    out = x if out is None else out
    np.add(x, step * (target - x), out=out)
    return out


def drive_rates(drive: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a signed drive (units per week at the reference level) into rates toward 1 (up) and 0 (down).

    A drive d > 0 at the reference level `level` is a pull toward 1 at rate d / (1 - level); d < 0 a pull
    toward 0 at rate -d / level. At x = level the pull equals d, as in the explicit step; away from it the
    pull shrinks as x nears the bound it is pushed to, so no drive can push x past 0 or 1. The level is
    held inside [0.2, 0.8] so that a reference near a bound cannot turn a small drive into a huge rate.
    """
    level = min(max(level, 0.2), 0.8)  # an extreme reference level must not make the rates explode
    up = np.maximum(drive, 0.0) / (1.0 - level)
    down = np.maximum(-drive, 0.0) / level
    return up, down
