"""What the sweep shows: one phase's ``SweepStatus`` (``harness.console``), fed from Tune's
callbacks and shown on the console (and which trials Tune ended without a record, ASHA's), and
the closing summary."""

from __future__ import annotations

from harness.console import Console, SweepStatus
from harness.sweep.trial import _work


def phase_status(
    spec, arms: dict, keys: list[str], name: str, total: int, concurrency: int, plan=None, asha_arm: str | None = None
) -> SweepStatus:
    """The status of a phase of ``total`` trials of the arms ``keys`` (``plan``: how many of each):
    each arm's epochs (0 for an arm with no objective, the frozen LLM, which is only scored) and
    work; a trial's epochs are the longest arm's, or under ASHA the searched arm's."""
    configs = {key: spec.run_config(arms[key], {}, spec.seeds[0]) for key in keys}
    trains = {key: config.train for key, config in configs.items()}
    arm_epochs = {key: (t.epochs if t.resolved_objectives() else 0) for key, t in trains.items()}
    epochs = trains[asha_arm].epochs if asha_arm is not None else max(t.epochs for t in trains.values())
    return SweepStatus(
        name,
        total,
        epochs,
        concurrency,
        arm_epochs=arm_epochs,
        plan=dict(plan or {}),
        costs={key: _work(config) for key, config in configs.items()},
    )


def capacity_note(spec, cluster: dict) -> str | None:
    """A note when the cluster (Ray's resources now) holds less than one trial asks for and the
    search space leaves concurrency to be sized from it."""
    r, cpus, gpus = spec.resources, cluster.get("CPU", 0), cluster.get("GPU", 0)
    fits = cpus >= r.workers * r.cpus_per_worker and gpus >= r.workers * r.gpus_per_worker
    if spec.concurrency is not None or fits:
        return None
    return (
        f"note: the cluster holds {cpus:g} CPU and {gpus:g} GPU now, "
        "less than one trial asks for; an autoscaling cluster adds nodes on demand, but concurrency "
        "is sized now: pass --concurrency N (python -m harness.cluster SPACE CLUSTER.yaml says "
        "how many trials fit at full size)"
    )


def summary(spec, store, arms: dict, results: str, interrupted: str | None, minutes: float) -> list[str]:
    """The closing block: what the records now hold, where they are, how to report them."""
    records = [r for r in store.records() if r.job.arm in arms]
    counts = {s: sum(r.status == s for r in records) for s in ("ok", "failed", "stopped")}
    replicated = [r for r in records if r.job.phase == "replicate"]
    how = "stopped before the end" if interrupted else "finished"
    lines = [f"sweep {spec.name} {how} after {minutes:.1f} min"]
    if interrupted:
        lines.append(f"  {interrupted}; run the same command again to resume (finished trials are kept)")
    lines += [
        f"  trials: {counts['ok']} ok, {counts['failed']} failed, {counts['stopped']} stopped "
        f"({len(replicated)} replication, {len(records) - len(replicated)} search records)",
        f"  records: {results}/trials",
    ]
    if counts["failed"]:
        lines.append(
            "  failed trials keep their error in their record; fix the cause and run the same "
            "command again: finished trials are kept"
        )
    lines.append(
        f"  report: python -m harness.report {results}"
        + (" --allow-smoke" if spec.smoke else "")
        + f"   (writes {results}/report/index.html)"
    )
    return lines


def Progress(status: SweepStatus, console: Console, results: str):  # noqa: N802  a factory: needs Ray imported
    """Feeds one phase's ``SweepStatus`` from Tune's callbacks and shows it on ``console``: on
    every event (a trial started, an epoch reported, a trial ended) and, on a terminal, every
    few seconds in between."""
    from ray.tune import Callback

    class _Progress(Callback):
        def __init__(self):
            self.finished = set()  # trials whose last report said their record was written
            self.ended = 0  # trials Tune completed or ended with an error
            self.early = {}  # trial id -> (config, last result): completed without a record

        def on_trial_start(self, iteration, trials, trial, **info):
            job = trial.config.get("job", trial.config)
            status.start(trial.trial_id, job["arm"], job["seed"])
            console.status(status.render(), event=True)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            status.result(trial.trial_id, result)
            if result.get("finished"):  # the record is written; the trial ends next (an event then)
                self.finished.add(trial.trial_id)
            console.status(status.render(), event=not result.get("finished") or bool(result.get("reused")))

        def on_trial_complete(self, iteration, trials, trial, **info):
            # a trial that ends before its record is written was stopped early (ASHA), or not run
            # (its data set was found missing); a trial cut off by Ctrl-C does not come here (Tune
            # stops it in its clean-up, without callbacks)
            self.ended += 1
            last = dict(trial.last_result or {})
            if trial.trial_id not in self.finished:
                self.early[trial.trial_id] = (trial.config, last)
            if last.get("not_run"):
                job = trial.config.get("job", trial.config)
                console.log(f"[{status.phase}] {job['arm']} seed {job['seed']} not run: its data set is missing")
            status.end(trial.trial_id, "done" if trial.trial_id in self.finished else "stopped")
            console.status(status.render(), event=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            job = trial.config.get("job", trial.config)
            self.ended += 1
            status.end(trial.trial_id, "failed")
            console.log(
                f"[{status.phase}] {job['arm']} seed {job['seed']} failed; its record in {results}/trials "
                "holds the error (--verbose shows the trial's output)"
            )
            console.status(status.render(), event=True)

        def on_step_end(self, iteration, trials, **info):
            console.status(status.render())

    return _Progress()
