"""The sweep's exit status (issue 34), without Ray: what each code means, in ``--help`` and in the
README's table exactly as ``harness.sweep.outcome`` states it; the status of each way a sweep ends;
the checks made before Ray starts (a data set that is not there is refused with exit 2 and the fetch
hint); and a data set found missing where trials run (a cluster's node): the trials of it that
follow are not run, each to fail in turn, and the summary and exit status say so. A sweep with a
failing trial exits 1 end to end in tests/test_sweep.py."""

import re
from pathlib import Path

import pytest

from harness.config.run import RunConfig
from harness.records import Store, TrialJob, TrialRecord
from harness.space import load_spec
from harness.sweep import outcome
from harness.sweep.outcome import EXIT_CODES, Outcome, describe, exit_status

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "search_spaces" / "mos.yaml"


def _readme_exit_codes() -> dict[int, str]:
    """The README's table under "Exit status": code -> meaning, as written."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("Exit status") :]
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section.split("\n\n|", 1)[1].split("\n\n", 1)[0], re.M)
    return {int(code): meaning for code, meaning in rows}


def test_the_readme_table_and_help_say_what_the_code_does():
    assert _readme_exit_codes() == EXIT_CODES
    assert (outcome.OK, outcome.FAILED, outcome.REFUSED, outcome.INTERRUPTED) == (0, 1, 2, 130)
    from harness.sweep import _parser

    shown = " ".join(_parser().format_help().split())
    for code, meaning in EXIT_CODES.items():
        assert f"{code}: {' '.join(meaning.split())}" in shown


@pytest.mark.parametrize(
    "ended, allow, code",
    [
        (Outcome(), False, 0),
        (Outcome(failed=1), False, 1),
        (Outcome(failed=1), True, 0),
        (Outcome(not_run={"bookcrossing": 3}, missing={"bookcrossing": "DataError: …"}), False, 1),
        (Outcome(unreplicated=("movielens-100k/mos",)), False, 1),
        (Outcome(failed=2, interrupted=True), True, 130),
        (Outcome(interrupted=True), False, 130),
    ],
)
def test_the_exit_status_of_each_ending(ended, allow, code):
    assert exit_status(ended, allow) == code


def test_the_summary_says_when_failures_were_allowed_and_what_was_not_run():
    lost = Outcome(failed=1, not_run={"bookcrossing": 2}, missing={"bookcrossing": "DataError: not found\nmore"})
    allowed = "\n".join(describe(lost, allow_failures=True))
    assert "bookcrossing: 2 trial(s) not run, its data is missing where they run: DataError: not found (" in allowed
    assert "exit status 0 (--allow-failures), although 3 trial(s) failed or were not run" in allowed
    assert "exit status 1: a trial failed" in "\n".join(describe(lost))
    assert describe(Outcome()) == []


# ---- refused before Ray -----------------------------------------------------------------------------


def test_a_data_set_that_is_not_there_is_refused_before_ray_starts(tmp_path, monkeypatch, capsys):
    import ray

    from harness.sweep import main

    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path / "empty"))
    assert main([str(SPACE), "--smoke", "--storage", str(tmp_path)]) == outcome.REFUSED
    err = capsys.readouterr().err
    assert "MovieLens-100K not found" in err and "python -m harness.data fetch movielens-100k" in err
    assert not ray.is_initialized() and not (tmp_path / "mos-smoke").exists()


def test_the_data_folder_is_made_absolute_for_the_trials(tmp_path, monkeypatch):
    from harness.sweep.preflight import with_data_dir

    spec = load_spec(SPACE, smoke=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_DATA_DIR", "data")
    assert with_data_dir(spec, None).data_dir == str(tmp_path / "data")
    import os

    assert os.environ["HARNESS_DATA_DIR"] == str(tmp_path / "data")  # what a local Ray's workers inherit
    assert with_data_dir(spec, "../elsewhere").data_dir == str(tmp_path.parent / "elsewhere")
    config = with_data_dir(spec, "x").run_config(spec.arms()[0], {}, 0)
    assert config.data_dir == str(tmp_path / "x")  # every trial's run configuration carries it
    assert spec.config_id(spec.arms()[0], {}) == with_data_dir(spec, "x").config_id(spec.arms()[0], {})


# ---- a data set found missing where the trials run (a cluster) --------------------------------------


class _Executor:
    """Stands in for the sweep's executor: notes each trial it is asked to train."""

    def __init__(self):
        self.ran = []

    def run(self, job, run_config, results):
        self.ran.append(job.key)


def test_a_data_set_found_missing_stops_its_remaining_trials(tmp_path, monkeypatch):
    from harness.sweep import Sweep, trial
    from harness.worker import flag_missing_data

    spec = load_spec(SPACE, smoke=True)
    [arm] = spec.arms()
    store = Store(str(tmp_path))
    job = TrialJob(spec.name, "search", arm.key, "c", {}, 0, dataset=arm.dataset)
    flag_missing_data(store, RunConfig(dataset="synthetic-movielens"))
    assert store.missing() == {}  # a generated data set is never missing
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path / "no-data-here"))  # the node's own default
    flag_missing_data(store, spec.run_config(arm, {}, 0))
    [(dataset, error)] = store.missing().items()
    assert dataset == arm.dataset and "python -m harness.data fetch movielens-100k" in error

    executor = _Executor()  # a later trial of that data set: not run, nothing written
    trial({"job": {"phase": "replicate", "arm": arm.key, "seed": 1, "params": {}}}, spec, str(tmp_path), executor)
    assert executor.ran == [] and store.records() == [] and store.running() == []

    logs = []
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=logs.append)
    sweep._tuner = lambda *args, **kwargs: pytest.fail("no trial of a missing data set is started")
    assert sweep.search(arm) is None and sweep.not_run == {arm.dataset: spec.budget}
    assert any("not searched" in m and "found missing" in m for m in logs)
    store.write(TrialRecord(job, "failed", error=error))  # the trial that found it
    ended = sweep.outcome()
    assert ended.failed == 1 and ended.missing == {arm.dataset: error} and exit_status(ended) == outcome.FAILED
    assert any(f"{arm.dataset}: {spec.budget} trial(s) not run" in line for line in describe(ended))
    store.clear_missing()  # a new run of the sweep tries again
    assert store.missing() == {}
