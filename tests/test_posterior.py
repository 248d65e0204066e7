"""compare --posterior: each seed's parameters drawn from a calibration posterior; rank stability reported."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from culturedrift.experiments.analysis.rank_stability import rank_stability, stability_lines
from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows import posterior as post
from culturedrift.model import Scenario


def _posterior(tmp_path, rows=None):
    f = tmp_path / "posterior.csv"
    pd.DataFrame(rows or {"turnover.base_exit_hazard": [0.0015, 0.0035], "pressure:North East": [0.7, 0.8],
                          "weight": [0.5, 0.5], "distance": [1.0, 1.2]}).to_csv(f, index=False)
    return f


def test_draws_are_keyed_by_seed_and_weighted(tmp_path):
    p = post.load_posterior(_posterior(tmp_path))
    assert list(p.columns) == ["turnover.base_exit_hazard", "weight"]  # region pressures are not applied
    d1, d2 = post.draws(p, range(40)), post.draws(p, [5, 3])
    assert d1.set_index("seed").loc[[5, 3], "particle"].tolist() == d2["particle"].tolist()
    assert 0.2 < (d1["particle"] == 0).mean() < 0.8
    sc = post.apply_draw(Scenario(name="x"), d1.iloc[0])
    assert sc.name == "x" and sc.turnover.base_exit_hazard == d1["turnover.base_exit_hazard"].iloc[0]
    one = post.load_posterior(_posterior(tmp_path, {"turnover.base_exit_hazard": [0.001, 0.002],
                                                    "weight": [0.0, 1.0]}))
    assert (post.draws(one, range(10))["particle"] == 1).all()


@pytest.mark.parametrize("rows, message", [
    ({"turnover.base_exit_hazard": [0.001]}, "missing column 'weight'"),
    ({"turnover.nonsense": [1.0], "weight": [1.0]}, "column 'turnover.nonsense' is not a usable scenario parameter"),
    ({"turnover.base_exit_hazard": [7.0], "weight": [1.0]}, "column 'turnover.base_exit_hazard'"),
    ({"turnover.base_exit_hazard": [0.001], "weight": [0.0]}, "not all zero"),
    ({"distance": [1.0], "weight": [1.0]}, "no parameter columns"),
])
def test_bad_posteriors_are_named(tmp_path, rows, message):
    with pytest.raises(post.PosteriorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        post.load_posterior(_posterior(tmp_path, rows))


def test_rank_stability_counts_wins_and_splits_ties():
    summary = pd.DataFrame({"scenario": ["a", "b"] * 4, "seed": [0, 0, 1, 1, 2, 2, 3, 3],
                            "peak_turnover_12m": [0.1, 0.2, 0.1, 0.2, 0.3, 0.2, 0.2, 0.2]})
    m = SimpleNamespace(key="peak_turnover_12m", label="Peak turnover", sign=-1)
    t = rank_stability(summary, ["a", "b"], [m]).set_index("strategy")
    assert t.loc["a", "win_share"] == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert t["win_share"].sum() == pytest.approx(1.0)
    assert t.loc["a", "best_or_tied"] == pytest.approx(3 / 4) and t.loc["a", "all_tied"] == pytest.approx(1 / 4)
    lines = stability_lines(rank_stability(summary, ["a", "b"], [m]))
    assert "fairly stable" in lines[1] and "best or tied for best in 75%" in lines[1]
    summary["peak_turnover_12m"] = [0.1, 0.2, 0.3, 0.2, 0.1, 0.2, 0.3, 0.2]
    assert "NOT stable" in stability_lines(rank_stability(summary, ["a", "b"], [m]))[1]


def test_ties_are_not_rank_reversals():
    m = SimpleNamespace(key="unfunded", label="Unfunded", sign=-1)
    summary = pd.DataFrame({"scenario": ["a", "b", "c"] * 3, "seed": [0, 0, 0, 1, 1, 1, 2, 2, 2],
                            "unfunded": [0.0] * 9})
    assert "every strategy scores the same in 100%" in stability_lines(rank_stability(summary, ["a", "b", "c"],
                                                                                      [m]))[1]
    summary["unfunded"] = [1.0, 1.0, 2.0] * 3  # a and b identical in every draw, both better than c
    line = stability_lines(rank_stability(summary, ["a", "b", "c"], [m]))[1]
    assert "(stable; " in line and "NOT" not in line


def test_a_metric_without_direction_has_no_winner():
    m = SimpleNamespace(key="total_cost", label="Delivered cost", sign=0)
    summary = pd.DataFrame({"scenario": ["a", "b"] * 2, "seed": [0, 0, 1, 1], "total_cost": [1.0, 2.0, 3.0, 1.0]})
    assert rank_stability(summary, ["a", "b"], [m]).empty


def test_compare_with_a_posterior_prints_rank_stability(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text("name: a\nhorizon_weeks: 20\nburn_in_weeks: 4\norganisation: {n_teams: 2}\n")
    b = tmp_path / "b.yaml"
    b.write_text("name: b\nhorizon_weeks: 20\nburn_in_weeks: 4\norganisation: {n_teams: 2}\n"
                 "budget: {quarterly_budget: 0}\n")
    out = tmp_path / "cmp"
    rc = main(["compare", str(a), str(b), "--seeds", "3", "--workers", "1", "--out", str(out), "--no-progress",
               "--posterior", str(_posterior(tmp_path))])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Rank stability" in text and "share of draws in which each strategy is best" in text
    rs = pd.read_csv(out / "rank_stability.csv")
    assert set(rs["strategy"]) == {"a", "b"} and (rs.groupby("metric")["win_share"].sum().round(6) == 1).all()
    assert "Rank stability across the calibration posterior" in (out / "report.md").read_text()
    draws = pd.read_csv(out / "posterior_draws.csv")
    assert list(draws["seed"]) == [0, 1, 2]
