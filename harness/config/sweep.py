"""What a sweep's trials run on (torch-free): the resources of one trial, where it trains
(the executor), and the early-stopping scheduler. ``harness.space`` reads them from a search
space's ``resources`` and ``scheduler``; ``harness.sweep`` acts on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


EXECUTORS = ("torch_trainer", "tune_trial")


@dataclass(frozen=True)
class Resources:
    workers: int = 1               # Ray Train workers per trial (DDP when > 1)
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    # Where a trial trains. torch_trainer: a Ray Train TorchTrainer per trial (any number of
    # workers). tune_trial: in the Tune trial's own process, which Tune keeps from trial to
    # trial, so a trial pays no Train controller, worker process or imports (one worker
    # only; benchmarks/README.md measures both).
    executor: Literal[EXECUTORS] = "torch_trainer"

    def __post_init__(self):
        if self.workers < 1 or not self.cpus_per_worker > 0 or self.gpus_per_worker < 0:
            raise ValueError(f"need workers >= 1, cpus_per_worker > 0, gpus_per_worker >= 0; got {self.workers}, "
                             f"{self.cpus_per_worker}, {self.gpus_per_worker}")
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}; got {self.executor!r}")
        if self.executor == "tune_trial" and self.workers != 1:
            raise ValueError(f"executor tune_trial trains in one process: it needs workers: 1, got {self.workers}; "
                             "use executor: torch_trainer for data-parallel trials")


@dataclass(frozen=True)
class ASHA:
    grace_period: int = 1          # epochs a trial runs before it can be stopped (max_t = train.epochs)
    reduction_factor: float = 4.0  # Ray's default

    def __post_init__(self):
        if self.grace_period < 1 or not self.reduction_factor > 1:
            raise ValueError(f"need grace_period >= 1 and reduction_factor > 1, got {self.grace_period}, "
                             f"{self.reduction_factor}")
