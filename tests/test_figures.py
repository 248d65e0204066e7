"""Every figure a reader sees has a title, axis labels with units and no overlapping text (where testable)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from culturedrift.experiments.reporting import figures as cmp_figures
from culturedrift.experiments.reporting import sensitivity as sens_figures
from culturedrift.experiments.reporting.style import CHECK_ENV, FigureProblem, figure_problems, save
from culturedrift.experiments.reporting.timeseries import timeseries_figure
from culturedrift.experiments.workflows.compare import compare
from culturedrift.experiments.workflows.validation.common import paired_effect
from culturedrift.experiments.workflows.validation.report import effects_figure
from culturedrift.model import Scenario

TINY = {"horizon_weeks": 30, "burn_in_weeks": 4, "organisation.n_teams": 3,
        "organisation.partner_agencies": {"police": 3, "health": 4, "education": 4}}


@pytest.fixture(autouse=True)
def checked(monkeypatch):
    """Every `save` in these tests refuses a figure a reader would trip on."""
    monkeypatch.setenv(CHECK_ENV, "1")


@pytest.fixture(scope="module")
def cmp():
    calm = Scenario(name="calm").with_updates(TINY)
    rush = Scenario(name="rush_with_a_long_name", title="Rush, with a long display title").with_updates({
        **TINY, "change_programme": [{"name": "restructure", "kind": "structure", "start_week": 2,
                                      "duration_weeks": 6, "disruption": 0.1, "rewire_fraction": 0.3}],
        "interventions": [{"kind": "engagement", "start_week": 0, "end_week": 20}]})
    return compare([calm, rush], seeds=3, workers=1)


def test_the_checker_catches_a_missing_title_a_missing_unit_and_overlapping_text(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("week")
    ax.set_ylabel("morale")  # no unit
    assert "no title" in " ".join(figure_problems(fig))
    assert "gives no unit" in " ".join(figure_problems(fig))
    ax.set_title("A title")
    ax.text(0.5, 0.5, "overlapping words", transform=ax.transAxes)
    ax.text(0.5, 0.5, "overlapping words", transform=ax.transAxes)
    assert any("overlaps" in p for p in figure_problems(fig))
    with pytest.raises(FigureProblem):
        save(fig, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_compare_figures_pass_the_checks_and_export_as_svg_and_pdf(cmp, tmp_path):
    paths = cmp_figures.write_figures(cmp, tmp_path, formats=("svg", "pdf"))
    assert set(paths) == {"fig_transition_risks.png", "fig_culture_work_cost.png", "fig_tradeoff.png",
                          "fig_differences.png"}
    for p in paths.values():
        assert p.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
        assert p.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    assert "Rush, with a long display title" in paths["fig_tradeoff.png"].with_suffix(".svg").read_text()


def test_run_figure_passes_the_checks(cmp, tmp_path):
    out = timeseries_figure(cmp.timeseries, tmp_path / "timeseries.png", cmp.programmes, titles=cmp.titles,
                            formats=("svg",))
    assert out.exists() and out.with_suffix(".svg").exists()


def test_sensitivity_figures_pass_the_checks_with_labels_not_field_paths(tmp_path):
    rng = np.random.default_rng(1)
    names = ["turnover.labour_market_pressure", "slippage.decay_rate"]
    table = pd.DataFrame({"metric": ["peak_turnover_12m"] * 2 + ["slippage"] * 2, "parameter": names * 2,
                          "S1": [0.6, 0.1, 1.19, -0.38], "S1_conf": [0.1, 0.05, 1.13, 0.1],
                          "ST": [0.7, 0.2, 0.9, 0.1], "ST_conf": [0.1, 0.05, 0.5, 0.1]})
    sens_figures.indices_figure(table, "sobol", tmp_path / "sensitivity.png", formats=("svg",))
    svg = (tmp_path / "sensitivity.svg").read_text()
    assert "Labour market pressure" in svg and "turnover.labour_market_pressure" not in svg
    results = pd.DataFrame({"status": "ok", names[0]: rng.uniform(0.7, 1.5, 60), names[1]: rng.uniform(0, 1, 60),
                            "peak_turnover_12m": rng.uniform(0.1, 0.3, 60), "slippage": rng.uniform(0, 0.1, 60)})
    sens_figures.partial_dependence_figure(results, names, ["peak_turnover_12m", "slippage"],
                                           tmp_path / "partial_dependence.png")
    grid = pd.DataFrame([(a, b, a * b, a + b) for a in (1.0, 2.0, 3.0) for b in (0.1, 0.2)],
                        columns=[*names, "peak_turnover_12m", "slippage"])
    sens_figures.heatmap_figure(grid, names, ["peak_turnover_12m", "slippage"], tmp_path / "heatmap.png")


def test_validation_effects_figure_passes_the_checks(tmp_path):
    rng = np.random.default_rng(2)
    effects = {"SF1": [paired_effect("SF1", "big bang vs phased", "morale_trough", rng.normal(-1, 0.3, 6), -1)],
               "R1": [paired_effect("R1", "link: morale", "morale_mean", rng.normal(0.1, 1, 6), 1)]}
    assert effects_figure(effects, tmp_path / "effects.png").exists()
