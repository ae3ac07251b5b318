"""The searcher's state after a restart: the search goes on from the records of finished
search trials and its proposals ledger (whatever Tune keeps), and only the rest of the budget
runs; an arm whose every search trial failed is reported and left out of replication. Proposals
as a function of the history: tests/test_proposals.py; killed and resumed end to end:
tests/test_sweep_reproducible.py."""

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.records import Store, TrialJob, TrialRecord
from harness.space import load_spec
from harness.sweep import Sweep

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "mos.yaml"


def _stub_tuner(sweep, calls: list, call=lambda name, param_space, num_samples, search_alg: param_space):
    """In place of Ray Tune: each Tuner the sweep asks for is noted in ``calls`` (``call`` of its
    arguments) and its ``fit()`` runs nothing, as a phase whose every trial Tune ended."""

    def tuner(name, param_space, num_samples, search_alg=None, arm=None, total=1, **kwargs):
        calls.append(call(name, param_space, num_samples, search_alg))
        sweep.progress = SimpleNamespace(ended=total, early={})
        return SimpleNamespace(fit=lambda: [])

    sweep._tuner = tuner


def test_a_search_goes_on_from_finished_search_records(tmp_path):
    """A record without a ledger (a sweep before issue 36) is adopted as proposal 0, said so,
    and the next proposal is asked on it; only the rest of the budget runs."""
    spec = dataclasses.replace(load_spec(SPACE, smoke=True), budget=3)
    logs = []
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=logs.append)
    [arm] = spec.arms()
    space = spec.search_space(arm)
    params = {path: d.corners()[0] for path, d in space.items()}
    job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
    Store(str(tmp_path)).write(TrialRecord(job, "ok", metrics={"valid_auc": 0.71}))
    calls = []
    _stub_tuner(
        sweep, calls, lambda name, param_space, num_samples, search_alg: (name, param_space, num_samples, search_alg)
    )
    selected = sweep.search(arm)
    assert selected == [params]
    [(name, param_space, num_samples, searcher)] = calls
    assert "search" in name and num_samples == spec.budget - 1  # only the rest of the budget
    assert param_space == {"phase": "search", "arm": arm.key, "seed": spec.seeds[0]}
    assert any("1 search trial(s) predate the proposals ledger" in m for m in logs), logs
    assert searcher.search.history(1) == [(params, [0.71])]  # the next proposal knows the earlier trial
    config = searcher.suggest("t1")
    assert config["proposal"] == 1 and set(config) == {*space, "proposal"}
    assert searcher.suggest("t2") is None  # one trial at a time: proposal 2 waits for proposal 1
    searcher.on_trial_complete("t1", {"valid_auc": 0.6})
    assert searcher.suggest("t2") == "FINISHED"  # proposal 1 ended without a record: not asked on


def test_an_arm_whose_every_search_trial_failed_is_reported_and_not_replicated(tmp_path):
    spec = load_spec(SPACE, smoke=True)
    logs = []
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=logs.append)
    [arm] = spec.arms()
    space = spec.search_space(arm)
    for corner in range(spec.budget):  # the whole budget, failed
        params = {path: d.corners()[corner % len(d.corners())] for path, d in space.items()}
        job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
        Store(str(tmp_path)).write(TrialRecord(job, "failed", error="DataError: ...", metrics={}))
    sweep._tuner = lambda *args, **kwargs: pytest.fail("nothing is left to run")
    assert sweep.search(arm) is None  # no best configuration, no exception
    assert any("every search trial failed, so this arm is not replicated" in m for m in logs)


def test_a_marker_beside_its_final_record_is_stale_and_dropped(tmp_path):
    """A process killed between writing a trial's record and deleting its marker: the trial
    finished, so it is not 'running', and the marker goes."""
    store = Store(str(tmp_path))
    done, busy = (TrialJob("e", "replicate", f"d/{m}", "c", {}, 0) for m in ("a", "b"))
    store.mark_running(done)
    store.mark_running(busy)
    store.write(TrialRecord(done, "ok"))
    store.mark_running(done)  # as if the delete never happened
    assert [job.arm for job in store.running()] == ["d/b"]
    assert sorted(p.name for p in (tmp_path / "trials").glob("*.running.json")) == ["d_b__c__seed0.running.json"]


