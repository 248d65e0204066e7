"""The search: a multi-objective optuna study on RDB storage, each candidate scored robustly over paired seeds.

How a candidate is scored. Every candidate runs on the same search seeds (common random numbers: each
mechanism draws from its own stream keyed by the seed, so candidates on one seed share their luck)
and, with a posterior, evaluation point i also takes calibration draw i (drawn by weight from the
posterior), so candidates share the parameter draws as well. Each objective is a robust statistic of
the metric over those points:

- `mean` (default): the expected outcome. With a handful of seeds the mean is the least noisy
  statistic, and paired seeds make the differences between candidates far sharper than the spread of
  each; a tail statistic estimated from 6-10 points would mostly rank candidates by luck.
- `worst_decile`: the 90th percentile of a metric where lower is better (10th where higher is better),
  for a team that must plan for a bad year. Use it with 10 or more search seeds.

How the study runs. The study lives in an RDB storage (SQLite file `study.db` in the output folder by
default, any SQLAlchemy URL such as PostgreSQL with `--storage`). Trials are asked in batches of a fixed
size; all runs of a batch go through the project's runner (local process pool or a Dask cluster) and the
results are told back in trial order. Before each batch the sampler is re-seeded from the sampler seed
and the number of trials completed so far, so what it proposes depends only on the stored study: the
same spec gives the same study on any executor, and a study resumed after a kill continues as if it had
never stopped: the trials that were running when it died are marked failed (samplers ignore failed
trials) and queued again with the same values; they run as a batch of their own, so the next batch is
asked from the same completed trials and seed as in an uninterrupted study. (A kill in the milliseconds
while a batch is being asked can still change the proposals that follow.)
Several processes can work on one study (each with `--resume` on the same storage); they then
interleave and the study is no longer reproducible bit for bit, only statistically.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sqlalchemy import event

from culturedrift.experiments.execution.executor import TaskFailed, run_map
from culturedrift.experiments.execution.runner import RunFailed, RunSpec
from culturedrift.experiments.workflows.compare import Metric
from culturedrift.experiments.workflows.optimise.spec import METRIC, METRICS, Spec, SpecError, metric_value
from culturedrift.model import Scenario, ScenarioError, simulate_summary

optuna.logging.set_verbosity(optuna.logging.WARNING)
STUDY_DB = "study.db"
WORST_DECILE = 0.9


class StudyError(SpecError):
    """A study that cannot be started or resumed as asked."""


# ------------------------------------------------------------------------------------------- scoring

def robust(values: np.ndarray, metric: Metric, statistic: str) -> float:
    """The robust statistic of one metric over evaluation points (see the module docstring)."""
    v = np.asarray(values, float)
    if statistic == "mean":
        return float(v.mean())
    q = WORST_DECILE if metric.better == "lower" else 1 - WORST_DECILE
    return float(np.quantile(v, q))


POSTERIOR_SEED = 20110510  # fixed: the same posterior file gives the same draws


def load_posterior(path: str | Path, base: Scenario, n: int) -> list[dict[str, Any]]:
    """`n` calibration draws from a posterior table (CSV or Parquet; the `authority` calibration's format).

    Columns that are scenario field paths are applied; other columns (distance, statistics) are ignored.
    Rows with a false `accepted` column are dropped. With a `weight` column (ABC-SMC populations) the `n`
    draws are taken by weight with a fixed generator; without one, the first `n` rows are used in turn.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"--posterior {path}: file not found")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as e:
        raise StudyError(f"--posterior {path}: cannot read it as a table: {e}") from None
    if "accepted" in df.columns:
        df = df[df["accepted"].astype(bool)]
    if df.empty:
        raise StudyError(f"--posterior {path}: no (accepted) rows")
    cols = []
    for c in df.columns:
        if "." not in c or c in ("weight", "distance"):
            continue
        try:
            base.with_updates({c: _plain(df[c].iloc[0])})
        except Exception:
            continue
        cols.append(c)
    if not cols:
        raise StudyError(f"--posterior {path}: no column is a scenario field (e.g. turnover.base_exit_hazard)")
    if "weight" in df.columns:
        w = df["weight"].to_numpy(float)
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise StudyError(f"--posterior {path}: weight: must be non-negative numbers, not all zero")
        rows = np.random.default_rng(POSTERIOR_SEED).choice(len(df), size=n, p=w / w.sum())
    else:
        rows = np.arange(n) % len(df)
    return [{c: _plain(df[c].iloc[i]) for c in cols} for i in rows]


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


