"""The heads' base class and ``build_head``. Their options and registrations live in
``harness.config.heads`` (torch-free); each module of this package holds one head's
``nn.Module``.

A head is an ``nn.Module`` with a frozen dataclass config. It may add soft
prompts before the input (``prefix``) and/or inject adapters into the backbone
(``attach``). Presets (``tallrec``, ``tallrec_pt``) are registered names that
reuse a head class with the paper's settings and default objectives.
"""

from __future__ import annotations

from torch import nn

from harness.backbones.base import Backbone
from harness.config.heads import get_head, validate_config
from harness.model import Batch, Prefix


class Head(nn.Module):
    """Base class. Subclasses set ``config`` and override ``attach`` / ``prefix``."""

    needs_group_prompts = False  # True when the head reads the multi-stereotype prompts
    precision = "fp32"  # autocast of frozen forwards the head runs itself (the Recommender sets it)

    def __init__(self, config):
        super().__init__()
        self.config = config

    def attach(self, backbone: Backbone) -> None:
        """Create parameters that depend on the backbone (hidden size, kind), or inject adapters."""

    def injected_train(self, mode: bool) -> None:
        """Set the modules this head injected into the frozen backbone to train (or eval) mode;
        the ``Recommender`` keeps the rest of the backbone in eval. Most heads inject nothing."""

    def prefix(self, batch: Batch, backbone: Backbone) -> tuple[Prefix, dict]:
        """Soft prompts for this batch and auxiliary tensors for objectives."""
        return Prefix(), {}

    def reset_diagnostics(self) -> None:
        """Start collecting what ``diagnostics`` reports (training calls it at each epoch's
        start and before the test split); heads without diagnostics ignore it."""

    def diagnostics(self) -> dict:
        """What the head saw since ``reset_diagnostics`` (MoS: routing); {} when nothing."""
        return {}

    def pool_diagnostics(self, parts: dict[str, dict]) -> dict:
        """``diagnostics`` of several parts (the test split's prompt settings) in one: the whole's
        and each part's under ``per_setting``; {} for a head without diagnostics."""
        return {}


def build_head(name: str, **options) -> Head:
    """A fresh head of registered ``name`` with config ``options`` (parsed and validated here)."""
    return make_head(name, validate_config(get_head(name), options))


def make_head(name: str, config) -> Head:
    """A fresh head of registered ``name`` from its parsed options (``TrainConfig.head_config``)."""
    return get_head(name).head_cls(config)
