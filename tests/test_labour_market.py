"""Labour-market validation checks run end to end on a tiny organisation; the shipped region scenarios carry targets."""

from __future__ import annotations

import pytest

from culturedrift.experiments.workflows.validation import labour_market as lm


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(lm, "SHRINK", {"organisation.n_teams": 2, "burn_in_weeks": 8, "weeks": 40})


def serial(fn, tasks):
    return [fn(*t) for t in tasks]


def test_extreme_conditions_run_and_report_what_they_must_show(tiny):
    checks = lm.extreme_checks(1, serial)
    assert [c.key for c in checks] == ["EXT1", "EXT2", "EXT3", "EXT4"]
    for c, e in zip(checks, lm.EXTREMES, strict=True):
        assert len(c.table) == len(e.must) and set(c.table["result"]) <= {"PASS", "FAIL"}
        assert c.table["why"].str.len().min() > 10
    # zero budget: no money for agency workers, so cover dies out
    ext1 = checks[0].table.set_index("metric")
    assert ext1.loc["agency_worker_share_end", "model"] < ext1.loc["agency_worker_share_end", "reference run"]


def test_runaway_check_covers_the_documented_range(tiny):
    c = lm.runaway_check(1, serial, points=2)
    assert list(c.table["pressure"]) == [lm.PRESSURE_RANGE[0], lm.PRESSURE_RANGE[1]]
    assert c.table["baseline vacancy"].iloc[1] > c.table["baseline vacancy"].iloc[0]
    md = "\n".join(lm.markdown([c], lambda df: df.to_string()))
    assert "RUN" in md and "ceiling" in md


def test_region_scenarios_name_their_targets():
    regs = lm.region_scenarios()
    assert {"England", "North East", "North West"} <= set(regs)
    for sc in regs.values():
        assert sc.fitted_to["source"].endswith("dfe_csww_2023_national_regional.csv")
        assert set(sc.fitted_to["targets"]) >= {"turnover_rate_12m", "vacancy_rate", "agency_worker_share"}
