"""Strategy comparison: pairing, statistics, decision table, outputs, report and command line."""

from __future__ import annotations

import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.experiments.execution.runner import RunFailed, RunSpec, plan, run_all
from culturedrift.experiments.workflows import compare as compare_mod
from culturedrift.experiments.workflows.compare import (
    METRIC,
    METRICS,
    CompareError,
    best_mask,
    build_comparison,
    compare,
    paired_ci,
    verdict,
)
from culturedrift.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = {"horizon_weeks": 30, "burn_in_weeks": 4, "organisation.n_teams": 3,
        "organisation.partner_agencies": {"police": 3, "health": 4, "education": 4}}
RUSH = {
    "change_programme": [
        {"name": "restructure", "kind": "structure", "start_week": 2, "duration_weeks": 6, "disruption": 0.1,
         "rewire_fraction": 0.3},
        {"name": "new_system", "kind": "it_system", "start_week": 4, "duration_weeks": 10, "learning": {}},
    ],
    "interventions": [{"kind": "engagement", "start_week": 0, "end_week": 20},
                      {"kind": "culture_vigilance", "start_week": 0}],
}


def tiny(name: str, **updates) -> Scenario:
    """A 3-team organisation over 30 weeks (runs in ~0.1 s)."""
    return Scenario(name=name).with_updates({**TINY, **updates})


@pytest.fixture(scope="module")
def calm() -> Scenario:
    return tiny("calm")


@pytest.fixture(scope="module")
def rush() -> Scenario:
    return tiny("rush", **RUSH)


@pytest.fixture(scope="module")
def cmp(calm, rush):
    return compare([calm, rush], seeds=4, workers=1)


def tiny_yaml(path: Path, name: str, **extra) -> Path:
    data = {"name": name, "horizon_weeks": 30, "burn_in_weeks": 4,
            "organisation": {"n_teams": 3, "partner_agencies": {"police": 3, "health": 4, "education": 4}}, **extra}
    path.write_text(yaml.safe_dump(data))
    return path


# ------------------------------------------------------------------------------------------ pairing


def test_comparing_a_scenario_with_itself_gives_exactly_zero_differences(rush):
    twin = rush.model_copy(update={"name": "rush_again"})
    c = compare([rush, twin], seeds=3, workers=1)
    d = c.differences[c.differences["scenario"] == "rush_again"]
    assert len(d) == len(METRICS)
    # a metric that does not apply to either arm (e.g. slippage share where nothing was attained) has no
    # difference at all; every other difference is exactly zero
    applies = d["diff"].notna()
    assert d.loc[~applies, ["diff_lo", "diff_hi"]].isna().all().all()
    assert applies.sum() >= len(METRICS) - 1
    assert (d.loc[applies, ["diff", "diff_lo", "diff_hi"]] == 0).all().all()
    row = c.decision_table.set_index("scenario").loc["rush_again"]
    for m in METRICS:
        assert row[f"{m.key}_diff"] == 0.0 or np.isnan(row[f"{m.key}_diff"])
    a = c.summary[c.summary.scenario == "rush"].drop(columns="scenario").reset_index(drop=True)
    b = c.summary[c.summary.scenario == "rush_again"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    for m in METRICS:
        diff = c.paired("rush", "rush_again", m.key)
        assert diff == (0.0, 0.0, 0.0) or all(np.isnan(diff))


def test_runs_in_worker_processes_match_runs_in_this_process(calm, rush):
    one = compare([calm, rush], seeds=3, workers=1)
    two = compare([calm, rush], seeds=3, workers=2)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.events, two.events)
    pd.testing.assert_frame_equal(one.decision_table, two.decision_table)


def test_strategies_share_their_randomness_before_they_differ(cmp):
    """Common random numbers: at week 0, before any strategy acts, both are identical on each seed."""
    w0 = cmp.timeseries[cmp.timeseries["week"] == 0].drop(columns="scenario")
    calm = w0[cmp.timeseries.loc[w0.index, "scenario"] == "calm"].reset_index(drop=True)
    rush = w0[cmp.timeseries.loc[w0.index, "scenario"] == "rush"].reset_index(drop=True)
    assert len(calm) == 4
    pd.testing.assert_frame_equal(calm, rush)
    assert not calm["morale_mean"].duplicated().any()  # ...and the seeds differ from each other


