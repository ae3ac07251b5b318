"""The two phases of a sweep (search per arm with Optuna, then replication on every seed)
with Ray Tune; the status line's feed from Tune's callbacks; the closing summary."""

from __future__ import annotations

import collections
import logging
import os
import signal
import threading
import time

from harness.console import Console, SweepStatus
from harness.executors import executor_for
from harness.records import Store, TrialRecord, safe
from harness.space import SweepSpec
from harness.sweep.trial import _grid, _work, resolve, shown, trial


def _tune_distribution(distribution):
    from ray import tune

    kind, args = distribution.kind, distribution.args
    if kind == "loguniform":
        return tune.loguniform(*args)
    if kind == "uniform":
        return tune.uniform(*args)
    if kind == "int":
        return tune.randint(args[0], args[1] + 1)
    return tune.choice(list(args))


class SweepInterrupted(Exception):
    """A phase ended before all its trials did (Ctrl-C, or a lost process); the sweep stops (and
    resumes when run again)."""


class Sweep:
    def __init__(self, spec: SweepSpec, results: str, storage: str, log=None, between_phases=None,
                 console: Console | None = None, verbose: int = 0, command: str | None = None):
        """command: the command line that started the sweep; every record names it (provenance)."""
        self.command = command
        self.console = console or Console()
        self.spec, self.results, self.log, self.verbose = spec, results, log or self.console.log, min(verbose, 2)
        if not self.verbose:
            # Tune's newer console output prints its configuration box, results path and a
            # TensorBoard hint (into Ray's temporary folder) at every verbosity; its classic
            # reporter at verbose 0 prints nothing. The sweep's own status line takes their place.
            os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
            # on Ctrl-C Tune suggests Tuner.restore(...); this sweep resumes by running the same
            # command again, and says so itself (summary)
            logging.getLogger("ray.tune.tune").setLevel(logging.ERROR)
        self.between_phases = between_phases or (lambda: None)
        self.train_storage = storage
        self.store = Store(results)
        self.arms = {arm.key: arm for arm in spec.arms()}
        self.executor = executor_for(spec.resources, storage)     # chosen once: where every trial trains
        self.interrupted: str | None = None      # why the sweep stopped before its end, if it did

    # ---- phases --------------------------------------------------------------------------
    def _tuner(self, name: str, param_space: dict, num_samples: int, search_alg=None, arm=None,
               total: int = 1, arms=(), plan=None):
        """A Tuner for one phase; ``total`` trials of ``arm`` (or of ``arms``; ``plan``: how many of
        each) are expected (for the status line)."""
        from ray import tune

        trainable = tune.with_resources(
            tune.with_parameters(trial, spec=self.spec, results=self.results, executor=self.executor,
                                 command=self.command, space=[shown(path) for path in self.spec.files]),
            self.executor.trial_resources())
        keys = [arm.key] if arm is not None else list(arms) or list(self.arms)
        configs = {key: self.spec.run_config(self.arms[key], {}, self.spec.seeds[0]) for key in keys}
        trains = {key: config.train for key, config in configs.items()}
        # an arm with no objective trains nothing (the frozen LLM): it is only scored
        arm_epochs = {key: (t.epochs if t.resolved_objectives() else 0) for key, t in trains.items()}
        costs = {key: _work(config) for key, config in configs.items()}
        epochs = max(t.epochs for t in trains.values())
        scheduler = None
        if self.spec.scheduler and search_alg is not None:
            from ray.tune.schedulers import ASHAScheduler

            asha = self.spec.scheduler
            epochs = self.spec.run_config(arm, {}, self.spec.seeds[0]).train.epochs
            # one report per epoch, then one when the record is written: max_t past the
            # last epoch, so ASHA only ever stops a trial early, never at its last report
            scheduler = ASHAScheduler(metric=self.spec.metric, mode=self.spec.mode,
                                      max_t=epochs + 1,
                                      grace_period=asha.grace_period, reduction_factor=asha.reduction_factor)
        # kept for _finish: which trials Tune ended (done, failed, or stopped by ASHA)
        self.progress = Progress(SweepStatus(name, total, epochs, self.concurrency, arm_epochs=arm_epochs,
                                             plan=dict(plan or {}), costs=costs), self.console, self.results)
        return tune.Tuner(
            trainable, param_space=param_space,
            # reuse_actors: the trial actor (which imports the harness, ~5 s here) is kept
            # for the next trial; with executor torch_trainer each trial still gets its own Train
            # controller and workers, with tune_trial the trial trains in this kept process.
            # HARNESS_REUSE_ACTORS=0 turns it off (benchmarks/ray_overhead.py measures both).
            tune_config=tune.TuneConfig(search_alg=search_alg, scheduler=scheduler, num_samples=num_samples,
                                        max_concurrent_trials=self.concurrency,
                                        reuse_actors=os.environ.get("HARNESS_REUSE_ACTORS", "1") != "0",
                                        **({} if search_alg or scheduler
                                           else {"metric": self.spec.metric, "mode": self.spec.mode})),
            # verbose 0: no status box, "Current best trial" lines or TensorBoard hint from Tune;
            # --verbose brings them back
            run_config=tune.RunConfig(name=f"{name}-{time.strftime('%Y%m%d-%H%M%S')}",
                                      storage_path=self.train_storage, verbose=self.verbose,
                                      failure_config=tune.FailureConfig(max_failures=self.spec.max_failures),
                                      callbacks=[self.progress]),
        )

    @staticmethod
    def _fit(tuner):
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

    def _finish(self, phase: str, total: int) -> None:
        """After a phase's ``Tuner.fit()``: record the trials the scheduler (ASHA) stopped, then
        stop the sweep if the phase did not end every one of its ``total`` trials.

        A trial ASHA stops ends in Tune (``on_trial_complete``) without writing a record: it gets
        a record, status ``stopped``, with its last validation score, so a restart does not run it
        again. A Ctrl-C makes Tune end the phase and return from ``fit()`` as if it had finished:
        the running trials are cut off (Tune calls no ``on_trial_complete`` for them) and the
        trials not yet started never run. Such trials get no record, only their marker stays
        (the next run continues them from their checkpoints), and the sweep stops here rather
        than select on a partial search or go on to the next phase."""
        running = {job.key for job in self.store.running()}
        for config, last in self.progress.early.values():
            job, _ = resolve(self.spec, config)
            if job.key in running and self.store.read(job.key) is None:
                self.store.write(TrialRecord(job, "stopped", metrics={self.spec.metric: last.get(self.spec.metric)}))
        self._stop_if_unfinished(phase)
        if self.progress.ended < total:
            raise SweepInterrupted(f"{phase} was interrupted after {self.progress.ended} of its {total} trial(s) ended")

    def _records(self, arm_key: str, phase: str | None = None) -> list[TrialRecord]:
        return [r for r in self.store.records()
                if r.job.arm == arm_key and (phase is None or r.job.phase == phase)]

    def search(self, arm) -> list[dict] | None:
        """Phase 1 for one arm; returns the parameters of the configurations the search space's
        selection picks on validation (the best one, or with several metrics its rule's: every
        Pareto-optimal one, the knee, ...), [{}] when nothing is searched, or None when no search
        trial qualifies (every one failed: their records say why)."""
        space = self.spec.search_space(arm)
        if not space:
            return [{}]
        seed = self.spec.seeds[0]
        base = {"phase": "search", "arm": arm.key, "seed": seed}
        pending = [job.params for job in self.store.running() if job.arm == arm.key and job.phase == "search"]
        if pending:
            self.log(f"[{arm.key}] continuing {len(pending)} unfinished search trial(s) from their checkpoints")
            self._fit(self._tuner(f"{safe(arm.key)}-resume", {**base, "params": _grid(pending)}, 1, arm=arm,
                                  total=len(pending)))
            self._finish(f"{arm.key} search", len(pending))
        finished = self._records(arm.key, "search")
        remaining = self.spec.budget - len(finished)
        if remaining > 0:
            searcher = self._searcher(arm, finished)
            self.log(f"[{arm.key}] search: {remaining} of {self.spec.budget} configuration(s) to try")
            param_space = {**base, **{path: _tune_distribution(d) for path, d in space.items()}}
            self._fit(self._tuner(f"{safe(arm.key)}-search", param_space, remaining, searcher, arm=arm,
                                  total=remaining))
            self._finish(f"{arm.key} search", remaining)
        return self._selected(arm, [r for r in self._records(arm.key, "search") if r.ok])

    def _searcher(self, arm, finished: list[TrialRecord]):
        """Optuna through Tune, on the selection's metric(s), warm-started with the finished
        search trials as the live study saw them: complete with their values where every
        selection metric is defined (an ASHA-stopped trial with its last one), failed where a
        trial failed or a metric is undefined.

        The sampler's seed is ``searcher_seed`` plus the number of finished trials: TPE draws its
        first configurations at random from its seed alone, so a resumed search seeded as the
        first run would suggest the configurations that run already tried (their records would be
        reused, and the budget never reached)."""
        if not self.verbose:     # "A new study created in memory": the status line says what runs
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
        selection = self.spec.selection
        rows = [selection.values(r.metrics) if r.ok or r.status == "stopped" else [None] for r in finished]
        known = [(r.job.params, row) for r, row in zip(finished, rows) if None not in row]
        failed = [r.job.params for r, row in zip(finished, rows) if None in row]
        if known or failed:
            self.log(f"[{arm.key}] Optuna warm-started with {len(known) + len(failed)} finished search trial(s)"
                     + (f" ({len(failed)} failed or without a defined selection metric)" if failed else ""))
        several = selection.several
        return _optuna_search()(
            metric=list(selection.metrics) if several else self.spec.metric,
            mode=list(selection.modes) if several else self.spec.mode,
            seed=self.spec.searcher_seed + len(finished),
            points_to_evaluate=[p for p, _ in known] or None,
            evaluated_rewards=[row if several else row[0] for _, row in known] or None,
            selection=selection, failed_points=failed)

    def _selected(self, arm, ok: list[TrialRecord]) -> list[dict] | None:
        selection = self.spec.selection
        chosen = [ok[i] for i in selection.choose([r.metrics for r in ok])]
        if not chosen:
            why = ("every search trial failed" if not ok else
                   f"no search trial has every selection metric defined ({', '.join(selection.metrics)}; an SF "
                   f"needs {selection.min_support} recommended targets per group)" if selection.rule != "constrained"
                   else f"no search trial is within the bounds {selection.bounds}")
            self.log(f"[{arm.key}] {why}, so this arm is not replicated; the search records are in "
                     f"{self.results}/trials")
            return None
        for r in chosen:
            values = ", ".join(f"{m} {r.metrics.get(m)}" if r.metrics.get(m) is None else f"{m} {r.metrics[m]:.4f}"
                               for m in selection.metrics)
            label = "best" if selection.rule == "best" else f"{selection.rule} ({len(chosen)} of {len(ok)})"
            self.log(f"[{arm.key}] {label}: {values} with {r.job.params}")
        return [r.job.params for r in chosen]

    def replicate(self, selected: dict[str, list[dict]]) -> None:
        """Phase 2: every selected configuration of every arm on every seed."""
        jobs = []
        for arm_key, configurations in selected.items():
            for params in configurations:
                for seed in self.spec.seeds:
                    job = {"phase": "replicate", "arm": arm_key, "seed": seed, "params": params}
                    record = self.store.read(resolve(self.spec, job)[0].key)
                    if record is None or not record.ok:
                        jobs.append(job)
        count = sum(len(c) for c in selected.values())
        self.log(f"replication: {len(jobs)} trial(s) to run "
                 f"({count} configuration(s) x {len(self.spec.seeds)} seed(s), finished ones reused)")
        if jobs:
            plan = collections.Counter(job["arm"] for job in jobs)
            self._fit(self._tuner("replicate", {"job": _grid(jobs)}, 1, total=len(jobs), arms=sorted(plan),
                                  plan=plan))
            self._finish("replication", len(jobs))

    def _stop_if_unfinished(self, phase: str) -> None:
        """A phase that ends with trials holding no record (ok, failed or stopped) was interrupted
        (Ctrl-C: Tune ends the phase and returns) or lost their process: the sweep stops here
        rather than go on to the next phase, and says how to resume."""
        unfinished = self.store.running()
        if unfinished:
            raise SweepInterrupted(
                f"{phase} ended with {len(unfinished)} trial(s) that wrote no record (interrupted, or their "
                f"process died): " + ", ".join(f"{job.arm} seed {job.seed}" for job in unfinished[:4])
                + (" …" if len(unfinished) > 4 else ""))

    def run(self) -> None:
        import ray

        self.store.drop_stale_markers()      # a run killed between a record and its marker's deletion
        cluster = ray.cluster_resources()
        self.concurrency = self.spec.max_concurrent(cluster.get("CPU", 1.0), cluster.get("GPU", 0.0))
        self.log(f"experiment {self.spec.name}: {len(self.arms)} arm(s), seeds {self.spec.seeds}, "
                 f"concurrency {self.concurrency}; records in {self.results}/trials")
        r = self.spec.resources
        if self.spec.concurrency is None and (cluster.get("CPU", 0) < r.workers * r.cpus_per_worker
                                              or cluster.get("GPU", 0) < r.workers * r.gpus_per_worker):
            self.log(f"note: the cluster holds {cluster.get('CPU', 0):g} CPU and {cluster.get('GPU', 0):g} GPU now, "
                     "less than one trial asks for; an autoscaling cluster adds nodes on demand, but concurrency "
                     "is sized now: pass --concurrency N (python -m harness.cluster SPACE CLUSTER.yaml says "
                     "how many trials fit at full size)")
        selected = {}
        try:
            for key, arm in self.arms.items():
                found = self.search(arm)
                if found is not None:
                    selected[key] = found
                if self.spec.search_space(arm):   # a Tuner may have run: restart before the next one
                    self.between_phases()
            self.replicate(selected)
        except SweepInterrupted as stop:
            self.interrupted = str(stop)
        except KeyboardInterrupt:     # a Ctrl-C outside Tune's fit (between phases), or a second one
            unfinished = self.store.running()
            self.interrupted = "interrupted (Ctrl-C)" + (
                f" with {len(unfinished)} trial(s) that wrote no record" if unfinished else "")
        finally:
            self.console.close()              # end the live line, so what follows starts on its own

    def summary(self, minutes: float) -> list[str]:
        """The closing block: what the records now hold, where they are, how to report them."""
        records = [r for r in self.store.records() if r.job.arm in self.arms]
        counts = {s: sum(r.status == s for r in records) for s in ("ok", "failed", "stopped")}
        replicated = [r for r in records if r.job.phase == "replicate"]
        how = "stopped before the end" if self.interrupted else "finished"
        lines = [f"sweep {self.spec.name} {how} after {minutes:.1f} min"]
        if self.interrupted:
            lines.append(f"  {self.interrupted}; run the same command again to resume (finished trials are kept)")
        lines += [f"  trials: {counts['ok']} ok, {counts['failed']} failed, {counts['stopped']} stopped "
                  f"({len(replicated)} replication, {len(records) - len(replicated)} search records)",
                  f"  records: {self.results}/trials"]
        if counts["failed"]:
            lines.append("  failed trials keep their error in their record; fix the cause and run the same "
                         "command again: finished trials are kept")
        lines.append(f"  report: python -m harness.report {self.results}"
                     + (" --allow-smoke" if self.spec.smoke else "") + f"   (writes {self.results}/report/index.html)")
        return lines


