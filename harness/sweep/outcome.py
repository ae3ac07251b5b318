"""What a sweep's exit status says (``python -m harness.sweep``), decided from how it ended and what
its records hold: the codes and their meanings in one place, which ``--help`` prints and the README's
table repeats (``tests/test_sweep_outcome.py`` checks that they agree). No Ray here."""

from __future__ import annotations

from dataclasses import dataclass, field

OK, FAILED, REFUSED, INTERRUPTED = 0, 1, 2, 130
EXIT_CODES = {
    OK: "every planned trial ended ok, or was stopped early by ASHA as the search space asks",
    FAILED: "a trial failed, a trial was not run because its data set is missing where it would run, or an "
    "arm's search selected nothing to replicate; the other trials still ran to their end and kept their "
    "records (--allow-failures: 0, and the summary says so)",
    REFUSED: "input refused before Ray started: a search space, an option, a data set that is not there or "
    "not readable, tracking without MLflow or with a store it cannot use",
    INTERRUPTED: "interrupted (Ctrl-C): running the same command again resumes",
}


@dataclass(frozen=True)
class Outcome:
    """How a sweep ended, as its exit status and summary read it."""

    failed: int = 0  # records of the sweep's arms whose status is failed
    not_run: dict[str, int] = field(default_factory=dict)  # data set -> its trials not run (found missing)
    missing: dict[str, str] = field(default_factory=dict)  # data set -> the error that found it missing
    unreplicated: tuple[str, ...] = ()  # arms whose search left no configuration to replicate
    interrupted: bool = False  # Ctrl-C (not a trial's lost process: that is a failure)

    @property
    def failures(self) -> bool:
        return bool(self.failed or self.not_run or self.missing or self.unreplicated)


def exit_status(outcome: Outcome, allow_failures: bool = False) -> int:
    """``EXIT_CODES``' code for ``outcome``; ``allow_failures``: a sweep expected to lose trials exits 0."""
    if outcome.interrupted:
        return INTERRUPTED
    return FAILED if outcome.failures and not allow_failures else OK


def describe(outcome: Outcome, allow_failures: bool = False) -> list[str]:
    """The summary's closing lines: what was not run and why, and the exit status when it is not 0."""
    lines = [
        f"  {dataset}: {outcome.not_run.get(dataset, 0)} trial(s) not run, its data is missing where they "
        f"run: {error.splitlines()[0]} (put it on every node, then run the same command again)"
        for dataset, error in sorted(outcome.missing.items())
    ]
    lines += [f"  {arm}: its search selected no configuration to replicate" for arm in outcome.unreplicated]
    code = exit_status(outcome, allow_failures)
    if outcome.failures and allow_failures and not outcome.interrupted:
        lost = outcome.failed + sum(outcome.not_run.values())
        lines.append(f"  exit status 0 (--allow-failures), although {lost} trial(s) failed or were not run")
    elif code != OK:
        lines.append(f"  exit status {code}: {EXIT_CODES[code].split(';')[0].split(':')[0]}")
    return lines


def help_text() -> str:
    """The exit statuses, for ``--help``."""
    return "exit status: " + "; ".join(f"{code}: {meaning}" for code, meaning in EXIT_CODES.items())
