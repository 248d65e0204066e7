"""Scenario files: strict schema, `extends:` inheritance and errors that name file, field and reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Union, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, create_model, model_validator

from culturedrift.model.base import Strict, param
from culturedrift.model.events import EVENTS
from culturedrift.model.interventions import REGISTRY
from culturedrift.model.mechanisms import MECHANISMS
from culturedrift.model.organisation import OrganisationParams
from culturedrift.model.outputs import OutputParams


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the file, field path and reason."""


class ScenarioBase(Strict):
    """Run control and the organisation; `Scenario` adds one block per mechanism, interventions, events and
    outputs."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str = Field("", max_length=60, description="Display title in tables, figures and the app (default: "
                       "the name with spaces); not inherited through `extends:`")
    description: str = ""
    horizon_weeks: int = param(260, "weeks", "Five years: the Review's implementation and after", ge=1, le=5200)
    burn_in_weeks: int = param(52, "weeks", "Unrecorded settling period before week 0, so the 12-month "
                               "turnover window is full at the start", ge=0, le=1040)
    handover_week: int | None = param(None, "week", "End of the change programme (default: when the last "
                                      "change's implementation ends; 0 without changes)", ge=0)
    organisation: OrganisationParams = OrganisationParams()

    MECHANISMS: ClassVar[list[tuple[str, Any, Any]]] = []  # the model's mechanisms, set by `scenario_class`

    @model_validator(mode="after")
    def _within_horizon(self) -> Any:
        h = self.horizon_weeks
        for i, c in enumerate(self.change_programme):
            if c.end_week > h:
                raise ValueError(f"change_programme[{i}] '{c.name}' runs to week {c.end_week}, beyond "
                                 f"horizon_weeks={h}")
        for i, e in enumerate(self.events):
            if e.week > h:
                raise ValueError(f"events[{i}] ({e.kind}) at week {e.week} is beyond horizon_weeks={h}")
        changes, interventions = self.planned()  # go-lives moved and interventions started by events too
        for c in changes:
            if c.end_week > h:
                raise ValueError(f"'{c.name}' moved by an event to go live at week {c.start_week} runs to week "
                                 f"{c.end_week}, beyond horizon_weeks={h}")
        for i, iv in enumerate(interventions):
            if iv.start_week >= h:
                where = f"interventions[{i}]" if i < len(self.interventions) else "an intervention_start event's"
                raise ValueError(f"{where} '{iv.name}' starts at week {iv.start_week}, not before "
                                 f"horizon_weeks={h}")
        names = [c.name for c in self.change_programme]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"change names must be unique; repeated: {sorted(dup)}")
        if self.handover_week is not None and self.handover_week > h:
            raise ValueError(f"handover_week={self.handover_week} is beyond horizon_weeks={h}")
        return self

    def planned(self) -> tuple[list[Any], list[Any]]:
        """The change programme and the interventions as the scheduled events leave them (go-lives moved,
        interventions started or stopped mid-run): what a run of this scenario follows."""
        changes, interventions = list(self.change_programme), list(self.interventions)
        for e in sorted(self.events, key=lambda e: e.week):  # the order they fire in
            changes, interventions = e.plan_changes(changes), e.plan_interventions(interventions)
        return changes, interventions

    @property
    def handover(self) -> int:
        """Week the change programme is handed over to day-to-day leadership (a go-live pushed back by an
        event past an explicit `handover_week` moves the handover with it)."""
        changes, _ = self.planned()
        if self.handover_week is not None:
            first = {c.name: c.start_week for c in self.change_programme}
            later = [c.end_week for c in changes if c.start_week > first[c.name]]
            return max([self.handover_week, *later])
        return max((c.end_week for c in changes), default=0)

    @property
    def programme_start(self) -> int:
        """First go-live week (0 without changes)."""
        return min((c.start_week for c in self.planned()[0]), default=0)

    def with_updates(self, updates: dict[str, Any]) -> Scenario:
        """A copy with dotted field paths replaced (e.g. {'turnover.base_exit_hazard': 0.002}), re-validated."""
        data = self.model_dump(mode="python")
        for path, value in updates.items():
            set_path(data, path, value)
        try:
            return type(self).model_validate(data)
        except ValidationError as e:
            raise ScenarioError(format_errors(f"scenario '{self.name}'", e)) from None


def _block(pars: Any) -> tuple[Any, Any]:
    """A scenario field for a mechanism's parameters: a block with its defaults, or an empty list."""
    return (pars, Field(default_factory=list)) if get_origin(pars) is list else (pars, pars())


