"""What a sweep's trials run on (torch-free): the resources of one trial, where it trains
(the executor), and the early-stopping scheduler. ``harness.space`` reads them from a search
space's ``resources`` and ``scheduler``; ``harness.sweep`` acts on them."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from harness.config.train import SELECTABLE, SUPPORT
from harness.pareto import select
from harness.registry import Registry

# Where a trial trains: name -> "module:Class" of the executor (harness.executors), imported by the sweep
EXECUTORS: Registry[str] = Registry("executor")
EXECUTORS.register("torch_trainer", "harness.executors:TorchTrainerExecutor")
EXECUTORS.register("tune_trial", "harness.executors:TuneTrialExecutor")


@dataclass(frozen=True)
class Resources:
    workers: int = 1  # Ray Train workers per trial (DDP when > 1)
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    # Where a trial trains. torch_trainer: a Ray Train TorchTrainer per trial (any number of
    # workers). tune_trial: in the Tune trial's own process, which Tune keeps from trial to
    # trial, so a trial pays no Train controller, worker process or imports (one worker
    # only; benchmarks/README.md measures both).
    executor: str = "torch_trainer"  # a name in EXECUTORS

    def __post_init__(self) -> None:
        if self.workers < 1 or not self.cpus_per_worker > 0 or self.gpus_per_worker < 0:
            raise ValueError(
                f"need workers >= 1, cpus_per_worker > 0, gpus_per_worker >= 0; got {self.workers}, "
                f"{self.cpus_per_worker}, {self.gpus_per_worker}"
            )
        if self.executor not in EXECUTORS:
            raise ValueError(f"executor must be one of {', '.join(sorted(EXECUTORS))}; got {self.executor!r}")
        if self.executor == "tune_trial" and self.workers != 1:
            raise ValueError(
                f"executor tune_trial trains in one process: it needs workers: 1, got {self.workers}; "
                "use executor: torch_trainer for data-parallel trials"
            )


@dataclass(frozen=True)
class ASHA:
    grace_period: int = 1  # epochs a trial runs before it can be stopped (max_t = train.epochs)
    reduction_factor: float = 4.0  # Ray's default

    def __post_init__(self) -> None:
        if self.grace_period < 1 or not self.reduction_factor > 1:
            raise ValueError(
                f"need grace_period >= 1 and reduction_factor > 1, got {self.grace_period}, {self.reduction_factor}"
            )


SELECTION_RULES = ("best", "pareto", "knee", "ideal", "constrained")

# How each arm's search draws its random numbers (``searcher_draws``; harness.sweep.proposals):
# per_arm, the default: a stream per arm, seeded from (searcher_seed, arm), so arms searching
# spaces of the same shape do not try the same draws in different places; shared: one stream
# for every arm, as sweeps before issue 36 drew them.
SEARCHER_DRAWS = ("per_arm", "shared")


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Selection:
    """Which search configurations of an arm the replication phase runs, from their validation
    metrics (``metric`` and ``mode`` of a search space, one or several; ``select`` the rest).

    rule: "best" (one metric: the best configuration, as always); with several metrics
    "pareto" (every Pareto-optimal one, the default), "knee" (two metrics: where the front
    bends), "ideal" (nearest the point best on every metric, on the front's scale) or
    "constrained" (the best on ``best`` among those within ``bounds``: metric -> at least the
    bound for a metric to maximize, at most it for one to minimize; in the records' units,
    fractions, not the report's ×100). ``min_support``: a
    configuration whose validation SF rests on fewer recommended targets stereotyped to some
    group (``valid_sf_support``, or ``valid_sf_liked_support`` for ``valid_abs_sf_liked``) has
    no defined SF metric there, as the report flags thin SF on test; it is never selected on an
    SF metric."""

    metrics: tuple[str, ...] = ("valid_auc",)
    modes: tuple[str, ...] = ("max",)
    rule: str = "best"
    best: str | None = None
    bounds: dict[str, float] = field(default_factory=dict)
    min_support: int = 10

    def __post_init__(self) -> None:
        if not self.metrics or len(self.metrics) != len(self.modes):
            raise ValueError(
                f"metric and mode must name as many entries, got {list(self.metrics)} and "
                f"{list(self.modes)}; give mode as a list beside metric's, e.g. metric: [valid_auc, "
                "valid_abs_sf] with mode: [max, min]"
            )
        for metric, mode in zip(self.metrics, self.modes, strict=True):
            if metric not in SELECTABLE:
                signed = f"{metric.replace('valid_sf', 'valid_abs_sf')}" if metric.startswith("valid_sf") else None
                raise ValueError(
                    f"metric {metric!r} cannot be selected on; choose from {', '.join(SELECTABLE)}"
                    + (
                        f" ({metric} is signed, and an SF below 0 is not fairer: select on {signed})"
                        if signed in SELECTABLE
                        else ""
                    )
                )
            if mode != SELECTABLE[metric]:
                raise ValueError(
                    f"{metric} is better when {'higher' if SELECTABLE[metric] == 'max' else 'lower'}: "
                    f"its mode is {SELECTABLE[metric]}, got {mode!r}"
                )
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metric names a metric twice: {list(self.metrics)}")
        self._check_rule()

    def _check_rule(self) -> None:
        """The rule, and what it needs of the metrics, ``best``, ``bounds`` and ``min_support``."""
        if self.rule not in SELECTION_RULES:
            raise ValueError(f"rule must be one of {', '.join(SELECTION_RULES)}, got {self.rule!r}")
        if self.rule == "best" and self.several:
            raise ValueError(
                f"rule best selects on one metric, and metric names {list(self.metrics)}: choose "
                "select: {rule: pareto} (or knee, ideal, constrained), or name one metric"
            )
        if self.rule != "best" and not self.several:
            raise ValueError(
                f"rule {self.rule} weighs several metrics against each other, and metric names one "
                f"({self.metrics[0]}): add one to metric and mode (e.g. metric: [valid_auc, "
                "valid_abs_sf], mode: [max, min]), or use rule best"
            )
        if self.rule == "knee" and len(self.metrics) != 2:
            raise ValueError(f"rule knee needs exactly two metrics, got {list(self.metrics)}")
        if self.rule == "constrained" and (
            self.best not in self.metrics or not self.bounds or not set(self.bounds) <= set(self.metrics) - {self.best}
        ):
            raise ValueError(
                f"rule constrained needs best: one of {list(self.metrics)} and bounds on the others, "
                f"got best {self.best!r}, bounds {self.bounds}"
            )
        for metric, bound in self.bounds.items():
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not 0 <= bound <= 1:
                raise ValueError(
                    f"bounds: {metric}'s bound must be a number in [0, 1], as the records hold it "
                    f"(a fraction, not the report's ×100), got {bound!r}"
                )
        if self.rule != "constrained" and (self.best is not None or self.bounds):
            raise ValueError(f"best and bounds belong to rule constrained, not {self.rule!r}")
        if self.min_support < 1:
            raise ValueError(f"min_support must be >= 1, got {self.min_support}")

    @property
    def several(self) -> bool:
        return len(self.metrics) > 1

    def values(self, row: dict[str, Any] | None) -> list[Any]:
        """A trial's selection metrics (``row``: its validation metrics, name -> value), None where
        undefined: an SF metric resting on fewer than ``min_support`` targets counts as undefined."""
        row = row or {}
        thin = {m: (row.get(SUPPORT[m]) or 0) < self.min_support for m in self.metrics if m in SUPPORT}
        # not finite counts as undefined too: a trial whose validation AUC is undefined reports -inf
        return [None if not _finite(row.get(m)) or thin.get(m) else row[m] for m in self.metrics]

    def choose(self, rows: list[dict[str, Any]]) -> list[int]:
        """The indices of ``rows`` (search records' validation metrics) the rule selects."""
        points = [[float("nan") if v is None else float(v) for v in self.values(row)] for row in rows]
        if not points:
            return []
        maximize = [mode == "max" for mode in self.modes]
        if self.rule == "best":
            return select(points, maximize, "constrained", 0, {})
        index = {m: i for i, m in enumerate(self.metrics)}
        return select(
            points,
            maximize,
            self.rule,
            index.get(self.best or "", 0),
            {index[m]: float(b) for m, b in self.bounds.items()},
        )
