"""Training: Adafactor on the head's parameters, L = sum of weighted objectives
(Eq. 14), early stopping on validation AUC (implicit prompts), one ``set_seed``.

No Ray here: this runs and is tested on its own; the sweep calls ``fit``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from transformers.optimization import Adafactor

from harness import precision
from harness.batching import batches
from harness.checkpoint import FitState, restore, snapshot
from harness.config.objectives import get_objective
from harness.config.train import VALID_METRICS, TrainConfig
from harness.data.samples import capped
from harness.evaluate import score, validate
from harness.objectives import make_objective


class TrainingError(RuntimeError):
    """Training failed (NaN loss, no trainable parameters...); the message says where and why."""


def set_seed(seed: int) -> None:
    """The one place seeds are set: Python, NumPy and torch (CPU runs are then bit-identical)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class FitResult:
    epochs: list[dict]  # per epoch: train loss (and its parts), validation metrics, seconds
    best_epoch: int
    best_valid_auc: float
    steps: int
    seconds: float
    train_samples: int | None = None  # this worker's training samples per epoch (None: not recorded)
    valid_samples: int | None = None  # the validation samples selection read
    best_valid: dict = field(default_factory=dict)  # the best epoch's validation metrics (``VALID_METRICS``)


def build_objectives(config: TrainConfig, prepared, train_idx):
    objectives = {name: make_objective(name, options) for name, options in config.objective_configs.items()}
    train_mask = np.zeros(len(prepared.samples), dtype=bool)
    train_mask[train_idx] = True
    for objective in objectives.values():
        objective.fit(prepared, train_mask)
    return objectives


def needs_group_prompts(model, config: TrainConfig) -> bool:
    """Whether batches must carry the multi-stereotype prompts (for the head or an objective)."""
    return model.head.needs_group_prompts or any(
        get_objective(name).cls.needs_group_prompts for name in config.objective_configs
    )


@dataclass(frozen=True)
class TrainingData:
    """What training and validation read, gathered once instead of threaded through every
    call: the prepared samples, their encoded prompts, the tokenizer's pad id, and whether
    batches carry the multi-stereotype prompts (for the head or an objective)."""

    prepared: object  # harness.data.prepare.Prepared
    encoded: dict  # prompt key -> harness.data.encode.Encoded
    pad_id: int
    group_prompts: bool

    def batches(self, indices: np.ndarray, setting: str, batch_size: int, generator: torch.Generator | None = None):
        return batches(
            self.prepared, self.encoded, indices, setting, batch_size, self.pad_id, self.group_prompts, generator
        )

    def scores(self, model, indices: np.ndarray, setting: str, batch_size: int) -> np.ndarray:
        return score(model, self.prepared, self.encoded, indices, setting, batch_size, self.pad_id, self.group_prompts)


@dataclass
class _Run:
    """One ``fit``'s working parts, so the epoch and step functions take one argument."""

    # Any: training_step builds one of the step's parts alone (the rest None)
    model: Any  # the Recommender
    data: Any  # TrainingData
    config: Any  # TrainConfig
    objectives: dict[str, Any]
    optimizer: Any  # Adafactor
    generator: Any  # torch.Generator
    train_idx: Any  # np.ndarray
    valid_idx: Any
    after_backward: Callable[[Any], None] | None = None
    scaler: Any = None  # fp16's torch.amp.GradScaler, else None


def fit(
    model,
    prepared,
    encoded,
    config: TrainConfig,
    pad_id: int,
    log=lambda message: None,
    resume: dict | None = None,
    on_epoch_end=None,
    after_backward=None,
    shard: tuple[int, int] = (0, 1),
) -> FitResult:
    """Train ``model``'s head; on return it holds the weights of the best validation epoch.

    ``on_epoch_end(state)`` receives everything needed to continue after that epoch
    (weights, optimizer, RNG and shuffling state, history; a dict, as a checkpoint holds it);
    ``fit(..., resume=state)`` continues from it and ends with the same numbers as an
    uninterrupted run. ``after_backward(model)`` runs between backward and the optimizer step
    (e.g. to average gradients across data-parallel workers); ``shard=(rank, world_size)``
    trains on that worker's equal share of the training samples.
    """
    set_seed(config.seed)
    precision.check(config.precision, model.device, config.force_precision)  # before any work: a clear refusal
    precision.set_tf32(config.tf32)
    model.precision = config.precision  # the backbone's forwards from here on (and the test's)
    train_idx, valid_idx, objectives = _samples_and_objectives(prepared, config, shard)
    data = TrainingData(prepared, encoded, pad_id, needs_group_prompts(model, config))
    parameters = model.trainable_parameters()
    started = time.perf_counter()
    if not parameters or not objectives:
        log(f"head {config.head!r} has nothing to train; evaluating the frozen model")
        valid = validate(model, data, valid_idx, config)
        return FitResult([], 0, valid["valid_auc"], 0, 0.0, len(train_idx), len(valid_idx), valid)
    optimizer, generator = _optimizer(parameters, config), torch.Generator().manual_seed(config.seed)
    scaler = precision.grad_scaler(config.precision, model.device)
    run = _Run(model, data, config, objectives, optimizer, generator, train_idx, valid_idx, after_backward, scaler)
    state = FitState()
    if resume is not None:
        state = restore(resume, run)
        log(f"resuming after epoch {state.epoch}")
    _epochs(run, state, log, on_epoch_end)
    model.load_state_dict(state.best_state, strict=False)
    return _result(state, time.perf_counter() - started, len(train_idx), len(valid_idx))


