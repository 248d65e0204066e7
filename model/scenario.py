"""Scenario files: strict schema, `extends:` inheritance and errors that name file, field and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Union, get_origin

import yaml
from pydantic import Field, ValidationError, create_model, model_validator

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
        for i, iv in enumerate(self.interventions):
            if iv.start_week >= h:
                raise ValueError(f"interventions[{i}] '{iv.name}' starts at week {iv.start_week}, not before "
                                 f"horizon_weeks={h}")
        names = [c.name for c in self.change_programme]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"change names must be unique; repeated: {sorted(dup)}")
        if self.handover_week is not None and self.handover_week > h:
            raise ValueError(f"handover_week={self.handover_week} is beyond horizon_weeks={h}")
        return self

    @property
    def handover(self) -> int:
        """Week the change programme is handed over to day-to-day leadership."""
        if self.handover_week is not None:
            return self.handover_week
        return max((c.end_week for c in self.change_programme), default=0)

    @property
    def programme_start(self) -> int:
        """First go-live week (0 without changes)."""
        return min((c.start_week for c in self.change_programme), default=0)

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


def read_yaml_mapping(path: Path, what: str = "a scenario",
                      error: type[ScenarioError] = ScenarioError) -> dict[str, Any]:
    """Safe-load a YAML file that must hold a mapping; errors name the file and the reason."""
    if not path.is_file():
        raise error(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a mapping of fields, got {type(data).__name__}")
    return data


def _read(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        raise ScenarioError(f"{path}: extends: circular inheritance ({' -> '.join(p.name for p in chain)})")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: must be a file name, got {parent!r}")
    base = _read(path.parent / parent, (*chain, path))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, data)


def format_errors(source: str, err: ValidationError) -> str:
    """One line per problem: source: field.path: reason."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        lines.append(f"{source}: {loc}: {msg}")
    return "\n".join(lines)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (`extends:`) and validate a scenario file; raise ScenarioError naming file and field."""
    path = Path(path)
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
