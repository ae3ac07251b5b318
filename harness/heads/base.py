"""The head registry: every method the paper trains or compares, by name.

A head is an ``nn.Module`` with a frozen dataclass config. It may add soft
prompts before the input (``prefix``) and/or inject adapters into the backbone
(``attach``). Presets (``tallrec``, ``tallrec_pt``) are registered names that
reuse a head class with the paper's settings and default objectives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from torch import nn

from harness.backbones.base import Backbone
from harness.model import Batch, Prefix
from harness.registry import Registry

Family = Literal["prompt", "adapter", "none"]
# paper §4.1.4: Adafactor learning rate by family
DEFAULT_LR: dict[str, float] = {"prompt": 0.5, "adapter": 0.005, "none": 0.0}


class Head(nn.Module):
    """Base class. Subclasses set ``config`` and override ``attach`` / ``prefix``."""

    needs_group_prompts = False   # True when the head reads the multi-stereotype prompts
    aux: tuple[str, ...] = ()     # the auxiliary tensors ``prefix`` returns, which objectives may need

    def __init__(self, config):
        super().__init__()
        self.config = config

    def attach(self, backbone: Backbone) -> None:
        """Create parameters that depend on the backbone (hidden size, kind), or inject adapters."""

    def prefix(self, batch: Batch, backbone: Backbone) -> tuple[Prefix, dict]:
        """Soft prompts for this batch and auxiliary tensors for objectives."""
        return Prefix(), {}

    def reset_diagnostics(self) -> None:
        """Start collecting what ``diagnostics`` reports (training calls it at each epoch's
        start and before the test split); heads without diagnostics ignore it."""

    def diagnostics(self) -> dict:
        """What the head saw since ``reset_diagnostics`` (MoS: routing); {} when nothing."""
        return {}


@dataclass(frozen=True)
class HeadSpec:
    name: str
    head_cls: type[Head]
    config_cls: type
    family: Family                       # picks the default learning rate (§4.1.4)
    objectives: tuple[str, ...]          # the paper's learning objectives for this method (Table 5)
    description: str
    preset: dict = dataclasses.field(default_factory=dict)   # config values a preset fixes
    base: str | None = None              # for a preset: the head it configures


HEADS: Registry[HeadSpec] = Registry("head", check=lambda name, spec: validate_config(spec, spec.preset))


def register(spec: HeadSpec) -> HeadSpec:
    return HEADS.register(spec.name, spec)


def get_head(name: str) -> HeadSpec:
    return HEADS.get(name)


def validate_config(spec: HeadSpec, values: dict):
    """The head's config from ``values`` over the preset; unknown keys name the valid ones."""
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"head {spec.name!r}: unknown option(s) {unknown}; valid: {sorted(known)}")
    fixed = {k: v for k, v in values.items() if k in spec.preset and v != spec.preset[k]}
    if fixed:
        raise ValueError(f"head {spec.name!r} is a preset that fixes {sorted(fixed)}; "
                         f"use head {spec.base!r} to change them")
    return spec.config_cls(**{**spec.preset, **values})


def build_head(name: str, **options) -> Head:
    """A fresh head of registered ``name`` with config ``options`` (validated)."""
    spec = get_head(name)
    return spec.head_cls(validate_config(spec, options))


def list_heads() -> list[HeadSpec]:
    return [HEADS[name] for name in sorted(HEADS)]

