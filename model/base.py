"""Shared building blocks: strict parameter models and the mechanism lifecycle."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from culturedrift.model.model import CultureDriftModel


_NUMBERS = (int, float, int | None, float | None)


class Strict(BaseModel):
    """A parameter block that rejects unknown keys and wrong types (no silent defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data: Any) -> Any:
        """`true` or `'52'` where a number belongs is a mistake, not 1 or 52 (pydantic would convert them)."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(name)
                if isinstance(value, bool | str) and field.annotation in _NUMBERS:
                    raise ValueError(f"{name}: expected a number, got {value!r}")
        return data


def param(default: Any, unit: str, source: str, **kw: Any) -> Any:
    """Declare a parameter with its unit and the source of its default, kept in the schema."""
    return Field(default, description=f"[{unit}] {source}", json_schema_extra={"unit": unit, "source": source}, **kw)


def stream(seed: int, name: str) -> np.random.Generator:
    """One independent random stream per mechanism, keyed by name so adding one never shifts another."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(zlib.crc32(name.encode()),))
    return np.random.Generator(np.random.PCG64(ss))


class Mechanism:
    """Starsim-style lifecycle for one mechanism: parameters, init, step, finalise.

    Mechanisms update the model-owned arrays in place, vectorised over all slots.
    """

    name: ClassVar[str] = "mechanism"

    def __init__(self, pars: Any, model: CultureDriftModel) -> None:
        self.pars = pars
        self.model = model
        self.rng = model.streams.get(self.name, None)

    def init(self) -> None:
        """Set up state after the organisation has been built."""

    def step(self) -> None:
        """Advance one week."""

    def finalise(self) -> None:
        """Tidy up after the last week."""
