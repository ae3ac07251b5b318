"""Proposals that are a function of the history (issue 36), without Ray: ``propose`` gives the
same configuration for the same arguments in any process; an arm's search (``ArmSearch``) driven
to its end proposes the same sequence uninterrupted, killed and resumed at any moment (a
proposal asked but unfinished re-run as it was), and, with two trials in flight, whichever of
them ends first; ASHA's rule and rungs are Tune's; each arm draws its own numbers unless
``searcher_draws: shared``. The real sweep killed and resumed: tests/test_sweep_reproducible.py."""

import dataclasses
import json
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.records import Store, TrialRecord
from harness.space import load_spec
from harness.sweep.ledger import Ledger, Proposal
from harness.sweep.proposals import asha_stops, decision_epochs, propose, sampler_seed, window
from harness.sweep.searcher import DONE, WAIT, ArmSearch

ROOT = Path(__file__).resolve().parents[1]
MOS = ROOT / "search_spaces" / "mos.yaml"
PARETO = ROOT / "search_spaces" / "pareto_mos.yaml"


def test_the_sampler_seed_is_a_stable_hash_of_the_searcher_seed_arm_and_index():
    assert sampler_seed(0, "movielens-100k/mos", 0) == 2743898142  # SHA-256, the same in every process
    seeds = {sampler_seed(0, arm, i) for arm in ("d/a", "d/b") for i in range(3)}
    assert len(seeds) == 6
    assert sampler_seed(0, "d/a", 1, "shared") == sampler_seed(0, "d/b", 1, "shared") != sampler_seed(1, "d/a", 1)


def test_a_proposals_window_is_every_one_at_least_concurrency_before_it():
    assert list(window(0, 1)) == [] and list(window(3, 1)) == [0, 1, 2]
    assert list(window(1, 2)) == [] and list(window(3, 2)) == [0, 1] and list(window(5, 3)) == [0, 1, 2]


def _space(path=MOS):
    spec = load_spec(path, smoke=True)
    arm = spec.arms()[0]
    return spec, arm, spec.search_space(arm)


def test_the_same_history_gives_the_same_proposal_in_another_process():
    spec, arm, space = _space(PARETO)
    history = [
        (propose(space, [], 1, spec.selection.modes), [0.61, 0.2]),
        ({"objectives.sf.weight": 1.0, "objectives.div.weight": 2.0, "head_options.top_k": 2}, None),
    ]
    here = propose(space, history, 7, spec.selection.modes)
    assert here == propose(space, history, 7, spec.selection.modes)
    code = (
        "import json, sys; from harness.space import load_spec; from harness.sweep.proposals import propose\n"
        f"spec = load_spec({str(PARETO)!r}, smoke=True); arm = spec.arms()[0]\n"
        "history = json.loads(sys.argv[1])\n"
        "print(json.dumps(propose(spec.search_space(arm), history, 7, spec.selection.modes)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(history)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        check=True,
    )
    assert json.loads(done.stdout) == here
    assert propose(space, history, 8, spec.selection.modes) != here  # the seed matters


def test_a_proposal_does_not_repeat_an_earlier_one_while_the_space_has_others():
    from harness.space.schema import Distribution

    space = {"head_options.top_k": Distribution("choice", (1, 2))}
    for seed in range(20):
        first = propose(space, [], seed, ["max"])
        assert propose(space, [(first, [0.6])], seed, ["max"], avoid=[first]) != first, seed
    assert propose(space, [], 0, ["max"], avoid=[{"head_options.top_k": 1}, {"head_options.top_k": 2}])  # none left


def test_each_arm_draws_its_own_numbers_unless_they_are_shared():
    """pareto_mos.yaml's MoS and UP5 arms search three parameters of the same shapes: with shared
    draws their first proposals are the same numbers in different places."""
    for draws, same in (("per_arm", False), ("shared", True)):
        spec = dataclasses.replace(load_spec(PARETO, smoke=True), searcher_draws=draws)
        mos, up5 = (a for a in spec.arms() if a.name in ("mos", "up5"))
        first = [
            list(propose(spec.search_space(a), [], sampler_seed(0, a.key, 0, draws), spec.selection.modes).values())
            for a in (mos, up5)
        ]
        assert (first[0] == first[1]) is same, (draws, first)


