"""What one trial does inside a Ray Train worker (or, with ``executor: tune_trial``,
in the Tune trial's own process): train with per-epoch checkpoints, test, and write
the trial's record. Ray's reporting API has changed several times, so every call to
it goes through ``Reporter`` (``TrialReporter`` for Tune).

Ray Train's controller unpickles ``train_loop`` and its config in a fresh process for
every trial, so this module imports only what a record needs at the top, and the run
config travels pickled: the models, heads and data code (transformers, peft: 2.3 s
here) are imported by the worker alone (``benchmarks/README.md``, Ray's cost).
"""

from __future__ import annotations

import os
import pickle
import resource
import tempfile
import time
import traceback
from pathlib import Path

import torch

from harness.config.train import VALID_METRICS
from harness.data.paths import check_present
from harness.data.schema import DataError
from harness.provenance import provenance
from harness.records import Store, TrialJob, TrialRecord
from harness.registry import resolve

CHECKPOINT_FILE = "state.pt"


class Reporter:
    """The one place that talks to Ray Train: checkpoints in, metrics and checkpoints out."""

    def __init__(self):
        import ray.train

        self._train = ray.train
        self.context = ray.train.get_context()

    @property
    def rank(self) -> int:
        return self.context.get_world_rank()

    @property
    def world_size(self) -> int:
        return self.context.get_world_size()

    @property
    def node(self) -> dict:
        """The Ray node this worker runs on: a cluster run's records say which machine did what."""
        import ray

        return {"id": ray.get_runtime_context().get_node_id(), "ip": ray.util.get_node_ip_address()}

    @property
    def device(self) -> str:
        """The GPU Ray Train gave this worker (``resources.gpus_per_worker`` > 0), else the CPU."""
        import ray.train.torch

        return str(ray.train.torch.get_device())

    def resume_state(self) -> dict | None:
        checkpoint = self._train.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as folder:  # onto the CPU: fit moves it to the model's device
            return torch.load(Path(folder) / CHECKPOINT_FILE, weights_only=False, map_location="cpu")

    def report(self, metrics: dict, state: dict | None = None) -> None:
        if state is None or self.rank != 0:
            self._train.report(metrics)
            return
        with tempfile.TemporaryDirectory() as folder:
            torch.save(state, Path(folder) / CHECKPOINT_FILE)
            self._train.report(metrics, checkpoint=self._train.Checkpoint.from_directory(folder))


class TrialReporter(Reporter):
    """The same calls answered by Tune, for a trial that trains in the Tune trial's own
    process (``resources.executor: tune_trial``): one worker, the trial's GPU if it has one."""

    def __init__(self, threads: int):
        from ray import tune

        self._train = tune
        torch.set_num_threads(threads)  # the trial's CPUs (a reused process keeps its setting)

    rank, world_size = 0, 1

    @property
    def device(self) -> str:
        import ray

        return "cuda" if ray.get_gpu_ids() else "cpu"


def release_memory() -> None:
    """After a trial in a reused process: free what it left (the backbone, the
    activations) and hand the freed heap back to the system (glibc keeps it otherwise),
    so the next trial starts from the same footprint."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    trim = getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", None)  # glibc only
    if trim is not None:
        trim(0)


def load_backbone_for(name: str, prepared, seed: int = 0):
    """A registered/local/hub backbone, or for smoke runs a tiny random test-fixture model
    whose word-level vocabulary covers the prepared data."""
    from harness.config.backbones import BACKBONES

    if name in BACKBONES and BACKBONES[name].fixture is not None:
        from harness.config.datasets import get_dataset
        from harness.data.encode import prompt_keys, render_prompts

        words = get_dataset(prepared.samples.dataset).group_words
        texts = [render_prompts(prepared.samples, key, words)[0][0] for key in prompt_keys(prepared.samples.groups)]
        make = resolve(BACKBONES[name].fixture)
        return make(texts + [str(t) for t in prepared.samples.titles], seed=seed)
    from harness.backbones import load_backbone

    return load_backbone(name)


def all_reduce_gradients(model) -> None:
    """Data parallelism across Train workers: average the head's gradients (the
    process group is the one Ray Train's TorchTrainer set up)."""
    world = torch.distributed.get_world_size()
    for parameter in model.trainable_parameters():
        if parameter.grad is not None:
            torch.distributed.all_reduce(parameter.grad)
            parameter.grad /= world