@dataclass(frozen=True)
class Points:
    """Where every candidate is scored: seeds and, with a posterior, one calibration draw per seed."""

    seeds: list[int]
    draws: list[dict[str, Any]] | None = None

    def specs(self, sc: Scenario) -> list[RunSpec]:
        out = []
        for i, seed in enumerate(self.seeds):
            s = sc if not self.draws else sc.with_updates(self.draws[i % len(self.draws)])
            out.append(RunSpec(s, seed))
        return out


def run_summary(spec: RunSpec) -> dict[str, float]:
    """Top-level (picklable) work function: one run's summary metrics, all a search reads.

    The same numbers as `simulate(...).summary`, without building the event log and the tagged weekly
    frames, nor sending them back from the worker."""
    return simulate_summary(seed=spec.seed, base=spec.scenario)


def score(scenarios: Sequence[Scenario], points: Points, workers: int = 1, executor: Any = None,
          progress: bool = False, desc: str = "runs") -> list[dict[str, np.ndarray]]:
    """Every scenario on every point; per scenario, each catalogue metric as an array over points."""
    specs = [s for sc in scenarios for s in points.specs(sc)]
    try:
        results = run_map(run_summary, specs, workers=max(1, min(workers, len(specs) or 1)), executor=executor,
                          progress=progress, desc=desc)
    except TaskFailed as e:  # as the runner reports it: bad input unchanged, else the run that failed
        if isinstance(e.error, ScenarioError):
            raise e.error from None
        raise RunFailed(specs[e.index], e.error) from e.error
    n = len(points.seeds)
    out = []
    for j in range(len(scenarios)):
        rows = results[j * n:(j + 1) * n]
        out.append({m.key: np.array([metric_value(r, m.key) for r in rows]) for m in METRICS})
    return out


def statistics(values: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean and worst decile of every metric (stored with each trial for the report)."""
    return {k: {"mean": robust(v, METRIC[k], "mean"), "worst_decile": robust(v, METRIC[k], "worst_decile")}
            for k, v in values.items()}


# --------------------------------------------------------------------------------------------- study

def distributions(spec: Spec) -> dict[str, optuna.distributions.BaseDistribution]:
    """One optuna distribution per lever."""
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for lv in spec.levers:
        if lv.integer:
            out[lv.key] = optuna.distributions.IntDistribution(int(lv.low), int(lv.high))
        else:
            out[lv.key] = optuna.distributions.FloatDistribution(float(lv.low), float(lv.high))
    return out


def make_sampler(spec: Spec, n_complete: int) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded from the sampler seed and the number of completed trials."""
    seed = int(np.random.SeedSequence([spec.search.seed, n_complete]).generate_state(1)[0])
    if spec.search.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=max(spec.search.batch, 2), seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                      n_startup_trials=max(10, spec.search.batch))


def storage_url(out: Path, storage: str | None) -> str:
    """SQLite file in the output folder unless a URL is given (e.g. postgresql+psycopg2://user@host/db)."""
    return storage or f"sqlite:///{(out / STUDY_DB).resolve()}"