# ----------------------------------------------------------------------------------------- statistics


def test_paired_t_interval_matches_the_formula():
    d = np.array([0.3, -0.1, 0.5, 0.2, 0.4, 0.0])
    mean, lo, hi = paired_ci(d, "t")
    from scipy import stats

    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    assert mean == pytest.approx(d.mean())
    assert (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half))


def test_bootstrap_interval_is_deterministic_and_brackets_the_mean():
    d = np.random.default_rng(3).normal(1.0, 0.5, 25)
    a, b = paired_ci(d, "bootstrap"), paired_ci(d, "bootstrap")
    assert a == b
    assert a[1] < a[0] < a[2]


def test_constant_differences_give_a_zero_width_interval_and_one_seed_no_interval():
    assert paired_ci([0.0, 0.0, 0.0], "t") == (0.0, 0.0, 0.0)
    assert paired_ci([2.0, 2.0], "bootstrap") == (2.0, 2.0, 2.0)
    mean, lo, hi = paired_ci([1.5], "t")
    assert mean == 1.5 and math.isnan(lo) and math.isnan(hi)
    mean, lo, hi = paired_ci([1.0, np.nan, 3.0], "t")
    assert mean == 2.0 and lo < 2.0 < hi


def test_unknown_interval_method_is_rejected():
    with pytest.raises(ValueError, match="bootstrap"):
        paired_ci([1.0, 2.0, 4.0], "jackknife")  # type: ignore[arg-type]


def test_verdict_follows_the_direction_of_each_metric():
    assert verdict(METRIC["morale_trough"], 0.01, 0.03) == "better"  # higher is better
    assert verdict(METRIC["peak_turnover_12m"], 0.01, 0.03) == "worse"  # lower is better
    assert verdict(METRIC["peak_turnover_12m"], -0.03, -0.01) == "better"
    assert verdict(METRIC["planned_cost"], -10, 5) == "unclear"
    assert verdict(METRIC["planned_cost"], math.nan, math.nan) == "unclear"
    assert verdict(METRIC["planned_cost"], 0, 0, is_reference=True) == "reference"
    assert verdict(METRIC["total_cost"], -10, -5) == "lower"  # not ranked: a direction, never better/worse


def test_every_metric_has_a_direction_label_and_unit():
    assert {m.better for m in METRICS} == {"higher", "lower", "neither"}
    assert METRIC["morale_trough"].better == "higher" and METRIC["culture_attainment"].better == "higher"
    for key in ("peak_turnover_12m", "mean_turnover_12m", "peak_vacancy", "peak_fragmentation", "slippage_share",
                "planned_cost", "overspend_total"):
        assert METRIC[key].better == "lower"
    # delivered and unfunded cost are shown, never ranked: less spend can simply mean less money
    assert not METRIC["total_cost"].ranked and not METRIC["unfunded_cost"].ranked
    assert all(m.label and m.unit and m.definition for m in METRICS)


def test_best_mask_marks_ties_at_display_precision():
    m = METRIC["peak_vacancy"]  # lower is better, shown as % with one decimal
    marks = best_mask(pd.Series([0.2001, 0.2004, 0.25]), m)
    assert marks.tolist() == [True, True, False]
    assert best_mask(pd.Series([0.5, 0.7]), METRIC["morale_trough"]).tolist() == [False, True]


# ------------------------------------------------------------------------------------- decision table