def _kinds(registry: dict[str, Any]) -> Any:
    """Any registered kind, told apart by its `kind` field."""
    return Annotated[Union[tuple(registry.values())], Field(discriminator="kind")]  # noqa: UP007


def scenario_class(mechanisms: list[tuple[str, Any, Any]] = MECHANISMS) -> Any:
    """The scenario schema: run control, the organisation, one block per mechanism (in the model's order),
    the interventions and scheduled events of every registered kind, and the output thresholds.

    `Scenario` is this built once at import; a kind or mechanism defined outside the packages (e.g. in a
    notebook) is picked up by calling it again.
    """
    cls = create_model(  # type: ignore[call-overload]
        "Scenario", __base__=ScenarioBase, __module__=__name__, __doc__="Everything one run needs besides its seed.",
        **{key: _block(pars) for key, pars, _ in mechanisms},
        interventions=(list[_kinds(REGISTRY)], Field(default_factory=list)),
        events=(list[_kinds(EVENTS)], Field(default_factory=list)),
        outputs=(OutputParams, OutputParams()),
        fitted_to=(dict[str, Any], Field(default_factory=dict, description="Where the levers come from when "
                                         "the scenario was fitted to data (`culturedrift authority`): source "
                                         "file, geography, years, targets and the model's fit. Informational "
                                         "only.")),
    )
    cls.MECHANISMS = list(mechanisms)
    return cls


Scenario = scenario_class()


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted field path in nested dicts/lists; unknown paths are errors."""
    keys = path.split(".")
    node: Any = data
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            try:
                idx = int(k)
                node[idx]
            except (ValueError, IndexError):
                raise ScenarioError(f"{path}: no list element '{k}'") from None
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue
        if not isinstance(node, dict) or (k not in node and not last):
            raise ScenarioError(f"{path}: unknown field '{k}'")
        if last:
            if k not in node:
                raise ScenarioError(f"{path}: unknown field '{k}'")
            node[k] = value
        else:
            node = node[k]


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings merge key by key, anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


MAX_INPUT_BYTES = 1_000_000  # a scenario or experiment file is a page of YAML; refuse megabytes of it
MAX_EXTENDS_DEPTH = 16  # files in one `extends:` chain
MAX_NESTING = 50  # levels of nested mappings / lists in one file
MAX_ERRORS_SHOWN = 20  # problems listed per file; the rest are counted


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (YAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                line = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if line != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {line})", key_node.start_mark)
        return super().construct_mapping(node, deep)


def _depth(node: yaml.Node) -> int:
    """Nesting depth of a composed YAML node, without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_NESTING:
            break
        if isinstance(n, yaml.MappingNode):
            stack.extend((c, d + 1) for kv in n.value for c in kv)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((c, d + 1) for c in n.value)
    return deepest


def read_yaml_mapping(path: Path, what: str = "a scenario",
                      error: type[ScenarioError] = ScenarioError) -> dict[str, Any]:
    """Safe-load a YAML file that must hold a mapping; errors name the file and the reason.

    Refused with a one-line reason: a missing or unreadable file, more than `MAX_INPUT_BYTES`, text that is
    not UTF-8, invalid YAML, a key given twice, more than `MAX_NESTING` levels, anything but a mapping."""
    try:
        if not path.is_file():
            raise error(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise error(f"{path}: {size:,} bytes is larger than the limit of {MAX_INPUT_BYTES:,} bytes for {what}")
        raw = path.read_bytes()
    except PermissionError:
        raise error(f"{path}: cannot read the file (permission denied)") from None
    except OSError as e:
        raise error(f"{path}: cannot read the file ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not a text file (byte {e.start} is not UTF-8); expected {what} in YAML") from None
    if "\x00" in text:
        raise error(f"{path}: not a text file (it holds NUL bytes); expected {what} in YAML")
    try:
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _depth(node) > MAX_NESTING:
                raise error(f"{path}: nested more than {MAX_NESTING} levels deep; {what} is a shallow mapping")
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML: {e}") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply to read; {what} is a shallow mapping") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a mapping of fields, got {type(data).__name__}")
    return data


