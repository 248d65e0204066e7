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


def test_every_generation_is_handed_over_as_it_finishes():
    priors = abc_smc.priors_from({"a": {"low": 0.0, "high": 4.0}})
    seen: list[int] = []
    res = abc_smc.abc_smc(toy2, lambda s: abs(s["x"] - 2.0), priors, population=8, batch=12, generations=3, seed=2,
                          on_generation=lambda r: seen.append(len(r.generations)))
    assert seen == list(range(1, len(res.generations) + 1))


def test_a_pattern_evaluation_averages_several_seeds_per_geography():
    from culturedrift.experiments.workflows import patterns as pat

    settings = pat.load_patterns()
    scen = {n: sc.with_updates({"organisation.n_teams": 2, "horizon_weeks": 60, "burn_in_weeks": 4})
            for n, sc in pat.geography_scenarios(settings).items()}
    ctx = {**pat.context_for(settings, scen), "seeds": 2, "from_week": 10}
    params = {"turnover.base_exit_hazard": 0.003, "pressure:North East": 0.8, "pressure:North West": 1.2}
    got = pat.evaluate(params, 7, ctx)
    rng = np.random.default_rng(7)
    for name, sc in scen.items():
        up = {"turnover.base_exit_hazard": 0.003, pat.PRESSURE: params.get(f"pressure:{name}", 1.0)}
        runs = [pat.run_statistics(sc.with_updates(up), int(rng.integers(0, 2**31 - 1)), 10) for _ in range(2)]
        assert got[f"{name}:vacancy_rate"] == pytest.approx(np.mean([r["vacancy_rate"] for r in runs]))
        assert got[f"{name}:turnover_peak_12m"] == max(r["turnover_peak_12m"] for r in runs)
    assert len(got) == 3 * 7