def _fast_commits(rdb: optuna.storages.RDBStorage) -> None:
    """SQLite in write-ahead-log mode with NORMAL sync on every connection.

    Each trial makes about twenty small commits (one per lever value, attribute and result); in SQLite's
    default rollback-journal mode each waits for the disk twice, which cost more than a short run. In WAL
    mode with NORMAL sync a commit survives the process being killed (the study still resumes as before);
    only a power cut can roll back the last commits, never corrupt the file. WAL needs the file on a local
    disk (use PostgreSQL to share a study between machines).
    """

    @event.listens_for(rdb.engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    rdb.engine.dispose()  # connections opened while the storage was set up pick the settings up when reopened


def open_study(spec: Spec, out: Path, storage: str | None = None, resume: bool = False) -> optuna.Study:
    """Create the study, or load it with --resume; a resumed study must come from the same spec."""
    url = storage_url(out, storage)
    out.mkdir(parents=True, exist_ok=True)
    rdb = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}}
                                     if url.startswith("sqlite") else {})
    if url.startswith("sqlite"):
        _fast_commits(rdb)
    names = [s.study_name for s in optuna.get_all_study_summaries(rdb)]
    directions = ["maximize" if METRIC[o].better == "higher" else "minimize" for o in spec.objectives]
    if spec.name in names:
        if not resume:
            raise StudyError(f"a study '{spec.name}' already exists in {url}; add --resume to continue it, or "
                             "choose another --out")
        study = optuna.load_study(study_name=spec.name, storage=rdb, sampler=make_sampler(spec, 0))
        if study.user_attrs.get("spec_digest") != spec.digest():
            raise StudyError(f"the study '{spec.name}' in {url} was made from a different spec (levers, "
                             "objectives, base scenario or seeds changed); use another --out")
        return study
    study = optuna.create_study(study_name=spec.name, storage=rdb, directions=directions,
                                sampler=make_sampler(spec, 0))
    study.set_user_attr("spec_digest", spec.digest())
    if spec.search.warm_start:  # the hand-made base schedule is trial 0: the search starts from what works
        study.enqueue_trial(spec.base_values(), user_attrs={"warm_start": True})
    study.set_user_attr("objectives", spec.objectives)
    study.set_user_attr("statistic", spec.m.statistic)
    return study


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's trial: leave it to that machine
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


ASKING = "asking:"  # study attribute "asking:<owner>" is True while that process asks a batch


def requeue_stale(study: optuna.Study) -> int:
    """Fail the trials left running by a process of this machine that died; queue again what must run again.

    A process that died after asking its whole batch leaves trials with their owner set: they run again with
    the same values. One that died while asking (its "asking" mark still set) leaves a partial batch, owned
    or not yet: those trials are dropped, except any taken from the queue, and the whole batch is asked again,
    which gives the same values because the sampler is re-seeded from the count of completed trials and
    ignores failed ones. Running the partial batch as a batch of its own would shift every later proposal.
    """
    fail = optuna.trial.TrialState.FAIL
    marks = {k.removeprefix(ASKING) for k, v in study.user_attrs.items() if k.startswith(ASKING) and v}
    dead_asking = {o for o in marks if _dead(o)}
    n = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        owner = t.user_attrs.get("owner", "")
        # an unowned trial is one a process was asking when it died, unless a live process is asking now
        partial = owner in dead_asking or (not owner and dead_asking and dead_asking == marks)
        if not partial and not (owner and _dead(owner)):
            continue
        study._storage.set_trial_state_values(t._trial_id, fail)
        if not partial or "fixed_params" in t.system_attrs:
            study.enqueue_trial(t.params, user_attrs={"requeued_from": t.number}, skip_if_exists=False)
        n += 1
    for o in dead_asking:
        study.set_user_attr(ASKING + o, False)
    return n


def _count(study: optuna.Study, *states: optuna.trial.TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=states))


Scorer = Callable[[list[Scenario]], list[dict[str, np.ndarray]]]