def _metrics(params: dict) -> float:
    """A made-up validation AUC, a function of the configuration."""
    return round(0.5 + 0.1 * (params["head_options.top_k"] - 1) + 0.02 * params["head_options.n_experts"], 6)


def _finish(search: ArmSearch, store: Store, index: int) -> None:
    auc = _metrics(search.proposals[index].params)
    store.write(TrialRecord(search.job(index), "ok", metrics={"valid_auc": auc}, fit={"epochs": [{"epoch": 1}]}))
    search.ended(index)


def _drive(folder: Path, spec, concurrency: int, rng: random.Random, kill_at: float = 1.0) -> bool:
    """Run an arm's search with made-up trials, ``concurrency`` in flight, ending in an order ``rng``
    picks; stop (as a kill would) after ``kill_at`` of the steps. Returns whether it ended."""
    store = Store(str(folder))
    search = ArmSearch(spec, spec.arms()[0], store, Ledger(str(folder)), concurrency, log=lambda m: None)
    running: list[int] = []
    while rng.random() < kill_at:
        got = search.next() if len(running) < concurrency else WAIT
        if got == DONE and not running:
            return True
        if got not in (WAIT, DONE):
            running.append(got[0])
            continue
        _finish(search, store, running.pop(rng.randrange(len(running))))
    return False


def _sequence(folder: Path, spec) -> list:
    proposals = Ledger(str(folder)).read(spec.arms()[0].key)
    records = {r.key: r for r in Store(str(folder)).records()}
    return [(p.params, p.sampler_seed, p.seen) for p in proposals], sorted(records)


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_a_search_killed_at_any_moment_proposes_what_the_uninterrupted_one_did(tmp_path, concurrency):
    spec = dataclasses.replace(load_spec(MOS, smoke=True), budget=8, scheduler=None)
    assert _drive(tmp_path / "whole", spec, concurrency, random.Random(0))
    expected = _sequence(tmp_path / "whole", spec)
    assert len(expected[0]) == 8 and len({json.dumps(p) for p, _, _ in expected[0]}) == 8
    for attempt in range(4):  # other orders of ending, and kills at random moments
        folder, rng = tmp_path / f"killed{attempt}", random.Random(attempt + 1)
        while not _drive(folder, spec, concurrency, rng, kill_at=0.8):
            pass
        assert _sequence(folder, spec) == expected, f"attempt {attempt}"


def test_a_proposal_asked_but_unfinished_is_rerun_as_it_was(tmp_path):
    spec, arm, space = _space()
    store, ledger = Store(str(tmp_path)), Ledger(str(tmp_path))
    search = ArmSearch(spec, arm, store, ledger, 1, log=lambda m: None)
    index, params = search.next()
    assert (index, ledger.read(arm.key)[0].params) == (0, params)  # in the ledger before it runs
    resumed = ArmSearch(spec, arm, store, ledger, 1, log=lambda m: None)
    assert resumed.queue == [0, 1] and resumed.rerun == 1 and resumed.next() == (0, params)


def test_a_resumed_search_says_when_its_proposals_will_differ(tmp_path):
    spec, arm, _ = _space()
    store, ledger = Store(str(tmp_path)), Ledger(str(tmp_path))
    search = ArmSearch(spec, arm, store, ledger, 1, log=lambda m: None)
    _finish(search, store, search.next()[0])
    logs = []
    ArmSearch(spec, arm, store, ledger, 2, log=logs.append)
    assert any("asked with concurrency 1" in m and "will differ from an uninterrupted run's" in m for m in logs)
    logs.clear()
    ArmSearch(dataclasses.replace(spec, searcher_draws="shared"), arm, store, ledger, 1, log=logs.append)
    assert any("another searcher_seed or searcher_draws" in m for m in logs), logs


