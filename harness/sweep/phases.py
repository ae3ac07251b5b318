"""The two phases of a sweep (search per arm with Optuna, then replication on every seed), run
with Ray Tune through ``harness.sweep.adapters``, their status fed by ``harness.sweep.progress``
(and, with tracking, MLflow by ``harness.sweep.tracked``); the closing summary and the outcome
the exit status is read from (``harness.sweep.outcome``)."""

from __future__ import annotations

import collections

from harness.console import Console
from harness.executors import executor_for
from harness.records import Store, TrialRecord, safe
from harness.space import SweepSpec
from harness.sweep import adapters, tracked
from harness.sweep.ledger import Ledger
from harness.sweep.outcome import Outcome
from harness.sweep.progress import Progress, capacity_note, phase_status, summary
from harness.sweep.searcher import ArmSearch
from harness.sweep.trial import resolve, shown, trial


class SweepInterrupted(Exception):
    """A phase ended before all its trials did (Ctrl-C); the sweep stops (and resumes when run again)."""


class TrialsLost(SweepInterrupted):
    """Tune ended every trial of a phase, but some wrote no record (their process died, retries spent):
    the sweep stops as for an interrupt (the next run continues them), and counts them as failed."""


class Sweep:
    def __init__(
        self,
        spec: SweepSpec,
        results: str,
        storage: str,
        log=None,
        between_phases=None,
        console: Console | None = None,
        verbose: int = 0,
        command: str | None = None,
        tracker=None,
    ):
        """command: the command line that started the sweep; every record names it (provenance).
        tracker: a ``harness.tracking.Tracker`` that logs every trial to MLflow, or None."""
        self.command = command
        self.console = console or Console()
        self.spec, self.results, self.log, self.verbose = spec, results, log or self.console.log, min(verbose, 2)
        if not self.verbose:
            adapters.quiet()  # the sweep's own status line takes the place of Tune's output
        self.between_phases = between_phases or (lambda: None)
        self.train_storage = storage
        self.store = Store(results)
        self.arms = {arm.key: arm for arm in spec.arms()}
        self.executor = executor_for(spec.resources, storage)  # chosen once: where every trial trains
        self.interrupted: str | None = None  # why the sweep stopped before its end, if it did
        self.lost = False  # it stopped because trials' processes died (a failure), not on Ctrl-C
        self.feed = tracked.Feed(tracker, spec, self.store, self.log) if tracker is not None else None
        self.not_run: collections.Counter = collections.Counter()  # data set -> trials not run: found missing
        self.unreplicated: list[str] = []  # arms whose search selected nothing
        self.found_missing: dict[str, str] = {}  # data set -> its error: the flags, read when the sweep ends
        self.concurrency = spec.concurrency or 1  # run() sizes it from the cluster

    # ---- phases --------------------------------------------------------------------------
    def _tuner(
        self,
        name: str,
        param_space: dict,
        num_samples: int,
        search_alg=None,
        arm=None,
        total: int = 1,
        arms=(),
        plan=None,
    ):
        """A Tuner for one phase; ``total`` trials of ``arm`` (or of ``arms``; ``plan``: how many of
        each) are expected (for the status line)."""
        import ray.tune

        trainable = ray.tune.with_parameters(
            trial,
            spec=self.spec,
            results=self.results,
            executor=self.executor,
            command=self.command,
            space=[shown(path) for path in self.spec.files],
        )
        keys = [arm.key] if arm is not None else list(arms) or list(self.arms)
        asha = self.spec.scheduler is not None and search_alg is not None
        status = phase_status(
            self.spec, self.arms, keys, name, total, self.concurrency, plan, arm.key if asha else None
        )
        scheduler = adapters.asha(search_alg) if asha else None
        # kept for _finish: which trials Tune ended (done, failed, or stopped by ASHA)
        self.progress = Progress(status, self.console, self.results)
        return adapters.tuner(
            trainable,
            self.executor.trial_resources(),
            param_space,
            num_samples,
            self.spec,
            name=name,
            storage=self.train_storage,
            concurrency=self.concurrency,
            verbose=self.verbose,
            callbacks=[self.progress, *([tracked.callback(self.feed)] if self.feed else [])],
            search_alg=search_alg,
            scheduler=scheduler,
        )

    def _finish(self, phase: str, total: int) -> None:
        """After a phase's ``Tuner.fit()``: record the trials the scheduler (ASHA) stopped, then
        stop the sweep if the phase did not end every one of its ``total`` trials.

        A trial ASHA stops ends in Tune (``on_trial_complete``) without writing a record: it gets
        a record, status ``stopped``, with its last validation score, so a restart does not run it
        again. A Ctrl-C makes Tune end the phase and return from ``fit()`` as if it had finished:
        the running trials are cut off (Tune calls no ``on_trial_complete`` for them) and the
        trials not yet started never run. Such trials get no record, only their marker stays
        (the next run continues them from their checkpoints), and the sweep stops here rather
        than select on a partial search or go on to the next phase. A trial Tune ended without a
        record or a marker was not run: an earlier trial found its data set missing."""
        running = {job.key for job in self.store.running()}
        for config, last in self.progress.early.values():
            job, run_config = resolve(self.spec, config)
            if job.key in running and self.store.read(job.key) is None:
                metrics = {self.spec.metric: last.get(self.spec.metric)}
                self.store.write(TrialRecord(job, "stopped", metrics=metrics, config=run_config.to_dict()))
            elif self.store.read(job.key) is None:
                self.not_run[job.dataset] += 1
        if self.feed is not None:
            self.feed.sync(self.arms)
        self._stop_if_unfinished(phase, lost=self.progress.ended >= total)
        if self.progress.ended < total:
            raise SweepInterrupted(f"{phase} was interrupted after {self.progress.ended} of its {total} trial(s) ended")

    def _records(self, arm_key: str, phase: str | None = None) -> list[TrialRecord]:
        return [r for r in self.store.records() if r.job.arm == arm_key and (phase is None or r.job.phase == phase)]

    def search(self, arm) -> list[dict] | None:
        """Phase 1 for one arm; returns the parameters of the configurations the search space's
        selection picks on validation (the best one, or with several metrics its rule's: every
        Pareto-optimal one, the knee, ...), [{}] when nothing is searched, or None when no search
        trial qualifies (every one failed: their records say why). Its proposals and ASHA's stops
        are a function of the arm's ledger and records (``harness.sweep.searcher``, issue 36)."""
        if not self.spec.search_space(arm):
            return [{}]
        if arm.dataset in self.store.missing():
            left = max(0, self.spec.budget - len(self._records(arm.key, "search")))
            self.not_run[arm.dataset] += left
            self.log(f"[{arm.key}] not searched ({left} trial(s)): {arm.dataset} was found missing where trials run")
            return None
        search = ArmSearch(self.spec, arm, self.store, Ledger(self.results), self.concurrency, self.log)
        if search.queue:
            new = len(search.queue) - search.rerun
            self.log(
                f"[{arm.key}] search: {new} of {self.spec.budget} configuration(s) to propose"
                + (f", {search.rerun} proposed but unfinished to re-run as they were" if search.rerun else "")
            )
            base = {"phase": "search", "arm": arm.key, "seed": self.spec.seeds[0]}
            total = len(search.queue)
            searcher = adapters.searcher(search)
            adapters.fit(self._tuner(f"{safe(arm.key)}-search", base, total, searcher, arm=arm, total=total))
            self._finish(f"{arm.key} search", total)
        return self._selected(arm, [r for r in self._records(arm.key, "search") if r.ok])

    def _selected(self, arm, ok: list[TrialRecord]) -> list[dict] | None:
        selection = self.spec.selection
        chosen = [ok[i] for i in selection.choose([r.metrics for r in ok])]
        if not chosen:
            why = (
                "every search trial failed"
                if not ok
                else f"no search trial has every selection metric defined ({', '.join(selection.metrics)}; an SF "
                f"needs {selection.min_support} recommended targets per group)"
                if selection.rule != "constrained"
                else f"no search trial is within the bounds {selection.bounds}"
            )
            self.log(
                f"[{arm.key}] {why}, so this arm is not replicated; the search records are in {self.results}/trials"
            )
            self.unreplicated.append(arm.key)
            return None
        for r in chosen:
            values = ", ".join(
                f"{m} {r.metrics.get(m)}" if r.metrics.get(m) is None else f"{m} {r.metrics[m]:.4f}"
                for m in selection.metrics
            )
            label = "best" if selection.rule == "best" else f"{selection.rule} ({len(chosen)} of {len(ok)})"
            self.log(f"[{arm.key}] {label}: {values} with {r.job.params}")
        return [r.job.params for r in chosen]

    def replicate(self, selected: dict[str, list[dict]]) -> None:
        """Phase 2: every selected configuration of every arm on every seed, seed by seed (every arm
        of a seed, in the file's order, before the next seed): a study stopped or cut at any point
        holds whole seeds, each a pair for every comparison, not some arms' seeds without the others'."""
        jobs, missing = [], self.store.missing()
        for seed in self.spec.seeds:
            for arm_key, configurations in selected.items():
                for params in configurations:
                    job = {"phase": "replicate", "arm": arm_key, "seed": seed, "params": params}
                    record = self.store.read(resolve(self.spec, job)[0].key)
                    if self.arms[arm_key].dataset in missing:
                        self.not_run[self.arms[arm_key].dataset] += record is None or not record.ok
                    elif record is None or not record.ok:
                        jobs.append(job)
        count = sum(len(c) for c in selected.values())
        self.log(
            f"replication: {len(jobs)} trial(s) to run "
            f"({count} configuration(s) x {len(self.spec.seeds)} seed(s), finished ones reused)"
        )
        if jobs:
            plan = collections.Counter(job["arm"] for job in jobs)
            adapters.fit(
                self._tuner("replicate", {"job": adapters.grid(jobs)}, 1, total=len(jobs), arms=sorted(plan), plan=plan)
            )
            self._finish("replication", len(jobs))

    def _stop_if_unfinished(self, phase: str, lost: bool = False) -> None:
        """A phase that ends with trials holding no record (ok, failed or stopped) was interrupted
        (Ctrl-C: Tune ends the phase and returns) or, ``lost``, Tune ended them all and their processes
        died: the sweep stops here rather than go on to the next phase, and says how to resume."""
        unfinished = self.store.running()
        if unfinished:
            raise (TrialsLost if lost else SweepInterrupted)(
                f"{phase} ended with {len(unfinished)} trial(s) that wrote no record (interrupted, or their "
                f"process died): "
                + ", ".join(f"{job.arm} seed {job.seed}" for job in unfinished[:4])
                + (" …" if len(unfinished) > 4 else "")
            )

    def run(self) -> None:
        import ray

        self.store.drop_stale_markers()  # a run killed between a record and its marker's deletion
        self.store.clear_missing()  # a data set found missing by the last run may be there now
        cluster = ray.cluster_resources()
        self.concurrency = self.spec.max_concurrent(cluster.get("CPU", 1.0), cluster.get("GPU", 0.0))
        self.log(
            f"experiment {self.spec.name}: {len(self.arms)} arm(s), seeds {self.spec.seeds}, "
            f"concurrency {self.concurrency}; records in {self.results}/trials"
        )
        if note := capacity_note(self.spec, cluster):
            self.log(note)
        selected = {}
        try:
            for key, arm in self.arms.items():
                found = self.search(arm)
                if found is not None:
                    selected[key] = found
                if self.spec.search_space(arm):  # a Tuner may have run: restart before the next one
                    self.between_phases()
            self.replicate(selected)
        except SweepInterrupted as stop:
            self.interrupted, self.lost = str(stop), isinstance(stop, TrialsLost)
        except KeyboardInterrupt:  # a Ctrl-C outside Tune's fit (between phases), or a second one
            unfinished = self.store.running()
            self.interrupted = "interrupted (Ctrl-C)" + (
                f" with {len(unfinished)} trial(s) that wrote no record" if unfinished else ""
            )
        finally:
            self.found_missing = self.store.missing()
            self.store.clear_missing()  # the flags last while the sweep runs; its summary names them
            if self.feed is not None:
                self.feed.sync(self.arms)
            self.console.close()  # end the live line, so what follows starts on its own

    def outcome(self) -> Outcome:
        """How the sweep ended, from its records (``harness.sweep.outcome``)."""
        records = [r for r in self.store.records() if r.job.arm in self.arms]
        return Outcome(
            failed=sum(r.status == "failed" for r in records) + (len(self.store.running()) if self.lost else 0),
            not_run=dict(self.not_run),
            missing={**self.store.missing(), **self.found_missing},
            unreplicated=tuple(self.unreplicated),
            interrupted=self.interrupted is not None and not self.lost,
        )

    def summary(self, minutes: float) -> list[str]:
        """The closing block (``harness.sweep.progress.summary``)."""
        return summary(self.spec, self.store, self.arms, self.results, self.interrupted, minutes)
