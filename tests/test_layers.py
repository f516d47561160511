"""Imports between gridopt's modules point down the layers of DESIGN.md section 5 and never form a cycle.

Every module under src/gridopt is parsed, and every import statement counts, at module level and inside
functions: a lazy import that reaches up a layer is a cycle deferred to its first call. Imports under
``if TYPE_CHECKING`` must point down or sideways like any other, but are left out of the cycle check:
they never run, so they cannot break the initialisation of a module. Importing ``a.b.c`` counts as a
dependency on ``a.b.c`` alone, not on the packages ``a`` and ``a.b`` Python initialises on the way:
otherwise every module would depend on the package that re-exports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]

# gridopt's layers from the bottom up (DESIGN.md section 5, with the modules it leaves unnamed placed where
# their imports put them). A module may import modules of its own layer and of the layers below it. The
# first name under gridopt/ gives a module's layer, so a package (rolling/, solvers/) is one layer with
# all its modules; "gridopt" is the package itself, the public API it re-exports.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "units", "schema", "argtypes", "_version", "progress"),  # leaves: import nothing from gridopt
    ("validate", "overlay"),  # typing, checks and scenario edits of plain settings and tables
    ("network",),  # Network: calls validate and overlay
    ("casefiles",),  # load_case, write_case: case folders into Networks and back
    ("synthetic",),  # generated networks
    ("lp",),  # the builder: variable and row blocks, one matrix
    ("formulation",),  # one module per constraint family
    ("solvers",),  # highs, pyomo
    ("periods",),  # representative periods
    ("results", "checks", "accounts"),  # tidy tables, summary, after-solve checks, accounts by region
    ("engine", "diagnose"),  # dispatch: build, solve, extract, check; infeasibility explained
    ("report",),  # text summaries of cases and results
    ("executors",),  # where many solves run
    ("rolling",),  # long horizons
    ("interop",),  # exchange formats and their commands
    ("gridopt",),  # the package: the public API
    ("plot",),  # charts from results folders
    ("studies",),  # sweeps, Pareto fronts, comparisons, calibration
    ("cli",),  # the command line
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    where: str  # file:line of the import statement
    typing_only: bool = False  # under `if TYPE_CHECKING:`


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at `root` (subpackages included)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def _known(name: str, known: dict[str, Path]) -> str | None:
    """The longest prefix of dotted `name` that is one of the `known` modules."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in known:
            return cand
    return None


def imports(name: str, path: Path, known: dict[str, Path], base: Path) -> list[Edge]:
    """Every import in the module `name` (at `path`) of another of the `known` modules; places are given
    relative to `base`."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(base)
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                   for stmt in block.body for n in ast.walk(stmt)}
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from p import x` imports the module p.x when there is one, else the name x from p
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]
        for t in targets:
            target = _known(t, known)
            if target is not None and target != name:
                out.append(Edge(name, target, f"{where}:{node.lineno}", id(node) in typing_only))
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def graph(root: Path, package: str) -> tuple[dict[str, Path], list[Edge]]:
    known = modules(root, package)
    return known, [e for name, path in known.items() for e in imports(name, path, known, root.parent)]


def cycles(edges: list[Edge]) -> list[str]:
    """Each import cycle as one line: the modules in order, with where each imports the next."""
    g = nx.DiGraph()
    for e in edges:
        if not e.typing_only:
            g.add_edge(e.importer, e.imported, where=e.where)
    out = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            cycle = nx.find_cycle(g.subgraph(comp))
            out.append(" -> ".join(f"{a} ({g.edges[a, b]['where']})" for a, b in cycle) + f" -> {cycle[0][0]}")
    return sorted(out)


def layer(module: str) -> str:
    """The layer name of a gridopt module: its first name under gridopt/, or 'gridopt' for the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


GRIDOPT = graph(REPO / "src" / "gridopt", "gridopt")


def test_the_scan_sees_lazy_relative_package_and_typing_imports(tmp_path):
    """The scan itself, on a made-up package: lazy, relative and absolute imports into a subpackage are
    edges; a cycle through a lazy import is found, one through a TYPE_CHECKING import is not."""
    files = {"__init__.py": "from .a import f\n",
             "a.py": "def f():\n    from .sub import c\n",
             "b.py": "import pkg.sub.c\n",
             "sub/__init__.py": "",
             "sub/c.py": "from typing import TYPE_CHECKING\n\nfrom .. import b\n\n"
                         "if TYPE_CHECKING:\n    from ..a import f\n"}
    for rel, text in files.items():
        (tmp_path / "pkg" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / rel).write_text(text)
    known, edges = graph(tmp_path / "pkg", "pkg")
    assert set(known) == {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c"}
    assert {(e.importer, e.imported, e.typing_only) for e in edges} == {
        ("pkg", "pkg.a", False), ("pkg.a", "pkg.sub.c", False), ("pkg.b", "pkg.sub.c", False),
        ("pkg.sub.c", "pkg.b", False), ("pkg.sub.c", "pkg.a", True)}
    (found,) = cycles(edges)
    assert "pkg.b (pkg/b.py:1)" in found and "pkg.sub.c (pkg/sub/c.py:3)" in found and "pkg.a" not in found


def test_every_module_has_a_layer():
    known, _ = GRIDOPT
    missing = sorted({layer(m) for m in known} - set(RANK))
    assert not missing, f"modules without a layer (add them to LAYERS in {Path(__file__).name}): {missing}"


def test_no_import_cycles_between_gridopt_modules():
    _, edges = GRIDOPT
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(found)


def test_imports_point_down_the_layers():
    _, edges = GRIDOPT
    up = [f"{e.where}: {e.importer} ({layer(e.importer)}) imports {e.imported} ({layer(e.imported)}), a layer above"
          for e in edges
          if layer(e.importer) in RANK and layer(e.imported) in RANK
          and RANK[layer(e.importer)] < RANK[layer(e.imported)]]
    assert not up, "imports going up the layers (DESIGN.md section 5):\n" + "\n".join(up)


@pytest.mark.parametrize("folder", ["benchmarks"])
def test_no_import_cycles_in_the_tools_beside_the_library(folder):
    _, edges = graph(REPO / folder, folder)
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(found)
