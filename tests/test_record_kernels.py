"""The weekly record's compiled reductions against numpy on random slots: the same bits, ties and edge cases too."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturedrift.model import kernels
from culturedrift.model.outputs import _quantiles

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# how the values are drawn: spread over [0, 1], a few levels (many ties), all alike, reaching outside [0, 1]
KINDS = ("uniform", "levels", "alike", "wide", "narrow")


def values(r: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """n values of the kind asked for."""
    if kind == "levels":
        return r.integers(0, 4, n) / 3
    if kind == "alike":
        return np.full(n, 0.65)
    if kind == "wide":
        return r.normal(0.5, 2.0, n)
    if kind == "narrow":  # thousands in one of the selection's buckets
        return 0.5 + r.random(n) * 1e-5
    return r.random(n)


def mean(v: np.ndarray) -> float:
    """numpy's mean, NaN without values (and without its warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return v.mean()


def same(a: float, b: float) -> bool:
    """The same bits, or both NaN."""
    return bool(np.isnan(a) and np.isnan(b)) or np.float64(a).tobytes() == np.float64(b).tobytes()


@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS),
       share=st.floats(0.0, 1.0))
@SETTINGS
def test_weekly_stats_are_numpys_reductions(n: int, seed: int, kind: str, share: float) -> None:
    r = np.random.default_rng(seed)
    staff_post = r.random(n) < 0.8
    staff = staff_post | (r.random(n) < 0.1)
    filled = r.random(n) < share
    frontline = staff & (r.random(n) < 0.9)
    manager = staff & ~frontline
    agency_worker = filled & (r.random(n) < 0.2)
    morale, habit, control, intention, workload, direct, load = (values(r, kind, n) for _ in range(7))
    got = kernels.weekly_stats(staff, filled, frontline, manager, staff_post, agency_worker, morale, habit, control,
                               intention, workload, direct, load, 0.5)
    sf, hf, mf = staff & filled, frontline & filled, manager & filled
    k = int(sf.sum())
    p10, p90 = _quantiles(morale[sf], 0.1, 0.9)
    permanent = int((staff_post & filled & ~agency_worker).sum())
    want = {"n_staff": max(k, 1), "morale_mean": mean(morale[sf]), "morale_p10": p10, "morale_p90": p90,
            "habit_mean": mean(habit[sf]), "habit_high": int((habit[sf] > 0.5).sum()) / max(k, 1),
            "manager_control": mean(control[mf]), "intention_mean": mean(intention[sf]),
            "n_posts": max(int(staff_post.sum()), 1), "permanent": permanent,
            "agency_workers": int((staff & agency_worker).sum()), "n_holders": int(hf.sum()),
            "workload_mean": mean(workload[hf]), "direct_time_mean": mean(direct[hf]),
            "change_load_mean": mean(load[sf]), "filled_permanent": permanent}
    for key, value in zip(kernels.STATS, got, strict=True):
        assert same(value, want[key]), (key, value, want[key])


@given(n=st.integers(1, 5000), seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS))
@SETTINGS
def test_deciles_by_buckets_are_those_of_the_sorted_values(n: int, seed: int, kind: str) -> None:
    v = values(np.random.default_rng(seed), kind, n)
    out = np.empty(2)
    kernels._deciles(v.copy(), out)
    want = _quantiles(v, 0.1, 0.9)
    assert same(out[0], want[0]) and same(out[1], want[1])


def test_deciles_with_nan_are_selected_among_all_values() -> None:
    v = np.random.default_rng(1).random(500)
    v[[3, 77]] = np.nan
    out = np.empty(2)
    kernels._deciles(v.copy(), out)
    assert same(out[0], kernels._quantile(v.copy(), 0.1)) and same(out[1], kernels._quantile(v.copy(), 0.9))


def test_long_gathered_means_follow_numpy_across_its_blocks() -> None:
    r = np.random.default_rng(5)
    for n in (129, 8193, 100_003):
        v = r.normal(0, 1, n) * 10.0 ** r.uniform(-6, 6, n)
        mask = r.random(n) < 0.7
        at = np.flatnonzero(mask).astype(np.uint32)
        assert same(kernels._gathered_mean(v, at), v[mask].mean())
