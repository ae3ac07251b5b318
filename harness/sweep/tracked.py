"""The sweep's side of experiment tracking (``harness.tracking``, MLflow; ``--tracking-uri`` or
``tracking:``): on the driver, a Tune callback feeds the ``Tracker`` each trial's epochs as Tune
reports them and its record when Tune ends it; after every phase (and when the sweep ends) every
record whose run has not ended as the record says is completed from the store. So a trial stopped by
ASHA (its record is the sweep's), one whose end a killed driver missed, and one reused on a resume
each get, or keep, exactly one run, found by its trial key.

Ray Tune's own MLflow integration, and where it does not fit: ``MLflowLoggerCallback`` is a
``tune.Callback`` on the driver, as this one is, but it starts one MLflow run per Tune trial, keyed by
Tune's trial id; Tune makes new trials on every resume (a reused trial is one), so a resumed sweep
would log a finished trial again, and it logs Tune's result dicts rather than the record (the test
metrics of each prompt setting, the provenance). ``setup_mlflow`` logs from inside the trial, where
every node of a cluster would have to reach the tracking server and a local store would land on the
node. The harness keeps Tune's callback API and its place on the driver, and drives its own
``Tracker`` (one run per trial key) from it. A tracking error never stops the sweep: it is logged
once, the records stay complete, and the next sync (or run) logs what is missing.
"""

from __future__ import annotations

from harness.records import Store
from harness.space import SweepSpec
from harness.sweep.trial import resolve
from harness.tracking import Tracker, end_status


class Feed:
    """What the sweep tells its ``Tracker``, with the errors of a tracking server kept out of the sweep."""

    def __init__(self, tracker: Tracker, spec: SweepSpec, store: Store, log):
        self.tracker, self.spec, self.store, self.log = tracker, spec, store, log
        self._jobs: dict = {}  # Tune trial id -> its TrialJob
        self._warned = False

    def _call(self, what, *args):
        try:
            return what(*args)
        except Exception as error:  # a server gone, a network hiccup: the records hold everything
            if not self._warned:
                self._warned = True
                self.log(
                    f"tracking ({self.tracker.uri}): {type(error).__name__}: {error}; the sweep goes on, its "
                    "records are complete, and what is missing is logged after the phase or on the next run"
                )
            return None

    def _job(self, trial_id: str, config: dict):
        if trial_id not in self._jobs:
            self._jobs[trial_id] = resolve(self.spec, config)[0]
        return self._jobs[trial_id]

    def epoch(self, trial_id: str, config: dict, result: dict) -> None:
        """One epoch a trial reported (its training loss and validation metrics), logged live."""
        if result.get("epoch") is not None and not result.get("finished"):
            self._call(self.tracker.log_epoch, self._job(trial_id, config), int(result["epoch"]), result)

    def ended(self, trial_id: str, config: dict) -> None:
        """A trial Tune ended: its run completed from its record, when it wrote one."""
        record = self.store.read(self._job(trial_id, config).key)
        if record is not None:
            self._call(self.tracker.finish, record)

    def sync(self, arms) -> None:
        """Every record of ``arms`` whose run has not ended as the record says: completed from it."""
        ended = self._call(self.tracker.ended)
        if ended is None:
            return
        for record in self.store.records():
            if record.job.arm in arms and ended.get(record.key) != end_status(record):
                self._call(self.tracker.finish, record)


def callback(feed: Feed):
    """A Tune callback (Ray is imported here) that drives ``feed``."""
    from ray.tune import Callback

    class _Tracking(Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            feed.epoch(trial.trial_id, trial.config, result)

        def on_trial_complete(self, iteration, trials, trial, **info):
            feed.ended(trial.trial_id, trial.config)

        def on_trial_error(self, iteration, trials, trial, **info):
            feed.ended(trial.trial_id, trial.config)

    return _Tracking()
