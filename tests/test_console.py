"""The sweep's status line: on a pipe plain lines without control characters, on a terminal
one line redrawn in place; the counts, the running trial's epoch and the time left."""

import io
import os
import pty
import re
import subprocess
import sys

import pytest

from harness.console import ERASE, Console, SweepStatus


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _phase(clock):
    return SweepStatus("replicate", total=3, epochs=2, concurrency=1, clock=clock)


def test_a_multi_metric_search_shows_each_trials_validation_sf_beside_its_auc():
    status = _phase(Clock())
    status.start("b", "movielens-100k/mos", 1)
    status.result("b", {"valid_auc": 0.58, "valid_abs_sf": 0.042, "epoch": 0})
    line = status.render()
    assert "movielens-100k/mos seed 1: first epoch, valid AUC 0.580, |SF| 0.042" in line
    assert "best valid AUC mos 0.580" in line


def test_the_status_counts_trials_and_estimates_the_time_left():
    clock = Clock()
    status = _phase(clock)
    assert "0/3 done, 0 running, 3 waiting, 0 failed, 0 stopped" in status.render()
    assert "time left after the first epoch" in status.render()
    status.start("a", "movielens-100k/mos", 0)
    clock.now += 60
    status.result("a", {"valid_auc": 0.61, "epoch": 1})
    line = status.render()
    assert "1 running, 2 waiting" in line and "movielens-100k/mos seed 0: epoch 1/2 done, valid AUC 0.610" in line
    assert "best valid AUC mos 0.610" in line
    assert status.left_s() == 60 * (2 + 3 + 3)  # 1 epoch a minute; 2 + 3 + 3 epochs (tests) ahead
    clock.now += 120
    status.result("a", {"valid_auc": 0.58, "epoch": 2})
    status.result("a", {"valid_auc": 0.61, "finished": 1})
    status.end("a", "done")
    assert status.left_s() == 180 / 3 * 6  # the pace now: 3 minutes for 3 units (2 epochs, a test)
    status.start("b", "movielens-100k/tallrec--", 0)
    status.end("b", "failed")
    status.start("c", "movielens-100k/tallrec--", 1)
    status.end("c", "stopped")
    assert "1/3 done, 0 running, 0 waiting, 1 failed, 1 stopped" in status.render()
    assert status.left_s() == 0


def test_an_arm_that_trains_nothing_is_scored_and_counted_as_one_unit():
    """The frozen LLM has no epochs: its trial says it is scoring, and the time left counts it
    (and the waiting trials, each by its own arm's epochs) as such."""
    clock = Clock()
    status = SweepStatus(
        "replicate",
        total=4,
        epochs=2,
        concurrency=1,
        clock=clock,
        arm_epochs={"ml/llm": 0},
        plan={"ml/llm": 2, "ml/mos": 2},
    )
    status.start("a", "ml/llm", 0)
    assert "ml/llm seed 0: scoring validation and test (nothing to train)" in status.render()
    clock.now += 60
    status.result("a", {"valid_auc": 0.55, "finished": 1})
    status.end("a", "done")
    assert status.left_s() == 60 * (1 + 3 + 3)  # one llm trial (1 unit), two mos trials (2 epochs + test)
    status.start("b", "ml/mos", 0)
    clock.now += 60
    status.result("b", {"valid_auc": 0.6, "epoch": 2})
    assert "ml/mos seed 0: epoch 2/2 done, testing, valid AUC 0.600" in status.render()
    assert status.left_s() == 120 / 3 * (1 + 1 + 3)  # b's test, the second llm trial, the second mos trial


