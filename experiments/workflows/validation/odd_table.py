"""The parameter table of docs/ODD.md, generated from the code's parameter declarations.

Every parameter is declared with `model.base.param(default, unit, source)` and pydantic bounds, so
its name, unit, default, range and source are read from the classes themselves. Regenerate with

    .venv/bin/python -m culturedrift.experiments.workflows.validation.odd_table          # rewrite docs/ODD.md's table
    .venv/bin/python -m culturedrift.experiments.workflows.validation.odd_table --check  # exit 1 if it is stale

tests/test_odd.py fails when the committed document differs from the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from culturedrift.model.base import Strict
from culturedrift.model.events import EVENTS
from culturedrift.model.interventions import REGISTRY
from culturedrift.model.interventions.base import Intervention
from culturedrift.model.mechanisms import MECHANISMS
from culturedrift.model.organisation import OrganisationParams
from culturedrift.model.outputs import OutputParams
from culturedrift.model.scenario import Scenario

ODD = Path(__file__).resolve().parents[3] / "docs" / "ODD.md"
BEGIN = ("<!-- BEGIN GENERATED PARAMETER TABLE: python -m culturedrift.experiments.workflows.validation.odd_table "
         "(do not edit by hand) -->")
END = "<!-- END GENERATED PARAMETER TABLE -->"


def _strict_class(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The parameter class inside an annotation (`X`, `X | None`, `list[X]`) and whether it is a list."""
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return annotation, False
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1:
        inner, _ = _strict_class(args[0])
        return inner, get_origin(annotation) is list
    return None, False


Block = tuple[str, str, type[BaseModel], str]


def _with_nested(heading: str, prefix: str, cls: type[BaseModel], sub: str) -> list[Block]:
    """A block and, after it, one block per parameter class nested in its fields (e.g. a change's learning curve)."""
    out = [(heading, prefix, cls, sub)]
    for name, f in cls.model_fields.items():
        inner, is_list = _strict_class(f.annotation)
        if inner is not None:
            title = (inner.__doc__ or inner.__name__).strip().splitlines()[0].rstrip(".")
            out += _with_nested(title, f"{prefix}.{name}{'[]' if is_list else ''}", inner, sub)
    return out


def _blocks() -> list[Block]:
    """(heading, scenario path prefix, class, submodel): run control, the organisation, then one block per
    mechanism in the model's list (with what is nested in it), interventions and outputs."""
    blocks = [("Scenario", "", Scenario, "run control"),
              *_with_nested("Organisation", "organisation", OrganisationParams, "structure and network")]
    for key, pars, cls in MECHANISMS:
        inner, is_list = _strict_class(pars)
        if inner is not None:
            blocks += _with_nested(cls.title or cls.name, f"{key}{'[]' if is_list else ''}", inner, cls.category)
    blocks += [("Intervention delivery (all kinds)", "interventions[]", Intervention, "3 leadership"),
               ("Outputs", "outputs", OutputParams, "observation")]
    return blocks


BLOCKS = _blocks()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) or "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if v is None:
        return "none"
    return str(v)


def _range(f: FieldInfo) -> str:
    lo = hi = None
    lo_open = hi_open = False
    for m in f.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
    if lo is None and hi is None:
        return ""
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    return f"{left}{_fmt(lo) if lo is not None else '-inf'}, {_fmt(hi) if hi is not None else 'inf'}{right}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(cls: type[BaseModel], prefix: str, skip_own: set[str] | None = None) -> list[str]:
    """Markdown rows for the declared parameters of one class (fields without a unit are structural)."""
    out = []
    for name, f in cls.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if "unit" not in extra or (skip_own and name in skip_own):
            continue
        path = f"{prefix}.{name}" if prefix else name
        out.append(f"| `{path}` | {_cell(str(extra['source']))} | {_cell(str(extra['unit']))} | "
                   f"{_cell(_fmt(f.default))} | {_range(f)} |")
    return out


HEADER = "| Name | Meaning and source | Unit | Default | Range |\n|---|---|---|---|---|"


def render() -> str:
    """The whole generated section (between and including the markers)."""
    parts = [BEGIN, ""]
    for heading, prefix, cls, sub in BLOCKS:
        parts += [f"#### {heading} (`{prefix or 'top level'}`; {sub})", "", HEADER, *rows(cls, prefix), ""]
    common = set(Intervention.model_fields)
    for kind, cls in sorted(REGISTRY.items()):
        own = rows(cls, f"interventions[kind={kind}]", skip_own=common - {"cost_per_week", "target"})
        doc = ((cls.__module__ and sys.modules[cls.__module__].__doc__) or "").strip().splitlines()[0]
        parts += [f"#### Intervention `{kind}`: {_cell(doc)}", "", HEADER, *own, ""]
    for kind, cls in EVENTS.items():
        doc = (cls.__doc__ or kind).strip().splitlines()[0]
        parts += [f"#### Event `{kind}`: {_cell(doc)}", "", HEADER, *rows(cls, f"events[kind={kind}]"), ""]
    parts.append(END)
    return "\n".join(parts)


def splice(doc: str, table: str) -> str:
    """Replace the generated section of `doc` with `table`."""
    i, j = doc.index(BEGIN), doc.index(END) + len(END)
    return doc[:i] + table + doc[j:]


def current(doc: str) -> str:
    """The generated section as it stands in `doc`."""
    return doc[doc.index(BEGIN): doc.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate (or check) the parameter table in docs/ODD.md.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the table in the document is stale")
    ap.add_argument("--path", default=str(ODD))
    a = ap.parse_args(argv)
    path = Path(a.path)
    doc = path.read_text()
    table = render()
    if a.check:
        ok = current(doc) == table
        print("docs/ODD.md parameter table is " + ("up to date" if ok else "stale: run python -m "
                                                     "culturedrift.experiments.workflows.validation.odd_table"))
        return 0 if ok else 1
    path.write_text(splice(doc, table))
    print(f"updated the parameter table in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
