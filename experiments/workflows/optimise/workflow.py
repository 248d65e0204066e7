"""`optimise` end to end: search, Pareto front, recommended scenario files, out-of-sample compare, report."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from culturedrift.experiments.execution.executor import make_executor
from culturedrift.experiments.execution.files import staging
from culturedrift.experiments.workflows.compare import Comparison, compare, verdict, write_comparison
from culturedrift.experiments.workflows.optimise import search as S
from culturedrift.experiments.workflows.optimise.spec import METRIC, Spec, fmt_lever, lever_label, load_spec
from culturedrift.model import Scenario, load_scenario


@contextlib.contextmanager
def executor_for(scheduler: str | None, workers: int = 1) -> Iterator[Any]:
    """A Dask cluster's executor when a scheduler address is given, else one local pool kept for the whole
    command (a pool per batch paid its start-up every batch), or None to run in this process."""
    if not scheduler:
        if workers <= 1:
            yield None
            return
        with make_executor(workers) as pool:
            yield pool
        return
    from distributed import Client

    try:
        client = Client(scheduler, timeout=30, set_as_default=False)
    except OSError as e:
        raise S.StudyError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    try:
        client.wait_for_workers(1, timeout=60)
        yield client.get_executor(pure=False)
    finally:
        client.close()


@dataclass
class Outcome:
    """What `optimise` found (tables as pandas objects) and where it wrote it."""

    spec: Spec
    trials: pd.DataFrame
    pareto: pd.DataFrame
    shipped: pd.DataFrame
    recommended: list[Scenario]
    importances: pd.DataFrame
    comparison: Comparison | None = None
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    robustness: Any = None
    seconds: dict[str, float] = field(default_factory=dict)
    n_runs: int = 0

    @property
    def winners(self) -> list[str]:
        """Recommended schedules that beat every shipped strategy out of sample (see `beats`)."""
        if self.verdicts.empty:
            return []
        beat = self.verdicts.groupby("recommended")["beats"].all()
        return [n for n, ok in beat.items() if ok]


def run_optimise(spec_path: str | Path, out: str | Path, trials: int | None = None, workers: int = 1,
                 scheduler: str | None = None, resume: bool = False, posterior: str | Path | None = None,
                 storage: str | None = None, progress: bool = True, robustness: bool = True,
                 search_only: bool = False) -> Outcome:
    """Search (resumable), then Pareto front, recommendations, out-of-sample compare, robustness and report."""
    spec = load_spec(spec_path)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise S.StudyError(f"--out {out} exists and is not a directory")
    n_trials = trials or spec.search.trials
    draws = S.load_posterior(posterior, spec.base, len(spec.search_seeds())) if posterior else None
    points = S.Points(spec.search_seeds(), draws)
    t: dict[str, float] = {}
    with executor_for(scheduler, workers) as ex:
        t0 = time.perf_counter()
        study = S.open_study(spec, out, storage, resume)
        S.search(spec, study, n_trials, points, workers, ex, progress)
        t["search"] = time.perf_counter() - t0
        frame = S.trials_frame(spec, study)
        if search_only:
            return Outcome(spec, frame, pd.DataFrame(), pd.DataFrame(), [], pd.DataFrame(), seconds=t)
        t0 = time.perf_counter()
        shipped_sc = [load_scenario(p, spec.m.overrides or None) for p in spec.compare_with]
        shipped = _shipped_frame(spec, shipped_sc, points, workers, ex, progress)
        pareto = pareto_front(spec, frame)
        chosen = recommend(spec, pareto, shipped)
        rec = [spec.scenario(_values(spec, row), f"{spec.name}_{i + 1}").model_copy(
            update={"description": _rec_description(spec, row)}) for i, (_, row) in enumerate(chosen.iterrows())]
        pareto["recommended"] = pareto["trial"].map({int(r.trial): f"{spec.name}_{i + 1}"
                                                     for i, (_, r) in enumerate(chosen.iterrows())})
        imp = S.importances(spec, study)
        cmp = None
        verdicts = pd.DataFrame()
        if rec:
            cmp = compare([*shipped_sc, *rec], seeds=spec.report_seeds(), workers=workers, executor=ex,
                          progress=progress, reference=shipped_sc[0].name if shipped_sc else rec[0].name)
            verdicts = verdict_table(spec, cmp, [s.name for s in shipped_sc], [r.name for r in rec])
        t["report_runs"] = time.perf_counter() - t0
        outcome = Outcome(spec, frame, pareto, shipped, rec, imp, cmp, verdicts, seconds=t)
        outcome.n_runs = (len(frame) + len(shipped_sc)) * len(points.seeds) + (len(cmp.results) if cmp else 0)
        if robustness and spec.m.conditions and rec:
            from culturedrift.experiments.workflows.optimise.robustness import run_robustness

            t0 = time.perf_counter()
            names = spec.m.robustness.strategies if spec.m.robustness else []
            extra = [s for s in shipped_sc if s.name in names]
            beaten = outcome.verdicts.groupby("recommended", sort=False)["beats"].sum() if not verdicts.empty \
                else pd.Series(dtype=float)
            best = outcome.winners[0] if outcome.winners else (beaten.idxmax() if len(beaten) else rec[0].name)
            strategies = [next(r for r in rec if r.name == best), *extra]
            rs = spec.m.robustness
            outcome.robustness = run_robustness(spec.resolve(spec.m.conditions), strategies, out / "robustness",
                                                samples=rs.samples if rs else None, seeds=rs.seeds if rs else None,
                                                workers=workers, executor=ex, progress=progress)
            t["robustness"] = time.perf_counter() - t0
    write_outputs(outcome, out)
    return outcome


def _values(spec: Spec, row: pd.Series) -> dict[str, Any]:
    return {lv.key: (int(row[lv.key]) if lv.integer else float(row[lv.key])) for lv in spec.levers}


def _rec_description(spec: Spec, row: pd.Series) -> str:
    return (f"Recommended by `culturedrift optimise` ({spec.name}, trial {int(row['trial'])}): " +
            "; ".join(f"{lever_label(lv.key).lower()} {fmt_lever(lv, row[lv.key])}" for lv in spec.levers))


def _shipped_frame(spec: Spec, scs: list[Scenario], points: S.Points, workers: int, ex: Any,
                   progress: bool) -> pd.DataFrame:
    """The shipped strategies scored like candidates, on the search points (in sample, for the figure)."""
    if not scs:
        return pd.DataFrame()
    rows = []
    for sc, v in zip(scs, S.score(scs, points, workers, ex, progress, desc="shipped strategies"), strict=True):
        st = S.statistics(v)
        row: dict[str, Any] = {"strategy": sc.name}
        row.update({f"objective.{o}": st[o][spec.m.statistic] for o in spec.objectives})
        row.update({f"{k}.{s}": x for k, d in st.items() for s, x in d.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_front(spec: Spec, frame: pd.DataFrame) -> pd.DataFrame:
    """Feasible, non-dominated trials (on the robust objectives), best first on the first objective."""
    feas = frame[frame["feasible"]] if not frame.empty else frame
    if feas.empty:
        return feas.assign(recommended=pd.Series(dtype=object))
    mask = S.pareto_mask(S.oriented(feas, spec.objectives))
    front = feas[mask].copy()
    o = spec.objectives[0]
    return front.sort_values(f"objective.{o}", ascending=METRIC[o].better == "lower").reset_index(drop=True)


def _beats(a: np.ndarray, b: np.ndarray) -> bool:
    """a (oriented, lower better) is no worse than b on every objective and better on one."""
    return bool(np.all(a <= b) and np.any(a < b))


def recommend(spec: Spec, pareto: pd.DataFrame, shipped: pd.DataFrame) -> pd.DataFrame:
    """Up to `recommend` Pareto trials: most shipped strategies beaten in sample, then nearest the ideal point."""
    if pareto.empty:
        return pareto
    P = S.oriented(pareto, spec.objectives)
    H = S.oriented(shipped, spec.objectives) if not shipped.empty else np.empty((0, P.shape[1]))
    beaten = np.array([sum(_beats(p, h) for h in H) for p in P])
    allp = np.vstack([P, H]) if len(H) else P
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    norm = (P - lo) / np.where(hi > lo, hi - lo, 1.0)
    knee = np.linalg.norm(norm, axis=1)
    order = np.lexsort((knee, -beaten))
    chosen: list[int] = []
    for i in order:
        if all(np.linalg.norm(norm[i] - norm[j]) > 0.1 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == spec.search.recommend:
            break
    out = pareto.iloc[chosen].copy()
    out["shipped_beaten_in_sample"] = beaten[chosen]
    return out


def verdict_table(spec: Spec, cmp: Comparison, shipped: list[str], rec: list[str]) -> pd.DataFrame:
    """Out of sample, per recommended schedule, shipped strategy and objective: paired verdict and difference."""
    rows = []
    for r in rec:
        for h in shipped:
            verdicts = []
            for o in spec.objectives:
                m = METRIC[o]
                mean, lo, hi = cmp.paired(r, h, o)
                v = verdict(m, lo, hi)
                verdicts.append(v)
                rows.append({"recommended": r, "shipped": h, "objective": o, "diff": mean, "diff_lo": lo,
                             "diff_hi": hi, "verdict": v})
            ok = "better" in verdicts and "worse" not in verdicts
            for row in rows[-len(spec.objectives):]:
                row["beats"] = ok
    return pd.DataFrame(rows)


def write_recommended(rec: list[Scenario], folder: Path, spec: Spec) -> dict[str, Path]:
    """Each recommended schedule as an ordinary scenario file (`compare` runs it as it stands)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for sc in rec:
        data = _with_kinds(sc.model_dump(mode="json"), sc.model_dump(mode="json", exclude_defaults=True))
        data = {"name": data.pop("name"), "description": data.pop("description", ""), **data}
        head = (f"# {sc.name}: a schedule recommended by `culturedrift optimise {spec.path.name}`.\n"
                f"# Base scenario: {spec.m.base}. Run it against the shipped strategies with\n"
                f"#   culturedrift compare <shipped strategies> {sc.name}.yaml\n")
        p = folder / f"{sc.name}.yaml"
        p.write_text(head + yaml.safe_dump(data, sort_keys=False, width=110))
        written[p.name] = p
    return written


