"""The compiled kernels against the numpy reference: the same bits on random inputs and on whole runs."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culturedrift.model import CultureDriftModel, kernels
from culturedrift.model import compiled as C
from tests.conftest import tiny

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPILED_STEPS = {"morale": C.morale_step, "culture": C.culture_step, "slippage": C.slippage_step,
                  "turnover": C.turnover_step, "workload": C.workload_step, "relationships": C.relationships_step}


def compile_model(model: CultureDriftModel) -> CultureDriftModel:
    """Route the model's weekly step through the compiled kernels."""
    for name, fn in COMPILED_STEPS.items():
        mech = getattr(model, name)
        mech.step = types.MethodType(fn, mech)
    model.update_neighbour_sums = types.MethodType(C.neighbour_sums, model)
    return model


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
        slippage={"events": [{"week": 4, "kind": "inspection", "magnitude": 0.3}], "incident_rate_per_year": 20},
        turnover={"labour_market_pressure": 1.3},
    )


def arrays_of(model: CultureDriftModel) -> dict[str, np.ndarray]:
    """Every array of the model's state, its mechanisms and its network, by name."""
    out = {f"state.{k}": v for k, v in vars(model.state).items() if isinstance(v, np.ndarray)}
    for mech in model.schedule:
        out.update({f"{mech.name}.{k}": v for k, v in vars(mech).items() if isinstance(v, np.ndarray)})
    out["network.w"] = model.network.w
    out["neighbour_sums"] = model.neighbour_sums
    return out


def assert_same_bits(a: CultureDriftModel, b: CultureDriftModel) -> None:
    """The two models hold bit-identical arrays and recorded series."""
    xa, xb = arrays_of(a), arrays_of(b)
    assert xa.keys() == xb.keys()
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
    s.support[:] = r.uniform(0.0, 0.05, n)
    s.reinforcement[:] = r.uniform(0.0, 1.0, n)
    s.change_buffer[:] = r.uniform(0.0, 0.9, n)
    s.hazard_mult[:] = r.uniform(0.5, 1.5, n)
    s.time_cost[:] = r.uniform(0.0, 0.1, n)
    model.slippage.tension[:] = r.random(n)
    model.workload.team_cases *= r.uniform(0.5, 1.8, model.workload.team_cases.size)
    model.network.w[:] = r.random(model.network.w.size) * (model.network.w > 0)


def twins(rich: bool, seed: int, weeks: int) -> tuple[CultureDriftModel, CultureDriftModel]:
    """Two identical models a few weeks into a run, one of them compiled."""
    a = CultureDriftModel(scenario(rich), seed)
    b = compile_model(CultureDriftModel(scenario(rich), seed))
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
    got = kernels.masked_mean(a, mask, np.empty(n))
    assert (np.isnan(got) and not mask.any()) or got == a[mask].mean()


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


@pytest.mark.parametrize("name", sorted(COMPILED_STEPS))
@given(seed=st.integers(0, 10_000), state_seed=st.integers(0, 2**32 - 1), weeks=st.integers(0, 8),
       rich=st.booleans())
@SETTINGS
def test_each_compiled_step_matches_the_numpy_step(name: str, seed: int, state_seed: int, weeks: int,
                                                   rich: bool) -> None:
    a, b = twins(rich, seed, weeks)
    perturb(a, state_seed)
    perturb(b, state_seed)
    a.update_neighbour_sums()
    C.neighbour_sums(b)
    assert_same_bits(a, b)
    getattr(a, name).step()
    COMPILED_STEPS[name](getattr(b, name))
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


def test_warm_up_compiles_every_kernel() -> None:
    kernels.warm_up()
    public = [f for name, f in vars(kernels).items() if hasattr(f, "signatures") and not name.startswith("_")]
    assert len(public) >= 10 and all(f.signatures for f in public)
