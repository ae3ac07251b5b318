"""Where a trial trains, behind one interface, chosen once per sweep (``executor_for``; their
names are registered in ``harness.config.sweep.EXECUTORS``):

- ``TorchTrainerExecutor`` (``resources.executor: torch_trainer``): a Ray Train TorchTrainer
  per trial, any number of workers (data parallel); its workers take the CPUs and GPUs.
- ``TuneTrialExecutor`` (``tune_trial``): in the Tune trial's own process, which Tune keeps
  from trial to trial, so a trial pays no Train controller, worker process or imports (one
  worker; ``benchmarks/README.md`` measures both).

Both run ``harness.worker.train_loop`` with the same loop config, so they give the same
numbers (``tests/test_sweep.py``). Ray is imported inside, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.config.run import RunConfig
from harness.config.sweep import EXECUTORS, Resources
from harness.records import TrialJob
from harness.registry import resolve


@dataclass(frozen=True)
class TuneTrialExecutor:
    resources: Resources
    storage: str  # unused: the trial's checkpoints go through Tune's own storage

    def trial_resources(self) -> dict:
        """What the Tune trial asks for: its one worker's CPUs and GPUs (it trains itself)."""
        return {"cpu": self.resources.cpus_per_worker, "gpu": self.resources.gpus_per_worker}

    def run(self, job: TrialJob, run_config: RunConfig, results: str) -> None:
        from harness.worker import TrialReporter, make_loop_config, release_memory, train_loop

        try:
            train_loop(
                make_loop_config(run_config, job, results),
                TrialReporter(threads=max(1, int(self.resources.cpus_per_worker))),
            )
        finally:
            release_memory()  # the process is kept for the next trial


@dataclass(frozen=True)
class TorchTrainerExecutor:
    resources: Resources
    storage: str  # where Ray Train keeps the trial's checkpoints

    def trial_resources(self) -> dict:
        """The Train workers take the CPUs and GPUs, so the Tune trial itself asks for none."""
        return {"cpu": 0, "memory": 1}

    def run(self, job: TrialJob, run_config: RunConfig, results: str) -> None:
        from ray.train import FailureConfig, ScalingConfig
        from ray.train import RunConfig as TrainRunConfig
        from ray.train.torch import TorchTrainer
        from ray.tune.integration.ray_train import TuneReportCallback

        from harness.worker import make_loop_config, train_loop

        r = self.resources
        TorchTrainer(
            train_loop,
            train_loop_config=make_loop_config(run_config, job, results),
            scaling_config=ScalingConfig(
                num_workers=r.workers,
                use_gpu=r.gpus_per_worker > 0,
                resources_per_worker={"CPU": r.cpus_per_worker, "GPU": r.gpus_per_worker},
            ),
            # named after the trial key, so a resumed trial continues from its last epoch checkpoint
            run_config=TrainRunConfig(
                name=f"train-{job.key}",
                storage_path=self.storage,
                callbacks=[TuneReportCallback()],
                failure_config=FailureConfig(max_failures=0),
            ),
        ).fit()


def executor_for(resources: Resources, storage: str):
    """The executor ``resources.executor`` names in ``harness.config.sweep.EXECUTORS`` (``Resources``
    has checked the name)."""
    return resolve(EXECUTORS[resources.executor])(resources, storage)