def test_a_multi_metric_search_is_asked_on_both_values_and_fails_thin_sf(tmp_path):
    """With metric [valid_auc, valid_abs_sf], finished search trials reach the sampler with both
    values; one whose SF rests on too few targets is a failed trial to it."""
    space = tmp_path / "pareto.yaml"
    space.write_text(
        f"extends: {SPACE}\nname: pareto\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
        "select: {rule: pareto, min_support: 5}\nscheduler: null\n"
    )
    spec = load_spec(space)
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=lambda message: None)
    arm = spec.arms()[0]
    corners = [
        {path: d.corners()[i % len(d.corners())] for path, d in spec.search_space(arm).items()} for i in range(2)
    ]
    values = [
        {"valid_auc": 0.71, "valid_abs_sf": 0.2, "valid_sf_support": 9},
        {"valid_auc": 0.65, "valid_abs_sf": 0.1, "valid_sf_support": 2},
    ]  # thin: SF undefined
    for params, metrics in zip(corners, values, strict=True):
        job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
        Store(str(tmp_path)).write(TrialRecord(job, "ok", metrics=metrics))
    calls = []
    _stub_tuner(sweep, calls, lambda name, param_space, num_samples, search_alg: search_alg)
    assert sweep.search(arm) == [corners[0]]  # the thin one cannot be selected on SF
    [searcher] = calls
    key = lambda params: json.dumps(params, sort_keys=True)  # noqa: E731
    history = {key(p): v for p, v in searcher.search.history(2)}
    assert history == {key(corners[0]): [0.71, 0.2], key(corners[1]): None}


@pytest.mark.parametrize(
    "select, expected",
    [
        ("{rule: pareto}", [0, 2, 3]),
        ("{rule: knee}", [3]),
        ("{rule: ideal}", [3]),
        ("{rule: constrained, best: valid_auc, bounds: {valid_abs_sf: 0.11}}", [2]),
    ],
)
def test_the_replication_phase_runs_exactly_what_the_rule_selects_on_the_other_seeds(tmp_path, select, expected):
    """Ray-free: search records on validation AUC and |SF|; the sweep's selection is what the YAML's
    rule picks (every Pareto-optimal configuration, the knee, the nearest to the ideal point, the
    best AUC within a bound), and replication asks Tune for those configurations on every seed but
    the first (whose search trial is reused). The real sweep: test_sweep.py (extended)."""
    space = tmp_path / "pareto.yaml"
    space.write_text(
        f"extends: {SPACE}\nname: pareto\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
        f"scheduler: null\nseeds: [0, 1, 2]\nselect: {select}\n"
    )
    spec = load_spec(space)
    arm = spec.arms()[0]
    space_of = spec.search_space(arm)
    corners = [{path: d.corners()[i % len(d.corners())] for path, d in space_of.items()} for i in range(4)]
    corners[2] = {**corners[2], "train.lr": 0.3}  # four distinct configurations
    corners[3] = {**corners[3], "train.lr": 0.4}
    # the second is dominated; on the front's scale the fourth is both the knee and the nearest
    # to the ideal point; the third alone has |SF| <= 0.11
    values = [(0.80, 0.30), (0.70, 0.35), (0.75, 0.10), (0.78, 0.12)]
    for params, (auc, sf) in zip(corners, values, strict=True):
        job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
        Store(str(tmp_path)).write(
            TrialRecord(job, "ok", metrics={"valid_auc": auc, "valid_abs_sf": sf, "valid_sf_support": 50})
        )
    sweep = Sweep(dataclasses.replace(spec, budget=4), str(tmp_path), str(tmp_path / "ray"), log=lambda m: None)
    calls = []
    _stub_tuner(sweep, calls)
    selected = sweep.search(arm)
    key = lambda params: json.dumps(params, sort_keys=True)  # noqa: E731
    assert sorted(map(key, selected)) == sorted(key(corners[i]) for i in expected)
    assert calls == []  # the budget was spent: no new search
    sweep.replicate({arm.key: selected})
    [param_space] = calls
    jobs = param_space["job"]["grid_search"]
    assert sorted((j["seed"], json.dumps(j["params"], sort_keys=True)) for j in jobs) == sorted(
        (seed, json.dumps(p, sort_keys=True)) for p in selected for seed in (1, 2)
    )


