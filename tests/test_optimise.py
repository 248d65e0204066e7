"""Optimiser and robustness: known optimum, resume after kill, executors, out-of-sample seeds, PRIM, CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from culturedrift.experiments.cli import main
from culturedrift.experiments.workflows.compare import METRICS
from culturedrift.experiments.workflows.optimise import search as S
from culturedrift.experiments.workflows.optimise.robustness import FIRST_SEED, find_box, locate
from culturedrift.experiments.workflows.optimise.spec import SpecError, load_spec
from culturedrift.model import load_scenario

ROOT = Path(__file__).resolve().parents[1]

TINY_BASE = {
    "name": "tiny_programme", "horizon_weeks": 60, "burn_in_weeks": 4,
    "organisation": {"n_teams": 3, "team_size": 5, "partner_agencies": {"police": 3, "health": 3, "education": 3}},
    "change_programme": [
        {"name": "a", "kind": "role", "start_week": 0, "duration_weeks": 8},
        {"name": "b", "kind": "process", "start_week": 10, "duration_weeks": 10,
         "learning": {"initial_proficiency": 0.6, "learning_rate": 0.05}},
        {"name": "c", "kind": "it_system", "start_week": 20, "duration_weeks": 10,
         "learning": {"initial_proficiency": 0.5, "learning_rate": 0.05}},
    ],
    "interventions": [{"kind": "engagement", "start_week": 0, "end_week": 30},
                      {"kind": "culture_vigilance", "start_week": 0}],
}


def write_spec(tmp: Path, base: dict | None = None, **over) -> Path:
    (tmp / "base.yaml").write_text(yaml.safe_dump(base or TINY_BASE))
    spec = {"name": "toy", "base": "base.yaml",
            "levers": [{"lever": "go_live", "change": "b", "low": 0, "high": 30},
                       {"lever": "spacing", "low": 0, "high": 10},
                       {"lever": "vigilance_weeks", "low": 0, "high": 30},
                       {"lever": "support_share", "low": 0.05, "high": 0.5}],
            "objectives": ["peak_turnover_12m", "culture_kept"],
            "constraints": [{"live_by": {"all": 40}}],
            "search": {"trials": 4, "batch": 2, "search_seeds": 2, "report_seeds": 2, "recommend": 1}}
    spec.update(over)
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def toy_scorer(scs):
    """Known optimum: go-live of b at week 17 and vigilance kept on 22 weeks after handover."""
    out = []
    for sc in scs:
        g = next(c.start_week for c in sc.change_programme if c.name == "b")
        vig = next(iv for iv in sc.interventions if iv.kind == "culture_vigilance")
        v = (vig.end_week or sc.horizon_weeks) - sc.handover
        vals = {m.key: np.zeros(2) for m in METRICS}
        vals["peak_turnover_12m"] = np.full(2, ((g - 17) / 30) ** 2)
        vals["culture_kept"] = np.full(2, -((v - 22) / 30) ** 2)
        out.append(vals)
    return out


def toy_spec(tmp: Path, trials: int = 40) -> Path:
    return write_spec(tmp, levers=[{"lever": "go_live", "change": "b", "low": 0, "high": 30},
                                   {"lever": "vigilance_weeks", "low": 0, "high": 30}],
                      search={"trials": trials, "batch": 4, "search_seeds": 2, "report_seeds": 2})


def test_toy_spec_known_optimum_is_recovered(tmp_path):
    spec = load_spec(toy_spec(tmp_path))
    study = S.open_study(spec, tmp_path / "out")
    S.search(spec, study, 40, S.Points(spec.search_seeds()), progress=False, scorer=toy_scorer)
    best = S.trials_frame(spec, study)
    score = best["objective.peak_turnover_12m"] - best["objective.culture_kept"]
    top = best.loc[score.idxmin()]
    assert abs(top["go_live.b"] - 17) <= 3
    assert abs(top["culture_vigilance.weeks_after_handover"] - 22) <= 4


RESUME_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import optuna
from test_optimise import toy_scorer
from culturedrift.experiments.workflows.optimise import search as S
from culturedrift.experiments.workflows.optimise.spec import load_spec
spec = load_spec({spec!r})
study = S.open_study(spec, Path({out!r}), resume=True)
ready = Path({ready!r})
def complete():
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
def hold():  # tell the test where we are, then wait to be killed
    ready.write_text("here")
    while True:
        time.sleep(1)
if {at!r} == "asking":  # stop halfway through asking a batch
    ask = optuna.Study.ask
    def asking(self, *a, **k):
        t = ask(self, *a, **k)
        if complete() >= 6 and len(self.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))) == 2:
            hold()
        return t
    optuna.Study.ask = asking
def scoring(scs):  # stop while a whole batch is being scored
    if {at!r} == "scoring" and complete() >= 6:
        hold()
    return toy_scorer(scs)
S.search(spec, study, 16, S.Points(spec.search_seeds()), progress=False, scorer=scoring)
"""


