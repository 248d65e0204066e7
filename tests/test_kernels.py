"""The compiled kernels against the numpy reference: the same bits on random inputs and on whole runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturedrift.model import CultureDriftModel, kernels
from culturedrift.model.compiled import enabled
from tests.conftest import tiny

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NUMPY_ONLY = {"relationships.rate", "relationships._ia"}
STEPPED = ("change_programme", "morale", "culture", "slippage", "turnover", "workload", "relationships")


def scenario(rich: bool) -> Any:
    """A tiny organisation; `rich` adds a learning curve, a restructure, interventions and pressure events."""
    if not rich:
        return tiny(horizon_weeks=30, burn_in_weeks=4)
    return tiny(
        horizon_weeks=30, burn_in_weeks=4,
        change_programme=[
            {"name": "ics", "kind": "it_system", "start_week": 2, "duration_weeks": 8,
             "learning": {"initial_proficiency": 0.3}},
            {"name": "teams", "kind": "structure", "start_week": 5, "rewire_fraction": 0.3},
            {"name": "forms", "kind": "process", "start_week": 1, "prescription_change": -0.3},
        ],
        interventions=[{"kind": "reflective_supervision", "start_week": 0, "end_week": 20},
                       {"kind": "engagement", "start_week": 0, "end_week": 20},
                       {"kind": "retention", "start_week": 3, "end_week": 25},
                       {"kind": "caseload_cap", "start_week": 0, "end_week": 30},
                       {"kind": "culture_vigilance", "start_week": 10, "end_week": 30},
                       {"kind": "partner_liaison", "start_week": 0, "end_week": 30}],
        events=[{"week": 4, "kind": "inspection", "magnitude": 0.3}],
        slippage={"incident_rate_per_year": 20},
        turnover={"labour_market_pressure": 1.3},
    )


def arrays_of(model: CultureDriftModel) -> dict[str, np.ndarray]:
    """Every array of the model's state, its mechanisms and its network, by name."""
    out = {f"state.{k}": v for k, v in vars(model.state).items() if isinstance(v, np.ndarray)}
    for mech in model.schedule:
        out.update({f"{mech.name}.{k}": v for k, v in vars(mech).items() if isinstance(v, np.ndarray)})
    for group in ("signals", "effects"):
        out.update({f"{group}.{k}": np.asarray(v) for k, v in vars(getattr(model, group)).items()
                    if v is not None and not isinstance(v, str)})
    out["network.w"] = model.network.w
    return out


def assert_same_bits(a: CultureDriftModel, b: CultureDriftModel) -> None:
    """The two models hold bit-identical arrays and recorded series."""
    xa, xb = arrays_of(a), arrays_of(b)
    # the compiled path keeps no per-entry build rates (it works them out as it builds the ties)
    assert xa.keys() - xb.keys() <= NUMPY_ONLY and xb.keys() <= xa.keys()
    xa = {k: v for k, v in xa.items() if k in xb}
    differ = [k for k in xa if not np.array_equal(xa[k], xb[k], equal_nan=True)]
    assert not differ, f"arrays differ: {differ}"
    assert a.timeseries().equals(b.timeseries())


def perturb(model: CultureDriftModel, seed: int) -> None:
    """Random state within each variable's range (the same for a twin built on the same seed)."""
    r = np.random.default_rng(seed)
    s, n = model.state, model.state.n
    for name in ("morale", "compliance_habit", "intention", "leaver_exposure", "sustained_pressure"):
        getattr(s, name)[:] = r.random(n)
    s.tenure[:] = r.exponential(60.0, n)
    s.workload[:] = r.uniform(0.0, 2.0, n)
    s.change_load[:] = r.uniform(0.0, 0.3, n) * (r.random(n) < 0.7)
    e = model.effects
    e.support[:] = r.uniform(0.0, 0.05, n)
    e.reinforcement[:] = r.uniform(0.0, 1.0, n)
    e.change_buffer[:] = r.uniform(0.0, 0.9, n)
    e.exit_hazard_multiplier[:] = r.uniform(0.5, 1.5, n)
    e.time_cost[:] = r.uniform(0.0, 0.1, n)
    s.control_tension[:] = r.random(n)
    s.proficiency[:] = r.random(s.proficiency.shape)
    model.signals.team_cases *= r.uniform(0.5, 1.8, model.signals.team_cases.size)
    model.network.w[:] = r.random(model.network.w.size) * (model.network.w > 0)