def test_a_failed_search_trial_is_a_failed_trial_to_the_sampler(tmp_path):
    spec = load_spec(SPACE, smoke=True)
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=lambda message: None)
    [arm] = spec.arms()
    params = {path: d.corners()[0] for path, d in spec.search_space(arm).items()}
    job = TrialJob(spec.name, "search", arm.key, spec.config_id(arm, params), params, spec.seeds[0])
    Store(str(tmp_path)).write(TrialRecord(job, "failed", error="RuntimeError: boom", metrics={}))
    calls = []
    _stub_tuner(sweep, calls, lambda name, param_space, num_samples, search_alg: search_alg)
    assert sweep.search(arm) is None
    [searcher] = calls
    assert searcher.search.history(1) == [(params, None)]


def test_only_a_trial_tune_ended_early_is_recorded_stopped(tmp_path):
    """After a phase: a trial ASHA stopped (Tune completed it, it wrote no record) is recorded
    stopped with its last validation score; a trial Ctrl-C cut off (Tune never completed it) gets
    no record, keeps its marker, and the sweep stops; so does a phase that ended fewer trials
    than it had (Ctrl-C between two trials). The real Ctrl-C: test_sweep.py."""
    from harness.sweep import SweepInterrupted

    spec = load_spec(SPACE, smoke=True)
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=lambda message: None)
    [arm] = spec.arms()
    corners = [
        {path: d.corners()[i % len(d.corners())] for path, d in spec.search_space(arm).items()} for i in range(2)
    ]
    jobs = [TrialJob(spec.name, "search", arm.key, spec.config_id(arm, p), p, spec.seeds[0]) for p in corners]
    store = Store(str(tmp_path))
    for job in jobs:
        store.mark_running(job)
    asha = {"phase": "search", "arm": arm.key, "seed": spec.seeds[0], **corners[0]}
    sweep.progress = SimpleNamespace(ended=1, early={"t0": (asha, {"valid_auc": 0.6, "epoch": 1})})
    with pytest.raises(SweepInterrupted, match=r"search ended with 1 trial\(s\) that wrote no record"):
        sweep._finish("search", 2)
    stopped = store.read(jobs[0].key)
    assert stopped.status == "stopped" and stopped.metrics == {"valid_auc": 0.6}
    resolved = spec.run_config(arm, corners[0], spec.seeds[0]).to_dict()  # as JSON holds it
    assert stopped.config == json.loads(json.dumps(resolved))
    assert store.read(jobs[1].key) is None and [j.key for j in store.running()] == [jobs[1].key]

    store.write(TrialRecord(jobs[1], "ok", metrics={"valid_auc": 0.7}))
    sweep.progress = SimpleNamespace(ended=2, early={})
    with pytest.raises(SweepInterrupted, match="interrupted after 2 of its 3 trial"):
        sweep._finish("search", 3)
    sweep._finish("search", 2)  # every trial ended: go on


def test_replication_runs_seed_by_seed_every_arm_of_a_seed_before_the_next(tmp_path):
    """Ray-free: the replication grid is seed-major (each seed's arms in the file's order), so a study
    stopped at any point holds whole seeds, paired for every comparison; finished records are left out."""
    space = Path(__file__).resolve().parents[1] / "search_spaces" / "pilot_router.yaml"
    spec = load_spec(space)
    arms = [arm.key for arm in spec.arms()]
    sweep = Sweep(spec, str(tmp_path), str(tmp_path / "ray"), log=lambda m: None)
    first = spec.arms()[0]
    job = TrialJob(spec.name, "replicate", first.key, spec.config_id(first, {}), {}, spec.seeds[0])
    Store(str(tmp_path)).write(TrialRecord(job, "ok", metrics={}))  # finished: reused, not rerun
    calls = []
    _stub_tuner(sweep, calls)
    sweep.replicate({arm: [{}] for arm in arms})
    [param_space] = calls
    order = [(j["seed"], j["arm"]) for j in param_space["job"]["grid_search"]]
    assert order == [(seed, arm) for seed in spec.seeds for arm in arms][1:]
