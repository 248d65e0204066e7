"""The sweep directory: a manifest, the design points and results written in chunks.

DIR/manifest.json        format, experiment hash, the experiment as validated, counts, provenance
DIR/experiment.yaml      the experiment file as given (for reference)
DIR/points.parquet       one row per design point: point, then the value of each parameter
DIR/design.parquet       lhs/sobol/morris: the design in quantile space (what SALib analyses)
DIR/runs/part-*.parquet  results, appended in chunks; each file is written whole (temp file, fsync,
                         rename), so a killed sweep leaves only complete files
DIR/results.parquet/.csv one row per run (points joined), written when the sweep completes
DIR/failures.csv         runs that raised: point, replicate, seed, parameters, error

A run is identified by `run = point * replicates + replicate`; results are read back deduplicated
by run: a failed run recomputed with `--resume --retry-failed` is recorded again, and its newest
record (a success over a failure) is the one that counts.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.files import OutputBusy, OutputLock, atomic_write
from culturedrift.experiments.workflows.sweep.experiment import FORMAT, Prepared

OWNED = ("manifest.json", "experiment.yaml", "points.parquet", "design.parquet", "runs", "results.parquet",
         "results.csv", "failures.csv", "sensitivity")
RUN_COLUMNS = ("run", "point", "replicate", "seed", "status", "error")


class SweepDirError(InputError):
    """The output directory cannot be used as asked (message says why and what to do)."""


def run_schema(metrics: list[str]) -> pa.Schema:
    return pa.schema([("run", pa.int64()), ("point", pa.int64()), ("replicate", pa.int64()), ("seed", pa.int64()),
                      ("status", pa.string()), ("error", pa.string()), *[(m, pa.float64()) for m in metrics]])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("culturedrift", "numpy", "mesa", "SALib"):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out


class SweepStore:
    """Reads and writes one sweep directory; holds an exclusive lock while a sweep writes to it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self._lock: Any = None

    # -- state -------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        if not self.exists():
            raise SweepDirError(f"{self.root}: not a sweep directory (no manifest.json)")
        try:
            m = json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise SweepDirError(f"{self.manifest_path}: unreadable manifest: {e}") from None
        if m.get("format") != FORMAT:
            raise SweepDirError(f"{self.manifest_path}: format {m.get('format')!r}, expected {FORMAT!r}")
        return m

    def lock(self) -> None:
        """Exclusive lock while this process writes (released by the OS even after kill -9)."""
        try:
            self._lock = OutputLock(self.root, "sweep").acquire()
        except OutputBusy:
            raise SweepDirError(f"{self.root}: another sweep is writing to this directory") from None
        except InputError as e:
            raise SweepDirError(str(e)) from None

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def clear(self) -> None:
        """Remove what a sweep writes (other files in the directory are left alone)."""
        for name in OWNED:
            p = self.root / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()

    def foreign_files(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name not in OWNED and not p.name.startswith("."))

    # -- creation ----------------------------------------------------------------------------------
    def create(self, prep: Prepared, experiment_text: str | None) -> None:
        exp = prep.experiment
        self.root.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        atomic_write(self.root / "points.parquet", lambda p: prep.points.to_parquet(p, index=False))
        if prep.unit is not None:
            design = pd.DataFrame(prep.unit, columns=exp.names)
            atomic_write(self.root / "design.parquet", lambda p: design.to_parquet(p, index=False))
        if experiment_text is not None:
            atomic_write(self.root / "experiment.yaml", lambda p: p.write_text(experiment_text))
        manifest = {
            "format": FORMAT,
            "experiment_hash": prep.hash,
            "name": exp.name,
            "source": prep.source,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "design": exp.design,
            "parameters": exp.names,
            "integer": prep.integer,
            "metrics": exp.metrics,
            "n_points": len(prep.points),
            "replicates": exp.replicates,
            "n_runs": prep.n_runs,
            "salib_problem": exp.salib_problem(),
            "experiment": exp.model_dump(mode="json"),
            "base_scenario": prep.base.model_dump(mode="json"),
            "versions": _versions(),
        }
        # the manifest goes last: a directory with a manifest has its points
        atomic_write(self.manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1)))

    # -- results -----------------------------------------------------------------------------------
    def next_session(self) -> int:
        sessions = [int(p.name.split("-")[1][1:]) for p in self.runs_dir.glob("part-s*-*.parquet")]
        return max(sessions, default=-1) + 1

    def write_part(self, rows: list[dict[str, Any]], metrics: list[str], session: int, seq: int) -> Path:
        """Write one chunk of run rows as a new part file (whole or not at all)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        schema = run_schema(metrics)
        table = pa.Table.from_pylist(rows, schema=schema)
        path = self.runs_dir / f"part-s{session:03d}-{seq:06d}.parquet"
        atomic_write(path, lambda p: pq.write_table(table, p))
        return path

    def runs(self) -> pd.DataFrame:
        """Every recorded run (ok or failed), one row per run id, sorted by run."""
        m = self.manifest()
        schema = run_schema(m["metrics"])
        tables = [self._read_part(p, schema) for p in sorted(self.runs_dir.glob("part-*.parquet"))]
        if not tables:
            return schema.empty_table().to_pandas()
        df = pa.concat_tables(tables).to_pandas()
        # a run recorded twice (a failure retried with --retry-failed): a success wins, else the latest record
        df["_ok"] = df["status"] == "ok"
        df["_order"] = np.arange(len(df))
        df = df.sort_values(["run", "_ok", "_order"], ascending=[True, False, False])
        return df.drop_duplicates("run", keep="first").drop(columns=["_ok", "_order"]).reset_index(drop=True)

    def _read_part(self, path: Path, schema: pa.Schema) -> pa.Table:
        """One part file; a damaged one (truncated by a full disk, edited by hand) is named with the fix."""
        try:
            return pq.read_table(path, schema=schema)
        except (pa.ArrowException, OSError) as e:
            raise SweepDirError(f"{path}: damaged results file ({type(e).__name__}: {str(e)[:200]}). Delete it and "
                                "run the sweep again with --resume: its runs are computed again") from None

    def points(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / "points.parquet")

    def design(self) -> np.ndarray | None:
        p = self.root / "design.parquet"
        return pd.read_parquet(p).to_numpy() if p.is_file() else None

    def results(self) -> pd.DataFrame:
        """Runs joined with their point's parameter values."""
        runs = self.runs()
        pts = self.points()
        df = runs.merge(pts, on="point", how="left")
        m = self.manifest()
        return df[[*RUN_COLUMNS, *m["parameters"], *m["metrics"]]]

    def finalise(self) -> pd.DataFrame:
        """Write results.parquet/.csv and failures.csv (removed when there are none); return the failures."""
        res = self.results()
        atomic_write(self.root / "results.parquet", lambda p: res.to_parquet(p, index=False))
        atomic_write(self.root / "results.csv", lambda p: res.to_csv(p, index=False))
        failed = res[res["status"] != "ok"]
        fpath = self.root / "failures.csv"
        m = self.manifest()
        if len(failed):
            cols = ["run", "point", "replicate", "seed", *m["parameters"], "error"]
            atomic_write(fpath, lambda p: failed[cols].to_csv(p, index=False))
        else:
            with contextlib.suppress(FileNotFoundError):
                fpath.unlink()
        return failed