def _optuna_search():
    """Tune's OptunaSearch, able to take several metrics end to end (a factory: Ray is imported
    here, at the edge). Tune 2.60 hands a warm-start point's rewards to ``optuna.create_trial``
    as one ``value``, and tells Optuna a trial whose metric is None or NaN as complete (Optuna
    then refuses it with a warning); here such a point goes in with ``values`` and such a trial
    is told as failed, so the sampler learns from defined metrics only. ``failed_points``: the
    parameters of finished trials that failed, added as failed trials when the study is made."""
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    class _OptunaSearch(OptunaSearch):
        def __init__(self, *args, selection=None, failed_points=(), **kwargs):
            self._selection, self._failed_points = selection, list(failed_points)
            super().__init__(*args, **kwargs)

        def _setup_study(self, mode):
            super()._setup_study(mode)
            for params in self._failed_points:      # as the live study told them: failed, no value
                self._ot_study.add_trial(optuna.trial.create_trial(
                    state=optuna.trial.TrialState.FAIL, params=params, distributions=self._space))

        def add_evaluated_point(self, parameters, value, error=False, pruned=False, intermediate_values=None):
            if not isinstance(value, list):
                return super().add_evaluated_point(parameters, value, error, pruned, intermediate_values)
            self._ot_study.add_trial(optuna.trial.create_trial(
                state=optuna.trial.TrialState.COMPLETE, values=value, params=parameters, distributions=self._space))

        def on_trial_complete(self, trial_id, result=None, error=False):
            if result and self._selection is not None:
                values = self._selection.values(result)
                if None in values or any(isinstance(v, float) and v != v for v in values):
                    result, error = None, True
                elif not self._selection.several:
                    result = {**result, self.metric: values[0]}
            super().on_trial_complete(trial_id, result, error)

    return _OptunaSearch


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
