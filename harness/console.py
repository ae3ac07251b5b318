"""What a person reads while a sweep runs: one live status line for the whole sweep.

No Ray here: ``harness.sweep`` feeds a ``SweepStatus`` from Tune's callbacks (trial
started, epoch reported, trial finished, failed or stopped), and a ``Console`` shows it.

- On a terminal the status line is redrawn in place (``\\r`` and erase-line) at most
  every ``refresh_s`` seconds; a log line (an arm's search result, a failure) is printed
  above it and the status is redrawn under it.
- On anything else (a pipe, a log file, CI) there are no control characters: the status
  is printed as a plain line when something happened (a trial started or ended, an
  epoch finished), and otherwise at most every ``heartbeat_s`` seconds.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ERASE = "\r\033[K"


class Console:
    def __init__(
        self, stream=None, tty: bool | None = None, refresh_s: float = 2.0, heartbeat_s: float = 60.0, clock=time.time
    ):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.refresh_s, self.heartbeat_s, self.clock = refresh_s, heartbeat_s, clock
        self._shown, self._shown_at, self._status = "", -float("inf"), ""

    def log(self, text: str) -> None:
        """A line that stays (on a terminal: above the status line, which is redrawn)."""
        if self.tty and self._shown:
            self.stream.write(ERASE)
        self.stream.write(text + "\n")
        if self.tty and self._status:
            self._draw(self._status)
        self.stream.flush()

    def status(self, text: str, event: bool = False) -> None:
        """The sweep's current state. ``event``: something happened (shown now); else a refresh
        (a terminal redraws it every ``refresh_s`` s; other outputs print it every ``heartbeat_s`` s)."""
        self._status = text
        now = self.clock()
        if self.tty:
            if event or now - self._shown_at >= self.refresh_s:
                self._draw(text)
                self._shown_at = now
        elif (event and text != self._shown) or now - self._shown_at >= self.heartbeat_s:
            self.stream.write(text + "\n")
            self._shown, self._shown_at = text, now
        self.stream.flush()

    def close(self) -> None:
        """End the live line (a terminal keeps its last state on screen)."""
        if self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()
        self._shown = self._status = ""

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((120, 24)).columns
        line = text if len(text) < width else text[: max(1, width - 2)] + "…"
        self.stream.write(ERASE + line)
        self._shown = line


@dataclass
class _Trial:
    arm: str
    seed: int
    started: float
    number: int = 0  # the order it started in, this phase (told apart when arm and seed repeat)
    epoch: int = 0
    valid_auc: float | None = None
    valid_abs_sf: float | None = None  # a multi-metric search's second objective, shown beside AUC


@dataclass
class SweepStatus:
    """The state of one Tune phase (a search of one arm, or the replication): ``total`` trials,
    each ``epochs`` epochs long, ``concurrency`` at a time.

    arm_epochs: an arm's epochs where they differ from ``epochs`` (0: it trains nothing, e.g. the
    frozen LLM, and is only scored). plan: how many of the ``total`` trials each arm has, so the
    time left counts the waiting trials' own epochs ({}: every trial ``epochs`` long). costs: an
    arm's (epoch, test) work in any common unit (the sweep gives forward passes), so an epoch of
    800 training samples and a test of 3,000 scored pairs weigh what they cost ({}: alike)."""

    phase: str
    total: int
    epochs: int
    concurrency: int
    clock: Callable[[], float] = time.time
    arm_epochs: dict = field(default_factory=dict)
    plan: dict = field(default_factory=dict)
    costs: dict = field(default_factory=dict)
    started: float | None = field(default=None)
    running: dict = field(default_factory=dict)  # trial id -> _Trial
    done: int = 0
    failed: int = 0
    stopped: int = 0
    reused: int = 0  # finished records found, nothing trained
    best: dict = field(default_factory=dict)  # arm -> best validation AUC so far
    _units: float = 0.0  # work finished (epochs and tests, by their costs)
    _begun: dict = field(default_factory=dict)  # arm -> trials of it started so far

    def __post_init__(self):
        if self.started is None:
            self.started = self.clock()

    def epochs_of(self, arm: str) -> int:
        return self.arm_epochs.get(arm, self.epochs)

    def _cost(self, arm: str) -> tuple[float, float]:
        return self.costs.get(arm, (1.0, 1.0))

    def _trial_work(self, arm: str, epochs_done: int = 0) -> float:
        """What a trial of ``arm`` still has to do after ``epochs_done`` epochs: its epochs and its test."""
        epoch, test = self._cost(arm)
        return (self.epochs_of(arm) - epochs_done) * epoch + test

    def start(self, trial_id: str, arm: str, seed: int) -> None:
        if trial_id not in self.running:  # a retried trial keeps the epochs it restores
            self._begun[arm] = self._begun.get(arm, 0) + 1
            self.running[trial_id] = _Trial(arm, seed, self.clock(), number=sum(self._begun.values()))

    def result(self, trial_id: str, metrics: dict) -> None:
        trial = self.running.get(trial_id)
        if trial is None:
            return
        auc = metrics.get("valid_auc")
        if auc is not None and auc == auc:  # NaN (an undefined AUC) is not a best
            trial.valid_auc = auc
            self.best[trial.arm] = max(self.best.get(trial.arm, -float("inf")), auc)
        sf = metrics.get("valid_abs_sf")
        if sf is not None and sf == sf:
            trial.valid_abs_sf = sf
        if metrics.get("reused"):
            trial.epoch = -1
        elif "epoch" in metrics and metrics["epoch"] > trial.epoch:
            self._units += (metrics["epoch"] - trial.epoch) * self._cost(trial.arm)[0]
            trial.epoch = metrics["epoch"]

    def end(self, trial_id: str, how: str) -> None:
        """``how``: "done" (its record written), "failed" or "stopped" (early, by the scheduler)."""
        trial = self.running.pop(trial_id, None)
        if how == "done" and trial is not None and trial.epoch == -1:
            self.reused += 1
        elif how == "done" and trial is not None:
            self._units += self._cost(trial.arm)[1]  # its test; epochs early stopping skipped are not counted
        setattr(self, how, getattr(self, how) + 1)

    def left_s(self) -> float | None:
        """Seconds left: the pace of the work finished so far (epochs and tests, each weighed by
        its cost; the trials run ``concurrency`` at a time as they did so far) times the work still
        to do, each trial's full count (early stopping makes it shorter, so this errs long); None
        before the first epoch or test ends."""
        if self._units <= 0:
            return None
        ahead = sum(self._trial_work(t.arm, max(t.epoch, 0)) for t in self.running.values() if t.epoch >= 0)
        waiting = max(0, self.total - self.done - self.failed - self.stopped - len(self.running))
        if self.plan:
            waiting_work = sum(
                max(0, n - self._begun.get(arm, 0)) * self._trial_work(arm) for arm, n in self.plan.items()
            )
        else:
            waiting_work = waiting * (self.epochs + 1.0)
        return (self.clock() - self.started) / self._units * (ahead + waiting_work)

    def render(self) -> str:
        """One line, most important first (a terminal cuts its end): the counts, the time, the
        running trials (with a multi-metric search's validation |SF|), the best validation AUC per arm
        (the one best there is: with several metrics the front has many)."""
        waiting = max(0, self.total - self.done - self.failed - self.stopped - len(self.running))
        left = self.left_s()
        parts = [
            f"[{self.phase}] {self.done}/{self.total} done, {len(self.running)} running, {waiting} waiting, "
            f"{self.failed} failed, {self.stopped} stopped",
            f"{_minutes(self.clock() - self.started)} elapsed, "
            + (f"about {_minutes(left)} left" if left is not None else "time left after the first epoch"),
        ]
        shown = list(self.running.values())[:2]
        for trial in shown:
            epochs = self.epochs_of(trial.arm)
            now = (
                "reusing its record"
                if trial.epoch < 0
                else "scoring validation and test (nothing to train)"
                if epochs == 0
                else "first epoch"
                if trial.epoch == 0
                else f"epoch {trial.epoch}/{epochs} done" + (", testing" if trial.epoch >= epochs else "")
            )
            auc = (f", valid AUC {trial.valid_auc:.3f}" if trial.valid_auc is not None else "") + (
                f", |SF| {trial.valid_abs_sf:.3f}" if trial.valid_abs_sf is not None else ""
            )
            # search trials share their arm and seed: their start order tells them apart
            twin = sum((t.arm, t.seed) == (trial.arm, trial.seed) for t in self.running.values()) > 1
            label = f"{trial.arm} seed {trial.seed}" + (f" (trial {trial.number})" if twin else "")
            parts.append(f"{label}: {now}{auc} ({_minutes(self.clock() - trial.started)})")
        if self.best:
            parts.append(
                "best valid AUC " + ", ".join(f"{arm.split('/')[-1]} {auc:.3f}" for arm, auc in self.best.items())
            )
        return " | ".join(parts)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
