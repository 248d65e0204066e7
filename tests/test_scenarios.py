"""Scenario files: every shipped one validates and runs; every bad input is a clear, named error."""

from __future__ import annotations

from pathlib import Path

import pytest

from culturedrift.experiments.cli import main
from culturedrift.model import ScenarioError, load_scenario, simulate

SHIPPED = sorted(Path("scenarios").glob("*.yaml"))
REQUIRED = {"baseline", "big_bang", "phased", "phased_with_vigilance", "phased_vigilance_withdrawn", "tight_budget"}


def test_required_scenarios_are_shipped():
    assert {p.stem for p in SHIPPED} >= REQUIRED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_runs(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert sc.horizon_weeks == 260
    r = simulate(sc.with_updates({"horizon_weeks": 30}) if not sc.change_programme else sc, 0, None)
    assert len(r.timeseries) == r.timeseries["week"].iloc[-1] + 1


def test_extends_merges_and_lists_replace():
    withdrawn = load_scenario("scenarios/phased_vigilance_withdrawn.yaml")
    phased = load_scenario("scenarios/phased.yaml")
    assert withdrawn.change_programme == phased.change_programme
    assert [i.kind for i in withdrawn.interventions][-1] == "culture_vigilance"
    tight = load_scenario("scenarios/tight_budget.yaml")
    assert tight.budget.quarterly_budget == 250
    assert tight.budget.agency_worker_premium_per_week == phased.budget.agency_worker_premium_per_week


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


BAD = {
    "unknown_key": ("name: x\ncolour: blue\n", "colour: unknown field"),
    "nested_unknown": ("name: x\nturnover: {base_exit_hazrd: 0.1}\n", "turnover.base_exit_hazrd: unknown field"),
    "wrong_type": ("name: x\nhorizon_weeks: soon\n", "horizon_weeks"),
    "out_of_range": ("name: x\nmorale: {baseline: 1.5}\n", "morale.baseline"),
    "change_beyond_horizon": ("name: x\nhorizon_weeks: 50\nchange_programme:\n"
                              "  - {name: it, kind: it_system, start_week: 45, duration_weeks: 10}\n",
                              "beyond horizon_weeks=50"),
    "unknown_intervention": ("name: x\ninterventions:\n  - {kind: free_pizza}\n", "free_pizza"),
    "unknown_change_kind": ("name: x\nchange_programme:\n  - {name: a, kind: reorg}\n", "change_programme.0.kind"),
    "missing_name": ("horizon_weeks: 10\n", "name: Field required"),
    "not_a_mapping": ("- 1\n- 2\n", "must be a mapping"),
    "bad_yaml": ("name: [unclosed\n", "not valid YAML"),
    "bad_window": ("name: x\ninterventions:\n  - {kind: recognition, start_week: 10, end_week: 5}\n",
                   "end_week"),
    "rewire_not_structure": ("name: x\nchange_programme:\n  - {name: a, kind: role, rewire_fraction: 0.2}\n",
                             "rewire_fraction"),
    "python_tag": ("name: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_name_file_field_and_reason(tmp_path, case):
    text, expected = BAD[case]
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert str(p.name) in msg
    assert expected in msg


def test_missing_file_and_circular_extends(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.yaml")


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    p = write(tmp_path, "name: x\nturnover: {labour_market_pressure: -1}\n")
    code = main(["run", str(p), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "turnover.labour_market_pressure" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_rejects_zero_seeds(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "scenarios/baseline.yaml", "--seeds", "0"])
    assert e.value.code != 0
    assert "at least 1" in capsys.readouterr().err


def test_overrides_with_unknown_path_are_errors():
    sc = load_scenario("scenarios/baseline.yaml")
    with pytest.raises(ScenarioError, match="unknown field"):
        sc.with_updates({"turnover.no_such_thing": 1})
    with pytest.raises(ScenarioError, match="horizon_weeks"):
        sc.with_updates({"horizon_weeks": -3})
