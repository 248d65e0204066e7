"""Early warning: observables leave latent runs unchanged, scoring recovers planted signals, adaptive vigilance
follows its indicator with the indicator's lag, and `warn` runs end to end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows.warning.experiment import (
    RISE,
    WarnExperiment,
    WarnResult,
    analyse,
    kind_of,
    split_seeds,
)
from culturedrift.experiments.workflows.warning.report import headline, level_text, ranking_table, shipped_rule_note
from culturedrift.experiments.workflows.warning.scoring import critical_slowing, onset_week, run_alarms, score
from culturedrift.model import simulate
from culturedrift.model.model import CultureDriftModel
from culturedrift.model.observables import (
    OBSERVABLE,
    OBSERVABLES,
    RECOMMENDED_RULE,
    AlarmRule,
    observe_frame,
    observe_model,
)
from tests.conftest import TINY, tiny

PROGRAMME = [{"name": "single_assessment", "kind": "process", "start_week": 0, "duration_weeks": 20,
              "affects": "frontline", "prescription_change": -0.3}]


def planted_panel(n_seeds: int, runs_per_seed: int, lead: int, rng: np.random.Generator) -> pd.DataFrame:
    """Synthetic runs: half slip at a random week; 'signal' rises `lead` weeks before onset; 'noise' is noise."""
    frames = []
    run = 0
    for seed in range(n_seeds):
        for _ in range(runs_per_seed):
            week = np.arange(0, 200)
            onset = float(rng.integers(80, 140)) if run % 2 == 0 else np.nan
            signal = rng.normal(0, 0.1, week.size)
            if np.isfinite(onset):
                signal += (week >= onset - lead).astype(float)
            frames.append(pd.DataFrame({"run": run, "seed": seed, "week": week, "handover": 0, "onset": onset,
                                        "signal": signal, "noise": rng.random(week.size)}))
            run += 1
    return pd.concat(frames, ignore_index=True)


def _points(panel: pd.DataFrame, horizon: int) -> pd.DataFrame:
    from culturedrift.experiments.workflows.warning.scoring import decision_mask, labels

    p = panel.assign(y=labels(panel, horizon))
    return p[decision_mask(p, 4, horizon)]


def test_planted_signal_lead_time_is_recovered() -> None:
    rng = np.random.default_rng(1)
    lead = 12
    panel = planted_panel(8, 6, lead, rng)
    train, test = panel[panel["seed"] < 4], panel[panel["seed"] >= 4]
    s = score(_points(train, 26), _points(test, 26), test, "signal", horizon=26, resamples=50)
    assert s.lead_weeks == pytest.approx(lead, abs=1)
    assert s.lead_ci[0] <= lead <= s.lead_ci[1]
    assert s.hit_rate == 1.0
    assert s.auc > 0.6  # positives 13-26 weeks ahead carry no signal yet, so AUC ~ 0.5 + 0.5 * 12/26
    assert s.false_alarm_rate == 0.0


def test_uninformative_indicator_scores_auc_near_half() -> None:
    rng = np.random.default_rng(2)
    panel = planted_panel(10, 8, 12, rng)
    train, test = panel[panel["seed"] < 5], panel[panel["seed"] >= 5]
    s = score(_points(train, 26), _points(test, 26), test, "noise", horizon=26, resamples=50)
    assert abs(s.auc - 0.5) < 0.08
    assert s.auc_ci[0] < 0.5 < s.auc_ci[1]


def test_train_and_test_runs_are_disjoint() -> None:
    exp = WarnExperiment(name="x", strategies=["a.yaml"], seeds=7, test_share=0.4)
    train, test = split_seeds(exp)
    assert set(train).isdisjoint(test) and sorted(train + test) == list(range(7)) and len(test) == 3
    rng = np.random.default_rng(3)
    panel = planted_panel(7, 3, 8, rng).rename(columns={"signal": "obs_caseload"})
    for o in OBSERVABLES:
        panel[o.key] = panel.get(o.key, rng.random(len(panel)))
    runs = panel.groupby("run")[["seed", "onset"]].first().reset_index().assign(strategy="s", max_rise=0.1)
    res = analyse(exp.model_copy(update={"resamples": 20}), runs, panel)
    split = res.panel.groupby("run")["split"].nunique()
    assert (split == 1).all()
    assert set(res.panel.loc[res.panel["split"] == "test", "seed"]) == set(test)
    assert set(res.panel.loc[res.panel["split"] == "train", "seed"]) == set(train)


def test_onset_and_alarm_definitions() -> None:
    c = np.array([0.5, 0.4, 0.38, 0.40, 0.44, 0.47, 0.5])
    assert onset_week(c, 1, 0.08) == 5.0
    assert np.isnan(onset_week(c, 1, 0.5))
    panel = pd.DataFrame({"run": 0, "seed": 0, "week": np.arange(10), "onset": 6.0,
                          "x": [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]})
    r = run_alarms(panel, "x", 0.5, horizon=4).iloc[0]
    assert r["first_alarm"] == 3 and r["lead_weeks"] == 3 and r["hit"]


def test_critical_slowing_signals_rise_with_autocorrelation() -> None:
    rng = np.random.default_rng(4)
    white = rng.normal(size=60)
    red = np.zeros(60)
    for i in range(1, 60):
        red[i] = 0.9 * red[i - 1] + rng.normal()
    arrivals = np.ones(60, bool)
    _, ac_white = critical_slowing(white, arrivals)
    _, ac_red = critical_slowing(red, arrivals)
    assert np.nanmean(ac_red) > np.nanmean(ac_white) + 0.2
    assert np.isnan(ac_white[:11]).all() and np.isfinite(ac_white[11:]).all()


def test_observables_have_lag_noise_and_leave_latent_outputs_unchanged() -> None:
    sc = tiny(horizon_weeks=60)
    a = simulate(sc, 3).timeseries
    obs = observe_frame(a, sc, 3)
    b = simulate(sc, 3).timeseries
    pd.testing.assert_frame_equal(a, b)
    for o in OBSERVABLES:
        col = obs[o.key].to_numpy()
        if o.method == "judgement":
            assert np.isnan(col).all()  # no inspections in this scenario
            continue
        assert np.isnan(col[:o.lag_weeks]).all() and np.isfinite(col[o.lag_weeks:]).all()
        # the first figure leaders see is the week-0 measurement, held until the next report arrives
        nxt = min(o.cadence_weeks + o.lag_weeks, len(col))
        assert np.all(col[o.lag_weeks:nxt] == col[o.lag_weeks])
    rel = obs["obs_caseload"].to_numpy()[6] / a["caseload_mean"].to_numpy()[0] - 1
    assert 0 < abs(rel) < 0.15  # a measurement error, not the latent value


def test_observe_model_mid_run_matches_the_finished_run() -> None:
    sc = tiny(horizon_weeks=50)
    m = CultureDriftModel(sc, seed=5)
    for _ in range(30):
        m.step()
    rule = AlarmRule("obs_time_with_children", 0.5)
    mid = observe_model(m, rule)
    m.run()
    full = observe_model(m, rule)
    pd.testing.assert_frame_equal(mid, full.iloc[: len(mid)])
    assert mid["alarm"].dtype == bool and list(mid.columns[:2]) == ["week", OBSERVABLES[0].key]


@pytest.mark.parametrize(("window", "rise"), [(1, False), (3, True)])
def test_adaptive_vigilance_follows_its_indicator_with_the_stated_lag(window: int, rise: bool) -> None:
    hold, start = 6, 10
    o = OBSERVABLE["obs_time_with_children"]
    iv = {"kind": "adaptive_vigilance", "start_week": start, "indicator": o.key, "threshold": 1.0 if rise else 0.0,
          "window": window, "rise_from_start": rise, "hold_weeks": hold, "monitoring_cost_per_week": 0.2,
          "cost_per_week": 4.0}
    quiet = tiny(horizon_weeks=80, change_programme=PROGRAMME, interventions=[iv], budget={"quarterly_budget": 5000.0})
    # a threshold the indicator crosses some of the time (from a run where the alarm never fires)
    probe = AlarmRule(o.key, 0.0, window, start if rise else None)
    readings = probe.reading(observe_frame(simulate(quiet, 7).timeseries, quiet, 7)[o.key].to_numpy(),
                             np.arange(0, 81, 4) + 4)[start:]
    threshold = float(np.nanmedian(-readings if rise else readings))
    sc = quiet.with_updates({"interventions.0.threshold": threshold})
    r = simulate(sc, 7)
    seen = observe_frame(r.timeseries, sc, 7)[o.key].to_numpy()
    rule = AlarmRule(o.key, threshold, window, start if rise else None)
    fires = rule.fires(seen)
    assert fires[start:].any() and not fires[start:].all()
    # leaders act in week w on the figures available in week w; the spend of week w is recorded in row w + 1
    expected = np.array([fires[max(start, w - hold + 1):w + 1].any() for w in range(80)])
    spent = r.timeseries["intervention_cost_week"].to_numpy()[1:81]
    np.testing.assert_allclose(spent[start:], np.where(expected, 4.2, 0.2)[start:])
    # nothing to act on before the reports it needs have arrived (lag, window and baseline)
    first = o.lag_weeks + o.cadence_weeks * (window - 1)
    if rise:
        first = int(np.ceil((start - o.lag_weeks) / o.cadence_weeks)) * o.cadence_weeks + o.lag_weeks \
            + o.cadence_weeks * (window - 1)
    assert not expected[:first].any() and np.isnan(rule.reading(seen, np.arange(0, 81, 4) + 4)[:first]).all()


def test_rise_rule_reads_the_change_since_its_baseline() -> None:
    weekly = np.repeat([0.30, 0.31, 0.29, 0.30, 0.26, 0.25, 0.24], 4).astype(float)
    arrivals = np.arange(0, weekly.size, 4)
    rule = AlarmRule("obs_time_with_children", 0.04, window=3, baseline_from=0)
    reading = rule.reading(weekly, arrivals)
    assert np.isnan(reading[:8]).all() and reading[8] == pytest.approx(0.0)
    assert reading[-1] == pytest.approx(0.25 - 0.30)
    np.testing.assert_array_equal(rule.fires_on(reading), np.nan_to_num(reading) < -0.04)
    assert "falls more than 4.0 percentage points" in rule.describe()


def test_adaptive_vigilance_rejects_an_unknown_indicator() -> None:
    from culturedrift.model import ScenarioError

    with pytest.raises(ScenarioError, match="not an observable"):
        tiny(interventions=[{"kind": "adaptive_vigilance", "indicator": "compliance_habit_mean"}])


def _scenario_file(path: Path, name: str, vigilance_end: int | None) -> str:
    iv = {"kind": "culture_vigilance", "start_week": 0, **({"end_week": vigilance_end} if vigilance_end else {})}
    data = {**TINY, "name": name, "horizon_weeks": 90, "handover_week": 20, "change_programme": PROGRAMME,
            "interventions": [iv]}
    (path / f"{name}.yaml").write_text(yaml.safe_dump(data))
    return f"{name}.yaml"


def _score_row(indicator: str, auc: float, hit: float, false_alarm: float, lead: float) -> dict[str, object]:
    return {"indicator": indicator, "kind": kind_of(indicator), "alarm_level": 0.2, "auc": auc, "auc_lo": auc - 0.05,
            "auc_hi": auc + 0.05, "hit_rate": hit, "hit_rate_lo": hit - 0.1, "hit_rate_hi": hit + 0.05,
            "false_alarm_rate": false_alarm, "false_alarm_rate_lo": false_alarm - 0.05,
            "false_alarm_rate_hi": false_alarm + 0.05, "lead_weeks": lead, "lead_lo": lead - 4, "lead_hi": lead + 3}


def test_summary_quotes_the_rates_of_the_rule_it_recommends() -> None:
    """A rise rule is scored apart from its indicator's level: the summary must quote the rise's row."""
    key = "obs_procedural_practice"
    scores = pd.DataFrame([_score_row(RISE + key, 0.83, 0.85, 0.16, 22), _score_row(key, 0.62, 0.95, 0.43, 30)])
    exp = WarnExperiment(name="x", strategies=["a.yaml"], seeds=4)
    rule = AlarmRule(key, 0.233, window=3, baseline_from=104)
    res = WarnResult(exp, pd.DataFrame(), pd.DataFrame(), scores, {}, [0, 2], [1, 3], rule)
    text = next(x for x in headline(res) if x.startswith("**Recommended alarm rule"))
    assert "rises more than 23.3 percentage points" in text
    assert "flags 85% of slides" in text and "in 16% of quiet months" in text and "22 weeks" in text
    assert "flags 95%" not in text and "43%" not in text  # the level indicator's rates


def test_warn_cli_end_to_end(tmp_path: Path) -> None:
    files = [_scenario_file(tmp_path, "withdrawn", 20), _scenario_file(tmp_path, "kept", None)]
    adaptive = {**TINY, "name": "adaptive", "horizon_weeks": 90, "handover_week": 20, "change_programme": PROGRAMME,
                "interventions": [{"kind": "culture_vigilance", "start_week": 0, "end_week": 20},
                                  {"kind": "adaptive_vigilance", "start_week": 20}]}
    (tmp_path / "adaptive.yaml").write_text(yaml.safe_dump(adaptive))
    exp = {"name": "tiny_warn", "strategies": files, "seeds": 4, "resamples": 20,
           "conditions": {"samples": 1, "ranges": {"slippage.decay_rate": [0.006, 0.02]}},
           "label": {"threshold": 0.03, "horizon_weeks": 13, "step_weeks": 4},
           "policy": {"strategies": ["kept.yaml", "adaptive.yaml"], "seeds": 2}}
    (tmp_path / "warn.yaml").write_text(yaml.safe_dump(exp))
    out = tmp_path / "out"
    assert main(["warn", str(tmp_path / "warn.yaml"), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    for f in ("report.html", "report.md", "indicator_scores.csv", "runs.csv", "fig_indicator_ranking.png",
              "fig_roc.png", "warn.json"):
        assert (out / f).is_file(), f
    scores = pd.read_csv(out / "indicator_scores.csv")
    assert (scores["kind"] == "observable").sum() >= 5
    assert not list(out.glob(".partial-*"))
    md = (out / "report.md").read_text()
    assert "In five minutes" in md and "adaptive" in md


def test_warn_cli_names_file_and_field_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"name": "bad", "strategies": ["x.yaml"], "seeds": 1}))
    assert main(["warn", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "seeds" in err


RISES = [o.key for o in OBSERVABLES if o.method != "judgement"]


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(RISES), level=st.one_of(st.floats(-0.5, 0.5), st.floats(-1e-4, 1e-4)))
def test_every_rise_rule_reads_as_it_fires(key: str, level: float) -> None:
    """A rise rule says which way is worse, never prints a negative or all-zero figure, and matches its firing."""
    o = OBSERVABLE[key]
    text = level_text(RISE + key, level)
    assert not re.search(r"(?<!\d)-\d", text) and not re.search(r"more than 0\.?0* ", text), text
    half = 0.5 * 10.0 ** -o.decimals / o.scale
    worse = "rises" if o.sign > 0 else "falls"
    if level > half:
        assert text.startswith(f"{worse} more than "), text
    elif level < -half:
        assert text.startswith("is less than ") and ("below" if o.sign > 0 else "above") in text, text
    else:
        assert text == f"is at or {'above' if o.sign > 0 else 'below'} its level at handover", text
    unit = "percentage points" if o.unit.startswith("%") else o.unit
    assert unit in text or text.startswith("is at or"), text
    # the words agree with the rule: it fires on a worsening just past the figure shown, not on one short of it
    rule = AlarmRule(key, level, window=3, baseline_from=0)
    shown = float(re.findall(r"\d+\.?\d*", text)[0]) / o.scale if re.search(r"\d", text) else 0.0
    step = 10.0 ** -o.decimals / o.scale
    signed = shown if level > half else -shown if level < -half else 0.0
    assert rule.fires_on(o.sign * (signed + step))
    assert not rule.fires_on(o.sign * (signed - step))


def test_the_ranking_table_states_every_alarm_level_plainly() -> None:
    """Rows as `warn` scored them on the shipped design (a fall rule at ~0 and a rise rule below 0 among them)."""
    rows = [("rise:obs_morale_survey", -4.8e-5), ("rise:obs_turnover_12m", -0.063), ("rise:obs_procedural_practice",
            0.2333), ("rise:obs_time_with_children", 0.00167), ("obs_morale_survey", -0.588), ("obs_vacancy", 0.299),
            ("obs_caseload", 20.08), ("obs_inspection", 2.5)]
    scores = pd.DataFrame([{**_score_row(c, 0.7, 0.8, 0.2, 20), "alarm_level": lv} for c, lv in rows])
    exp = WarnExperiment(name="x", strategies=["a.yaml"], seeds=4)
    table = "\n".join(ranking_table(WarnResult(exp, pd.DataFrame(), pd.DataFrame(), scores, {}, [0], [1], None)))
    assert "-0.0" not in table and "more than -" not in table
    assert "is at or below its level at handover" in table  # morale: any fall
    assert "is less than 6.3 percentage points below its level at handover (or above it)" in table
    assert "rises more than 23.3 percentage points from its level at handover" in table
    assert "falls more than 0.2 percentage points from its level at handover" in table
    assert "is below 0.588 on the 0-1 scale" in table and "is above 29.9%" in table and "is above 20.1 cases" in table
    assert "is grade 3 (requires improvement) or worse" in table


def test_the_report_says_how_many_runs_are_labelled_and_why() -> None:
    """Where vigilance kept on still slips past the threshold, the report says how often and why it counts."""
    from culturedrift.experiments.workflows.warning.report import label_lines, method_lines

    n = 20
    runs = pd.DataFrame({"run": range(3 * n), "strategy": ["kept"] * n + ["withdrawn"] * n + ["big_bang"] * n,
                         "vigilance_kept": [True] * n + [False] * (2 * n),
                         "onset": [100.0] * 12 + [np.nan] * 8 + [90.0] * 16 + [np.nan] * 4 + [95.0] * 5 + [np.nan] * 15,
                         "max_rise": np.r_[np.linspace(0.05, 0.2, n), np.full(n, 0.15), np.full(n, 0.07)],
                         "end_rise": np.r_[np.linspace(0.05, 0.2, n), np.full(n, 0.14), np.full(n, 0.06)],
                         "culture_attainment": np.r_[np.full(2 * n, 0.23), np.full(n, 0.09)]})
    exp = WarnExperiment(name="x", strategies=["a.yaml"], seeds=4)
    res = WarnResult(exp, runs, pd.DataFrame(), pd.DataFrame(), {}, [0], [1], None)
    head, text = label_lines(res)
    assert "55% of runs are labelled, 60% of those with culture vigilance kept on to the horizon" in head
    assert "withdrawn 80% (reached 0.230), kept 60% (reached 0.230), big_bang 25% (reached 0.090)" in text
    assert "43% of the culture change the median run had reached by handover (0.230 habit points)" in text
    assert "kept on to the horizon 60% are labelled, on purpose" in text
    assert "median 0.125 above its post-handover low, 54% of what they reached" in text
    assert "big_bang (reached 0.090) is labelled only when it slides by 1.1 times the culture change it reached" in text
    assert "In 64% of labelled runs the habit is still 0.10 or more above that low at the horizon" in text
    assert text in "\n".join(method_lines(res))


def test_the_report_notes_a_varied_range_that_leaves_out_the_strategies_own_value() -> None:
    from culturedrift.experiments.workflows.warning.report import outside_ranges

    exp = WarnExperiment(name="x", strategies=["a.yaml"], seeds=4,
                         conditions={"ranges": {"slippage.decay_rate": (0.006, 0.015),
                                                "budget.quarterly_budget": (320.0, 480.0)}})
    runs = pd.DataFrame({"own:slippage.decay_rate": [0.003, 0.003], "own:budget.quarterly_budget": [400.0, 400.0]})
    note = outside_ranges(WarnResult(exp, runs, pd.DataFrame(), pd.DataFrame(), {}, [0], [1], None))
    assert "`slippage.decay_rate` 0.006-0.015 lies wholly above the strategies' own value 0.003" in note
    assert "quarterly_budget" not in note
    inside = runs.assign(**{"own:slippage.decay_rate": 0.01})
    assert outside_ranges(WarnResult(exp, inside, pd.DataFrame(), pd.DataFrame(), {}, [0], [1], None)) == ""


def test_report_says_when_a_run_recommends_another_rule_than_the_shipped_one() -> None:
    """A refitted level of the shipped rule needs no note; another indicator is named beside the shipped one."""
    from dataclasses import replace
    assert shipped_rule_note(replace(RECOMMENDED_RULE, threshold=RECOMMENDED_RULE.threshold / 2)) == ""
    note = shipped_rule_note(AlarmRule("obs_vacancy", 0.215))
    assert "RECOMMENDED_RULE" in note and OBSERVABLE[RECOMMENDED_RULE.indicator].label.lower() in note.lower()