def train_loop(loop_config: dict, reporter: Reporter | None = None) -> None:
    """Ray Train's ``train_loop_per_worker``. loop_config (``make_loop_config``): run_config (a
    pickled harness.run.RunConfig), job (the trial's ``TrialJob`` as JSON), results (the store's
    root). reporter: a ``TrialReporter`` when the trial trains in its own process; by default
    Ray Train's."""
    reporter = reporter or Reporter()
    run_config, job = pickle.loads(loop_config["run_config"]), TrialJob.from_json(loop_config["job"])
    store = Store(loop_config["results"])
    started = time.time()
    # stamped at the start: the commit and packages that ran, even when the checkout changes
    # while the trial trains (a long study runs beside other work)
    stamp = provenance()
    try:
        measured, scores = _run(run_config, reporter, job.backbone)
        record = TrialRecord(job, "ok", **measured, seconds=time.time() - started, provenance=stamp)
    except Exception as error:  # recorded as failed, then raised so Ray retries it
        if reporter.rank == 0:
            _write(
                store,
                TrialRecord(
                    job,
                    "failed",
                    error=f"{type(error).__name__}: {error}",
                    traceback=traceback.format_exc(),
                    seconds=time.time() - started,
                    provenance=stamp,
                ),
            )
            flag_missing_data(store, run_config)
        raise
    if reporter.rank == 0:
        _write(store, record, scores)
    reporter.report({**{k: v for k, v in record.metrics.items() if k != "test"}, "finished": 1})


def flag_missing_data(store: Store, run_config) -> None:
    """After a trial failed: when its data set is not there, or not readable, where it ran (a cluster's
    nodes keep their own data), flag it in the store, so the sweep's later trials of that data set
    are not run to fail one by one (``harness.sweep.trial``); the summary names it."""
    try:
        check_present(run_config.dataset, run_config.data_dir)
    except DataError as error:
        store.mark_missing(run_config.dataset, f"DataError: {error}")


def make_loop_config(run_config, job: TrialJob, results: str) -> dict:
    """``train_loop``'s config. The run config is pickled here and unpickled in the worker,
    and the job travels as JSON, so that the controller, which only passes them on, never
    imports the modules they name."""
    return {"run_config": pickle.dumps(run_config), "job": job.to_json(), "results": results}


def _epoch_metrics(epoch: dict) -> dict:
    """What one epoch reports to Tune: its validation metrics, its training loss and the loss's parts."""
    return {**{k: epoch.get(k) for k in VALID_METRICS}, **{k: v for k, v in epoch.items() if k.startswith("train_")}}


def epoch_report(state: dict) -> dict:
    """What a trial reports after an epoch (``state``: fit's snapshot): that epoch's validation
    metrics and training loss (tracking logs it), its number, and the validation AUC of every epoch
    so far (a stopped trial's record keeps them: ``harness.sweep.searcher``)."""
    return {
        **_epoch_metrics(state["history"][-1]),
        "epoch": state["epoch"],
        "valid_auc_by_epoch": [h.get("valid_auc") for h in state["history"]],
    }


def _write(store: Store, record: TrialRecord, scores=None) -> None:
    """The trial's record, unless the sweep has recorded it stopped (ASHA judged an epoch while the
    trial went on: the stop, written first, stands)."""
    done = store.read(record.key)
    if done is None or done.status != "stopped":
        store.write(record, scores)


def _run(run_config, reporter: Reporter, backbone_name: str):
    """harness.run.run with the worker's checkpoints, gradient averaging and data shard."""
    from harness.run import run

    on_epoch = lambda state: reporter.report(epoch_report(state), state)  # noqa: E731
    resume = reporter.resume_state()
    if resume is not None:  # the epoch it continues after, told again: a scheduler judges it as it did before
        reporter.report(epoch_report(resume))
    out = run(
        run_config,
        backbone=lambda prepared: load_backbone_for(backbone_name, prepared, run_config.train.seed),
        log=lambda message: None,
        fit_hooks={
            "resume": resume,
            "on_epoch_end": on_epoch,
            "after_backward": all_reduce_gradients if reporter.world_size > 1 else None,
            "shard": (reporter.rank, reporter.world_size),
        },
        device=reporter.device,
    )
    scores = out.pop("scores")
    out["backbone_kind"] = out.pop("backbone")["kind"]  # the record's job names the backbone asked for
    test = out.pop("test")
    valid = {"valid_auc": out["fit"]["best_valid_auc"], **out["fit"].get("best_valid", {})}  # the best epoch's
    measured = {
        **out,
        "metrics": {**valid, "test": test},
        # the process's peak so far: with tune_trial, earlier trials in the same process count too
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pid": os.getpid(),
        "node": reporter.node,
        "workers": reporter.world_size,
    }
    return measured, scores
