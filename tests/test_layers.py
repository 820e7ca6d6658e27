"""The house rules of docs/design.md#layers, checked by parsing every module.

Every import counts, those inside functions (and under ``if TYPE_CHECKING``) included.
`lint-imports` (run by .ci/run) checks the layers contract of pyproject.toml on the same
graph; these tests check what it cannot: that every module is in a layer, that the graph
has no cycle, and that no module imports the package face.
"""

import ast
import pathlib

import pytest
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ringgeo"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _resolve(module: str, path: pathlib.Path, node: ast.ImportFrom) -> str:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: pathlib.Path, known: set) -> set[str]:
    """The ringgeo modules ``module`` imports, wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            # `from . import x` imports the submodule x when there is one
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "ringgeo" or t.startswith("ringgeo."))
    found.discard(module)
    return found


@pytest.fixture(scope="module")
def graph():
    modules = _modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contract, = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return [{m.strip() for m in layer.split("|")} for layer in contract["layers"]]


def _top(module: str, tops: set) -> str | None:
    while module and module not in tops:
        module = module.rpartition(".")[0]
    return module or None


def test_every_module_is_in_a_layer():
    tops = set().union(*_layers())
    missing = [m for m in _modules() if m != "ringgeo" and _top(m, tops) is None]
    assert missing == [], f"add these modules to a layer of pyproject.toml: {missing}"


def test_no_module_imports_the_package_face(graph):
    offenders = sorted(m for m, targets in graph.items() if m != "ringgeo" and "ringgeo" in targets)
    assert offenders == []


def test_imports_only_go_down_the_layers(graph):
    layers = _layers()
    tops = set().union(*layers)
    rank = {m: i for i, layer in enumerate(layers) for m in layer}
    upward = []
    for module, targets in graph.items():
        own = _top(module, tops)
        for target in targets:
            other = _top(target, tops)
            if own is None or other is None or own == other:
                continue
            if rank[other] <= rank[own]:
                upward.append(f"{module} -> {target}")
    assert upward == [], "imports that do not go down the layers: " + ", ".join(sorted(upward))


def test_the_import_graph_has_no_cycle(graph):
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a package's face importing its own submodules is how re-exports work; a cycle
    # through a face and back is still a cycle
    assert cycles == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    # the graph these tests read is only worth something if function-level imports count
    path = tmp_path / "ringgeo" / "demo.py"
    path.parent.mkdir()
    path.write_text("def f():\n    from . import data\n    import ringgeo\n", "utf-8")
    assert imports_of("ringgeo.demo", path, {"ringgeo.data"}) == {"ringgeo.data", "ringgeo"}