def test_decision_table_has_one_row_per_strategy_with_medians_intervals_and_differences(cmp):
    t = cmp.decision_table
    assert t["scenario"].tolist() == ["calm", "rush"]
    assert (t["n_seeds"] == 4).all() and (t["reference"] == "calm").all()
    for m in METRICS:
        for stat in ("median", "p05", "p95", "diff", "diff_lo", "diff_hi", "best"):
            assert f"{m.key}_{stat}" in t.columns
        for _, row in t.iterrows():
            v = cmp.summary.loc[cmp.summary.scenario == row["scenario"], m.key].to_numpy()
            if not row[f"{m.key}_applies"]:
                assert np.isnan(row[f"{m.key}_median"]) and not row[f"{m.key}_best"]
                continue
            assert row[f"{m.key}_median"] == pytest.approx(np.median(v[np.isfinite(v)]))
            assert row[f"{m.key}_p05"] <= row[f"{m.key}_median"] <= row[f"{m.key}_p95"]
        assert t[f"{m.key}_best"].any() == (m.ranked and t[f"{m.key}_applies"].any())
    rush = t.set_index("scenario").loc["rush"]
    s = cmp.summary.set_index(["scenario", "seed"])
    d = (s.loc["rush", "total_cost"] - s.loc["calm", "total_cost"]).to_numpy()
    assert rush["total_cost_diff"] == pytest.approx(d.mean())
    assert cmp.summary["culture_kept"].to_numpy() == pytest.approx(
        (cmp.summary["culture_attainment"] - cmp.summary["slippage"]).to_numpy())


def test_reference_defaults_to_the_first_scenario_and_can_be_chosen(calm, rush):
    assert compare([rush, calm], seeds=2, workers=1).reference == "rush"
    c = compare([calm, rush], seeds=2, workers=1, reference="rush")
    assert c.reference == "rush"
    d = c.differences.set_index(["scenario", "metric"])
    assert (d.loc["rush", "verdict"] == "reference").all()


def test_any_pair_can_be_compared_and_the_difference_is_antisymmetric(cmp):
    ab = cmp.paired("rush", "calm", "morale_trough")
    ba = cmp.paired("calm", "rush", "morale_trough")
    assert ab[0] == pytest.approx(-ba[0])
    assert ab[1] == pytest.approx(-ba[2])
    with pytest.raises(CompareError, match="unknown strategy"):
        cmp.paired("rush", "nope", "morale_trough")


def test_reading_names_strategies_and_gives_intervals(cmp):
    lines = cmp.reading()
    text = "\n".join(lines)
    assert "**Rush** against **Calm**" in text
    assert "95% CI" in text
    assert all(m.label in text for m in METRICS if m.ranked)


def test_explicit_seeds_and_python_objects_of_all_kinds(tmp_path, calm):
    path = tiny_yaml(tmp_path / "file.yaml", "from_file")
    data = {"name": "from_dict", **{k: v for k, v in calm.model_dump(mode="json").items() if k != "name"}}
    c = compare([calm, str(path), data], seeds=[5, 7], workers=1)
    assert c.names == ["calm", "from_file", "from_dict"]
    assert sorted(c.summary["seed"].unique()) == [5, 7]


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seeds": 0}, "at least 1"),
    ({"seeds": []}, "no seeds"),
    ({"seeds": [1, 1]}, "distinct"),
    ({"seeds": [-1]}, "non-negative"),
    ({"reference": "nope"}, "unknown reference 'nope'"),
    ({"ci_method": "magic"}, "confidence-interval method"),
])
def test_bad_arguments_are_rejected_before_any_run(monkeypatch, calm, rush, kwargs, message):
    monkeypatch.setattr(compare_mod, "run_all", lambda *a, **k: pytest.fail("ran despite bad input"))
    with pytest.raises(CompareError, match=message):
        compare([calm, rush], **{"seeds": 2, "workers": 1, **kwargs})


def test_duplicate_names_and_empty_lists_are_rejected(calm):
    with pytest.raises(CompareError, match="share the name calm"):
        compare([calm, calm], seeds=1, workers=1)
    with pytest.raises(CompareError, match="no scenarios"):
        compare([], seeds=1)


def test_weeks_is_a_window_as_in_run_so_a_first_year_can_be_compared(calm, rush):
    """`--weeks` shorter than the programme: later changes have not happened yet, nothing is rejected."""
    c = compare([calm, rush], seeds=2, workers=1, weeks=6)  # rush's changes run to week 14
    assert c.timeseries["week"].max() == 6
    full = compare([calm, rush], seeds=2, workers=1)
    first = full.timeseries[full.timeseries["week"] <= 6].reset_index(drop=True)
    pd.testing.assert_frame_equal(c.timeseries.reset_index(drop=True), first)  # a window of the same runs
    t = c.decision_table.set_index("scenario")
    assert not t.loc["rush", "slippage_share_applies"]  # handover not reached: slippage cannot be judged
    assert "Window: only the first 6 weeks" in "\n".join(c.reading())


