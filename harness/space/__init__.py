"""Search-space YAML -> a validated ``SweepSpec`` (issue 4). No Ray and no torch here:
``harness.sweep`` turns the spec's ``Distribution``s into Tune/Optuna objects and its
``run_config`` into trials.

A file may say ``extends: <file>`` (relative to itself; ``extends: null`` extends nothing);
otherwise it extends ``defaults.yaml`` of its folder. Deep merge, parent first: mappings merge
key by key, lists and scalars replace. ``name``, ``description`` and ``paper`` are never
inherited. Everything is checked before any trial starts; a ``SpaceError`` names the file
that set the bad key, the dotted key, what is wrong and the valid choices.
See search_spaces/README.md for the schema.

- ``files``: reading, the ``extends`` chain, the merge with origins, type coercion
- ``schema``: what a file may hold (top-level keys, data and train fields, arms, distributions)
- ``spec``: the ``SweepSpec`` model (arms, search spaces, run configs, config ids)
- ``parse``: a merged file -> a ``SweepSpec`` (``load_spec``)
"""

from harness.space.files import DEFAULTS_FILE, SpaceError, list_files
from harness.space.parse import load_spec
from harness.space.schema import DATA_FIELDS, TRAIN_FIELDS, Arm, Distribution, Method
from harness.space.spec import SweepSpec

__all__ = [
    "DATA_FIELDS",
    "DEFAULTS_FILE",
    "TRAIN_FIELDS",
    "Arm",
    "Distribution",
    "Method",
    "SpaceError",
    "SweepSpec",
    "list_files",
    "load_spec",
]