def twins(rich: bool, seed: int, weeks: int) -> tuple[CultureDriftModel, CultureDriftModel]:
    """Two identical models a few weeks into a run: numpy reference (a) and compiled (b)."""
    a = CultureDriftModel(scenario(rich), seed, compiled=False)
    b = CultureDriftModel(scenario(rich), seed, compiled=True)
    for _ in range(weeks):
        a.step()
        b.step()
    return a, b


# ------------------------------------------------------------------------------------- building blocks


@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1), share=st.floats(0.0, 1.0))
@SETTINGS
def test_sums_and_means_follow_numpys_pairwise_summation(n: int, seed: int, share: float) -> None:
    r = np.random.default_rng(seed)
    a = r.normal(0, 1, n) * 10.0 ** r.uniform(-6, 6, n)
    assert kernels.array_sum(a) == a.sum()
    mask = r.random(n) < share
    if mask.any():  # the record's means gather through the list of slots in the mask
        assert kernels._gathered_mean(a, np.flatnonzero(mask)) == a[mask].mean()


@given(n=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1), levels=st.sampled_from([0, 3, 50]))
@SETTINGS
def test_quantiles_by_selection_are_those_of_the_sorted_values(n: int, seed: int, levels: int) -> None:
    """The recorder's p10/p90 found by selection equal the reference's sorted-order interpolation bit for bit
    (ties included), and numpy's quantile to the last place or two: numpy interpolates down from the upper
    order statistic when the fraction is 0.5 or more, the reference always up from the lower one."""
    from culturedrift.model.outputs import _quantiles

    r = np.random.default_rng(seed)
    a = r.random(n) if not levels else r.integers(0, levels + 1, n) / levels
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        ref = _quantiles(a, q)[0]
        assert kernels._quantile(a.copy(), q) == ref
        assert abs(ref - np.quantile(a, q)) <= 4 * np.spacing(max(abs(ref), 1e-300))


def test_long_sums_follow_numpy_across_its_blocks() -> None:
    r = np.random.default_rng(3)
    for n in (128, 129, 8191, 8192, 8193, 100_003, 1_000_001):
        a = r.normal(0, 1, n) * 10.0 ** r.uniform(-6, 6, n)
        assert kernels.array_sum(a) == a.sum(), n


@given(n=st.integers(1, 400), density=st.floats(0.0, 0.2), seed=st.integers(0, 2**32 - 1))
@SETTINGS
def test_neighbour_sums_are_scipys_sparse_product(n: int, density: float, seed: int) -> None:
    r = np.random.default_rng(seed)
    mat = sp.random_array((n, n), density=density, format="csr", rng=r)
    mat.sort_indices()
    x = np.empty((n, 3))
    x[:, 0], x[:, 1], x[:, 2] = r.random(n), r.random(n), 1.0
    got = np.zeros((n, 3))
    kernels.neighbour_sums(mat.indptr, mat.indices, mat.data, x[:, 0].copy(), x[:, 1].copy(), got)
    assert np.array_equal(got, mat @ x)
    assert np.array_equal(kernels.row_sums(mat.indptr, mat.data), mat @ np.ones(n))


@given(n=st.integers(0, 2000), seed=st.integers(0, 2**32 - 1))
@SETTINGS
def test_strength_by_kind_is_a_weighted_count(n: int, seed: int) -> None:
    r = np.random.default_rng(seed)
    w, kind = r.random(n), r.integers(0, 4, n).astype(np.int8)
    assert np.array_equal(kernels.strength_by_kind(w, kind, 4), np.bincount(kind, weights=w, minlength=4))


# ------------------------------------------------------------------------------- each mechanism's step


@pytest.mark.parametrize("name", STEPPED)
@given(seed=st.integers(0, 10_000), state_seed=st.integers(0, 2**32 - 1), weeks=st.integers(0, 8),
       rich=st.booleans())
@SETTINGS
def test_each_compiled_step_matches_the_numpy_step(name: str, seed: int, state_seed: int, weeks: int,
                                                   rich: bool) -> None:
    a, b = twins(rich, seed, weeks)
    for m in (a, b):
        perturb(m, state_seed)
        m.relationships.update_neighbour_sums()
    assert_same_bits(a, b)
    getattr(a, name).step()
    getattr(b, name).step()
    assert_same_bits(a, b)


