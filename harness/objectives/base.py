"""The objective registry: L = L_rec + sum_k lambda_k L_k (Eq. 14, Table 4).

An objective turns a batch's model output into a scalar to minimise. Objectives
that need data-wide statistics get them once from the training split
(``fit``); objectives with their own parameters (UP5's discriminator) update them
inside ``loss`` when ``training`` is True.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from harness.model import Batch, Output, Recommender
from harness.registry import Registry


class Objective:
    """Base class; subclasses set ``config`` (a frozen dataclass with a ``weight``)."""

    needs_group_prompts = False   # True when it reads the multi-stereotype prompts

    @property
    def needs_aux(self) -> tuple[str, ...]:
        """The head's auxiliary tensors (``Head.aux``) this objective reads; checked against
        the head when a configuration is built (``check_head``), so a mismatch is refused
        before any training starts."""
        return ()

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


@dataclass(frozen=True)
class ObjectiveSpec:
    name: str
    cls: type[Objective]
    config_cls: type
    description: str


OBJECTIVES: Registry[ObjectiveSpec] = Registry("objective")


def register(spec: ObjectiveSpec) -> ObjectiveSpec:
    return OBJECTIVES.register(spec.name, spec)


def get_objective(name: str) -> ObjectiveSpec:
    return OBJECTIVES.get(name)


def build_objective(name: str, **options) -> Objective:
    spec = get_objective(name)
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown option(s) {unknown}; valid: {sorted(known)}")
    return spec.cls(spec.config_cls(**options))


def check_head(name: str, objective: Objective, head: str) -> None:
    """Refuse an objective that reads what the registered head ``head`` does not give
    (``div`` on a head without experts), naming the heads that would do."""
    from harness.heads import HEADS, get_head

    missing = [a for a in objective.needs_aux if a not in get_head(head).head_cls.aux]
    if missing:
        heads_with = sorted(h for h, s in HEADS.items() if set(objective.needs_aux) <= set(s.head_cls.aux))
        raise ValueError(f"objective {name!r} needs the head's {', '.join(missing)}, which head {head!r} does not "
                         f"have (heads that do: {', '.join(heads_with) or 'none'}); drop {name!r} from this arm's "
                         "objectives or use one of those heads")


def check_weight(name: str, weight: float) -> None:
    if not weight >= 0:
        raise ValueError(f"objective {name!r}: weight (lambda) must be >= 0, got {weight}")
