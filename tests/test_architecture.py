"""The import rules ARCHITECTURE.md states, checked on the import graph of ``harness/``: every
import form counts (``import harness.x``, ``from harness.x import y``, ``from harness import x``,
relative imports, and imports inside functions), and no module imports from a layer above its
own or takes part in a cycle. Configs and search spaces load without torch or Ray, the report
without Ray, Ray is imported only at the edge, and every import names the module that defines
the name (no re-exports across packages). A "module:attr" string a registry resolves when a
spec is used (``harness.registry.resolve``) is a name, not an import: the layer that uses the
spec imports it."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "harness"
RAY_AT_THE_EDGE = {
    "harness.worker",
    "harness.executors",
    "harness.sweep.phases",
    "harness.sweep.adapters",
    "harness.sweep.progress",
    "harness.sweep.trial",
    "harness.sweep.tracked",
    "harness.sweep.cli",
    "harness.cluster",
}
MODEL_CODE = (
    "torch",
    "transformers",
    "peft",
    "harness.heads",
    "harness.objectives",
    "harness.model",
    "harness.train",
    "harness.run",
    "harness.worker",
    "harness.sweep",
    "harness.backbones",
)

# ARCHITECTURE.md's layers, the floor first: a module imports only from its own layer or below.
# Command lines (``__main__`` modules) sit on top and may import anything.
LAYERS = [
    ("harness", "harness.registry", "harness.pareto", "harness.files"),
    ("harness.config",),
    ("harness.data", "harness.stereotype", "harness.prompts"),
    ("harness.space",),
    (
        "harness.backbones",
        "harness.model",
        "harness.heads",
        "harness.objectives",
        "harness.precision",
        "harness.device",
    ),
    ("harness.batching", "harness.checkpoint", "harness.train", "harness.evaluate", "harness.metrics", "harness.run"),
    ("harness.records", "harness.provenance", "harness.rates", "harness.cost", "harness.tracking"),
    ("harness.worker", "harness.executors", "harness.sweep", "harness.cluster", "harness.console"),
    ("harness.report", "harness.stats", "harness.two_level", "harness.seed_stats", "harness.plan"),
]


def module_name(path: Path, root: Path = ROOT) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def imports(source: str, module: str, is_package: bool, known: set[str]) -> dict[str, int]:
    """What ``module``'s ``source`` imports, every form and at any depth: the imported module (a
    name in ``known`` where it is one, else the top-level package for an outside one) -> the line."""
    package = module if is_package else module.rpartition(".")[0]
    found: dict[str, int] = {}

    def add(target: str, line: int) -> None:
        while target.startswith("harness") and target not in known and "." in target:
            target = target.rpartition(".")[0]  # harness.x.Name -> harness.x
        found.setdefault(target if target.startswith("harness") else target.split(".")[0], line)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from ..y import z
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:  # from harness import stats: the module harness.stats
                full = f"{base}.{alias.name}"
                add(full if full in known else base, node.lineno)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """Every module of the package -> what it imports (``imports``), itself left out."""
    paths = {module_name(p, package.parent): p for p in package.rglob("*.py")}
    known = set(paths)
    return {
        m: {t: line for t, line in imports(p.read_text(), m, p.name == "__init__.py", known).items() if t != m}
        for m, p in paths.items()
    }


def layer(module: str) -> int:
    """The layer of the longest matching prefix (harness.config.data in harness.config)."""
    matches = [
        (len(prefix), i)
        for i, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py's LAYERS (nor ARCHITECTURE.md's)")
    return max(matches)[1]


def command_line(module: str) -> bool:
    return module.endswith(".__main__")


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


GRAPH = import_graph()


def test_the_graph_sees_every_import_form():
    source = (
        "import harness.records\nimport harness.report.table as t\nfrom harness import stats\n"
        "from harness.config.train import TrainConfig\nfrom . import compare\nfrom .collect import load\n"
        "def f():\n    from harness.heads import build_head\n    import torch\n"
    )
    known = {
        "harness",
        "harness.records",
        "harness.report",
        "harness.report.table",
        "harness.stats",
        "harness.config",
        "harness.config.train",
        "harness.report.compare",
        "harness.report.collect",
        "harness.heads",
    }
    assert set(imports(source, "harness.report.x", False, known)) == {
        "harness.records",
        "harness.report.table",
        "harness.stats",
        "harness.config.train",
        "harness.report.compare",
        "harness.report.collect",
        "harness.heads",
        "torch",
    }
    assert set(imports("from . import stats", "harness", True, {"harness", "harness.stats"})) == {"harness.stats"}


def test_no_module_imports_from_a_layer_above_its_own():
    wrong = [
        f"{module} (layer {layer(module) + 1}) imports {target} (layer {layer(target) + 1}) at line {line}"
        for module, targets in sorted(GRAPH.items())
        if not command_line(module)
        for target, line in targets.items()
        if target.startswith("harness") and not command_line(target) and layer(target) > layer(module)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_command_line_is_imported_by_a_module_below_it():
    wrong = [
        f"{module} imports the command line {target}"
        for module, targets in GRAPH.items()
        if not command_line(module)
        for target in targets
        if command_line(target)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    assert not cycles(GRAPH), "\n".join(" -> ".join(c) for c in cycles(GRAPH))


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 9}, "d": {"a": 1}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_ray_is_imported_only_at_the_edge():
    found = {m for m, targets in GRAPH.items() if "ray" in targets and not command_line(m)}
    assert found <= RAY_AT_THE_EDGE, sorted(found - RAY_AT_THE_EDGE)


def test_the_config_layer_imports_no_model_code():
    for module, targets in GRAPH.items():
        if module.startswith(("harness.config", "harness.space")) or module == "harness.registry":
            wrong = [t for t in targets if t.startswith(MODEL_CODE)]
            assert not wrong, f"{module} imports {wrong}"


def _defined_and_imported(path: Path) -> tuple[set[str], dict[str, str]]:
    """A module's top-level names: those it defines, and those it imports from harness (name -> module)."""
    defined, imported = set(), {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness"):
            imported |= {a.asname or a.name: node.module for a in node.names}
    return defined, imported


def test_every_import_names_the_package_that_defines_the_name():
    """``from harness.x import Name`` where harness.x only imported Name from another package (a
    re-export) hides the owner; a package's ``__init__`` may present its own modules' names."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    names = {m: _defined_and_imported(p)[1] for m, p in paths.items()}

    def owner(module: str, name: str) -> str:
        for _ in range(10):
            source = names.get(module, {}).get(name)
            if source is None or f"{module}.{name}" in paths or source not in paths:
                return module
            module = source
        return module

    wrong = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in paths:
                for alias in node.names:
                    home = owner(node.module, alias.name)
                    if home != node.module and not home.startswith(node.module + "."):
                        wrong.append(
                            f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} from {node.module}, "
                            f"defined in {home}"
                        )
    assert not wrong, "\n".join(wrong)


def _loaded(module: str) -> set[str]:
    code = (
        f"import sys, {module}; print(' '.join(m for m in ('torch', 'transformers', 'peft', 'ray') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module",
    [
        "harness.config",
        "harness.space",
        "harness.registry",
        "harness.files",
        "harness.config.backbones",
        "harness.config.datasets",
        "harness.console",
    ],
)
def test_configs_and_search_spaces_load_without_torch_or_ray(module):
    assert _loaded(module) == set(), module


def test_the_report_loads_without_ray():
    assert "ray" not in _loaded("harness.report")