def _optimizer(parameters, config: TrainConfig) -> Adafactor:
    """Adafactor as the paper's T5 setting has it: lr an absolute step unless ``scale_parameter``."""
    return Adafactor(
        parameters,
        lr=config.learning_rate,
        relative_step=False,
        scale_parameter=config.scale_parameter,
        warmup_init=False,
    )


def _result(state: FitState, seconds: float, train_samples: int, valid_samples: int) -> FitResult:
    """What ``fit`` returns: the history and the best epoch (the earliest of equal validation AUCs)."""
    best = max(state.history, key=lambda r: (r["valid_auc"], -r["epoch"]))
    return FitResult(
        state.history,
        best["epoch"],
        state.best,
        state.steps,
        seconds,
        train_samples,
        valid_samples,
        {k: best.get(k) for k in VALID_METRICS},
    )


def _samples_and_objectives(prepared, config: TrainConfig, shard: tuple[int, int]):
    """The training samples (capped, then this worker's equal share), the validation samples, and
    the objectives, fitted to the whole (capped) training split."""
    s = prepared.samples
    train_idx = capped(np.flatnonzero(s.mask("train")), config.max_train_samples, config.seed)
    valid_idx = capped(np.flatnonzero(s.mask("valid")), config.valid_cap, config.seed)
    objectives = build_objectives(config, prepared, train_idx)
    rank, world = shard
    # equal shares, so every worker takes the same number of steps (all-reduce needs it)
    return train_idx[: len(train_idx) // world * world][rank::world], valid_idx, objectives


def _epochs(run: _Run, state: FitState, log, on_epoch_end) -> None:
    """The epochs from ``state``'s next one until the last or early stopping."""
    config = run.config
    for epoch in range(state.epoch + 1, config.epochs + 1):
        if state.stopped:
            break
        record = _epoch(run, epoch, state)
        log(
            f"epoch {epoch}/{config.epochs}: loss {record.get('train_loss', float('nan')):.4f}, "
            f"valid AUC {record['valid_auc']:.4f} ({record['seconds']:.1f} s)"
        )
        if state.stopped:
            log(f"early stop: no better validation AUC for {state.stale} epoch(s)")
        if on_epoch_end is not None:
            on_epoch_end(snapshot(state, run))


def _epoch(run: _Run, epoch: int, state: FitState) -> dict:
    """One epoch of training and its validation; updates ``state`` (history, best, early stop)."""
    model, config = run.model, run.config
    started = time.perf_counter()
    model.train()
    model.head.reset_diagnostics()
    totals: dict[str, float] = {}
    n_batches = 0
    for batch in run.data.batches(run.train_idx, config.train_setting, config.batch_size, run.generator):
        parts = _step(run, batch.to(model.device), epoch, state.steps)
        state.steps += 1
        n_batches += 1
        for name, value in parts.items():
            totals[name] = totals.get(name, 0.0) + value
    diagnostics = model.head.diagnostics()  # the training steps' (MoS: routing), before validation
    valid = validate(model, run.data, run.valid_idx, config)
    auc = valid["valid_auc"]
    record = {
        "epoch": epoch,
        **valid,
        "seconds": time.perf_counter() - started,
        **{f"train_{k}": v / max(n_batches, 1) for k, v in totals.items()},
        **({"diagnostics": diagnostics} if diagnostics else {}),
    }
    state.history.append(record)
    state.epoch = epoch
    if auc > state.best or state.best_state is None:
        state.best, state.best_state, state.stale = auc, model.trainable_state_dict(), 0
    else:
        state.stale += 1
        state.stopped = state.stale > config.patience
    return record


def training_step(model, objectives: dict, optimizer, scaler=None, after_backward=None):
    """``fit``'s training step outside ``fit`` (the benchmarks time it): a function of (batch,
    epoch, step) that trains ``model`` on one batch and returns the loss and its parts."""
    run = _Run(model, None, None, objectives, optimizer, None, None, None, after_backward, scaler)
    return lambda batch, epoch, step: _step(run, batch, epoch, step)


def _step(run: _Run, batch, epoch: int, step: int) -> dict[str, float]:
    model, objectives, optimizer = run.model, run.objectives, run.optimizer
    weights = [o.sample_weight(batch) for o in objectives.values()]
    weights = [w for w in weights if w is not None]
    if weights:
        batch.weight = torch.stack(weights).prod(dim=0)
    out = model(batch)
    parts = {name: o.config.weight * o.loss(model, batch, out, training=True) for name, o in objectives.items()}
    loss = sum(parts.values())
    optimizer.zero_grad(set_to_none=True)
    (loss if run.scaler is None else run.scaler.scale(loss)).backward()
    if run.scaler is not None:
        run.scaler.unscale_(optimizer)  # the gradients as they are, for all-reduce and the step
    if run.after_backward is not None:
        run.after_backward(model)
    # The loss and its parts reach the host in one copy: on a GPU each .item() waits for
    # the queued kernels. Checked before the optimizer step, so a NaN never reaches the weights.
    values = dict(zip(["loss", *parts], torch.stack([loss, *parts.values()]).detach().tolist(), strict=True))
    if not math.isfinite(values["loss"]):
        detail = ", ".join(f"{k}={values[k]:.4g}" for k in parts)
        raise TrainingError(
            f"loss is {values['loss']} at epoch {epoch}, step {step + 1} ({detail}); try a lower learning rate"
        )
    if run.scaler is None:
        optimizer.step()
    else:  # skips the step if a gradient overflowed in fp16
        run.scaler.step(optimizer)
        run.scaler.update()
    return values