def _complete(study):
    return [(t.params, t.values) for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))]


@pytest.mark.parametrize("at", ["scoring", "asking"])
def test_resume_after_kill_gives_the_same_study(tmp_path, at):
    """SIGKILL while a batch is scored (its trials run again with the same values) or while it is still being
    asked (the partial batch is asked again), then --resume: the study equals an uninterrupted one."""
    spec_path = toy_spec(tmp_path, trials=16)
    spec = load_spec(spec_path)
    ref = S.open_study(spec, tmp_path / "ref")
    S.search(spec, ref, 16, S.Points(spec.search_seeds()), progress=False, scorer=toy_scorer)
    out, ready = tmp_path / "killed", tmp_path / "ready"
    S.open_study(spec, out)
    script = RESUME_SCRIPT.format(tests=str(ROOT / "tests"), spec=str(spec_path), out=str(out), ready=str(ready),
                                  at=at)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():  # the script says when it is at the chosen point; no race on timing
            assert proc.poll() is None, "the study stopped before it reached the point where it is killed"
            assert time.monotonic() < deadline, "the study never reached the point where it is killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with sqlite3.connect(out / S.STUDY_DB) as con:
        states = [r[0] for r in con.execute("select state from trials")]
    assert states.count("RUNNING") == (4 if at == "scoring" else 2) and states.count("COMPLETE") >= 6
    resumed = S.open_study(spec, out, resume=True)
    assert len(_complete(resumed)) < 16
    S.search(spec, resumed, 16, S.Points(spec.search_seeds()), progress=False, scorer=toy_scorer)
    assert _complete(resumed) == _complete(ref)


