"""The searcher's state after a restart: Optuna is warm-started from the records of
finished search trials (whatever Tune keeps), and only the rest of the budget runs;
an arm whose every search trial failed is reported and left out of replication."""

from pathlib import Path

import pytest

from harness.records import Store, TrialJob, TrialRecord
from harness.space import load_spec
from harness.sweep import Sweep

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "mos.yaml"


class _NoResults(list):
    pass


def test_optuna_is_warm_started_from_finished_search_records(tmp_path):
    spec = load_spec(SPACE, smoke=True)
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=lambda message: None)
    sweep.concurrency = 1
    [arm] = spec.arms()
    space = spec.search_space(arm)
    params = {path: d.corners()[0] for path, d in space.items()}
    job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
    Store(str(tmp_path)).write(TrialRecord(job, "ok", metrics={"valid_auc": 0.71}))
    calls = []
    sweep._tuner = lambda name, param_space, num_samples, search_alg=None, arm=None, total=1: calls.append(
        (name, param_space, num_samples, search_alg)) or type("T", (), {"fit": lambda self: _NoResults()})()
    best = sweep.search(arm)
    assert best == params
    [(name, param_space, num_samples, searcher)] = calls
    assert "search" in name and num_samples == spec.budget - 1            # only the rest of the budget
    searcher.set_search_properties("valid_auc", spec.mode, param_space)
    finished = [t for t in searcher._ot_study.trials if t.state.name == "COMPLETE"]
    assert len(finished) == 1 and finished[0].value == 0.71                # the study knows the earlier trial
    assert finished[0].params == params


def test_an_arm_whose_every_search_trial_failed_is_reported_and_not_replicated(tmp_path):
    spec = load_spec(SPACE, smoke=True)
    logs = []
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=logs.append)
    [arm] = spec.arms()
    space = spec.search_space(arm)
    for corner in range(spec.budget):                                   # the whole budget, failed
        params = {path: d.corners()[corner % len(d.corners())] for path, d in space.items()}
        job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
        Store(str(tmp_path)).write(TrialRecord(job, "failed", error="DataError: ...", metrics={}))
    sweep._tuner = lambda *args, **kwargs: pytest.fail("nothing is left to run")
    assert sweep.search(arm) is None                                    # no best configuration, no exception
    assert any("every search trial failed, so this arm is not replicated" in m for m in logs)


def test_a_marker_beside_its_final_record_is_stale_and_dropped(tmp_path):
    """A process killed between writing a trial's record and deleting its marker: the trial
    finished, so it is not 'running', and the marker goes."""
    store = Store(str(tmp_path))
    done, busy = (TrialJob("e", "replicate", f"d/{m}", "c", {}, 0) for m in ("a", "b"))
    store.mark_running(done)
    store.mark_running(busy)
    store.write(TrialRecord(done, "ok"))
    store.mark_running(done)                                        # as if the delete never happened
    assert [job.arm for job in store.running()] == ["d/b"]
    assert sorted(p.name for p in (tmp_path / "trials").glob("*.running.json")) == ["d_b__c__seed0.running.json"]
