"""Sensitivity analysis of sweep directories: Sobol', Morris, PRCC, tables and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows.sensitivity import SensitivityError, analyse, markdown_table, prcc
from culturedrift.experiments.workflows.sweep import SweepStore, sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = {"horizon_weeks": 20, "burn_in_weeks": 4, "organisation.n_teams": 3}
PARAMS = {"turnover.labour_market_pressure": {"low": 0.6, "high": 1.6},
          "morale.change_effect": {"low": 0.001, "high": 0.004},
          "turnover.base_exit_hazard": {"low": 0.001, "high": 0.004}}
METRICS = ["mean_turnover_12m", "peak_vacancy", "morale_trough"]


def swept(tmp_path: Path, **fields) -> Path:
    data = {"name": "sa", "base": str(ROOT / "scenarios" / "baseline.yaml"), "overrides": TINY, "replicates": 1,
            "seed": 3, "metrics": METRICS, "parameters": PARAMS, **fields}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    sweep(path, out, workers=1, progress=False, log=None)
    return out


def test_prcc_recovers_monotone_effects():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 3))
    y = np.exp(3 * x[:, 0]) - 2 * x[:, 1] + 0.05 * rng.normal(size=300)
    t = prcc(x, y)
    assert t.loc[0, "prcc"] > 0.95 and t.loc[1, "prcc"] < -0.7 and abs(t.loc[2, "prcc"]) < 0.2
    assert (t["prcc_low"] <= t["prcc"]).all() and (t["prcc"] <= t["prcc_high"]).all()
    assert t.loc[0, "p_value"] < 1e-6 and t.loc[2, "p_value"] > 0.01


def test_sobol_indices_table_and_figures(tmp_path, capsys):
    out = swept(tmp_path, design="sobol", samples=4)  # 4 x (3 + 2) = 20 runs
    assert main(["sensitivity", str(out), "--resamples", "100"]) == 0
    table = pd.read_csv(out / "sensitivity" / "sensitivity.csv")
    assert list(table.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(table) == len(METRICS) * len(PARAMS)
    assert table[["S1", "ST"]].notna().all().all()
    assert (table["S1_conf"] >= 0).all() and (table["ST_conf"] >= 0).all()
    md = (out / "sensitivity" / "sensitivity.md").read_text()
    assert "## Mean 12-month turnover (%)" in md and "| parameter | S1 |" in md
    for f in ("sensitivity.png", "partial_dependence.png", "point_means.csv"):
        assert (out / "sensitivity" / f).stat().st_size > 0
    assert "ST_conf" in capsys.readouterr().out


def test_morris_and_a_failed_trajectory(tmp_path, monkeypatch):
    from culturedrift.experiments.workflows.sweep import engine

    real = engine.simulate_summary

    def flaky(params, seed, base=None):  # runs in this process (workers=1): fail where pressure is high
        if params.get("turnover.labour_market_pressure", 0) > 1.55:
            raise FloatingPointError("diverged")
        return real(params, seed, base=base)

    monkeypatch.setattr(engine, "simulate_summary", flaky)
    out = swept(tmp_path, design="morris", samples=3, replicates=2, common_random_numbers=True)  # 24 runs
    res = analyse(out, num_resamples=50)
    assert res.method == "morris"
    assert list(res.table.columns) == ["metric", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert (res.table["mu_star"] >= 0).all()
    failed = (SweepStore(out).results()["status"] == "failed").any()
    assert failed == any("trajectory" in n for n in res.notes)


def test_grid_over_two_parameters_gives_a_heat_map(tmp_path):
    out = swept(tmp_path, design="grid", parameters={
        "turnover.labour_market_pressure": {"low": 0.6, "high": 1.6, "steps": 3},
        "morale.change_effect": {"values": [0.001, 0.004]}}, replicates=2)
    res = analyse(out, tmp_path / "sa", metrics=["peak_vacancy"])
    assert res.method == "prcc" and set(res.paths) >= {"heatmap.png", "partial_dependence.png", "sensitivity.csv"}
    assert (tmp_path / "sa" / "heatmap.png").stat().st_size > 0
    assert len(res.point_means) == 6 and (res.point_means["replicates_ok"] == 2).all()


def test_lhs_and_errors(tmp_path, capsys):
    out = swept(tmp_path, design="lhs", samples=12)
    res = analyse(out, figures=False)
    assert res.method == "prcc" and set(res.table["parameter"]) == set(PARAMS)
    with pytest.raises(SensitivityError, match="not kept"):
        analyse(out, metrics=["slippage"])
    assert main(["sensitivity", str(tmp_path / "nowhere")]) == 2
    assert "not a sweep directory" in capsys.readouterr().err


def test_incomplete_sobol_sweep_is_refused(tmp_path):
    out = swept(tmp_path, design="sobol", samples=2)
    for p in sorted((out / "runs").glob("part-*.parquet")):
        p.unlink()
    with pytest.raises(SensitivityError, match="no runs"):
        analyse(out)


def test_markdown_table():
    df = pd.DataFrame({"parameter": ["a|b", "c"], "S1": [0.123456, float("nan")]})
    assert markdown_table(df).splitlines() == ["| parameter | S1 |", "|---|---:|", "| a\\|b | 0.123 |", "| c |  |"]


def test_unreliable_sobol_indices_are_flagged_with_a_sample_size():
    """The shipped N=16 example gave S1 = 1.19 +/- 1.13 and S1 = -0.38 without comment: both are flagged."""
    from culturedrift.experiments.analysis.sensitivity import index_warnings

    table = pd.DataFrame({"metric": ["slippage"] * 3, "parameter": ["a", "b", "c"],
                          "S1": [1.19, -0.38, 0.50], "S1_conf": [1.13, 0.10, 0.04],
                          "ST": [0.9, 0.1, 0.6], "ST_conf": [0.05, 0.02, 0.05]})
    w = index_warnings(table, "sobol", samples=16).set_index(["parameter", "index"])
    assert "wider than the index" in w.loc[("a", "S1"), "problem"]
    assert "outside [0, 1]" in w.loc[("b", "S1"), "problem"]
    assert ("c", "S1") not in w.index and ("c", "ST") not in w.index  # a clear index is not flagged
    n = w.loc[("a", "S1"), "suggested_samples"]
    assert n > 16 and (n & (n - 1)) == 0  # a power of two, as Sobol' sequences prefer
    assert 1.13 * (16 / n) ** 0.5 <= 0.05 + 1e-9  # enough to narrow the interval to +-0.05


def _slippage_na_where_pressure_high(monkeypatch, cut: float = 1.1):
    """Runs report `slippage_share` n/a (nothing attained) where labour-market pressure is above `cut`."""
    from culturedrift.experiments.workflows.sweep import engine

    real = engine.simulate_summary

    def summary(params, seed, base=None):
        out = real(params, seed, base=base)
        noise = np.random.default_rng([seed, int(1e6 * params["turnover.base_exit_hazard"])]).normal(0, 0.04)
        out["slippage_share"] = float("nan") if params["turnover.labour_market_pressure"] > cut else \
            params["morale.change_effect"] * 100 + noise
        return out

    monkeypatch.setattr(engine, "simulate_summary", summary)


def test_prcc_leaves_out_points_where_a_metric_is_na(tmp_path, monkeypatch, capsys):
    _slippage_na_where_pressure_high(monkeypatch)
    out = swept(tmp_path, design="lhs", samples=12, metrics=[*METRICS, "slippage_share"])
    pm = SweepStore(out).points()
    na = int((pm["turnover.labour_market_pressure"] > 1.1).sum())
    assert 0 < na < 10
    res = analyse(out, figures=False)
    rows = res.table[res.table["metric"] == "slippage_share"].set_index("parameter")
    assert len(rows) == len(PARAMS) and rows["prcc"].notna().all()
    means = res.point_means
    ok = means["slippage_share"].notna().to_numpy()
    want = prcc(means.loc[ok, list(PARAMS)].to_numpy(dtype=float), means.loc[ok, "slippage_share"].to_numpy())
    assert np.allclose(rows.loc[list(PARAMS), "prcc"].to_numpy(), want["prcc"].to_numpy())
    assert rows.loc["morale.change_effect", "prcc"] > 0.7  # the planted effect, found where the metric applies
    note = next(n for n in res.notes if n.startswith("slippage_share"))
    assert f"n/a at {na} of 12 design points" in note and f"PRCC over the {12 - na} points" in note
    assert "attained" in note  # why: the catalogue's statement of where it applies
    assert "n/a at" in (out / "sensitivity" / "sensitivity.md").read_text()


def test_sobol_gives_no_indices_for_a_metric_that_is_sometimes_na_and_says_why(tmp_path, monkeypatch, capsys):
    _slippage_na_where_pressure_high(monkeypatch)
    out = swept(tmp_path, design="sobol", samples=4, metrics=["peak_vacancy", "slippage_share"])
    assert main(["sensitivity", str(out), "--resamples", "50"]) == 0
    printed = capsys.readouterr().out
    assert "note: slippage_share: n/a at" in printed and "Sobol' indices need every point" in printed
    table = pd.read_csv(out / "sensitivity" / "sensitivity.csv")
    assert set(table["metric"]) == {"peak_vacancy"} and table[["S1", "ST"]].notna().all().all()


def test_a_metric_that_never_applies_is_refused_with_the_reason(tmp_path, monkeypatch):
    _slippage_na_where_pressure_high(monkeypatch, cut=0.0)
    out = swept(tmp_path, design="lhs", samples=6, metrics=["slippage_share"])
    with pytest.raises(SensitivityError, match="n/a at 6 of 6 design points"):
        analyse(out, figures=False)
