"""Where training stands after an epoch (``FitState``: what early stopping and a resumed run need)
and the checkpoint of it: a snapshot of the head's weights, the optimizer, the random generators
and the objectives' state, from which ``harness.train.fit`` continues with the same numbers as an
uninterrupted run. ``run``: ``fit``'s working parts (``harness.train._Run``)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, fields

import torch


@dataclass
class FitState:
    """Where training stands after an epoch: what early stopping and a resumed run need."""

    epoch: int = 0
    history: list = field(default_factory=list)  # one record per epoch
    best: float = -math.inf  # the best validation AUC so far
    best_state: dict | None = None  # the head's weights at that epoch
    steps: int = 0
    stale: int = 0  # epochs since the best one
    stopped: bool = False  # early stopping said so


def snapshot(state: FitState, run) -> dict:
    """A copy that later training cannot change (optimizer.state_dict() aliases live tensors)."""
    model = run.model
    return copy.deepcopy(
        {
            **{f.name: getattr(state, f.name) for f in fields(FitState)},
            "model": model.trainable_state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "generator": run.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            # a GPU run's dropout (LoRA's) draws from the GPU's generator
            "cuda_rng": torch.cuda.get_rng_state_all() if model.device.type == "cuda" else None,
            "objectives": {name: o.state_dict() for name, o in run.objectives.items()},
            **({"scaler": run.scaler.state_dict()} if run.scaler is not None else {}),
        }
    )


def restore(snapshot: dict, run) -> FitState:
    run.model.load_state_dict(snapshot["model"], strict=False)
    run.optimizer.load_state_dict(snapshot["optimizer"])
    run.generator.set_state(snapshot["generator"])
    torch.set_rng_state(snapshot["torch_rng"])
    if snapshot.get("cuda_rng") is not None and run.model.device.type == "cuda":
        torch.cuda.set_rng_state_all(snapshot["cuda_rng"])
    for name, objective in run.objectives.items():
        objective.load_state_dict(snapshot["objectives"].get(name, {}))
    if run.scaler is not None and "scaler" in snapshot:
        run.scaler.load_state_dict(snapshot["scaler"])
    return FitState(**{f.name: snapshot[f.name] for f in fields(FitState)})
