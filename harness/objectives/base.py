"""The objective registry: L = L_rec + sum_k lambda_k L_k (Eq. 14, Table 4).

An objective turns a batch's model output into a scalar to minimise. Objectives
that need data-wide statistics get them once from the training split
(``fit``); objectives with their own parameters (UP5's discriminator) update them
inside ``loss`` when ``training`` is True.
"""

from __future__ import annotations

import torch

from harness.config.objectives import (
    get_objective,
    objective_options,
    requires,
)
from harness.model import Batch, Output, Recommender


class Objective:
    """Base class; subclasses set ``config`` (a frozen dataclass with a ``weight``)."""

    needs_group_prompts = False  # True when it reads the multi-stereotype prompts

    @property
    def needs_aux(self) -> tuple[str, ...]:
        """The head's auxiliary tensors this objective reads (its options' ``requires``; checked
        against the head's ``provides`` when a configuration is built)."""
        return requires(self.config)

    def __init__(self, config):
        self.config = config

    def fit(self, prepared, train_mask) -> None:
        """Statistics from the training split (``prepared``: harness.data.prepare.Prepared)."""

    def loss(self, model: Recommender, batch: Batch, out: Output, training: bool) -> torch.Tensor:
        raise NotImplementedError

    def sample_weight(self, batch: Batch) -> torch.Tensor | None:
        """Per-sample weights for L_rec (B,), or None. Only sample-reweighting methods set it."""
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def build_objective(name: str, **options) -> Objective:
    """A fresh objective of registered ``name`` with options (parsed and validated here)."""
    return make_objective(name, objective_options(name, **options))


def make_objective(name: str, config) -> Objective:
    """A fresh objective of registered ``name`` from its parsed options (``TrainConfig.objective_configs``)."""
    return get_objective(name).cls(config)
