"""ABC-SMC on a toy simulator with a known answer: it finds what the data identify and leaves the rest wide."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from culturedrift.experiments.workflows import abc_smc


def toy(params: dict[str, float], seed: int, context: None) -> dict[str, float]:
    """The statistic depends on `a` only; `b` is not identified by it."""
    rng = np.random.default_rng(seed)
    return {"x": params["a"] + rng.normal(0, 0.05), "b_echo": params["b"]}


def test_abc_smc_identifies_a_and_not_b():
    priors = abc_smc.priors_from({"a": {"low": 0.0, "high": 4.0}, "b": {"low": 0.1, "high": 10.0, "log": True}})
    res = abc_smc.abc_smc(toy, lambda s: abs(s["x"] - 1.3) / 0.05, priors, population=60, batch=120,
                          generations=4, seed=1)
    assert len(res.generations) == 4
    eps = [g.epsilon for g in res.generations]
    assert all(e2 < e1 for e1, e2 in itertools.pairwise(eps))  # tolerances shrink
    ident = res.identification().set_index("parameter")
    assert ident.loc["a", "median"] == pytest.approx(1.3, abs=0.1)
    assert bool(ident.loc["a", "identified"]) and not bool(ident.loc["b", "identified"])
    assert np.isclose(res.final.weights.sum(), 1.0)
    df = res.particles()
    assert {"a", "b", "weight", "distance", "stat:x"} <= set(df.columns)
    assert df["b"].between(0.1, 10.0).all()


def test_abc_smc_is_reproducible_and_independent_of_the_map():
    priors = abc_smc.priors_from({"a": {"low": 0.0, "high": 4.0}})
    dist = lambda s: abs(s["x"] - 2.0)  # noqa: E731
    r1 = abc_smc.abc_smc(toy2, dist, priors, population=10, batch=20, generations=2, seed=5)
    r2 = abc_smc.abc_smc(toy2, dist, priors, population=10, batch=20, generations=2, seed=5,
                         map_fn=lambda fn, tasks: [fn(*t) for t in reversed(tasks)][::-1])
    assert np.array_equal(r1.final.z, r2.final.z)


def toy2(params: dict[str, float], seed: int, context: None) -> dict[str, float]:
    return {"x": params["a"] + np.random.default_rng(seed).normal(0, 0.1)}


def test_bad_priors_are_named():
    with pytest.raises(ValueError, match=r"prior k: low 2\.0 must be below high 1\.0"):
        abc_smc.priors_from({"k": {"low": 2, "high": 1}})
    with pytest.raises(ValueError, match="prior k: a log-uniform prior needs low > 0"):
        abc_smc.priors_from({"k": {"low": 0, "high": 1, "log": True}})
