"""The harness's configs, without torch: validating a search space or a run configuration
imports no model code. One home each:

- ``data``: ``SampleConfig`` (§4.1.1) and ``StereotypeConfig`` (Eq. 1-3)
- ``heads``: every head's options and registration (``HEADS``)
- ``objectives``: every objective's options and registration (``OBJECTIVES``)
- ``train``: ``TrainConfig``
- ``run``: ``RunConfig``, one trial's whole configuration (its ``to_dict`` makes the config id), and
  ``default_lr``, the one home of the learning rate's default (§4.1.4, or the backbone's measured lr)
- ``sweep``: ``Resources`` (and the executors' registry), ``ASHA`` and ``Selection``
- ``datasets``, ``backbones``: the data sets' and backbones' registries (their loaders named, not imported)

``registered()`` lists what every registry holds (``python -m harness --list``).
"""

from harness.config.backbones import list_backbones
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.datasets import DATASETS
from harness.config.heads import list_heads
from harness.config.objectives import OBJECTIVES
from harness.config.run import RunConfig, default_lr
from harness.config.sweep import ASHA, Resources
from harness.config.train import TrainConfig

__all__ = [
    "ASHA",
    "Resources",
    "RunConfig",
    "SampleConfig",
    "StereotypeConfig",
    "TrainConfig",
    "default_lr",
    "registered",
]


def registered() -> list[str]:
    """What the registries hold, one line each: data sets, backbones, heads (with the paper's
    objectives for each), objectives."""
    lines = [
        "data sets:  " + ", ".join(DATASETS),
        "backbones:  " + ", ".join(spec.name for spec in list_backbones()) + " (or a local directory / hub id)",
        "heads:",
    ]
    lines += [
        f"  {spec.name:14s} {spec.description} [objectives: {', '.join(spec.objectives) or 'none'}]"
        for spec in list_heads()
    ]
    return lines + ["objectives:"] + [f"  {name:14s} {spec.description}" for name, spec in sorted(OBJECTIVES.items())]
