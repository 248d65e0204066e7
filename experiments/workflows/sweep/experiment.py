"""Experiment files: what to vary, how to sample it, and the design points that follow.

An experiment file is YAML, validated strictly (unknown keys, wrong types and impossible ranges are
errors naming the file, the field and the reason). Every parameter path is checked against the base
scenario before any run: each parameter is applied once at its low and high end (or at each listed
value) with `Scenario.with_updates`.

    name: turnover_lhs
    base: ../scenarios/phased.yaml       # relative to this file
    overrides: {horizon_weeks: 156}      # fixed changes applied to the base for every run
    design: lhs                          # grid | lhs | sobol | morris
    samples: 64                          # lhs: points; sobol: base samples N; morris: trajectories
    replicates: 2                        # seeds per point
    seed: 20110510                       # experiment seed: design sampling and every run's seed
    metrics: [peak_turnover_12m, slippage]
    parameters:
      turnover.labour_market_pressure: {low: 0.7, high: 1.4}
      slippage.decay_rate: {dist: loguniform, low: 0.005, high: 0.02}
      organisation.n_teams: {values: [10, 20, 30]}
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy import stats

from culturedrift.model import Scenario, ScenarioError, load_scenario
from culturedrift.model.outputs import summary_keys
from culturedrift.model.scenario import read_yaml_mapping

FORMAT = "culturedrift-sweep/1"
DESIGNS = ("grid", "lhs", "sobol", "morris")
# Key for the design's own random stream; run seeds use spawn_key=(point, replicate) with point < 2**32 - 1.
_DESIGN_KEY = (2**32 - 1, 0)


MAX_POINTS = 1_000_000  # design points held in memory (points.parquet) before the first run
MAX_RUNS = 10_000_000  # runs per sweep directory


class ExperimentError(ScenarioError):
    """An experiment file that cannot be used (file, field and reason in the message)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Scalar = float | int | bool


