"""The sweep's adapters to Ray Tune (Ray is imported here, at the edge): grids as Tune's, one
phase's ``Tuner``, the searcher and ASHA over an arm's ``ArmSearch`` (``harness.sweep.searcher``,
issue 36: proposals and stops that are a function of the history, in place of Tune's
``OptunaSearch`` and ``ASHAScheduler``, whose state lives in the process), and the Tune 2.60
behaviour the sweep works around:

- ``fit``: Tune leaves the SIGINT handler it set for a run in place after the run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time


def quiet() -> None:
    """Tune's own console output off. Its newer output prints its configuration box, results path
    and a TensorBoard hint (into Ray's temporary folder) at every verbosity; its classic reporter
    at verbose 0 prints nothing. On Ctrl-C Tune suggests Tuner.restore(...); this sweep resumes by
    running the same command again, and says so itself."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune.tune").setLevel(logging.ERROR)


def grid(values: list):
    """One grid value per element (Tune runs one trial of each)."""
    from ray import tune

    return tune.grid_search(values)


def tuner(
    trainable,
    resources: dict,
    param_space: dict,
    num_samples: int,
    spec,
    *,
    name: str,
    storage: str,
    concurrency: int,
    verbose: int,
    callbacks: list,
    search_alg=None,
    scheduler=None,
):
    """One phase's ``Tuner`` over ``trainable`` (a function of Tune's config) asking ``resources``, on
    ``spec``'s metric and failure budget."""
    from ray import tune

    metric, mode, max_failures = spec.metric, spec.mode, spec.max_failures

    return tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space=param_space,
        # reuse_actors: the trial actor (which imports the harness, ~5 s here) is kept
        # for the next trial; with executor torch_trainer each trial still gets its own Train
        # controller and workers, with tune_trial the trial trains in this kept process.
        # HARNESS_REUSE_ACTORS=0 turns it off (benchmarks/ray_overhead.py measures both).
        tune_config=tune.TuneConfig(
            search_alg=search_alg,
            scheduler=scheduler,
            num_samples=num_samples,
            max_concurrent_trials=concurrency,
            reuse_actors=os.environ.get("HARNESS_REUSE_ACTORS", "1") != "0",
            **({} if search_alg or scheduler else {"metric": metric, "mode": mode}),
        ),
        # verbose 0: no status box, "Current best trial" lines or TensorBoard hint from Tune;
        # --verbose brings them back
        run_config=tune.RunConfig(
            name=f"{name}-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=storage,
            verbose=verbose,
            failure_config=tune.FailureConfig(max_failures=max_failures),
            callbacks=callbacks,
        ),
    )


def searcher(search):
    """Tune's searcher over an ``ArmSearch`` (``harness.sweep.searcher``): each trial's config is
    its proposal (the searched paths and its index, ``proposal``); None (Tune asks again later)
    while the proposal's window has trials in flight. ``search`` keeps the ``ArmSearch`` for
    ``asha``."""
    from ray.tune.search import Searcher

    from harness.sweep.searcher import DONE, WAIT

    class _Proposals(Searcher):
        def __init__(self):
            super().__init__(metric=search.spec.metric, mode=search.spec.mode)
            self.search, self.trials = search, {}

        def set_search_properties(self, metric, mode, config, **spec):
            return True  # the space is the ArmSearch's

        def suggest(self, trial_id):
            got = search.next()
            if got == WAIT:
                return None
            if got == DONE:
                return Searcher.FINISHED
            index, params = got
            self.trials[trial_id] = index
            return {**params, "proposal": index}

        def on_trial_complete(self, trial_id, result=None, error=False):
            if trial_id in self.trials:
                search.ended(self.trials.pop(trial_id))

        def save(self, checkpoint_path):
            pass  # its state is the ledger and the records; Tune's experiment checkpoint need not hold it

        def restore(self, checkpoint_path):
            pass

    return _Proposals()


def asha(searcher):
    """ASHA's stops on epochs, decided by the ``ArmSearch`` behind ``searcher`` (``ArmSearch.judge``:
    Tune's rule, against the trial's window, from the records), in place of Tune's
    ``ASHAScheduler``, whose rungs hold whichever trials reached them first."""
    from ray.tune.schedulers import FIFOScheduler, TrialScheduler

    class _ASHA(FIFOScheduler):
        def set_search_properties(self, metric, mode, **spec):
            return True

        def on_trial_result(self, tune_controller, trial, result):
            stop = searcher.search.judge(trial.config["proposal"], result)
            return TrialScheduler.STOP if stop else TrialScheduler.CONTINUE

    return _ASHA()


def fit(tuner):
    """``tuner.fit()``, then the SIGINT handler from before it back in place: Tune sets its
    own for the run (Ctrl-C ends the run) and leaves it there when the run ends normally, so
    a Ctrl-C between phases (Ray restarting) would set a flag nobody reads and be lost."""
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    try:
        return tuner.fit()
    finally:
        if main and before is not None:
            signal.signal(signal.SIGINT, before)