def search(spec: Spec, study: optuna.Study, trials: int, points: Points, workers: int = 1, executor: Any = None,
           progress: bool = True, on_batch: Callable[[int, int], None] | None = None,
           scorer: Scorer | None = None) -> optuna.Study:
    """Run batches until the study holds `trials` finished trials; returns the study.

    `scorer` replaces the simulation (a toy response in tests); it gets the batch's scenarios and returns,
    per scenario, each catalogue metric as an array over evaluation points.
    """
    stale = requeue_stale(study)
    if stale and progress:
        print(f"Running again {stale} trial(s) left unfinished by a stopped run", file=sys.stderr)
    dists = distributions(spec)
    states = optuna.trial.TrialState
    while True:
        done = _count(study, states.COMPLETE)
        running = _count(study, states.RUNNING)
        left = trials - done - running
        if left <= 0:
            break
        waiting = _count(study, states.WAITING)
        study.sampler = make_sampler(spec, done)
        # queued trials (an interrupted batch, the warm start) run on their own, so the batches that follow
        # start where they would have
        mark = ASKING + _owner()
        study.set_user_attr(mark, True)  # a kill from here until the batch is asked leaves a partial batch
        batch = []
        for _ in range(min(waiting or spec.search.batch, spec.search.batch, left)):
            batch.append(t := study.ask(dists))
            t.set_user_attr("owner", _owner())
        study.set_user_attr(mark, False)
        try:
            scs = [spec.scenario(t.params, f"trial_{t.number}") for t in batch]
            values = scorer(scs) if scorer else score(scs, points, workers, executor, progress,
                                                      desc=f"trials {done + 1}-{done + len(batch)}")
        except BaseException:
            for t in batch:  # failed now; queued with the same values for --resume
                study.tell(t, state=states.FAIL)
                study.enqueue_trial(t.params, user_attrs={"requeued_from": t.number}, skip_if_exists=False)
            raise
        for t, sc, v in zip(batch, scs, values, strict=True):
            stats = statistics(v)
            stat = spec.m.statistic
            cons = {"deadlines": spec.deadline_violation(sc)}
            for b in spec.metric_bounds():
                x = stats[b.metric][stat]
                cons[f"{b.metric}.{'max' if b.max is not None else 'min'}"] = \
                    x - b.max if b.max is not None else b.min - x
            for k, c in cons.items():  # feasible when every value is <= 0
                t.set_constraint(k, float(c))
            t.set_user_attr("metrics", stats)
            t.set_user_attr("constraints", list(cons.values()))
            study.tell(t, [stats[o][stat] for o in spec.objectives])
        if on_batch:
            on_batch(done + len(batch), trials)
    return study


def trials_frame(spec: Spec, study: optuna.Study) -> pd.DataFrame:
    """One row per completed trial: lever values, objectives, constraint slack, feasibility, all metrics."""
    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        row: dict[str, Any] = {"trial": t.number}
        row.update({k: t.params[k] for k in distributions(spec)})
        for o, v in zip(spec.objectives, t.values, strict=True):
            row[f"objective.{o}"] = v
        cons = t.user_attrs.get("constraints", [])
        row["feasible"] = bool(all(c <= 0 for c in cons))
        row["constraint_violation"] = float(sum(max(c, 0.0) for c in cons))
        for k, st in t.user_attrs.get("metrics", {}).items():
            for s, v in st.items():
                row[f"{k}.{s}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def oriented(df: pd.DataFrame, objectives: list[str], prefix: str = "objective.") -> np.ndarray:
    """Objective columns turned so that lower is better in every column."""
    return np.column_stack([-df[f"{prefix}{o}"].to_numpy(float) if METRIC[o].better == "higher"
                            else df[f"{prefix}{o}"].to_numpy(float) for o in objectives])


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Non-dominated rows (all columns minimised)."""
    n = len(points)
    keep = np.ones(n, bool)
    for i in range(n):
        dominated = np.all(points <= points[i], axis=1) & np.any(points < points[i], axis=1)
        keep[i] = not dominated.any()
    return keep


def importances(spec: Spec, study: optuna.Study) -> pd.DataFrame:
    """Which levers mattered for each objective: optuna's fANOVA importance (shares summing to 1)."""
    rows = []
    complete = _count(study, optuna.trial.TrialState.COMPLETE)
    if complete < 4:
        return pd.DataFrame(columns=["objective", "lever", "importance"])
    for i, o in enumerate(spec.objectives):
        try:
            imp = optuna.importance.get_param_importances(
                study, target=lambda t, i=i: t.values[i],
                evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
        except (RuntimeError, ValueError):
            continue
        rows += [{"objective": o, "lever": k, "importance": float(v)} for k, v in imp.items()]
    return pd.DataFrame(rows, columns=["objective", "lever", "importance"])
