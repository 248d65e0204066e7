"""The ODD document cannot drift from the code: its parameter table is generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from culturedrift.experiments.workflows.validation import odd_table
from culturedrift.model.scenario import Scenario

DOC = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def test_committed_parameter_table_matches_the_code():
    doc = DOC.read_text()
    assert odd_table.current(doc) == odd_table.render(), (
        "docs/ODD.md parameter table is stale: run "
        ".venv/bin/python -m culturedrift.experiments.workflows.validation.odd_table")


def test_check_mode_reports_a_stale_table(tmp_path):
    stale = DOC.read_text().replace("| `workload.case_duration_weeks` |", "| `workload.case_duration_weekz` |")
    p = tmp_path / "ODD.md"
    p.write_text(stale)
    assert odd_table.main(["--check", "--path", str(p)]) == 1
    assert odd_table.main(["--path", str(p)]) == 0
    assert odd_table.main(["--check", "--path", str(p)]) == 0


def _blocks() -> list[tuple[str, type[BaseModel]]]:
    return [(prefix, cls) for _, prefix, cls, _ in odd_table.BLOCKS if prefix]


@pytest.mark.parametrize(("prefix", "cls"), _blocks(), ids=[p for p, _ in _blocks()])
def test_every_mechanism_parameter_is_declared_with_unit_and_source(prefix, cls):
    for name, f in cls.model_fields.items():
        if name in ("name", "kind", "learning", "events"):  # identifiers and nested blocks with their own rows
            continue
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        assert extra.get("unit"), f"{prefix}.{name} has no unit"
        assert extra.get("source"), f"{prefix}.{name} has no source"


def test_every_scenario_block_is_in_the_table():
    table = odd_table.render()
    for block, f in Scenario.model_fields.items():
        sub = f.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for name in sub.model_fields:
                if name != "events":
                    assert f"`{block}.{name}`" in table, f"{block}.{name} missing from the ODD table"


def test_odd_has_every_protocol_section():
    doc = DOC.read_text()
    for heading in ("Purpose and patterns", "Entities, state variables and scales", "Process overview and scheduling",
                    "Design concepts", "Initialisation", "Input data", "Submodels", "Parameter table"):
        assert heading in doc
    for concept in ("Emergence", "Adaptation", "Interaction", "Stochasticity", "Observation"):
        assert f"**{concept}.**" in doc


def test_readme_links_the_odd():
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/ODD.md" in readme
