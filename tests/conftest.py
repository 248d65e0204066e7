"""Shared fixtures: tiny organisations so each run takes milliseconds."""

from __future__ import annotations

import os
from typing import Any

import pytest

# every test (and every command a test starts) checks that the host's direct kernel calls keep their types
os.environ.setdefault("CULTUREDRIFT_CHECK_KERNELS", "1")

from culturedrift.model import Scenario, parse_scenario

TINY: dict[str, Any] = {
    "name": "tiny",
    "horizon_weeks": 40,
    "burn_in_weeks": 8,
    "organisation": {"n_teams": 4, "team_size": 6, "partner_agencies": {"police": 4, "health": 6, "education": 6}},
}


def tiny(**fields: Any) -> Scenario:
    """A tiny scenario with fields merged over TINY (top-level keys replace)."""
    data = {**TINY, **fields}
    return parse_scenario(data)


@pytest.fixture
def tiny_scenario() -> Scenario:
    return tiny()
