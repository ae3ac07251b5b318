"""The sweep's adapters to Ray Tune and Optuna (Ray is imported here, at the edge): a search
space's distributions and grids as Tune's, one phase's ``Tuner``, and the Tune 2.60 behaviours
the sweep works around, each named where it is patched:

- ``fit``: Tune leaves the SIGINT handler it set for a run in place after the run;
- ``optuna_search``, two patches of ``OptunaSearch`` (Ray 2.60.0,
  ``python/ray/tune/search/optuna/optuna_search.py``,
  https://github.com/ray-project/ray/blob/ray-2.60.0/python/ray/tune/search/optuna/optuna_search.py):
  1. ``add_evaluated_point`` gives a warm-start point's rewards to ``optuna.trial.create_trial``
     as one ``value``, which a study over several metrics refuses (it needs ``values``);
  2. ``on_trial_complete`` tells Optuna a trial whose metric is None or NaN as complete (None
     as pruned), which Optuna refuses with a warning (``study.tell`` raises, Tune logs it), so
     the sampler never learns that the configuration failed.
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


def distribution(d):
    """A ``harness.space.Distribution`` as Tune's search-space object (``int`` bounds inclusive)."""
    from ray import tune

    kind, args = d.kind, d.args
    if kind == "loguniform":
        return tune.loguniform(*args)
    if kind == "uniform":
        return tune.uniform(*args)
    if kind == "int":
        return tune.randint(args[0], args[1] + 1)
    return tune.choice(list(args))


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


def asha(spec, epochs: int):
    """Tune's ASHA scheduler as ``spec`` configures it (``spec.scheduler``, on its metric). One report
    per epoch, then one when the record is written: max_t past the last epoch, so ASHA only ever
    stops a trial early, never at its last report."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        metric=spec.metric,
        mode=spec.mode,
        max_t=epochs + 1,
        grace_period=spec.scheduler.grace_period,
        reduction_factor=spec.scheduler.reduction_factor,
    )


def searcher(spec, finished: list, quiet: bool = True):
    """Optuna through Tune (``optuna_search``), on the selection's metric(s), warm-started with the
    ``finished`` search records as the live study saw them: complete with their values where every
    selection metric is defined (an ASHA-stopped trial with its last one), failed where a trial
    failed or a metric is undefined. Returns (the searcher, how many went in complete, failed).

    The sampler's seed is ``searcher_seed`` plus the number of finished trials: TPE draws its
    first configurations at random from its seed alone, so a resumed search seeded as the
    first run would suggest the configurations that run already tried (their records would be
    reused, and the budget never reached)."""
    if quiet:  # "A new study created in memory": the status line says what runs
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    selection = spec.selection
    rows = [selection.values(r.metrics) if r.ok or r.status == "stopped" else [None] for r in finished]
    known = [(r.job.params, row) for r, row in zip(finished, rows, strict=True) if None not in row]
    failed = [r.job.params for r, row in zip(finished, rows, strict=True) if None in row]
    several = selection.several
    search = optuna_search()(
        metric=list(selection.metrics) if several else spec.metric,
        mode=list(selection.modes) if several else spec.mode,
        seed=spec.searcher_seed + len(finished),
        points_to_evaluate=[p for p, _ in known] or None,
        evaluated_rewards=[row if several else row[0] for _, row in known] or None,
        selection=selection,
        failed_points=failed,
    )
    return search, len(known), len(failed)


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


def optuna_search():
    """Tune's OptunaSearch with the two patches of the module docstring, able to take several
    metrics end to end (a factory: Ray is imported here). A warm-start point goes in with
    ``values``; a trial whose selection metric is None or NaN is told as failed, so the sampler
    learns from defined metrics only. ``failed_points``: the parameters of finished trials that
    failed, added as failed trials when the study is made."""
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    class _OptunaSearch(OptunaSearch):
        def __init__(self, *args, selection=None, failed_points=(), **kwargs):
            self._selection, self._failed_points = selection, list(failed_points)
            super().__init__(*args, **kwargs)

        def _setup_study(self, mode):
            super()._setup_study(mode)
            for params in self._failed_points:  # as the live study told them: failed, no value
                self._ot_study.add_trial(
                    optuna.trial.create_trial(
                        state=optuna.trial.TrialState.FAIL, params=params, distributions=self._space
                    )
                )

        def add_evaluated_point(self, parameters, value, error=False, pruned=False, intermediate_values=None):
            if not isinstance(value, list):  # patch 1: several rewards go in as values
                return super().add_evaluated_point(parameters, value, error, pruned, intermediate_values)
            self._ot_study.add_trial(
                optuna.trial.create_trial(
                    state=optuna.trial.TrialState.COMPLETE, values=value, params=parameters, distributions=self._space
                )
            )

        def on_trial_complete(self, trial_id, result=None, error=False):
            if result and self._selection is not None:  # patch 2: an undefined metric is a failed trial
                values = self._selection.values(result)
                if None in values or any(isinstance(v, float) and v != v for v in values):
                    result, error = None, True
                elif not self._selection.several:
                    result = {**result, self.metric: values[0]}
            super().on_trial_complete(trial_id, result, error)

    return _OptunaSearch
