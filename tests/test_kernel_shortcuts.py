"""Shortcuts inside the people-moving and workload kernels give the bits of the direct computation.

Tables of a function's values and draws made ahead in runs are only speed: each entry is the same call on the same
argument, and each run of uniforms the same states in the same order, so these tests compare them with the direct
computation bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from culturedrift.model import kernels
from culturedrift.model.compiled import stream_table


@njit(cache=True)
def _exps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """math.exp and the kernels' direct exp of each value."""
    a, b = np.empty(x.size), np.empty(x.size)
    for i in range(x.size):
        a[i] = math.exp(x[i])
        b[i] = kernels._exp(x[i])
    return a, b


def test_the_direct_exp_is_math_exp_bit_for_bit() -> None:
    """Over the whole range, at the overflow and underflow edges (subnormal results, 0, inf) and specials."""
    rng = np.random.default_rng(11)
    edges = [0.0, -0.0, np.nan, np.inf, -np.inf, 709.78, 709.79, 710.0, -708.39, -708.4, -744.4, -745.13, -745.14,
             -746.0, 1e-300, -1e-300, 5e-324, np.finfo(float).max, -np.finfo(float).max]
    x = np.concatenate((rng.uniform(-750, 750, 400_000), rng.standard_normal(100_000) * 1e-6,
                        -np.arange(0, 3000.0) / 26.0, np.array(edges)))
    a, b = _exps(x)
    assert np.array_equal(a.view(np.int64), b.view(np.int64))


@njit(cache=True)
def _novice_exp_direct(weeks: float, tenure: np.ndarray) -> np.ndarray:
    """The novice factor's exp as `_with_novice` works it out."""
    out = np.empty(tenure.size)
    for i in range(tenure.size):
        out[i] = math.exp(-tenure[i] / weeks)
    return out


@pytest.mark.parametrize("weeks", [26.0, 1.0, 0.37, 104.0, 520.0, 1e-3])
def test_novice_exp_table_entries_are_the_direct_exp(weeks: float) -> None:
    table = kernels.novice_exp_table(weeks, 3000)
    assert np.array_equal(table, _novice_exp_direct(weeks, np.arange(3000.0)))
    assert np.array_equal(table, kernels.novice_exp_table(weeks, 5000)[:3000])  # a larger table begins the same


@pytest.mark.parametrize("seed", [0, 4, 2**33 + 1])
@pytest.mark.parametrize("known", [True, False])
def test_novice_capacity_is_with_novice_slot_by_slot(seed: int, known: bool) -> None:
    """Whole, fractional, negative, NaN and out-of-table tenures; the table looked up or the exp worked out."""
    rng = np.random.default_rng(seed)
    n = 4000
    tenure = np.where(rng.random(n) < 0.5, rng.integers(-3, 400, n).astype(float), rng.uniform(-5, 900, n))
    tenure[rng.random(n) < 0.02] = np.nan
    tenure[rng.random(n) < 0.02] = -0.0
    tenure[rng.random(n) < 0.01] = np.inf
    frontline, filled, agency = rng.random(n) < 0.7, rng.random(n) < 0.8, rng.random(n) < 0.15
    capacity = rng.uniform(0, 30, n)
    capacity[rng.random(n) < 0.01] = np.inf
    table = kernels.novice_exp_table(26.0, 128)
    got = capacity.copy()
    kernels._novice_capacity(got, frontline, filled, agency, tenure, known, 0.2, 0.4, 26.0, table)
    want = np.array([kernels._with_novice(capacity[i], bool(frontline[i] and filled[i]), bool(agency[i]), tenure[i],
                                          known, 0.2, 0.4, 26.0) for i in range(n)])
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


