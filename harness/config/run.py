"""One trial's whole configuration (torch-free): data set, backbone, sampling, stereotype
measurement and training. ``harness.run.run`` runs it; a search space resolves to one per
trial (``harness.space.SweepSpec.run_config``), and its ``to_dict`` is what the config id hashes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.config.backbones import DEFAULT_BACKBONE
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.train import TrainConfig, default_lr
from harness.config.datasets import get_dataset


@dataclass(frozen=True)
class RunConfig:
    dataset: str = "movielens-100k"
    data_dir: str | None = None               # None: $HARNESS_DATA_DIR or the user cache
    backbone: str = DEFAULT_BACKBONE          # a registered name, a local directory or a hub id
    max_tokens: int = 512                     # prompt budget; oldest history dropped first
    sample: SampleConfig = field(default_factory=SampleConfig)
    stereotype: StereotypeConfig = field(default_factory=StereotypeConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        get_dataset(self.dataset)
        if self.max_tokens < 16:
            raise ValueError(f"max_tokens must be >= 16, got {self.max_tokens}")
        lr = default_lr(self.train.head, self.backbone)
        if self.train.lr is None and lr > 0:   # the backbone's default, written into the config and record
            object.__setattr__(self, "train", self.train.with_lr(lr))

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "data_dir": self.data_dir, "backbone": self.backbone,
                "max_tokens": self.max_tokens, "sample": self.sample.to_dict(),
                "stereotype": dataclasses.asdict(self.stereotype), "train": self.train.to_dict()}