def test_slippage_never_awarded_best_where_nothing_was_attained(calm, rush):
    """Vacuous slippage: a strategy with no culture shift is n/a on slippage, never starred best."""
    kept = rush.with_updates({"name": "kept", "horizon_weeks": 60, "culture.reinforcement_rate": 0.2})
    c = compare([calm, kept], seeds=3, workers=1)
    t = c.decision_table.set_index("scenario")
    s = c.summary.set_index("scenario")
    assert (s.loc["calm", "culture_attainment"].abs() < 0.01).all()  # business as usual attains nothing
    assert t.loc["kept", "slippage_share_applies"] and t.loc["kept", "slippage_share_best"]
    assert not t.loc["calm", "slippage_share_applies"] and not t.loc["calm", "slippage_share_best"]
    assert np.isnan(t.loc["calm", "slippage_share_median"])
    assert c.differences.set_index(["scenario", "metric"]).loc[("kept", "slippage_share"), "verdict"] == "n/a"
    from culturedrift.experiments.reporting.text import decision_markdown

    md = decision_markdown(c)
    assert "n/a" in md and "does not apply" in md


def test_unfunded_cost_is_shown_and_less_money_is_never_best_on_delivered_cost(calm, rush):
    """A budget too small for the plan: delivered < planned, the cut is reported, delivered cost is not ranked."""
    rich = rush.with_updates({"name": "rich", "budget.quarterly_budget": 5000.0})
    poor = rush.with_updates({"name": "poor", "budget.quarterly_budget": 20.0})
    c = compare([rich, poor], seeds=2, workers=1)
    f = c.funding.set_index("scenario")
    assert f.loc["rich", "unfunded_cost"] == 0 and f.loc["poor", "unfunded_cost"] > 0
    poor = f.loc["poor"]
    assert poor["planned_cost"] == pytest.approx(poor["delivered_cost"] + poor["unfunded_cost"], rel=1e-9)
    assert f.loc["poor", "seeds_with_cuts"] == 2 and f.loc["poor", "cut_first_week"] >= 1
    t = c.decision_table.set_index("scenario")
    assert not t["total_cost_best"].any() and not t["unfunded_cost_best"].any()
    text = "\n".join(c.reading())
    assert "Unfunded: **Poor** could not pay for" in text and "because the budget ran short" in text


def test_a_failing_run_names_its_scenario_and_seed(monkeypatch, calm):
    import culturedrift.experiments.execution.runner as runner

    def boom(spec: RunSpec):
        if spec.seed == 1:
            raise FloatingPointError("diverged")
        return runner.simulate(spec.scenario, spec.seed)

    monkeypatch.setattr(runner, "execute", boom)
    specs = plan([calm], range(3))
    with pytest.raises(RunFailed, match=r"scenario 'calm' seed 1.*diverged") as e:
        run_all(specs, workers=1, progress=False)
    assert e.value.spec.seed == 1
    with ThreadPoolExecutor(2) as ex, pytest.raises(RunFailed, match="seed 1"):
        run_all(specs, executor=ex, progress=False)


def test_run_all_keeps_the_order_of_the_specs(calm, rush):
    specs = plan([calm, rush], [3, 1])
    with ThreadPoolExecutor(2) as ex:
        out = run_all(specs, executor=ex, progress=False)
    assert [(r.scenario, r.seed) for r in out] == [("calm", 3), ("calm", 1), ("rush", 3), ("rush", 1)]
    assert run_all([], workers=2) == []


# -------------------------------------------------------------------------------------------- outputs

EXPECTED = {"timeseries.parquet", "timeseries.csv", "summary.csv", "summary.json", "events.parquet",
            "decision_table.csv", "decision_table.md", "differences.csv", "funding.csv", "comparison.json",
            "report.html",
            "report.md", "fig_transition_risks.png", "fig_culture_work_cost.png", "fig_tradeoff.png",
            "fig_differences.png"}


