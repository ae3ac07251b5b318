"""One trial's whole configuration (torch-free): data set, backbone, sampling, stereotype
measurement and training. ``harness.run.run`` runs it; a search space resolves to one per
trial (``harness.space.SweepSpec.run_config``), and its ``to_dict`` is what the config id hashes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from harness.config.backbones import BACKBONES, DEFAULT_BACKBONE
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.datasets import get_dataset
from harness.config.heads import DEFAULT_LR, get_head
from harness.config.train import TrainConfig


def default_lr(head: str, backbone: str) -> float:
    """Adafactor's learning rate where a configuration leaves ``lr`` null, the one home of that
    default: the backbone's own measured value where its registry entry has one (``BackboneSpec.lr``:
    by head name, then the preset's base head, then the head's family), else the paper's (§4.1.4:
    0.5 prompt-based, 0.005 adapter-based, set for T5 with ``scale_parameter`` off); 0 for a head
    with nothing to train. ``RunConfig`` fills a null ``train.lr`` with it, as it alone knows both."""
    spec = get_head(head)
    measured = BACKBONES[backbone].lr if backbone in BACKBONES else {}
    for name in (head, spec.base, spec.family):  # the head's own value, its base head's, its family's
        if name in measured:
            return measured[name]
    return DEFAULT_LR[spec.family]


@dataclass(frozen=True)
class RunConfig:
    dataset: str = "movielens-100k"
    data_dir: str | None = None  # None: $HARNESS_DATA_DIR or the user cache
    backbone: str = DEFAULT_BACKBONE  # a registered name, a local directory or a hub id
    max_tokens: int = 512  # prompt budget; oldest history dropped first
    sample: SampleConfig = field(default_factory=SampleConfig)
    stereotype: StereotypeConfig = field(default_factory=StereotypeConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        get_dataset(self.dataset)
        if self.max_tokens < 16:
            raise ValueError(f"max_tokens must be >= 16, got {self.max_tokens}")
        lr = default_lr(self.train.head, self.backbone)
        if self.train.lr is None and lr > 0:  # the backbone's default, written into the config and record
            object.__setattr__(self, "train", self.train.with_lr(lr))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "data_dir": self.data_dir,
            "backbone": self.backbone,
            "max_tokens": self.max_tokens,
            "sample": self.sample.to_dict(),
            "stereotype": dataclasses.asdict(self.stereotype),
            "train": self.train.to_dict(),
        }