def _with_kinds(full: Any, slim: Any) -> Any:
    """`slim` (defaults left out) with every `kind` put back, at any depth.

    The kind is what tells interventions, events and the intervention an event starts apart when the file is
    read; it is a default of each class, so a dump without defaults drops it and the file would not load.
    """
    if isinstance(full, dict) and isinstance(slim, dict):
        out = {"kind": full["kind"]} if "kind" in full and "kind" not in slim else {}  # first, when it was left out
        out.update({k: _with_kinds(full[k], v) if k in full else v for k, v in slim.items()})
        return out
    if isinstance(full, list) and isinstance(slim, list) and len(full) == len(slim):
        return [_with_kinds(f, x) for f, x in zip(full, slim, strict=True)]
    return slim


def write_outputs(o: Outcome, out: Path) -> dict[str, Path]:
    """Tables, figures, scenario files and report.html; staged, then moved in (report.html last)."""
    from culturedrift.experiments.workflows.optimise.report import html_report, importance_figure, pareto_figure

    out.mkdir(parents=True, exist_ok=True)
    with staging(out) as stage:
        o.trials.to_csv(stage / "trials.csv", index=False)
        o.pareto.to_csv(stage / "pareto.csv", index=False)
        o.shipped.to_csv(stage / "shipped_in_sample.csv", index=False)
        o.importances.to_csv(stage / "importances.csv", index=False)
        if not o.verdicts.empty:
            o.verdicts.to_csv(stage / "out_of_sample.csv", index=False)
        figs = {"fig_pareto.png": pareto_figure(o, stage / "fig_pareto.png")}
        if not o.importances.empty:
            figs["fig_importance.png"] = importance_figure(o, stage / "fig_importance.png")
        write_recommended(o.recommended, stage / "recommended", o.spec)
        (stage / "summary.json").write_text(json.dumps(summary(o), indent=1, default=float))
        (stage / "report.html").write_text(html_report(o, figs), encoding="utf-8")
        if o.comparison is not None:
            write_comparison(o.comparison, stage / "compare")
        names = sorted(p.name for p in stage.iterdir())
        (out / "report.html").unlink(missing_ok=True)
        for name in [n for n in names if n != "report.html"] + ["report.html"]:
            dest = out / name
            if dest.is_dir():
                shutil.rmtree(dest)
            (stage / name).replace(dest)
        return {n: out / n for n in names}


def summary(o: Outcome) -> dict[str, Any]:
    """Machine-readable summary: settings, counts, recommendations and the out-of-sample verdict."""
    s = o.spec
    return {"spec": str(s.path), "study": s.name, "objectives": s.objectives, "statistic": s.m.statistic,
            "search_seeds": s.search_seeds(), "report_seeds": s.report_seeds(), "trials": len(o.trials),
            "feasible": int(o.trials["feasible"].sum()) if not o.trials.empty else 0, "pareto": len(o.pareto),
            "recommended": [r.name for r in o.recommended], "beats_every_shipped_strategy": o.winners,
            "runs": o.n_runs, "seconds": o.seconds}


def say(msg: str) -> None:
    print(msg, file=sys.stderr)