def test_the_time_left_weighs_epochs_and_tests_by_their_cost():
    """A frozen-LLM trial that scores 3,200 pairs is no measure of a trial that also trains 2
    epochs of 2,200 passes: the pace is per unit of work, not per epoch."""
    clock = Clock()
    status = SweepStatus(
        "replicate",
        total=2,
        epochs=2,
        concurrency=1,
        clock=clock,
        arm_epochs={"ml/llm": 0},
        plan={"ml/llm": 1, "ml/mos": 1},
        costs={"ml/llm": (0.0, 3200.0), "ml/mos": (2200.0, 3000.0)},
    )
    status.start("a", "ml/llm", 0)
    clock.now += 320
    status.end("a", "done")  # 3,200 units in 320 s: 0.1 s a unit
    assert status.left_s() == pytest.approx(0.1 * (2 * 2200 + 3000))


def test_two_running_trials_of_one_arm_and_seed_are_told_apart():
    status = _phase(Clock())  # a search: every trial is the arm's first seed
    status.start("a", "ml/mos", 0)
    assert "ml/mos seed 0: first epoch" in status.render()
    status.start("b", "ml/mos", 0)
    assert "ml/mos seed 0 (trial 1): first epoch" in status.render()
    assert "ml/mos seed 0 (trial 2): first epoch" in status.render()


def test_a_reused_record_is_not_counted_as_training():
    clock = Clock()
    status = _phase(clock)
    status.start("a", "movielens-100k/mos", 0)
    status.result("a", {"valid_auc": 0.6, "finished": 1, "reused": 1})
    assert "reusing its record" in status.render()
    status.end("a", "done")
    assert status.reused == 1 and status.left_s() is None  # no pace yet: nothing was trained


def test_on_a_pipe_plain_lines_on_events_and_a_heartbeat():
    clock, out = Clock(), io.StringIO()
    console = Console(out, tty=False, heartbeat_s=60, clock=clock)
    console.status("state 1", event=True)
    console.status("state 1", event=True)  # unchanged: not repeated
    console.status("state 2")  # a refresh, not an event: waits for the heartbeat
    clock.now += 61
    console.status("state 2")
    console.log("[mos] best valid_auc 0.61")
    console.close()
    assert out.getvalue() == "state 1\nstate 2\n[mos] best valid_auc 0.61\n"
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", out.getvalue())


def test_on_a_terminal_one_line_redrawn_in_place():
    clock, out = Clock(), io.StringIO()
    console = Console(out, tty=True, refresh_s=2, clock=clock)
    console.status("state 1", event=True)
    console.status("state 2")  # within refresh_s: not drawn yet
    clock.now += 2
    console.status("state 3")
    console.log("a line that stays")
    console.close()
    assert out.getvalue() == (f"{ERASE}state 1{ERASE}state 3{ERASE}a line that stays\n{ERASE}state 3\n")


SCRIPT = """
import time
from harness.console import Console, SweepStatus
status = SweepStatus("replicate", total=2, epochs=1, concurrency=1)
console = Console(refresh_s=0)
status.start("a", "movielens-100k/mos", 0)
console.status(status.render(), event=True)
status.result("a", {"valid_auc": 0.6, "epoch": 1})
console.status(status.render(), event=True)
console.log("a log line")
console.close()
"""


def _run(stdout, stderr=None):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "COLUMNS": "300"}  # a pty's width is 0: the fallback
    return subprocess.run([sys.executable, "-c", SCRIPT], stdout=stdout, stderr=stderr, env=env, timeout=60)


def test_a_real_pipe_and_a_real_terminal():
    piped = _run(subprocess.PIPE, subprocess.PIPE)
    text = piped.stdout.decode()
    assert piped.returncode == 0 and "\x1b" not in text and "\r" not in text
    assert text.splitlines()[-1] == "a log line" and "epoch 1/1 done, testing, valid AUC 0.600" in text
    leader, follower = pty.openpty()
    process = _run(follower, follower)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.returncode == 0
    assert ERASE.encode() in screen and b"epoch 1/1 done" in screen and b"a log line" in screen


def test_a_narrow_terminal_keeps_the_start_of_the_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "20")
    out = io.StringIO()
    Console(out, tty=True).status("[replicate] 1/3 done | 2 min elapsed, about 4 min left", event=True)
    assert out.getvalue() == ERASE + "[replicate] 1/3 do…"