def _read(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        raise ScenarioError(f"{path}: extends: circular inheritance ({' -> '.join(p.name for p in chain)})")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{chain[0]}: extends: a chain of more than {MAX_EXTENDS_DEPTH} files; "
                            "flatten the scenarios")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or Path(parent).suffix.lower() not in (".yaml", ".yml"):
        raise ScenarioError(f"{path}: extends: must name a scenario file (.yaml or .yml), got {parent!r}")
    base = _read(path.parent / parent, (*chain, path))
    base.pop("name", None)
    base.pop("title", None)
    base.pop("description", None)
    return _merge(base, data)


def format_errors(source: str, err: ValidationError) -> str:
    """One line per problem: source: field.path: reason."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{source}: {loc}: {msg}" if loc else f"{source}: {msg}")
    if len(lines) > MAX_ERRORS_SHOWN:
        lines = [*lines[:MAX_ERRORS_SHOWN], f"{source}: ... and {len(lines) - MAX_ERRORS_SHOWN} more problems"]
    return "\n".join(lines)


SHIPPED_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIO_PATH_ENV = "CULTUREDRIFT_SCENARIOS"


def scenario_search_path() -> list[Path]:
    """Folders searched for a scenario given by name or relative path: the current directory, the folders in
    $CULTUREDRIFT_SCENARIOS (separated like PATH), then the scenarios shipped with culturedrift."""
    extra = [Path(p) for p in os.environ.get(SCENARIO_PATH_ENV, "").split(os.pathsep) if p]
    return [Path.cwd(), *extra, SHIPPED_SCENARIOS]


def find_scenario_file(path: str | Path) -> Path:
    """The scenario file a user means: the path as given, else a file of that name (".yaml" optional) in the
    search path, so `phased` or `scenarios/phased.yaml` work from any directory. The error lists where it looked."""
    path = Path(path)
    if path.is_file():
        return path
    looked = [path.resolve()] if path.is_absolute() else []
    if not path.is_absolute():
        names = [path] if path.suffix in (".yaml", ".yml") else [path.with_name(path.name + ".yaml"), path]
        for folder in scenario_search_path():
            for name in names:
                for cand in dict.fromkeys((folder / name, folder / name.name)):
                    if cand.is_file():
                        return cand
                    looked.append(cand)
    where = ", ".join(str(p) for p in dict.fromkeys(looked))
    raise ScenarioError(f"{path}: scenario file not found (looked in: {where}); shipped scenarios are in "
                        f"{SHIPPED_SCENARIOS}, more folders can be added with {SCENARIO_PATH_ENV}")


def load_yaml_model[M: BaseModel](path: str | Path, cls: type[M], what: str,
                                  error: type[ScenarioError] = ScenarioError, extra: dict[str, Any] | None = None) -> M:
    """A YAML file (e.g. an optimisation spec) validated as `cls`, `extra` fields added; every problem is one
    `error` naming the file, the field and the reason."""
    data = read_yaml_mapping(Path(path), what, error)
    try:
        return cls.model_validate({**data, **(extra or {})})
    except ValidationError as e:
        raise error(format_errors(str(path), e)) from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file; raise ScenarioError naming file and field.

    `path` is a file path or a shipped scenario's name (see `find_scenario_file`)."""
    path = find_scenario_file(path)
    data = _read(path)
    if overrides:
        data = Scenario.model_validate(data).model_dump(mode="python") if _valid(data) else data
        for k, v in overrides.items():
            try:
                set_path(data, k, v)
            except ScenarioError as e:
                raise ScenarioError(f"{path}: {e}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(format_errors(str(path), e)) from None


def _valid(data: dict[str, Any]) -> bool:
    try:
        Scenario.model_validate(data)
        return True
    except ValidationError:
        return False


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict (e.g. from a notebook)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(format_errors(source, e)) from None