def test_asha_stops_against_the_window_and_records_the_stop_with_its_epochs(tmp_path):
    spec, arm, _ = _space()  # smoke: ASHA with grace 1, reduction factor 2, one epoch
    spec = dataclasses.replace(spec, budget=3)
    store = Store(str(tmp_path))
    search = ArmSearch(spec, arm, store, Ledger(str(tmp_path)), 1, log=lambda m: None)
    first = search.next()[0]
    store.write(
        TrialRecord(
            search.job(first), "ok", metrics={"valid_auc": 0.7}, fit={"epochs": [{"epoch": 1, "valid_auc": 0.7}]}
        )
    )
    search.ended(first)
    second = search.next()[0]
    assert not search.judge(second, {"epoch": 1, "valid_auc": 0.75})
    # a Train worker that finished its last epoch before the stop was judged: the stop stands
    store.write(TrialRecord(search.job(second), "ok", metrics={"valid_auc": 0.6}), pd.DataFrame({"score": [0.1]}))
    assert search.judge(second, {"epoch": 1, "valid_auc": 0.6, "valid_auc_by_epoch": [0.6]})
    stopped = store.read(search.job(second).key)
    assert stopped.status == "stopped" and stopped.metrics == {"valid_auc": 0.6}
    assert stopped.fit == {"epochs": [{"epoch": 1, "valid_auc": 0.6}]} and store.scores(stopped.key) is None
    two = ArmSearch(spec, arm, store, Ledger(str(tmp_path)), 2, log=lambda m: None)
    assert not two.judge(1, {"epoch": 1, "valid_auc": 0.1})  # with two in flight, proposal 1 sees none


def test_the_worker_writes_no_record_over_a_stop(tmp_path):
    from harness.worker import _write

    spec, arm, _ = _space()
    store = Store(str(tmp_path))
    search = ArmSearch(spec, arm, store, Ledger(str(tmp_path)), 1, log=lambda m: None)
    job = search.job(search.next()[0])
    store.write(TrialRecord(job, "stopped", metrics={"valid_auc": 0.5}))
    _write(store, TrialRecord(job, "ok", metrics={"valid_auc": 0.5}), pd.DataFrame({"score": [0.1]}))
    assert store.read(job.key).status == "stopped" and store.scores(job.key) is None


def test_the_rungs_and_cutoff_are_tunes():
    from ray.tune.schedulers.async_hyperband import _Bracket

    for grace, factor, epochs in [(1, 2, 1), (2, 2, 5), (1, 3, 9), (1, 4, 20), (2, 1.5, 6)]:
        tune_rungs = {m for m, _ in _Bracket(grace, epochs + 1, factor, 0)._rungs}
        expected = sorted({-int(-m // 1) for m in tune_rungs if m <= epochs})
        assert decision_epochs(grace, factor, epochs) == expected, (grace, factor, epochs)
    values = [0.61, 0.7, 0.55, float("nan")]
    for factor in (2, 4):
        cutoff = _Bracket(1, 2, factor, 0).cutoff(dict(enumerate(values)))
        assert asha_stops(cutoff - 1e-9, values, factor, "max") and not asha_stops(cutoff, values, factor, "max")
    assert asha_stops(0.4, [0.3], 2, "min") and not asha_stops(0.2, [0.3], 2, "min")
    assert not asha_stops(0.0, [], 2, "max")


def test_the_ledger_refuses_a_gap(tmp_path):
    ledger = Ledger(str(tmp_path))
    for index in (0, 2):
        ledger.write(Proposal("d/a", index, {"x": index}, 1, index, 1))
    with pytest.raises(ValueError, match=r"holds proposals \[0, 2\].*restore the missing ones"):
        ledger.read("d/a")
    assert Ledger(str(tmp_path)).read("d/b") == []
    assert Proposal.from_json(Proposal("d/a", 0, {"x": 1}, 3, 0, 2).to_json()) == Proposal("d/a", 0, {"x": 1}, 3, 0, 2)