@given(seed=st.integers(0, 10_000), state_seed=st.integers(0, 2**32 - 1), share=st.floats(0.0, 1.0))
@SETTINGS
def test_leaving_and_joining_match_the_numpy_reference(seed: int, state_seed: int, share: float) -> None:
    a, b = twins(True, seed, 3)
    r = np.random.default_rng(state_seed)
    filled = np.flatnonzero(a.state.filled)
    leavers = filled[r.random(filled.size) < share]
    for m in (a, b):
        perturb(m, state_seed)
        m.relationships.update_neighbour_sums()
        m.leave(leavers)
    assert_same_bits(a, b)
    empty = np.flatnonzero(~a.state.filled)
    joiners = empty[r.random(empty.size) < share]
    agency = bool(r.random() < 0.5)
    for m in (a, b):
        m.join(joiners, agency_worker=agency)
    assert_same_bits(a, b)


# ----------------------------------------------------------------------------------------- whole runs


@pytest.mark.parametrize("rich", [False, True])
@pytest.mark.parametrize("seed", [0, 7, 2024])
def test_whole_runs_are_bit_identical(rich: bool, seed: int) -> None:
    a, b = twins(rich, seed, 0)
    a.run()
    b.run()
    assert_same_bits(a, b)
    assert a.events_frame().equals(b.events_frame())


def test_compiled_is_the_default_and_numpy_is_selectable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert enabled() and CultureDriftModel(tiny(horizon_weeks=2), 0).compiled
    monkeypatch.setenv("CULTUREDRIFT_COMPILED", "0")
    assert not enabled() and not CultureDriftModel(tiny(horizon_weeks=2), 0).compiled


WARM_CHECK = """
from culturedrift.model import CultureDriftModel, kernels, warm_up
from tests.test_kernels import scenario
warm_up()
public = {n: f for n, f in vars(kernels).items() if hasattr(f, "signatures") and not n.startswith("_")}
before = {n: len(f.signatures) for n, f in public.items()}
CultureDriftModel(scenario(True), 3, compiled=True).run()
after = {n: len(f.signatures) for n, f in public.items()}
assert after == before, (before, after)
"""


def test_warm_up_leaves_nothing_to_compile_for_a_run() -> None:
    """In a fresh process (as a sweep worker): after warm_up, a rich run compiles nothing more."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", WARM_CHECK], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_recorder_kernel_gives_way_to_other_code_for_series_it_does_not_own() -> None:
    """The compiled Recorder takes the catalogue's own series from one kernel call; diagnostics and a built-in key
    declared anew (another `compute`) still come from their own code, identically on both paths."""
    from dataclasses import replace

    from culturedrift.model import outputs

    a = CultureDriftModel(scenario(True), 5, diagnostics=("productivity", "tenure_mean"), compiled=False)
    b = CultureDriftModel(scenario(True), 5, diagnostics=("productivity", "tenure_mean"), compiled=True)
    assert b.recorder.fast_cols.size == len(outputs.KERNEL_SERIES) and a.recorder.fast_cols.size == 0
    a.run()
    b.run()
    assert_same_bits(a, b)
    assert b.timeseries()["tenure_mean"].notna().all()
    saved = dict(outputs.SERIES)
    mine = replace(outputs.SERIES["headcount"], compute=lambda o: -1)
    outputs.withdraw("headcount")
    try:
        with outputs.declared(mine):
            c = CultureDriftModel(scenario(False), 5, weeks=3, compiled=True)
            c.run()
            assert (c.timeseries()["headcount"] == -1).all()
    finally:  # the catalogue as it was, in its order
        outputs.SERIES.clear()
        outputs.SERIES.update(saved)


@given(n=st.integers(0, 40), seed=st.integers(0, 2**32 - 1), headroom=st.floats(0.0, 30.0))
@SETTINGS
def test_affordable_cover_is_numpys_cumulative_search(n: int, seed: int, headroom: float) -> None:
    r = np.random.default_rng(seed)
    cost = r.choice([1.0, 1.5, 2.7], 50)
    cand = np.sort(r.choice(50, n, replace=False))
    want = int(np.searchsorted(np.cumsum(cost[cand]), headroom, side="right"))
    assert kernels.affordable(cost, cand, headroom) == want


def test_a_run_moves_mesas_clock_as_stepping_does_and_keeps_events_on_it() -> None:
    """`run()` steps its weeks directly when nothing else is on Mesa's clock; the clock ends where week-by-week
    stepping leaves it, and a Mesa event scheduled on the clock makes the run step week by week and fire it."""
    sc = tiny(horizon_weeks=6, burn_in_weeks=2)
    ran, stepped, watched = (CultureDriftModel(sc, 1) for _ in range(3))
    ran.run()
    while stepped.running:
        stepped.step()
    seen: list[int] = []

    def look() -> None:
        seen.append(watched.week)

    watched.schedule_event(look, at=watched.time + 3)
    watched.run()
    for m in (ran, watched):
        assert (m.time, m.steps, m.week) == (stepped.time, stepped.steps, stepped.week) == (8.0, 8, 6)
        assert m.timeseries().equals(stepped.timeseries())
    assert seen == [3]  # at its tick, after that tick's weekly step (Mesa gives the step the higher priority)


def test_the_flat_summary_is_the_runs_summary() -> None:
    """`simulate_summary` (sweeps, SALib) skips the event log and tagged frames but gives `simulate`'s summary."""
    from culturedrift.model import simulate, simulate_summary

    sc = scenario(True)
    np.testing.assert_equal(simulate_summary(None, 4, base=sc),
                            {k: float(v) for k, v in simulate(sc, 4).summary.items()})  # NaN (n/a) equals NaN


