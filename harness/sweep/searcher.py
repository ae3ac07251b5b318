"""One arm's search phase as a function of its proposals ledger and trial records (issue 36),
without Ray; ``harness.sweep.adapters`` wraps it as Tune's searcher and scheduler.

- What runs: the proposals the ledger holds without a record (asked, not finished when the
  sweep died), as they were, then new ones up to the budget, in proposal order.
- When: proposal n is asked (or re-run) once the proposals of its window (``proposals.window``:
  0 .. n - c, c the sweep's concurrency) have ended with a record; until then the sweep waits.
- What: a new proposal is ``proposals.propose`` over its window's records, written to the ledger
  before its trial runs.
- ASHA: a trial is stopped at a rung against its window's values at that rung (the records'
  per-epoch values), and its stopped record, with its per-epoch values, is written when it is
  stopped, so the next proposals and the next stops read it as an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.records import Store, TrialJob, TrialRecord
from harness.sweep.ledger import Ledger, Proposal
from harness.sweep.proposals import Row, asha_stops, decision_epochs, propose, sampler_seed, window
from harness.sweep.trial import resolve

WAIT, DONE = "wait", "done"  # next(): nothing can be asked until a trial ends; nothing more to ask
EPOCHS_KEY = "valid_auc_by_epoch"  # an epoch's report: the trial's validation AUC at each epoch so far


class ArmSearch:
    def __init__(self, spec, arm, store: Store, ledger: Ledger, concurrency: int, log: Callable[[str], None]):
        self.spec, self.arm, self.store, self.ledger = spec, arm, store, ledger
        self.concurrency, self.log = concurrency, lambda message: log(f"[{arm.key}] {message}")
        self.space = spec.search_space(arm)
        self._keys: dict[int, str] = {}
        self._records: dict[int, TrialRecord] = {}
        self.proposals = ledger.read(arm.key)
        self._adopt()
        unfinished = [p.index for p in self.proposals if self.record(p.index) is None]
        self.rerun = len(unfinished)
        self.queue = unfinished + list(range(len(self.proposals), spec.budget))
        self.in_flight: set[int] = set()
        self.epochs = spec.run_config(arm, {}, spec.seeds[0]).train.epochs
        asha = spec.scheduler
        self.decisions = decision_epochs(asha.grace_period, asha.reduction_factor, self.epochs) if asha else []
        self._check_stream()

    # ---- a proposal's job and record ------------------------------------------------------------
    def seed(self, index: int) -> int:
        return sampler_seed(self.spec.searcher_seed, self.arm.key, index, self.spec.searcher_draws)

    def job(self, index: int) -> TrialJob:
        config = {"phase": "search", "arm": self.arm.key, "seed": self.spec.seeds[0]}
        return resolve(self.spec, {**config, "params": self.proposals[index].params, "proposal": index})[0]

    def key(self, index: int) -> str:
        if index not in self._keys:
            self._keys[index] = self.job(index).key
        return self._keys[index]

    def record(self, index: int) -> TrialRecord | None:
        """The record of proposal ``index`` (kept once found: a finished trial's record does not change)."""
        if index not in self._records:
            found = self.store.read(self.key(index))
            if found is None:
                return None
            self._records[index] = found
        return self._records[index]

    def _adopt(self) -> None:
        """Search trials of this arm that the ledger does not hold (records and markers of a sweep
        before issue 36, or a ledger deleted) become its next proposals, in proposal then key order."""
        known = {self.key(p.index) for p in self.proposals}
        records = [r.job for r in self.store.records()]
        found = {
            j.key: j
            for j in [*records, *self.store.running()]
            if j.arm == self.arm.key and j.phase == "search" and j.key not in known
        }
        for job in sorted(found.values(), key=lambda j: (j.proposal is None, j.proposal or 0, j.key)):
            proposal = Proposal(self.arm.key, len(self.proposals), job.params, None, None, None, adopted=True)
            self.ledger.write(proposal)
            self.proposals.append(proposal)
        if found:
            self.log(
                f"{len(found)} search trial(s) predate the proposals ledger (a sweep before issue 36): the "
                "search goes on from them, but its remaining proposals will differ from an uninterrupted run's"
            )

    def _check_stream(self) -> None:
        """Say plainly when the proposals still to ask cannot be an uninterrupted run's: the ledger's were
        asked with another concurrency (another window) or another searcher seed or draws."""
        own = [p for p in self.proposals if not p.adopted]
        if not own or len(self.proposals) >= self.spec.budget:
            return
        changed = sorted({f"concurrency {p.concurrency}" for p in own if p.concurrency != self.concurrency})
        if any(p.sampler_seed != self.seed(p.index) for p in own):
            changed.append("another searcher_seed or searcher_draws")
        if changed:
            self.log(
                f"the proposals so far were asked with {', '.join(changed)} (this run: concurrency "
                f"{self.concurrency}): the remaining proposals will differ from an uninterrupted run's"
            )

    # ---- the searcher ---------------------------------------------------------------------------
    def next(self) -> tuple[int, dict[str, Any]] | str:
        """The next proposal to run, (index, params); WAIT while its window has trials in flight;
        DONE when none is left, or when a window trial ended without a record (the sweep then stops,
        and a resumed one re-runs that trial before asking on it)."""
        if not self.queue:
            return DONE
        n = self.queue[0]
        for j in window(n, self.concurrency):
            if j in self.in_flight:
                return WAIT
            if self.record(j) is None:
                self.log(f"proposal {j} ended without a record; proposal {n} is not asked on it")
                self.queue.clear()
                return DONE
        self.queue.pop(0)
        if n == len(self.proposals):
            seed, seen = self.seed(n), len(window(n, self.concurrency))
            earlier = [p.params for p in self.proposals]
            params = propose(self.space, self.history(n), seed, self.spec.selection.modes, earlier)
            proposal = Proposal(self.arm.key, n, params, seed, seen, self.concurrency)
            self.ledger.write(proposal)  # before its trial runs: a resumed sweep re-runs it as it is
            self.proposals.append(proposal)
        self.in_flight.add(n)
        return n, dict(self.proposals[n].params)

    def history(self, n: int) -> list[Row]:
        """What proposal ``n`` is asked on: its window's params and selection values, None where the
        trial failed or a selection metric is undefined (ASHA-stopped trials with their last values)."""
        rows: list[Row] = []
        for j in window(n, self.concurrency):
            record = self.record(j)
            assert record is not None, f"proposal {j} has no record"
            values = self.spec.selection.values(record.metrics) if record.status in ("ok", "stopped") else [None]
            rows.append((self.proposals[j].params, None if None in values else values))
        return rows

    def ended(self, index: int) -> None:
        self.in_flight.discard(index)

    # ---- ASHA -----------------------------------------------------------------------------------
    def judge(self, index: int, result: dict[str, Any]) -> bool:
        """Whether ASHA stops proposal ``index`` on this epoch's ``result``; a stopped trial's record
        is written here, before Tune stops it (the worker then writes none: ``harness.worker``)."""
        epoch, value = result.get("epoch"), result.get(self.spec.metric)
        if epoch not in self.decisions or value is None or self.spec.scheduler is None:
            return False
        others = [v for j in window(index, self.concurrency) if (v := self._value_at(j, epoch)) is not None]
        if not asha_stops(value, others, self.spec.scheduler.reduction_factor, self.spec.mode):
            return False
        series = result.get(EPOCHS_KEY) or [value]
        epochs = [{"epoch": epoch - len(series) + 1 + i, self.spec.metric: v} for i, v in enumerate(series)]
        # written even over an ok record: a Train worker goes on while its epoch is judged, and may
        # finish first when the epoch judged is its last; the stop stands, whichever came first
        self.store.write(
            TrialRecord(self.job(index), "stopped", metrics={self.spec.metric: value}, fit={"epochs": epochs})
        )
        return True

    def _value_at(self, index: int, epoch: int) -> float | None:
        """Proposal ``index``'s metric at ``epoch`` (its record's per-epoch values); None where it failed or
        ended before that epoch."""
        record = self.record(index)
        if record is None or record.status not in ("ok", "stopped"):
            return None
        for row in (record.fit or {}).get("epochs", []):
            if row.get("epoch") == epoch:
                value = row.get(self.spec.metric)
                return None if value is None else float(value)
        return None
