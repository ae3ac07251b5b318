"""The sweep's status feed: one phase's ``SweepStatus`` (``harness.console``) fed from Tune's
callbacks and shown on the console, and which trials Tune ended without a record (ASHA's)."""

from __future__ import annotations

from harness.console import Console, SweepStatus


def Progress(status: SweepStatus, console: Console, results: str):  # noqa: N802  a factory: needs Ray imported
    """Feeds one phase's ``SweepStatus`` from Tune's callbacks and shows it on ``console``: on
    every event (a trial started, an epoch reported, a trial ended) and, on a terminal, every
    few seconds in between."""
    from ray.tune import Callback

    class _Progress(Callback):
        def __init__(self):
            self.finished = set()        # trials whose last report said their record was written
            self.ended = 0               # trials Tune completed or ended with an error
            self.early = {}              # trial id -> (config, last result): completed without a record

        def on_trial_start(self, iteration, trials, trial, **info):
            job = trial.config.get("job", trial.config)
            status.start(trial.trial_id, job["arm"], job["seed"])
            console.status(status.render(), event=True)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            status.result(trial.trial_id, result)
            if result.get("finished"):   # the record is written; the trial ends next (an event then)
                self.finished.add(trial.trial_id)
            console.status(status.render(), event=not result.get("finished") or bool(result.get("reused")))

        def on_trial_complete(self, iteration, trials, trial, **info):
            # a trial that ends before its record is written was stopped early (ASHA); a trial cut
            # off by Ctrl-C does not come here (Tune stops it in its clean-up, without callbacks)
            self.ended += 1
            if trial.trial_id not in self.finished:
                self.early[trial.trial_id] = (trial.config, dict(trial.last_result or {}))
            status.end(trial.trial_id, "done" if trial.trial_id in self.finished else "stopped")
            console.status(status.render(), event=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            job = trial.config.get("job", trial.config)
            self.ended += 1
            status.end(trial.trial_id, "failed")
            console.log(f"[{status.phase}] {job['arm']} seed {job['seed']} failed; its record in {results}/trials "
                        "holds the error (--verbose shows the trial's output)")
            console.status(status.render(), event=True)

        def on_step_end(self, iteration, trials, **info):
            console.status(status.render())

    return _Progress()