def test_a_hosts_compiled_functions_give_the_bits_of_numbas_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """`host.kernels` calls each kernel's compiled function directly after its first call: a rich run gives the
    same bits as one dispatched by numba on every call (`CULTUREDRIFT_DISPATCH=1`)."""
    from culturedrift.model import compiled

    direct = CultureDriftModel(scenario(True), 11, compiled=True)
    direct.run()
    monkeypatch.setattr(compiled, "_DISPATCH", True)
    dispatched = CultureDriftModel(scenario(True), 11, compiled=True)
    dispatched.run()
    assert_same_bits(direct, dispatched)
    direct_fns = [f for f in vars(direct.kernels).values() if callable(f)]
    dispatched_fns = [f for f in vars(dispatched.kernels).values() if callable(f)]
    assert direct_fns and all(not hasattr(f, "py_func") for f in direct_fns)  # compiled functions, not numba's
    assert dispatched_fns and all(hasattr(f, "py_func") for f in dispatched_fns)


def test_a_kernel_with_several_compiled_versions_is_called_for_the_arguments_given() -> None:
    """With more than one compiled version of a kernel (here int and float amounts), a host takes the one numba
    chose for its own arguments, not the first one compiled."""
    from culturedrift.model.compiled import Kernels

    kernels.masked_effect(np.zeros(2), np.ones(2, bool), 1, False, False, 0.0)  # an integer version exists
    a = np.zeros(3)
    run = Kernels()
    for _ in range(2):  # the first call goes through numba, the second through the host's compiled function
        run.masked_effect(a, np.ones(3, bool), 1.5, False, False, 0.0)
    assert np.array_equal(a, [3.0, 3.0, 3.0])


def test_a_direct_call_with_other_types_is_refused_under_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compiled function reads an int64 array given for float64 as float64 bits without a word; with
    `CULTUREDRIFT_CHECK_KERNELS=1` (the test suite's setting) the host's kernels refuse such a call by name."""
    from culturedrift.model.compiled import Kernels

    monkeypatch.setenv("CULTUREDRIFT_CHECK_KERNELS", "1")
    run = Kernels()
    a = np.zeros(3)
    for _ in range(2):
        run.masked_effect(a, np.ones(3, bool), 1.5, False, False, 0.0)
    with pytest.raises(TypeError, match=r"masked_effect.*argument 0"):
        run.masked_effect(np.zeros(3, np.int64), np.ones(3, bool), 1.5, False, False, 0.0)
    monkeypatch.setenv("CULTUREDRIFT_CHECK_KERNELS", "0")
    unchecked = Kernels()
    for _ in range(2):
        unchecked.masked_effect(a, np.ones(3, bool), 1.5, False, False, 0.0)
    unchecked.masked_effect(np.zeros(3, np.int64), np.ones(3, bool), 1.5, False, False, 0.0)  # no check: no error
