"""Proposals that are a function of the history, not of the process (issue 36); no Ray, no torch.

A search's n-th proposal is ``propose(space, history, sampler_seed(...), modes)``: a fresh Optuna
study whose TPE sampler (the one Tune's ``OptunaSearch`` used, for one metric and for several)
is seeded from (the searcher seed, the arm, n), given the finished proposals ``window(n, c)``
(every one at least ``c`` = concurrency before it) in proposal order, then asked once. Nothing
is carried from one proposal to the next but the history, so a sweep resumed after any number
of interruptions proposes exactly what an uninterrupted one would have.

Samplers: TPE (``optuna.samplers.TPESampler``, single and multi-objective) keeps no state
between proposals but its random generator, which is rebuilt here from the seed, and reads
the completed and failed trials in trial-number order, which the replay fixes: it is a function
of the history. NSGA-II (not used) keeps its generations and parents in the trials' system
attributes, which a replay of values and parameters does not restore; CMA-ES likewise keeps its
state in the study. Either would need those attributes recorded to be resumed exactly.

ASHA's stop rule, on epochs (``decision_epochs``, ``asha_stops``): Tune's ``ASHAScheduler``
with one bracket compares a trial, at each rung, with every trial that has reached the rung
so far, which with several trials in flight depends on the order their results arrive. Here a
trial is compared with the trials of its window only, which have all ended before it starts.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.space.schema import Distribution

ATTEMPTS = 100  # draws propose tries for a configuration not proposed before (a small discrete space runs out)
Row = tuple[dict[str, Any], Sequence[float] | None]  # a finished proposal: params, selection values (None: failed)


def sampler_seed(searcher_seed: int, arm: str, index: int, draws: str = "per_arm") -> int:
    """The seed of the sampler that makes proposal ``index`` of ``arm``: a stable hash (SHA-256, not
    Python's salted ``hash``) of the searcher seed, the arm (``draws`` per_arm) or no arm (shared:
    every arm draws the same numbers), and the index, as an unsigned 32-bit integer."""
    stream = [searcher_seed, arm if draws == "per_arm" else None, index]
    return int.from_bytes(hashlib.sha256(json.dumps(stream).encode()).digest()[:4], "big")


def window(index: int, concurrency: int) -> range:
    """The proposals that proposal ``index`` sees: those at least ``concurrency`` before it. With one
    trial at a time, every earlier one; with c in flight, proposal n is asked once 0 .. n - c have
    ended (the sweep waits for them), so what it sees does not depend on which trial ends first."""
    return range(max(0, index - concurrency + 1))


def optuna_distribution(d: Distribution):
    """A search space's ``Distribution`` as Optuna's (``int`` bounds inclusive, as in the YAML)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if d.kind == "choice":
        return CategoricalDistribution(list(d.args))
    if d.kind == "int":
        return IntDistribution(int(d.args[0]), int(d.args[1]))
    return FloatDistribution(float(d.args[0]), float(d.args[1]), log=d.kind == "loguniform")


def propose(
    space: dict[str, Distribution],
    history: Sequence[Row],
    seed: int,
    modes: Sequence[str],
    avoid: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The next configuration of ``space`` (path -> distribution, in the file's order), given
    ``history`` (the finished proposals it sees, in proposal order: their params and selection
    values, None for a failed trial or an undefined metric) and the sampler's ``seed``; ``modes``:
    "max"/"min" per selection metric. Not one of ``avoid`` (the arm's earlier proposals: a repeat
    would reuse that trial's record and spend the budget on nothing) while the sampler's next
    draws, up to ``ATTEMPTS``, find another. The same arguments give the same proposal, in any
    process."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a study per proposal: no "study created" lines
    distributions = {path: optuna_distribution(d) for path, d in space.items()}
    study = optuna.create_study(
        directions=["maximize" if m == "max" else "minimize" for m in modes],
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    for params, values in history:
        known = {p: v for p, v in params.items() if p in distributions}
        state = optuna.trial.TrialState.FAIL if values is None else optuna.trial.TrialState.COMPLETE
        try:
            trial = optuna.trial.create_trial(
                state=state,
                params=known,
                distributions={p: distributions[p] for p in known},
                values=None if values is None else [float(v) for v in values],
            )
        except ValueError:  # a value outside today's space (the file changed since): not evidence about it
            continue
        study.add_trial(trial)
    for _ in range(ATTEMPTS):  # asked, never told: TPE reads complete and failed trials only
        params = dict(study.ask(distributions).params)
        if params not in avoid:
            break
    return params


def decision_epochs(grace_period: int, reduction_factor: float, epochs: int) -> list[int]:
    """The epochs at which ASHA may stop a trial: its rungs grace_period * reduction_factor ** k,
    as Tune places them (``max_t`` one past the last epoch), each at the first epoch on or after it."""
    max_t = epochs + 1
    rungs = int(np.log(max_t / grace_period) / np.log(reduction_factor) + 1)  # Tune's _Bracket, to the bit
    return sorted({math.ceil(grace_period * reduction_factor**k - 1e-9) for k in range(rungs)} & set(range(1, max_t)))


def asha_stops(value: float, others: Sequence[float], reduction_factor: float, mode: str) -> bool:
    """Whether a trial whose metric is ``value`` at a rung is stopped there, against ``others``
    (the values at the same rung of the trials it is compared with): Tune's ASHA rule, below the
    (1 - 1 / reduction_factor) quantile of the others (``np.nanpercentile``), in the metric's
    better direction; with no others it goes on."""
    if not others:
        return False
    sign = 1.0 if mode == "max" else -1.0
    cutoff = np.nanpercentile([sign * v for v in others], (1 - 1 / reduction_factor) * 100)
    return bool(sign * value < cutoff)
