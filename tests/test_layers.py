"""The import graph keeps the layers of LAYOUT.md: no cycles, no upward import, the model never imports experiments.

Layers of experiments/ (a module may import its own layer and the ones below, never one above):
  1 execution  2 analysis  3 reporting  4 workflows  5 interfaces (cli.py, commands/, app.py, viz.py, animate.py)
Nothing but the interfaces imports commands/ or the app. Imports inside `if TYPE_CHECKING:` are annotations only
and are left out; imports inside functions count (they couple modules just the same).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"culturedrift.model": ROOT / "model", "culturedrift.experiments": ROOT / "experiments",
            "culturedrift": ROOT / "culturedrift"}
LAYERS = {"execution": 1, "analysis": 2, "reporting": 3, "workflows": 4}
INTERFACE = 5
TOP_ONLY = ("culturedrift.experiments.cli", "culturedrift.experiments.commands", "culturedrift.experiments.app")

# Known violations being removed by their owners; the test also fails when one of these no longer occurs,
# so the list can only shrink. (importer, imported): why it is still here.
KNOWN: dict[tuple[str, str], str] = {}


def modules() -> dict[str, Path]:
    """Every module of the installed packages, by dotted name."""
    found: dict[str, Path] = {}
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if any(p.startswith(".") or p == "__pycache__" for p in parts):
                continue
            found[".".join([pkg, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules imported at run time by one module (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("culturedrift"):
                    out.add(resolve(alias.name) or alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod.startswith("culturedrift"):
                for alias in node.names:
                    full = f"{mod}.{alias.name}"
                    out.add(full if full in known else (resolve(mod) or mod))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(name)
    return {m for m in out if m in known}


def graph() -> dict[str, set[str]]:
    """The project's import graph."""
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def layer(module: str) -> int | None:
    """The layer of an experiments module (None outside experiments/)."""
    prefix = "culturedrift.experiments"
    if module != prefix and not module.startswith(prefix + "."):
        return None
    rest = module[len(prefix) + 1:].split(".")
    return LAYERS.get(rest[0], INTERFACE) if rest[0] else INTERFACE


def violations(g: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every edge that breaks a rule of the layout."""
    bad = set()
    for src, targets in g.items():
        for dst in targets:
            if src.startswith("culturedrift.model") and dst.startswith("culturedrift.experiments"):
                bad.add((src, dst))
            ls, ld = layer(src), layer(dst)
            if ls is not None and ld is not None and ld > ls:
                bad.add((src, dst))
            if dst.startswith(TOP_ONLY) and not src.startswith(TOP_ONLY):
                bad.add((src, dst))
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            strong(v)
    return found


def test_every_module_is_placed_in_a_layer():
    g = graph()
    assert any(layer(m) == 1 for m in g), "no execution layer found"
    for folder in LAYERS:
        assert (ROOT / "experiments" / folder / "__init__.py").exists(), f"experiments/{folder}/ is missing"


def test_no_upward_import_and_the_model_never_imports_experiments():
    bad = violations(graph())
    new = sorted(bad - set(KNOWN))
    assert not new, "imports against the layering (importer -> imported):\n" + "\n".join(f"  {a} -> {b}"
                                                                                        for a, b in new)
    stale = sorted(set(KNOWN) - bad)
    assert not stale, f"known violations that are gone: remove them from KNOWN: {stale}"


def test_no_import_cycles():
    g = {a: {b for b in targets if (a, b) not in KNOWN} for a, targets in graph().items()}
    found = cycles(g)
    assert not found, "import cycles:\n" + "\n".join("  " + " <-> ".join(c) for c in found)


@pytest.mark.parametrize("case", ["upward", "model", "cycle"])
def test_the_checker_catches_each_kind_of_violation(case):
    """The rules bite on a hand-made graph (so a passing test means something)."""
    ex = "culturedrift.experiments"
    g = {
        "upward": {f"{ex}.execution.runner": {f"{ex}.workflows.compare"}, f"{ex}.workflows.compare": set()},
        "model": {"culturedrift.model.model": {f"{ex}.execution.store"}, f"{ex}.execution.store": set()},
        "cycle": {f"{ex}.analysis.a": {f"{ex}.analysis.b"}, f"{ex}.analysis.b": {f"{ex}.analysis.a"}},
    }[case]
    assert violations(g) or cycles(g)


def test_process_pools_temp_files_and_locks_live_only_in_the_execution_layer():
    """One executor and one safe-write helper: nothing else starts a pool, makes temp files or takes locks."""
    pattern = ("ProcessPoolExecutor", "import multiprocessing", "from multiprocessing", "mkstemp", "mkdtemp",
               "import fcntl")
    found = []
    for name, path in modules().items():
        if name.startswith("culturedrift.experiments.execution"):
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {p}" for p in pattern if p in text]
    assert not found, "use culturedrift.experiments.execution (executor, files) instead:\n" + "\n".join(found)
