"""The import rules ARCHITECTURE.md states, checked: configs and search spaces load without
torch or Ray, the report without Ray, and Ray is imported only at the edge."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAY_AT_THE_EDGE = {"harness/worker.py", "harness/executors.py", "harness/sweep/phases.py", "harness/sweep/trial.py",
                   "harness/sweep/cli.py", "harness/cluster.py"}


def _loaded(module: str) -> set[str]:
    code = (f"import sys, {module}; print(' '.join(m for m in ('torch', 'transformers', 'peft', 'ray') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["harness.config", "harness.space", "harness.registry",
                                    "harness.config.backbones", "harness.console"])
def test_configs_and_search_spaces_load_without_torch_or_ray(module):
    assert _loaded(module) == set(), module


def test_the_report_loads_without_ray():
    assert "ray" not in _loaded("harness.report")


def test_ray_is_imported_only_at_the_edge():
    pattern = re.compile(r"^\s*(import ray\b|from ray\b)", re.M)
    found = {str(p.relative_to(ROOT)) for p in (ROOT / "harness").rglob("*.py") if pattern.search(p.read_text())}
    assert found <= RAY_AT_THE_EDGE, sorted(found - RAY_AT_THE_EDGE)


def test_the_config_layer_imports_no_model_code():
    pattern = re.compile(r"^\s*(from|import) (torch|transformers|peft|harness\.(heads|objectives|model|train|run|"
                         r"worker|sweep|backbones\.load|backbones\.base))\b", re.M)
    for path in [*(ROOT / "harness" / "config").glob("*.py"), *(ROOT / "harness" / "space").glob("*.py"),
                 ROOT / "harness" / "registry.py"]:
        assert not pattern.search(path.read_text()), path


# ARCHITECTURE.md's layers, top first: a module imports only from its own layer or above
LAYERS = [
    ("harness.registry", "harness.pareto", "harness.files"),
    ("harness.config",),
    ("harness.data", "harness.stereotype", "harness.prompts"),
    ("harness.space",),
    ("harness.backbones", "harness.model", "harness.heads", "harness.objectives", "harness.precision"),
    ("harness.batching", "harness.train", "harness.evaluate", "harness.metrics", "harness.run"),
    ("harness.records", "harness.provenance", "harness.cost"),
    ("harness.worker", "harness.executors", "harness.sweep", "harness.cluster", "harness.console"),
    ("harness.report", "harness.stats", "harness.seed_stats", "harness.plan"),
]


def _layer(module: str) -> int:
    """The layer of the longest matching prefix (harness.config.data before harness.config)."""
    matches = [(len(prefix), i) for i, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1] if matches else -1


def test_no_module_imports_from_a_layer_below_its_own():
    """Command lines (``__main__.py``) sit on top and may import anything."""
    pattern = re.compile(r"^\s*(?:from (harness[\w.]*) import|import (harness[\w.]*))", re.M)
    wrong = []
    for path in (p for p in (ROOT / "harness").rglob("*.py") if p.name != "__main__.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = _layer(module)
        for match in pattern.finditer(path.read_text()):
            target = match.group(1) or match.group(2)
            if target != "harness" and _layer(target) > own:
                wrong.append(f"{module} (layer {own + 1}) imports {target} (layer {_layer(target) + 1})")
    assert not wrong, "\n".join(wrong)
