"""ABC-SMC on a toy simulator with a known answer: it finds what the data identify and leaves the rest wide."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
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


def test_a_run_resumed_from_its_written_population_continues_it(tmp_path):
    """Chunks: generation 1 written as a file, resumed for two more, ends where one three-generation run
    would in spirit (tolerances still shrink, numbering continues) and reproducibly."""
    priors = abc_smc.priors_from({"a": {"low": 0.0, "high": 4.0}, "b": {"low": 0.1, "high": 10.0, "log": True}})
    dist = lambda s: abs(s["x"] - 1.3) / 0.05  # noqa: E731
    first = abc_smc.abc_smc(toy, dist, priors, population=30, batch=60, generations=2, seed=1)
    df = first.particles()
    df["generation"] = first.last_index
    df.to_csv(tmp_path / "posterior.csv", index=False)
    start = abc_smc.generation_from_particles(pd.read_csv(tmp_path / "posterior.csv"), priors)
    assert np.allclose(start.z, first.final.z) and np.allclose(start.weights, first.final.weights)
    assert start.stats[0]["x"] == pytest.approx(first.final.stats[0]["x"])
    runs = [abc_smc.abc_smc(toy, dist, priors, population=30, batch=60, generations=2, seed=1, start=start,
                            start_index=1) for _ in range(2)]
    res = runs[0]
    assert res.first_index == 1 and res.last_index == 3 and len(res.generations) == 3
    eps = [first.generations[0].epsilon] + [g.epsilon for g in res.generations]
    assert all(e2 <= e1 for e1, e2 in itertools.pairwise(eps))
    assert np.array_equal(res.final.z, runs[1].final.z)  # a chunk is reproducible


def test_resuming_from_a_file_without_the_parameters_names_them():
    priors = abc_smc.priors_from({"a": {"low": 0.0, "high": 4.0}})
    with pytest.raises(ValueError, match="no column 'a'"):
        abc_smc.generation_from_particles(pd.DataFrame({"weight": [1.0], "distance": [0.1]}), priors)


def test_calibrate_resumes_a_written_population_on_the_command_line(tmp_path):
    """The quick calibration, then one more generation resumed from its posterior.csv (numbering continues)."""
    import json

    from culturedrift.experiments.cli import main

    out1, out2 = tmp_path / "a", tmp_path / "b"
    assert main(["calibrate", "--size", "quick", "--generations", "1", "--workers", "1", "--out", str(out1)]) == 0
    post = pd.read_csv(out1 / "posterior.csv")
    assert (post["generation"] == 0).all()
    assert main(["calibrate", "--size", "quick", "--generations", "1", "--workers", "1", "--resume",
                 str(out1 / "posterior.csv"), "--out", str(out2)]) == 0
    gens = json.loads((out2 / "calibration.json").read_text())["generations"]
    assert [g["generation"] for g in gens] == [0, 1][: len(gens)] and gens[0]["resumed_from"]
    assert main(["calibrate", "--size", "quick", "--resume", str(out1 / "calibration.json"), "--out",
                 str(tmp_path / "c")]) == 2


def test_weights_do_not_collapse_when_the_posterior_sits_at_a_prior_edge():
    """Eight parameters, seven not identified, the identified one near its prior's edge: proposals outside
    the support are redrawn, not reflected (reflected points got weights that swamped the population:
    effective sample size 1.6 of 40 on this seed)."""
    def near_edge(params: dict[str, float], seed: int, context: None) -> dict[str, float]:
        return {"x": params["a"] + np.random.default_rng(seed).normal(0, 0.02)}
    priors = abc_smc.priors_from({n: {"low": 0.0, "high": 1.0} for n in "abcdefgh"})
    res = abc_smc.abc_smc(near_edge, lambda s: abs(s["x"] - 0.05) / 0.02, priors, population=40, batch=60,
                          generations=4, seed=1)
    assert 1.0 / np.sum(res.final.weights**2) >= 10
    assert ((res.final.z >= 0) & (res.final.z <= 1)).all()
