"""One Tune trial (``trial``, a function trainable run in a Ray actor) and a trial's identity:
its ``TrialJob`` (arm, params, seed, phase, and so its key) from Tune's config."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from harness.config.run import RunConfig
from harness.cost import work
from harness.records import Store, TrialJob
from harness.space import SweepSpec
from harness.space.spec import config_id_of


def _work(config) -> tuple[float, float]:
    """The forward passes of one epoch and of the test of a trial (the status line's time left
    weighs them): a training sample costs about 2.5 (forward and backward; the quickstart's
    records: 192 samples in 124 s at 3.8 scored pairs a second), a validation pair one, a test
    pair three (one per prompt setting). Split sizes: ``cost.work``'s."""
    w = work(config)
    if not w.trains:  # nothing to train: validation and test are its work
        return 0.0, w.valid + 3.0 * w.test
    return 2.5 * w.train + w.valid, 3.0 * w.test


def trial(
    config: dict, spec: SweepSpec, results: str, executor, command: str | None = None, space: list[str] | None = None
) -> None:
    """One Tune trial (it runs in a Ray actor): reuse the finished record of its key, or mark it
    running and train it with the sweep's executor, which writes the record. ``command`` and
    ``space`` (the sweep's command line and search-space files, as the driver names them)
    go into the record. A trial whose data set an earlier trial found missing where it ran
    (``worker.flag_missing_data``) is not run: it writes nothing and reports ``not_run`` (its
    selection metrics NaN, which Tune requires, ASHA ignores and Optuna takes as a failed trial);
    the sweep counts it and its summary says why."""
    from ray import tune

    job, run_config = resolve(spec, config, command, space)
    store = Store(results)
    done = store.read(job.key)
    if done is not None and done.ok:
        tune.report({**{k: v for k, v in done.metrics.items() if k != "test"}, "finished": 1, "reused": 1})
        return
    if job.dataset in store.missing():
        tune.report({**dict.fromkeys(spec.selection.metrics, float("nan")), "not_run": 1})
        return
    store.mark_running(job)
    executor.run(job, run_config, results)


def shown(path) -> str:
    """A search-space file as a record names it: relative to the (driver's) working folder when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def resolve(
    spec: SweepSpec, config: dict, command: str | None = None, space: list[str] | None = None
) -> tuple[TrialJob, RunConfig]:
    """A Tune trial's job and run configuration, resolved once from Tune's config: replication and
    resumed trials carry the job as one grid value ({phase, arm, seed, params}); search trials carry
    the searched paths as keys (and their index in the arm's proposals). The job's config id
    hashes this run configuration."""
    config = config.get("job", config)
    arm = spec.arm(config["arm"])
    params = config.get("params") or {k: config[k] for k in spec.search_space(arm) if k in config}
    run_config = spec.run_config(arm, params, config["seed"])
    job = TrialJob(
        experiment=spec.name,
        phase=config["phase"],
        arm=arm.key,
        config_id=config_id_of(arm.key, run_config),
        params=params,
        seed=config["seed"],
        dataset=arm.dataset,
        backbone=spec.backbone,
        head=run_config.train.head,
        objectives=run_config.train.resolved_objectives(),
        smoke=spec.smoke,
        command=command,
        space=space,
        selection=json.loads(json.dumps(dataclasses.asdict(spec.selection))),
        proposal=config.get("proposal"),
    )
    return job, run_config
