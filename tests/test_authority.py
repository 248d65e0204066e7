"""Authority data in: the DfE workforce reader, selection, targets, errors and the `authority` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows import authority as au
from culturedrift.model import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DFE = ROOT / "data" / "dfe_csww_2023_national_regional.csv"
ILLUSTRATIVE = ROOT / "tests" / "data" / "dfe_csww_illustrative_authorities.csv"


def test_published_rows_read_as_published():
    df = au.read_workforce(DFE)
    assert len(df) == 4
    ne = au.select(df, "North East")
    assert ne.level == "region" and ne.years == (2023, 2023)
    t = ne.targets
    assert t["turnover_rate_12m"]["value"] == pytest.approx(0.142)
    assert t["vacancy_rate"]["value"] == pytest.approx(0.109)
    assert t["agency_worker_share"]["value"] == pytest.approx(0.099)
    assert t["caseload_mean"]["value"] == pytest.approx(17.0)
    # the published rates agree with their counts (README consistency checks), to the rounding
    for _, r in df.iterrows():
        assert r["leavers_fte"] / r["inpost_fte"] == pytest.approx(r["turnover_rate_fte"] / 100, abs=0.0006)
        assert r["vacancy_fte"] / (r["vacancy_fte"] + r["inpost_fte"]) == pytest.approx(r["vacancy_rate_fte"] / 100,
                                                                                       abs=0.0006)


def test_selection_by_code_equals_by_name_and_england_is_national():
    df = au.read_workforce(DFE)
    assert au.select(df, "E12000001").targets == au.select(df, "north east").targets
    eng = au.select(df, "England")
    assert eng.level == "national"
    assert eng.targets["vacancy_rate"]["value"] == pytest.approx(0.189)


def test_suppressed_values_are_missing_and_years_averaged():
    df = au.read_workforce(ILLUSTRATIVE)
    sel = au.select(df, "Illustrative Borough", au.parse_years("2021-2023"))
    assert sel.years == (2021, 2023)
    # turnover suppressed (c) in 2023: the mean of 2021 and 2022 only, and a note saying so
    assert sel.targets["turnover_rate_12m"]["value"] == pytest.approx((0.14 + 0.146) / 2)
    assert sel.targets["turnover_rate_12m"]["years"] == 2
    assert any("suppressed" in n for n in sel.notes)
    one = au.select(df, "Illustrative Borough", au.parse_years("2022"))
    assert one.targets["vacancy_rate"]["value"] == pytest.approx(0.12)
    # caseload ':' and 'z' for Exampleton: no caseload target, a note, default demand kept
    ex = au.select(df, "E06999993")
    assert "caseload_mean" not in ex.targets
    assert "workload.demand_cases_per_post" not in au.base_updates(ex, Scenario(name="b"))
    assert au.max_reported_turnover(df) == (pytest.approx(0.30), "Exampleton 2023")


@pytest.mark.parametrize("content, message", [
    ("year,la_name,inpost_fte\n2023,A,10\n", "missing column 'time_period'"),
    ("time_period,inpost_fte,turnover_rate_fte,vacancy_rate_fte,agency_rate_fte\n2023,1,1,1,1\n",
     "no geography column"),
    ("time_period,la_name,inpost_fte,vacancy_rate_fte,agency_rate_fte\n2023,A,10,1,1\n",
     "missing column 'turnover_rate_fte' (or 'leavers_fte'"),
    ("time_period,la_name,inpost_fte,turnover_rate_fte,vacancy_rate_fte,agency_rate_fte\n2023,A,10,ten,1,1\n",
     "row 2, column 'turnover_rate_fte': 'ten'"),
    ("time_period,la_name,inpost_fte,turnover_rate_fte,vacancy_rate_fte,agency_rate_fte\nlast year,A,10,1,1,1\n",
     "column 'time_period'"),
    ("time_period,la_name,inpost_fte,turnover_rate_fte,vacancy_rate_fte,agency_rate_fte\n", "no data rows"),
])
def test_bad_files_get_clear_errors(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(au.WorkforceDataError) as e:
        au.read_workforce(f)
    assert str(f) in str(e.value) and message in str(e.value)


def test_bad_selections_get_clear_errors(tmp_path):
    df = au.read_workforce(ILLUSTRATIVE)
    with pytest.raises(au.WorkforceDataError, match="no authority, region or country named or coded 'Nowhere'"):
        au.select(df, "Nowhere")
    with pytest.raises(au.WorkforceDataError, match="turnover is suppressed or missing in every selected year"):
        au.select(df, "Sampleshire")
    with pytest.raises(au.WorkforceDataError, match="no rows in 2010-2012"):
        au.select(df, "Illustrative Borough", (2010, 2012))
    with pytest.raises(au.WorkforceDataError, match="ends before it starts"):
        au.parse_years("2023-2019")
    f = tmp_path / "allsup.csv"
    f.write_text("time_period,la_name,inpost_fte,turnover_rate_fte,vacancy_rate_fte,agency_rate_fte\n"
                 "2023,A,c,c,x,u\n")
    with pytest.raises(au.WorkforceDataError, match="suppressed or missing in every selected year"):
        au.select(au.read_workforce(f), "A")
    assert not (tmp_path / "allsup.yaml").exists()


def test_own_hr_figures_in_the_same_columns(tmp_path):
    f = tmp_path / "hr.csv"
    f.write_text("time_period,la_name,inpost_fte,leavers_fte,agency_fte,vacancy_fte,case_holders_fte,cases\n"
                 "2024,Our Council,100,18,10,15,70,1190\n")
    sel = au.select(au.read_workforce(f), "our council")
    assert sel.level == "la"
    assert sel.targets["turnover_rate_12m"]["value"] == pytest.approx(0.18)
    assert sel.targets["vacancy_rate"]["value"] == pytest.approx(15 / 115)
    assert sel.targets["agency_worker_share"]["value"] == pytest.approx(10 / 110)
    assert sel.targets["caseload_mean"]["value"] == pytest.approx(17.0)


def test_size_and_budget_follow_the_figures():
    df = au.read_workforce(DFE)
    base = Scenario(name="b")
    ne, nw = au.select(df, "North East"), au.select(df, "North West")
    # regions are modelled as authority-sized organisations with their rates
    assert au.organisation_size(ne, 10, 30)[0] == 30
    small = au.select(au.read_workforce(ILLUSTRATIVE), "Exampleton")
    n, scale = au.organisation_size(small, 10, 30)
    assert n == round(150 / (1 - 0.096) / 11) and scale == pytest.approx(n * 11 / small.establishment_fte)
    # more agency worker use needs a bigger budget for the same size
    assert au.budget_for(220, nw.targets["agency_worker_share"]["value"], base) > au.budget_for(
        220, ne.targets["agency_worker_share"]["value"], base)
    assert au.budget_for(220, 0.15, base) == pytest.approx(base.budget.quarterly_budget, rel=0.01)


def test_cli_writes_a_loadable_scenario_with_its_targets(tmp_path, capsys):
    out = tmp_path / "ne.yaml"
    assert main(["authority", str(DFE), "--area", "North East", "--no-fit", "--out", str(out), "--workers", "1"]) == 0
    sc = load_scenario(out)
    assert sc.fitted_to["area"] == "North East"
    assert sc.fitted_to["targets"]["vacancy_rate"]["value"] == pytest.approx(0.109)
    assert sc.organisation.n_teams == 30
    assert main(["authority", str(DFE), "--list"]) == 0
    assert "Yorkshire and The Humber" in capsys.readouterr().out
    assert main(["authority", str(DFE), "--area", "Atlantis", "--no-fit", "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Atlantis" in err and str(DFE) in err
    assert not (tmp_path / "x.yaml").exists()


def test_fit_moves_pressure_toward_the_vacancy_target():
    """On a tiny organisation the fit raises pressure for a high-vacancy target and lowers it for a low one."""
    df = au.read_workforce(DFE)
    base = Scenario(name="b", horizon_weeks=52, burn_in_weeks=26)
    got = {}
    for area in ("North East", "North West"):
        sc, fit = au.fit_levers(au.select(df, area), base, seeds=1, horizon=52, from_week=0, iterations=2,
                                max_teams=3)
        got[area] = sc.turnover.labour_market_pressure
        assert np.isfinite(list(fit["achieved"].values())).all()
    assert got["North East"] < got["North West"]