@njit(cache=True)
def _poisson_one_by_one(table: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """`poisson` draw by draw through numpy's own bit generator."""
    g = kernels._stream(table, 0)
    out = np.empty(lam.size, np.int64)
    for k in range(lam.size):
        out[k] = kernels.poisson(g, lam[k])
    return out


def _same(a: object, b: object) -> bool:
    """Two bit generator states alike (MT19937's holds an array)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
@pytest.mark.parametrize("seed", [0, 3, 2**40 + 7])
@pytest.mark.parametrize("means", ["small", "large", "mixed", "none"])
def test_poisson_draws_from_runs_are_numpys_and_leave_the_stream_where_numpy_would(bit_generator: type, seed: int,
                                                                                    means: str) -> None:
    """Means below 10 (one uniform per step), above (two per try, across a run's end) and 0 (no draw)."""
    rng = np.random.default_rng(seed)
    lam = {"small": rng.uniform(0, 10, 3000), "large": rng.uniform(10, 5000, 3000),
           "mixed": np.concatenate((rng.uniform(0, 30, 2500), [0.0, 1e-3, 9.99, 10.0, 1e4, 1e9, 0.0])),
           "none": np.zeros(5)}[means]
    ref, got, one = (np.random.Generator(bit_generator(seed)) for _ in range(3))
    for g in (ref, got, one):
        g.random(seed % 5)
    out = np.empty(lam.size, np.int64)
    kernels.poisson_draws(stream_table(got), 0, lam, out)
    assert np.array_equal(out, ref.poisson(lam))
    assert np.array_equal(out, _poisson_one_by_one(stream_table(one), lam))
    assert _same(got.bit_generator.state, ref.bit_generator.state) and _same(one.bit_generator.state,
                                                                             ref.bit_generator.state)
    assert np.array_equal(ref.random(7), got.random(7))


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937])
@pytest.mark.parametrize("seed", [0, 9, 2**45 + 3])
@pytest.mark.parametrize("places", ["none", "all", "first and last", "sparse", "gaps over a jump", "dense"])
def test_uniforms_at_wanted_places_are_numpys_and_leave_the_stream_where_numpy_would(bit_generator: type, seed: int,
                                                                                      places: str) -> None:
    """Two runs of n uniforms with only some places worked out: numpy's values there, numpy's state after."""
    rng = np.random.default_rng(seed)
    n = 1000
    at = {"none": np.empty(0, np.int64), "all": np.arange(n), "first and last": np.array([0, n - 1]),
          "sparse": np.flatnonzero(rng.random(n) < 0.25), "gaps over a jump": np.array([3, 70, 200, 201, 900]),
          "dense": np.flatnonzero(rng.random(n) < 0.9)}[places]
    ref, got = np.random.Generator(bit_generator(seed)), np.random.Generator(bit_generator(seed))
    ref.random(seed % 3), got.random(seed % 3)
    first, second = np.full(n, -1.0), np.full(n, -1.0)
    kernels._uniforms_at(stream_table(got), 0, at.astype(np.int64), first, second)
    want_first, want_second = ref.random(n), ref.random(n)
    assert np.array_equal(first[at], want_first[at]) and np.array_equal(second[at], want_second[at])
    assert _same(got.bit_generator.state, ref.bit_generator.state)
    assert np.array_equal(ref.random(5), got.random(5))
    for n_small in (0, 1, 5):  # short runs, every place or none
        for at_small in (np.arange(n_small), np.empty(0, np.int64)):
            a, b = np.empty(n_small), np.empty(n_small)
            kernels._uniforms_at(stream_table(got), 0, at_small, a, b)
            wa, wb = ref.random(n_small), ref.random(n_small)
            assert np.array_equal(a[at_small], wa[at_small]) and np.array_equal(b[at_small], wb[at_small])
            assert _same(got.bit_generator.state, ref.bit_generator.state)


def test_without_glibcs_symbol_the_direct_exp_is_numbas(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback where `__exp_finite` is not found: numba's own math.exp, compiled afresh."""
    monkeypatch.setattr(kernels, "_EXP_ADDRESS", 0)

    @njit(cache=False)
    def direct(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.size)
        for i in range(x.size):
            out[i] = kernels._exp(x[i])
        return out

    x = np.random.default_rng(5).uniform(-750, 750, 10_000)
    assert np.array_equal(direct(x).view(np.int64), _exps(x)[0].view(np.int64))


def test_a_stream_table_of_four_columns_draws_uniforms_and_poissons_through_the_generator() -> None:
    """Without column 4 no kernel steps the state itself (nor reads past its row): numpy's draws all the same. The
    row after holds a 1 where a fifth column would be, so a kernel reading past the row would take the Mersenne
    Twister's state for PCG64's."""
    drawn, numpys = (np.random.Generator(np.random.MT19937(11)) for _ in range(2))
    table = np.vstack((stream_table(drawn)[:, :4], np.array([[1, 0, 0, 0]], np.uint64)))
    out = np.empty(333)
    kernels._uniforms(table, 0, out)
    assert out.tobytes() == numpys.random(out.size).tobytes()
    first, second, at = np.full(50, -1.0), np.full(50, -1.0), np.array([2, 17, 49])
    kernels._uniforms_at(table, 0, at, first, second)
    want_first, want_second = numpys.random(50), numpys.random(50)
    assert np.array_equal(first[at], want_first[at]) and np.array_equal(second[at], want_second[at])
    lam, counts = np.array([0.5, 3.0, 40.0, 0.0]), np.empty(4, np.int64)
    kernels.poisson_draws(table, 0, lam, counts)
    assert np.array_equal(counts, numpys.poisson(lam))
    assert str(drawn.bit_generator.state) == str(numpys.bit_generator.state)