class ParamSpec(_Strict):
    """How one scenario field varies: a range with a distribution, or a list of values."""

    dist: Literal["uniform", "loguniform", "triangular", "normal"] | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = Field(None, description="peak of a triangular distribution")
    mean: float | None = Field(None, description="mean of a normal distribution")
    sd: float | None = Field(None, gt=0, description="standard deviation of a normal distribution")
    steps: int | None = Field(None, ge=2, le=10_000, description="grid: evenly spaced values from low to high")
    values: list[Scalar] | None = None
    integer: bool | None = Field(None, description="round to whole numbers (default: when the base value is one)")

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        if self.values is not None:
            other = [k for k in ("dist", "low", "high", "mode", "mean", "sd", "steps") if getattr(self, k) is not None]
            if other:
                raise ValueError(f"give either values or a range, not both (also set: {', '.join(other)})")
            if not self.values:
                raise ValueError("values: empty list (give at least one value)")
            if len(set(map(repr, self.values))) != len(self.values):
                raise ValueError(f"values: repeated entries in {self.values}")
            return self
        dist = self.dist or ("normal" if self.mean is not None else "uniform")
        if dist == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("a normal distribution needs mean and sd")
            if self.mode is not None or self.steps is not None:
                raise ValueError("a normal distribution takes mean, sd and optional low/high truncation only")
            if (self.low is None) != (self.high is None):
                raise ValueError("truncate a normal distribution with both low and high, or neither")
        else:
            if self.low is None or self.high is None:
                raise ValueError(f"a {dist} range needs low and high (or give values: [...])")
            if self.mean is not None or self.sd is not None:
                raise ValueError(f"mean and sd belong to a normal distribution, not {dist}")
            if dist == "triangular":
                if self.mode is None:
                    raise ValueError("a triangular distribution needs mode")
                if not self.low <= self.mode <= self.high:
                    raise ValueError(f"mode {self.mode} is outside [{self.low}, {self.high}]")
            elif self.mode is not None:
                raise ValueError(f"mode belongs to a triangular distribution, not {dist}")
            if dist == "loguniform" and self.low <= 0:
                raise ValueError(f"a loguniform range needs low > 0, got {self.low}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"empty range: low ({self.low}) must be below high ({self.high})")
        if dist == "normal" and self.low is not None and not self.low < self.mean < self.high:  # type: ignore[operator]
            raise ValueError(f"mean {self.mean} is outside the truncation [{self.low}, {self.high}]")
        return self

    @property
    def kind(self) -> str:
        if self.values is not None:
            return "values"
        return self.dist or ("normal" if self.mean is not None else "uniform")

    @property
    def bounded(self) -> bool:
        return self.kind != "normal" or self.low is not None

    def ends(self) -> list[Any]:
        """Values checked against the scenario before any run: the range ends, or every listed value."""
        if self.values is not None:
            return list(self.values)
        if self.low is not None:
            return [self.low, self.high]
        assert self.mean is not None and self.sd is not None
        return [self.mean - 3 * self.sd, self.mean + 3 * self.sd]

    def grid_values(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.steps is not None
        if self.kind == "loguniform":
            return [float(v) for v in np.geomspace(self.low, self.high, self.steps)]
        return [float(v) for v in np.linspace(self.low, self.high, self.steps)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map quantiles in (0, 1) to parameter values (the inverse CDF of the distribution)."""
        k = self.kind
        if k == "values":
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)  # type: ignore[arg-type]
            return np.asarray(self.values, dtype=object)[idx]
        lo, hi = self.low, self.high
        if k == "uniform":
            return lo + u * (hi - lo)  # type: ignore[operator]
        if k == "loguniform":
            return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))  # type: ignore[arg-type]
        if k == "triangular":
            c = (self.mode - lo) / (hi - lo)  # type: ignore[operator]
            return stats.triang.ppf(u, c, loc=lo, scale=hi - lo)  # type: ignore[operator]
        if lo is None:
            return stats.norm.ppf(u, loc=self.mean, scale=self.sd)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd  # type: ignore[operator]
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)


class Experiment(_Strict):
    """A validated experiment file."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    base: str = Field(min_length=1, description="base scenario file, relative to the experiment file")
    overrides: dict[str, Any] = Field(default_factory=dict, description="fixed scenario changes for every run")
    design: Literal["grid", "lhs", "sobol", "morris"]
    samples: int | None = Field(None, ge=1, le=10_000_000, description="lhs: points; sobol: base samples N "
                                "(points = N(D+2), or N(2D+2) with second_order); morris: trajectories")
    second_order: bool | None = Field(None, description="sobol only: also sample for second-order indices")
    levels: int | None = Field(None, ge=2, le=100, description="morris only: grid levels (even, default 4)")
    replicates: int = Field(1, ge=1, le=100_000)
    seed: int = Field(ge=0, lt=2**63)
    common_random_numbers: bool = Field(False, description="reuse the same seeds at every point (replicate r "
                                        "runs with point 0's seed r) to sharpen differences between points")
    metrics: list[str] = Field(default_factory=summary_keys, min_length=1)
    parameters: dict[str, ParamSpec] = Field(min_length=1)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in summary_keys()]
        if bad:
            raise ValueError(f"unknown metric(s) {bad}; choose from {summary_keys()}")
        if len(set(v)) != len(v):
            raise ValueError(f"repeated metric(s) in {v}")
        return v

    @model_validator(mode="after")
    def _design_options(self) -> Experiment:
        d = self.design
        if d == "grid":
            if self.samples is not None:
                raise ValueError("samples: not used by a grid design (its size is the product of the values)")
            for path, p in self.parameters.items():
                if p.values is None and p.steps is None:
                    raise ValueError(f"parameters.{path}: a grid needs values: [...] or low, high and steps")
                if p.kind == "normal":
                    raise ValueError(f"parameters.{path}: a grid cannot use a normal distribution")
        else:
            if self.samples is None:
                raise ValueError(f"samples: required for a {d} design")
            for path, p in self.parameters.items():
                if p.steps is not None:
                    raise ValueError(f"parameters.{path}: steps is for grid designs; {d} samples the range")
        if self.second_order is not None and d != "sobol":
            raise ValueError("second_order: only for a sobol design")
        if self.levels is not None and d != "morris":
            raise ValueError("levels: only for a morris design")
        if d == "morris":
            if self.levels is not None and self.levels % 2:
                raise ValueError(f"levels: must be even (Morris' method), got {self.levels}")
            for path, p in self.parameters.items():
                if not p.bounded:
                    raise ValueError(f"parameters.{path}: a morris design needs bounded ranges (truncate the "
                                     "normal distribution with low and high)")
        if d == "sobol":
            n = self.samples or 0
            if n & (n - 1):
                raise ValueError(f"samples: a sobol design needs a power of two (Sobol' sequence balance), got {n}")
            if len(self.parameters) < 2:
                raise ValueError("parameters: Sobol' indices need at least two parameters")
        if d == "morris" and len(self.parameters) < 2:
            raise ValueError("parameters: Morris screening needs at least two parameters")
        return self

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    def n_points(self) -> int:
        d, k, n = self.design, len(self.parameters), self.samples or 0
        if d == "grid":
            return math.prod(len(p.grid_values()) for p in self.parameters.values())
        if d == "lhs":
            return n
        if d == "sobol":
            return n * (2 * k + 2 if self.second_order else k + 2)
        return n * (k + 1)

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem in quantile space (each input on [0, 1]); values follow via each ppf."""
        return {"num_vars": len(self.parameters), "names": self.names, "bounds": [[0.0, 1.0]] * len(self.parameters)}


def design_seed(seed: int) -> int:
    """Seed for sampling the design (independent of every run seed)."""
    return int(np.random.SeedSequence(seed, spawn_key=_DESIGN_KEY).generate_state(1)[0])


def run_seed(seed: int, point: int, replicate: int, common: bool = False) -> int:
    """The seed of one run: a function of (experiment seed, point, replicate) only."""
    return int(np.random.SeedSequence(seed, spawn_key=(0 if common else point, replicate)).generate_state(1)[0])


class Prepared(BaseModel):
    """An experiment with its base scenario resolved and its design points generated."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    experiment: Experiment
    source: str
    base: Scenario
    points: Any  # pandas DataFrame: point, then one column per parameter (the values applied)
    unit: Any  # numpy array (points x parameters) in quantile space, or None for grids
    integer: dict[str, bool]
    hash: str

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.experiment.replicates

    def params(self, point: int) -> dict[str, Any]:
        row = self.points.iloc[point]
        return {k: _py(row[k]) for k in self.experiment.names}


def _py(v: Any) -> Any:
    """numpy scalar -> the Python scalar pydantic expects."""
    return v.item() if isinstance(v, np.generic) else v


def _read_yaml(path: Path) -> dict[str, Any]:
    return read_yaml_mapping(path, "an experiment", ExperimentError)


def _format(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = "unknown field" if e["type"] == "extra_forbidden" else e["msg"]
        msg = msg.removeprefix("Value error, ")
        lines.append(f"{source}: {loc}: {msg}" if loc else f"{source}: {msg}")  # whole-file checks name the field
    return "\n".join(lines)


def parse_experiment(data: dict[str, Any], source: str = "<experiment>") -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as e:
        raise ExperimentError(_format(source, e)) from None


def load_experiment(path: str | Path) -> Prepared:
    """Read, validate and prepare an experiment file; every problem is reported before any run."""
    path = Path(path)
    exp = parse_experiment(_read_yaml(path), str(path))
    base_path = (path.parent / exp.base).resolve()
    return prepare(exp, base_path, source=str(path))


def prepare(exp: Experiment, base: str | Path | Scenario, source: str = "<experiment>") -> Prepared:
    """Resolve the base scenario, check every parameter against it, and generate the design points."""
    if isinstance(base, Scenario):
        base_sc = base
    else:
        try:
            base_sc = load_scenario(base)
        except ScenarioError as e:
            raise ExperimentError(f"{source}: base: {e}") from None
    if exp.overrides:
        try:
            base_sc = base_sc.with_updates(exp.overrides)
        except ScenarioError as e:
            raise ExperimentError(f"{source}: overrides: {_one_line(e)}") from None
    dumped = base_sc.model_dump(mode="python")
    integer: dict[str, bool] = {}
    for path, spec in exp.parameters.items():
        if path in exp.overrides:
            raise ExperimentError(f"{source}: parameters.{path}: also fixed in overrides; vary it or fix it")
        current = _get(dumped, path)
        is_int = isinstance(current, int) and not isinstance(current, bool)
        integer[path] = spec.integer if spec.integer is not None else is_int
        for v in spec.ends():
            value = _cast(v, integer[path])
            try:
                base_sc.with_updates({path: value})
            except ScenarioError as e:
                raise ExperimentError(f"{source}: parameters.{path}: {value!r} is not usable: {_one_line(e)}") from None
    n_points, n_runs = exp.n_points(), exp.n_points() * exp.replicates
    if n_points > MAX_POINTS or n_runs > MAX_RUNS:  # refused before the design is generated or --out touched
        raise ExperimentError(f"{source}: {n_points:,} design points x {exp.replicates:,} replicates = {n_runs:,} "
                              f"runs is past the limit of {MAX_POINTS:,} points and {MAX_RUNS:,} runs per sweep; "
                              "split it into smaller sweeps")
    points, unit = _design(exp, integer, source)
    digest = experiment_hash(exp, base_sc)
    return Prepared(experiment=exp, source=source, base=base_sc, points=points, unit=unit, integer=integer,
                    hash=digest)


def _one_line(e: Exception) -> str:
    return str(e).replace("\n", "; ")


def _get(data: Any, path: str) -> Any:
    node = data
    for k in path.split("."):
        if isinstance(node, list):
            try:
                node = node[int(k)]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, dict) and k in node:
            node = node[k]
        else:
            return None
    return node


def _cast(v: Any, integer: bool) -> Any:
    v = _py(v)
    if integer and isinstance(v, float):
        return math.floor(v + 0.5)
    return v


def _design(exp: Experiment, integer: dict[str, bool], source: str) -> tuple[Any, np.ndarray | None]:
    import pandas as pd

    names = exp.names
    specs = [exp.parameters[n] for n in names]
    unit: np.ndarray | None = None
    if exp.design == "grid":
        axes = []
        for n, s in zip(names, specs, strict=True):
            vals = [_cast(v, integer[n]) for v in s.grid_values()]
            if len(set(vals)) != len(vals):
                raise ExperimentError(f"{source}: parameters.{n}: whole-number values repeat after rounding: "
                                      f"{vals}; use fewer steps")
            axes.append(vals)
        rows = list(itertools.product(*axes))
        cols = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    else:
        seed = design_seed(exp.seed)
        k, n = len(names), exp.samples or 0
        if exp.design == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=k, seed=np.random.default_rng(seed)).random(n)
        elif exp.design == "sobol":
            from SALib.sample import sobol

            unit = sobol.sample(exp.salib_problem(), n, calc_second_order=bool(exp.second_order), seed=seed)
        else:
            from SALib.sample import morris

            unit = morris.sample(exp.salib_problem(), n, num_levels=exp.levels or 4, seed=seed)
        unit = np.asarray(unit, dtype=float)
        cols = {}
        for i, (name, s) in enumerate(zip(names, specs, strict=True)):
            vals = s.ppf(unit[:, i])
            cols[name] = [_cast(v, integer[name]) for v in vals]
    df = pd.DataFrame({"point": np.arange(len(next(iter(cols.values()))), dtype=np.int64), **cols})
    for name in names:  # keep columns numeric (bool stays bool, whole numbers int64)
        if integer[name] and df[name].dtype == object:
            df[name] = df[name].astype("int64")
    return df, unit


def experiment_hash(exp: Experiment, base: Scenario) -> str:
    """Identity of what a sweep computes: the experiment (description aside) and the resolved base scenario."""
    body = exp.model_dump(mode="json", exclude={"description"})
    body["base"] = base.model_dump(mode="json")
    text = json.dumps({"format": FORMAT, "experiment": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
