# SPDX-License-Identifier: GPL-3.0-or-later
"""The import graph of python/lmsscc: no cycles, and no private names
(``_x``) imported from another module of the package.

The graph is read from the source (ast), not from what Python happened to
import: every ``import`` / ``from ... import`` of a package module, at module
level or inside a function (a function-level import is still a dependency,
and a lazy import that only breaks a cycle hides one), relative or absolute
(``gnuradio.lmsscc...``). An edge goes to the module named, not to the
packages above it: Python initialises a package before its submodules, so a
package's ``__init__`` that imports its own submodules is not a cycle.
"""

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "python" / "lmsscc"
PACKAGE = "lmsscc"  # the graph's name for python/lmsscc (installed as gnuradio.lmsscc)
INSTALLED_PREFIX = "gnuradio."


def module_name(path: Path, root: Path = PACKAGE_DIR) -> str:
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(root: Path = PACKAGE_DIR) -> dict:
    """module name -> path of every .py file of the package."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve_from(module: str, path: Path, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from X import ...`` reads X from (None: outside the package)."""
    if node.level == 0:
        name = node.module or ""
        if name.startswith(INSTALLED_PREFIX + PACKAGE):
            name = name[len(INSTALLED_PREFIX):]
        return name if name == PACKAGE or name.startswith(PACKAGE + ".") else None
    base = module.split(".") if is_package(path) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, modules: dict):
    """(imported module, imported name or None, line) for each import of a package module."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                if name.startswith(INSTALLED_PREFIX + PACKAGE):
                    name = name[len(INSTALLED_PREFIX):]
                if name in modules:
                    yield name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = resolve_from(module, path, node)
            if source is None:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:  # `from . import message`: the module itself
                    yield submodule, None, node.lineno
                elif source in modules:  # `from .codec import LMCodec`: a name of that module
                    yield source, alias.name, node.lineno


def import_graph(modules: dict) -> dict:
    """module -> {imported module: first line that imports it}."""
    graph = {m: {} for m in modules}
    for module, path in modules.items():
        for target, _name, line in imports_of(module, path, modules):
            if target != module:
                graph[module].setdefault(target, line)
    return graph


def strongly_connected(graph: dict) -> list:
    """The groups of modules that import each other, directly or through others
    (Tarjan's algorithm; groups of one module are left out)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def cycle_in(group: set, graph: dict) -> list:
    """One cycle [a, b, ..., a] through the modules of a strongly connected group."""
    start = min(group)
    path, seen = [start], {start}
    while True:
        successors = sorted(t for t in graph[path[-1]] if t in group)
        if start in successors and len(path) > 1:
            return path + [start]
        step = next((t for t in successors if t not in seen), None)
        if step is None:  # dead end inside the group: go back
            path.pop()
            continue
        path.append(step)
        seen.add(step)


def find_cycles(graph: dict) -> list:
    """One cycle per group of modules that import each other."""
    return [cycle_in(group, graph) for group in strongly_connected(graph)]


def describe_cycle(cycle: list, graph: dict) -> str:
    steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:])]
    return "import cycle: " + "; ".join(steps)


def private_imports(modules: dict) -> list:
    """'module:line imports _name from other' for each private name imported across modules."""
    found = []
    for module, path in modules.items():
        for target, name, line in imports_of(module, path, modules):
            if name and name.startswith("_") and not name.startswith("__") and target != module:
                found.append(f"{module}:{line} imports {name} from {target}")
    return found


def test_the_package_is_found():
    modules = package_modules()
    assert {"lmsscc", "lmsscc.source.codec", "lmsscc.source.models.base", "lmsscc.phy.link"} <= set(modules)
    graph = import_graph(modules)
    # edges of each kind are seen: a relative module, a name of a module, a name of a
    # package, an import inside a function
    assert "lmsscc.source.message" in graph["lmsscc.source.codec"]
    assert "lmsscc.source.models.native" in graph["lmsscc.source.models.batching"]
    assert "lmsscc.fec" in graph["lmsscc.phy.link"]
    assert "lmsscc.sweep" in graph["lmsscc.ddp"]


def test_no_import_cycle():
    modules = package_modules()
    graph = import_graph(modules)
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(describe_cycle(c, graph) for c in cycles)


def test_no_private_name_imported_from_another_module():
    bad = private_imports(package_modules())
    assert not bad, "private names imported across modules: " + "; ".join(bad)


# -- the checker itself, on small packages written here ----------------------------------------

def write_package(root: Path, files: dict) -> dict:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package_modules(root)


@pytest.mark.parametrize("b_imports_a", [
    "from . import a\n",                                    # module level, relative
    "def f():\n    from .a import g\n",                     # function level, a name
    "import gnuradio.lmsscc.sub.a\n",                       # absolute, as installed
    "def f():\n    from gnuradio.lmsscc.sub import a\n",    # absolute from-import in a function
])
def test_a_cycle_is_found_and_named(tmp_path, b_imports_a):
    modules = write_package(tmp_path, {"__init__.py": "", "sub/__init__.py": "",
                                       "sub/a.py": "from .b import h\n", "sub/b.py": b_imports_a})
    graph = import_graph(modules)
    (cycle,) = find_cycles(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {"lmsscc.sub.a", "lmsscc.sub.b"}
    assert "lmsscc.sub.a (line 1) -> lmsscc.sub.b" in describe_cycle(cycle, graph)


def test_every_cycle_is_named(tmp_path):
    """Two separate cycles, one through three modules: both reported."""
    modules = write_package(tmp_path, {
        "__init__.py": "", "a.py": "from . import b\n", "b.py": "from . import c\n",
        "c.py": "def f():\n    from . import a\n", "x.py": "from .y import g\n", "y.py": "from . import x\n"})
    cycles = find_cycles(import_graph(modules))
    assert sorted(map(tuple, cycles)) == [("lmsscc.a", "lmsscc.b", "lmsscc.c", "lmsscc.a"),
                                          ("lmsscc.x", "lmsscc.y", "lmsscc.x")]


def test_a_package_importing_its_submodules_is_no_cycle(tmp_path):
    modules = write_package(tmp_path, {"__init__.py": "from .sub import a\n", "sub/__init__.py": "from .a import g\n",
                                       "sub/a.py": "from ..other import x\n", "other.py": "import os\n"})
    assert find_cycles(import_graph(modules)) == []


def test_a_private_import_is_found(tmp_path):
    modules = write_package(tmp_path, {"__init__.py": "", "a.py": "from .b import _secret, public, __all__\n",
                                       "b.py": ""})
    assert private_imports(modules) == ["lmsscc.a:1 imports _secret from lmsscc.b"]