@pytest.fixture(scope="module")
def written(cmp, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "out"
    paths = cmp.write(out)
    return out, paths


def test_write_produces_the_run_layout_tables_figures_and_reports(cmp, written):
    out, paths = written
    assert set(paths) == EXPECTED
    assert {p.name for p in out.iterdir()} == EXPECTED  # no staging directory left behind
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(ts["scenario"]) == {"calm", "rush"} and len(ts) == len(cmp.timeseries)
    assert len(pd.read_csv(out / "summary.csv")) == 8
    assert set(pd.read_parquet(out / "events.parquet")["scenario"]) <= {"calm", "rush"}
    table = pd.read_csv(out / "decision_table.csv")
    assert table["scenario"].tolist() == ["calm", "rush"]
    assert (out / "fig_tradeoff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reports_are_self_contained_and_say_what_was_compared(written):
    out, _ = written
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<link" not in page and "src='fig_" not in page
    for text in ("What was compared", "Decision table", "Reading of the result", "Rush", "Calm",
                 "2 fixed changes go live", "paired t-interval", "95% confidence interval"):
        assert text in page
    md = (out / "report.md").read_text()
    assert "![" in md and "(fig_transition_risks.png)" in md
    table_md = (out / "decision_table.md").read_text()
    assert "| Rush |" in table_md and "\u2605" in table_md and "95% confidence interval" in table_md


def test_a_failure_while_writing_leaves_the_previous_outputs_and_no_partial_files(cmp, tmp_path, monkeypatch):
    out = tmp_path / "out"
    cmp.write(out, figures=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import culturedrift.experiments.reporting.write as writing

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(writing, "write_reports", broken)
    with pytest.raises(OSError, match="disk full"):
        cmp.write(out, figures=False)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before


def test_output_that_is_a_file_is_rejected(cmp, tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(CompareError, match="not a directory"):
        cmp.write(f)


def test_a_single_strategy_still_gets_a_table_and_a_report(calm, tmp_path):
    c = compare([calm], seeds=2, workers=1)
    paths = c.write(tmp_path / "one", figures=False)
    assert "report.html" in paths
    assert "nothing to compare" in c.reading()[0]


def test_build_comparison_from_existing_runs_is_the_same_as_compare(cmp, calm, rush):
    again = build_comparison([calm, rush], cmp.seeds, cmp.results, "calm")
    pd.testing.assert_frame_equal(again.decision_table, cmp.decision_table)


# ---------------------------------------------------------------------------------------- command line


def test_cli_rejects_bad_input_with_exit_code_2(tmp_path, capsys):
    a = tiny_yaml(tmp_path / "a.yaml", "a")
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "missing.yaml"), "--out", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
    assert main(["compare", str(a), str(a), "--out", str(out)]) == 2
    assert "share the name a" in capsys.readouterr().err
    assert main(["compare", str(a), "--reference", "zzz", "--out", str(out)]) == 2
    assert "unknown reference 'zzz'" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nhorizon_weeks: -3\n")
    assert main(["compare", str(a), str(bad), "--out", str(out)]) == 2
    assert "horizon_weeks" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["compare", str(a), "--seeds", "0", "--out", str(out)])
    assert e.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
    assert not out.exists()


def test_cli_compare_writes_everything_and_prints_where_the_report_is(tmp_path, capsys):
    a = tiny_yaml(tmp_path / "a.yaml", "steady")
    b = tiny_yaml(tmp_path / "b.yaml", "changing", **{k: v for k, v in RUSH.items()})
    out = tmp_path / "out"
    code = main(["compare", str(a), str(b), "--seeds", "2", "--workers", "1", "--out", str(out),
                 "--no-progress", "--ci", "bootstrap"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"Report: {(out / 'report.html').resolve()}" in printed
    assert "Changing" in printed
    assert {p.name for p in out.iterdir()} >= EXPECTED
    assert "bootstrap" in (out / "decision_table.md").read_text()


@pytest.mark.slow
def test_console_script_end_to_end_on_two_processes(tmp_path):
    a = tiny_yaml(tmp_path / "a.yaml", "steady")
    b = tiny_yaml(tmp_path / "b.yaml", "changing", **RUSH)
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("culturedrift")
    proc = subprocess.run([str(exe), "compare", str(a), str(b), "--seeds", "3", "--workers", "2", "--out", str(out),
                           "--reference", "changing"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Report:" in proc.stdout
    assert "2 strategies x 3 seeds = 6 runs on 2 processes" in proc.stderr
    t = pd.read_csv(out / "decision_table.csv")
    assert (t["reference"] == "changing").all()
    assert not [p for p in out.iterdir() if p.name.startswith(".partial")]


def test_scenario_descriptions_name_what_differs_from_the_reference(calm, rush):
    from culturedrift.experiments.reporting.text import describe_scenario

    tight = calm.with_updates({"name": "tight", "budget.quarterly_budget": 100.0, "turnover.base_exit_hazard": 0.003})
    text = " ".join(describe_scenario(tight, calm))
    assert "GBP 100k" in text and "`turnover.base_exit_hazard` 0.003" in text
    assert "No change programme" in text
    rush_text = " ".join(describe_scenario(rush, calm))
    assert "2 fixed changes go live between week 2 and week 4" in rush_text
    assert "culture vigilance (week 0 to the end)" in rush_text
    assert "differ from" not in " ".join(describe_scenario(calm, calm))


def test_outputs_of_an_earlier_comparison_that_are_not_rewritten_are_removed(cmp, calm, tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "fig_differences.png").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    compare([calm], seeds=2, workers=1).write(out, figures=False)
    assert not (out / "fig_differences.png").exists()
    assert (out / "notes.txt").read_text() == "mine"  # files that are not comparison outputs are left alone


def test_interventions_started_by_events_are_explained_and_costed(calm):
    """An intervention a scheduled event starts is one of its strategy's levers and part of its planned cost."""
    from culturedrift.experiments.reporting.text import describe_scenario, planned_support_cost

    start = {"kind": "intervention_start", "week": 6, "intervention": {"kind": "culture_vigilance", "start_week": 6}}
    by_event = tiny("by_event", change_programme=RUSH["change_programme"], interventions=RUSH["interventions"][:1],
                    events=[start])
    listed = tiny("listed", change_programme=RUSH["change_programme"],
                  interventions=[RUSH["interventions"][0], start["intervention"]])
    assert planned_support_cost(by_event) == pytest.approx(planned_support_cost(listed))
    assert "culture vigilance (week 6 to the end)" in " ".join(describe_scenario(by_event, calm))
    off = compare_mod.without_lever(by_event, "culture_vigilance")
    assert [iv.kind for iv in off.planned()[1]] == ["engagement"]
    c = compare([calm, by_event], seeds=2, workers=1, explain=True)
    assert set(c.levers.loc[c.levers["scenario"] == "by_event", "lever"]) == {"engagement", "culture_vigilance"}


def test_explain_switches_each_lever_off_on_the_same_seeds(calm, rush):
    """Unexplained results: each intervention's contribution is the paired effect of switching it off."""
    c = compare([calm, rush], seeds=2, workers=1, explain=True)
    lv = c.levers
    assert set(lv["lever"]) == {"engagement", "culture_vigilance"} and set(lv["scenario"]) == {"rush"}
    without = compare([calm, compare_mod.without_lever(rush, "culture_vigilance")], seeds=2, workers=1)
    full = c.summary.set_index(["scenario", "seed"]).loc["rush", "culture_kept"]
    alt = without.summary.set_index(["scenario", "seed"]).loc["rush.without.culture_vigilance", "culture_kept"]
    row = lv.set_index(["lever", "metric"]).loc[("culture_vigilance", "culture_kept")]
    assert row["contribution"] == pytest.approx((full - alt).mean())
    from culturedrift.experiments.reporting.text import decision_markdown

    assert "Contribution of each lever" in decision_markdown(c)


def test_a_twin_that_differs_only_by_an_event_names_that_event_as_its_lever(calm):
    """A director reading 'no scheduled lever differs' beside a real difference would look for the cause in vain."""
    from culturedrift.experiments.reporting.text import levers

    inspected = tiny("inspected", events=[{"kind": "inspection", "week": 10}])
    c = compare([calm, inspected], seeds=1, workers=1)
    assert levers(c, "inspected") == "events inspection at week 10"
    back = compare([inspected, calm], seeds=1, workers=1)
    assert levers(back, "calm") == "without the reference's events inspection at week 10"
    assert levers(c, "calm") == "no scheduled lever differs (other settings differ: see above)"