def test_resume_refuses_a_changed_spec_and_a_new_run_refuses_an_existing_study(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    S.open_study(spec, tmp_path / "o")
    with pytest.raises(S.StudyError, match="--resume"):
        S.open_study(spec, tmp_path / "o")
    changed = load_spec(write_spec(tmp_path, objectives=["peak_turnover_12m"]))
    with pytest.raises(S.StudyError, match="different spec"):
        S.open_study(changed, tmp_path / "o", resume=True)


def test_identical_results_across_executors(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client

    spec = load_spec(write_spec(tmp_path))
    frames = []
    for i, (workers, ex) in enumerate([(1, None), (2, None), (1, "dask"), (1, ThreadPoolExecutor(2))]):
        study = S.open_study(spec, tmp_path / f"o{i}")
        if ex == "dask":
            with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
                S.search(spec, study, 4, S.Points(spec.search_seeds()), workers, c.get_executor(), progress=False)
        else:
            S.search(spec, study, 4, S.Points(spec.search_seeds()), workers, ex, progress=False)
        frames.append(S.trials_frame(spec, study))
    for f in frames[1:]:
        pd.testing.assert_frame_equal(frames[0], f, check_exact=True)


def test_out_of_sample_seeds_are_disjoint_from_search_seeds(tmp_path):
    spec = load_spec(ROOT / "experiments" / "optimise_rollout.yaml")
    assert not set(spec.search_seeds()) & set(spec.report_seeds())
    assert not set(range(FIRST_SEED, FIRST_SEED + 100)) & (set(spec.search_seeds()) | set(spec.report_seeds()))
    with pytest.raises(SpecError, match="overlap"):
        load_spec(write_spec(tmp_path, search={"first_search_seed": 3, "report_seeds": 5}))


def test_spec_errors_name_file_and_field(tmp_path):
    with pytest.raises(SpecError, match=r"spec.yaml: levers\[0\].change: 'nope'"):
        load_spec(write_spec(tmp_path, levers=[{"lever": "go_live", "change": "nope", "low": 0, "high": 3}]))
    with pytest.raises(SpecError, match=r"objectives\[0\]: unknown metric"):
        load_spec(write_spec(tmp_path, objectives=["happiness"]))
    with pytest.raises(SpecError, match="high"):
        load_spec(write_spec(tmp_path, levers=[{"lever": "spacing", "low": 5, "high": 1}]))


def test_levers_give_an_ordinary_scenario(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    sc = spec.scenario({"go_live.b": 2, "spacing_weeks": 6, "culture_vigilance.weeks_after_handover": 5,
                        "budget.support_share": 0.2}, "x")
    starts = {c.name: c.start_week for c in sc.change_programme}
    assert starts == {"a": 0, "b": 6, "c": 20}  # b pushed 6 weeks after a, which it would overlap
    assert sc.handover_week == 30
    vig = [iv for iv in sc.interventions if iv.kind == "culture_vigilance"]
    assert [(v.start_week, v.end_week) for v in vig] == [(0, 35)]
    eng = next(iv for iv in sc.interventions if iv.kind == "engagement")
    assert eng.intensity == pytest.approx(0.2 * 400 / 13 / 3.0, abs=1e-3)
    assert spec.deadline_violation(sc) == 0


def test_prim_finds_a_planted_failure_box():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(size=(400, 4)), columns=["pressure", "demand", "incidents", "cut"])
    failed = ((x["pressure"] > 0.6) & (x["cut"] < 0.3)).to_numpy()
    box = find_box(x, failed, min_density=0.8)
    assert set(box.limits) == {"pressure", "cut"}
    assert box.limits["pressure"][0] == pytest.approx(0.6, abs=0.06)
    assert box.limits["cut"][1] == pytest.approx(0.3, abs=0.06)
    assert box.coverage >= 0.8 and box.density >= 0.8
    assert find_box(x, np.zeros(len(x), bool)) is None


def test_where_failing_is_the_norm_prim_finds_where_the_strategy_holds():
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.uniform(size=(400, 3)), columns=["pressure", "demand", "cut"])
    holds = ((x["pressure"] < 0.4) & (x["demand"] < 0.4)).to_numpy()  # fails in ~84% of conditions
    box = locate(x, ~holds, min_density=0.8)
    assert box.holds and set(box.limits) == {"pressure", "demand"}
    assert box.limits["pressure"][1] == pytest.approx(0.4, abs=0.06)
    assert box.limits["demand"][1] == pytest.approx(0.4, abs=0.06)
    assert not locate(x, holds, min_density=0.8).holds  # rare failures: the failure box, as before


@pytest.mark.slow
def test_optimise_and_robustness_cli_end_to_end(tmp_path, capsys):
    (tmp_path / "other.yaml").write_text(yaml.safe_dump({**TINY_BASE, "name": "hand_made"}))
    cond = {"conditions": {"pressure": {"field": "turnover.labour_market_pressure", "low": 0.8, "high": 1.6},
                           "inspection": {"how": "inspection", "low": 0, "high": 59},
                           "cut": {"how": "cut", "field": "budget.quarterly_budget", "low": 0, "high": 0.5}},
            "failure": [{"metric": "peak_turnover_12m", "above": 0.3}], "samples": 6}
    (tmp_path / "cond.yaml").write_text(yaml.safe_dump(cond))
    spec = write_spec(tmp_path, compare_with=["other.yaml"], conditions="cond.yaml",
                      objectives=["peak_turnover_12m", "culture_kept", "total_cost"],
                      robustness={"samples": 6, "seeds": 1, "strategies": ["hand_made"]})
    out = tmp_path / "out"
    assert main(["optimise", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    for f in ("report.html", "pareto.csv", "trials.csv", "fig_pareto.png", "compare/report.html",
              "robustness/report.html", "out_of_sample.csv", "study.db"):
        assert (out / f).exists(), f
    rec = sorted((out / "recommended").glob("*.yaml"))
    assert len(rec) == 1 and load_scenario(rec[0]).name == "toy_1"
    oos = pd.read_csv(out / "out_of_sample.csv")
    assert set(oos["shipped"]) == {"hand_made"}
    assert set(oos["verdict"]) <= {"better", "worse", "unclear"}  # cost is judged as an objective, not shown unranked
    page = (out / "report.html").read_text()
    assert "What was searched" in page and "Where the advice fails" in page
    assert main(["optimise", str(spec), "--out", str(out), "--no-progress"]) == 2  # exists: needs --resume
    assert main(["robustness", str(tmp_path / "cond.yaml"), str(rec[0]), str(tmp_path / "other.yaml"),
                 "--out", str(tmp_path / "rob"), "--workers", "1", "--no-progress"]) == 0
    boxes = pd.read_csv(tmp_path / "rob" / "boxes.csv")
    assert list(boxes["strategy"]) == ["toy_1", "hand_made"]


def test_cost_is_an_objective_to_minimise_though_the_decision_table_does_not_rank_it():
    from culturedrift.experiments.workflows.compare import METRIC as SHOWN
    from culturedrift.experiments.workflows.compare import verdict
    from culturedrift.experiments.workflows.optimise.spec import METRIC

    assert not SHOWN["total_cost"].ranked
    assert METRIC["total_cost"].better == "lower" and verdict(METRIC["total_cost"], -5.0, -1.0) == "better"
    assert S.robust(np.arange(10.0), METRIC["total_cost"], "worst_decile") > 8  # the costly tail


def test_posterior_draws_by_weight_apply_scenario_columns(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    post = pd.DataFrame({"turnover.base_exit_hazard": [0.001, 0.003], "workload.demand_cases_per_post": [15.0, 19.0],
                         "weight": [0.0, 1.0], "distance": [0.1, 0.2], "stat:turnover": [0.1, 0.2]})
    post.to_csv(tmp_path / "post.csv", index=False)
    draws = S.load_posterior(tmp_path / "post.csv", spec.base, 3)
    assert draws == [{"turnover.base_exit_hazard": 0.003, "workload.demand_cases_per_post": 19.0}] * 3
    specs = S.Points([5, 6, 7], draws).specs(spec.base)
    assert [s.seed for s in specs] == [5, 6, 7]
    assert all(s.scenario.turnover.base_exit_hazard == 0.003 for s in specs)
    with pytest.raises(S.StudyError, match="no column is a scenario field"):
        pd.DataFrame({"x": [1]}).to_csv(tmp_path / "bad.csv", index=False)
        S.load_posterior(tmp_path / "bad.csv", spec.base, 2)


def test_warm_start_reads_the_base_schedule_back_as_lever_values(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    v = spec.base_values()
    assert v["go_live.b"] == 10 and v["spacing_weeks"] == 0
    assert v["culture_vigilance.weeks_after_handover"] == 30  # kept on to the horizon (clipped to the range)
    sc = spec.scenario(v, "again")
    assert [c.start_week for c in sc.change_programme] == [c.start_week for c in spec.base.change_programme]
    study = S.open_study(spec, tmp_path / "o")
    assert study.get_trials(states=(optuna.trial.TrialState.WAITING,))[0].system_attrs["fixed_params"] == v


EVENT_BASE = {**TINY_BASE, "interventions": [{"kind": "engagement", "start_week": 0, "end_week": 30}],
              "events": [{"kind": "intervention_start", "week": 0,
                          "intervention": {"kind": "culture_vigilance", "start_week": 0, "cost_per_week": 7.5,
                                           "intensity": 1.5}},
                         {"kind": "intervention_end", "week": 45, "intervention_kind": "culture_vigilance"},
                         {"kind": "intervention_start", "week": 5,
                          "intervention": {"kind": "reflective_supervision", "start_week": 5, "end_week": 25}},
                         {"kind": "go_live", "week": 2, "change": "b", "start_week": 12}]}


def test_interventions_a_base_starts_through_events_are_levers(tmp_path):
    spec = load_spec(write_spec(tmp_path, EVENT_BASE, levers=[
        {"lever": "go_live", "change": "b", "low": 0, "high": 30},
        {"lever": "vigilance_weeks", "low": 0, "high": 30}, {"lever": "vigilance_intensity", "low": 0.5, "high": 2},
        {"lever": "support_share", "low": 0.05, "high": 0.5}]))
    v = spec.base_values()  # read as the base runs: b moved to 12 by its event, vigilance stopped at week 45
    assert v["go_live.b"] == 12 and v["culture_vigilance.intensity"] == 1.5
    assert v["culture_vigilance.weeks_after_handover"] == 45 - 30
    sc = spec.scenario({**v, "go_live.b": 4, "culture_vigilance.weeks_after_handover": 5,
                        "culture_vigilance.intensity": 0.8, "budget.support_share": 0.3}, "x")
    vig = [iv for iv in sc.planned()[1] if iv.kind == "culture_vigilance"]  # as the run follows it
    assert [(iv.start_week, iv.end_week, iv.intensity, iv.cost_per_week) for iv in vig] == [(0, 35, 0.8, 7.5)]
    assert next(c.start_week for c in sc.planned()[0] if c.name == "b") == 4  # the lever, not the base's event
    kinds = {e.kind for e in sc.events}
    assert "go_live" not in kinds and "intervention_end" not in kinds
    # the budget split reaches the supervision the base starts by an event, like the declared engagement
    sup = [iv for iv in sc.planned()[1] if iv.kind in ("engagement", "reflective_supervision")]
    assert len(sup) == 2 and len({iv.intensity for iv in sup}) == 1 and sup[0].intensity != 1.0
    again = spec.scenario(v, "again")  # the warm start reproduces the base's schedule
    assert [(iv.kind, iv.start_week, iv.end_week) for iv in again.planned()[1]] == \
        sorted([(iv.kind, iv.start_week, iv.end_week) for iv in spec.base.planned()[1]], key=lambda t: (t[1], t[0]))


def test_a_lever_that_cannot_apply_is_an_error_naming_file_and_field(tmp_path):
    base = {**TINY_BASE, "change_programme": [{"name": "a", "kind": "role", "start_week": 0, "duration_weeks": 8}],
            "interventions": [{"kind": "culture_vigilance", "start_week": 0}]}
    with pytest.raises(SpecError, match=r"spec.yaml: levers\[1\] \(training_weeks\): no change .* learning"):
        load_spec(write_spec(tmp_path, base, levers=[{"lever": "vigilance_weeks", "low": 0, "high": 30},
                                               {"lever": "training_weeks", "low": 2, "high": 8}]))
    with pytest.raises(SpecError, match=r"spec.yaml: levers\[0\] \(support_share\): the base scenario runs no"):
        load_spec(write_spec(tmp_path, base, levers=[{"lever": "support_share", "low": 0.1, "high": 0.5}]))


def test_pareto_figure_keeps_every_star_and_number_inside_its_axes(tmp_path):
    """A recommendation at the edge of the data (lowest cost, highest culture) keeps its number off the axes."""
    import matplotlib.pyplot as plt

    from culturedrift.experiments.reporting.style import RC
    from culturedrift.experiments.workflows.optimise.report import _pareto
    from culturedrift.experiments.workflows.optimise.workflow import Outcome

    objs = ["peak_turnover_12m", "culture_kept", "total_cost"]
    spec = load_spec(write_spec(tmp_path, objectives=objs))
    rng = np.random.default_rng(1)
    trials = pd.DataFrame({"trial": range(40), "feasible": True,
                           "objective.peak_turnover_12m": rng.uniform(0.2, 0.3, 40),
                           "objective.culture_kept": rng.uniform(0.0, 0.3, 40),
                           "objective.total_cost": rng.uniform(7000, 7800, 40)})
    edge = {"objective.peak_turnover_12m": 0.2, "objective.culture_kept": 0.3, "objective.total_cost": 6990}
    for i in range(4):  # a cluster at the edge: the cheapest, best-culture, lowest-turnover trials
        trials.loc[i, list(edge)] = [0.2 + 0.006 * i, 0.3 - 0.012 * i, 6990 + 30 * i]
    pareto = trials.iloc[[0, 1, 2, 3]].assign(recommended=["toy_1", "toy_2", "toy_3", "toy_4"])
    o = Outcome(spec, trials, pareto, pd.DataFrame(), [], pd.DataFrame())
    with plt.rc_context(RC):
        fig = _pareto(o)
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        for ax in fig.axes:
            box = ax.get_window_extent(r)
            own = {t.get_text(): ax.transData.transform(t.xy) for t in ax.texts}
            for t in ax.texts:
                b = t.get_window_extent(r)
                assert box.x0 < b.x0 and b.x1 < box.x1 and box.y0 < b.y0 and b.y1 < box.y1, (t.get_text(), b, box)
                centre = np.array([(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2])
                nearest = min(own, key=lambda k, c=centre: np.hypot(*(own[k] - c)))
                assert nearest == t.get_text(), f"number {t.get_text()} sits nearer star {nearest}"
            for c in ax.collections:
                if c.get_sizes().max() < 100:  # the stars (s=180) only
                    continue
                xy = ax.transData.transform(c.get_offsets())
                radius = np.sqrt(c.get_sizes().max()) / 2 * fig.dpi / 72
                assert (xy[:, 0] - radius > box.x0).all() and (xy[:, 1] - radius > box.y0).all()
                assert (xy[:, 0] + radius < box.x1).all() and (xy[:, 1] + radius < box.y1).all()
        plt.close(fig)


def test_search_runs_return_only_their_summary_and_the_study_commits_cheaply(tmp_path):
    """What a search run sends back is its summary, equal to `simulate`'s; SQLite runs in WAL mode."""
    from culturedrift.experiments.execution.runner import RunSpec
    from culturedrift.model import simulate

    spec = load_spec(write_spec(tmp_path))
    sc = spec.scenario(spec.base_values(), "again")
    assert S.run_summary(RunSpec(sc, 3)) == pytest.approx(simulate(sc, 3).summary, nan_ok=True)
    S.open_study(spec, tmp_path / "o")
    with sqlite3.connect(tmp_path / "o" / S.STUDY_DB) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_recommended_schedule_with_events_is_written_as_a_file_that_loads(tmp_path):
    """Kinds are defaults of their classes; the written file keeps every one (events, their interventions)."""
    from culturedrift.experiments.workflows.optimise.workflow import write_recommended

    base = {**EVENT_BASE, "events": [*EVENT_BASE["events"], {"kind": "inspection", "week": 30},
                                     {"kind": "intervention_start", "week": 10,
                                      "intervention": {"kind": "retention", "start_week": 10}}]}
    spec = load_spec(write_spec(tmp_path, base, levers=[{"lever": "vigilance_weeks", "low": 0, "high": 30}]))
    sc = spec.scenario(spec.base_values(), "toy_1")
    back = load_scenario(write_recommended([sc], tmp_path / "rec", spec)["toy_1.yaml"])
    assert [e.kind for e in back.events] == ["intervention_start", "go_live", "inspection", "intervention_start"]
    assert back.model_dump(exclude={"description"}) == sc.model_dump(exclude={"description"})
