"""Sweeps end to end, as a user runs them (``python -m harness.sweep`` in a subprocess that
starts and stops its own Ray), on the generated synthetic-movielens data set, so that a
clone without ../shared runs them too:

- two arms through Ray Train TorchTrainers, one trial at a time, the sweep killed after
  the first trial's record and run again: every trial once, valid records, and a report;
- trials that train in Tune's own process (``executor: tune_trial``): the MoS space's TPE
  search with ASHA and its replication on every seed, an arm whose every trial fails
  (recorded; the sweep goes on), the report, and a trial's numbers equal to those of the
  same run outside Ray;
- ``pareto_mos.yaml --smoke``: a search on validation AUC and |SF|, interrupted by SIGINT
  (the sweep stops with exit 130, records no cut-off trial and selects nothing), run again:
  its replication runs exactly its Pareto set, every record carrying every metric and the
  sweep's selection;
- a bad YAML, and a configuration no trial could run, refused before Ray starts.

Marked ``extended`` (``make test-all``, not ``make test``): two Train workers in one trial,
the same trials through both executors to the last digit, and ``mos.yaml --smoke`` on the
real MovieLens-100K copy. No test waits on a clock: a wait is for a file, with a timeout
that names it, and ASHA may stop any search trial (which trial reports first is a race).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.space import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPACES = ROOT / "search_spaces"
pytestmark = pytest.mark.slow


@pytest.fixture
def sweep_env(train_data, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_DIR", str(train_data.data_dir))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def _records(folder: Path) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text())
        for p in (folder / "trials").glob("*.json")
        if not p.name.endswith(".running.json")
    }


def _statuses(records: dict[str, dict]) -> str:
    """Every record's key, arm, phase, seed, status and error: what a failed assertion shows."""
    return "\n".join(
        f"  {key}: {r.get('arm')} {r.get('phase')} seed {r.get('seed')}: {r.get('status')}"
        + (f" ({r['error']})" if r.get("error") else "")
        for key, r in sorted(records.items())
    )


def _expected(spec) -> int:
    """Records of one searched arm: its search trials, then the best one's other seeds."""
    return spec.budget + len(spec.seeds) - 1


def _command(space: Path, storage: Path) -> list[str]:
    return [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(storage)]


def _sweep(space: Path, storage: Path, status: int = 0) -> str:
    """The sweep's console output; it must exit with ``status`` (0: every trial ok or stopped by ASHA)."""
    done = subprocess.run(_command(space, storage), cwd=ROOT, capture_output=True, text=True, timeout=900)
    output = done.stdout[-2000:] + done.stderr[-3000:]
    assert done.returncode == status, f"the sweep exited {done.returncode}, not {status}:\n{output}"
    return done.stdout


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.2)


def _check_search_and_replication(spec, records: dict[str, dict]) -> None:
    """Search trials ended ok or stopped by ASHA (with the score it stopped on); the best
    configuration of each searched arm ran on every seed, all ok."""
    table = _statuses(records)
    for record in records.values():
        if record["phase"] == "search":
            assert record["status"] in ("ok", "stopped"), f"a search trial neither finished nor was stopped:\n{table}"
            assert record["metrics"]["valid_auc"] is not None, table
        else:
            assert record["status"] == "ok", f"a replication trial did not finish:\n{table}"
    for arm in {r["arm"] for r in records.values() if r["phase"] == "search"}:
        search = [r for r in records.values() if r["arm"] == arm and r["phase"] == "search"]
        assert len(search) == spec.budget, table
        assert len({json.dumps(r["params"], sort_keys=True) for r in search}) == spec.budget, table  # TPE proposed
        replicated = {r["config_id"] for r in records.values() if r["arm"] == arm and r["phase"] == "replicate"}
        assert len(replicated) == 1, f"{arm}: one configuration replicated, got {replicated}:\n{table}"
        [chosen] = [r for r in search if r["config_id"] in replicated]
        best = max(r["metrics"]["valid_auc"] for r in search if r["status"] == "ok")  # ties: either is best
        assert chosen["status"] == "ok" and chosen["metrics"]["valid_auc"] == best, f"{arm}: not the best:\n{table}"
        seeds = sorted(r["seed"] for r in records.values() if r["config_id"] == chosen["config_id"])
        assert seeds == sorted(spec.seeds), f"the best configuration of {arm} is not on every seed:\n{table}"


def _report_end_to_end(folder: Path, *args: str) -> dict:
    """harness.report over a real smoke sweep's records, as a user runs it."""
    command = [
        sys.executable,
        "-m",
        "harness.report",
        str(folder),
        "--allow-smoke",
        "--resamples",
        "300",
        "--format",
        "json",
        *args,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = folder / "report"
    assert {"table.md", "table.tex", "table.csv", "table.html", "comparisons.csv"} <= {p.name for p in report.iterdir()}
    assert (report / "figures" / "groups.png").is_file()
    return json.loads(done.stdout)


def _space(tmp_path: Path, extends: Path, name: str, text: str) -> Path:
    """A test's search space: ``extends`` with ``text`` (whose smoke section names the data set)."""
    space = tmp_path / f"{name}.yaml"
    space.write_text(f"extends: {extends}\nname: {name}\n{text}")
    return space


# ---- refused before Ray starts --------------------------------------------------------------------


def test_bad_yaml_fails_before_ray_starts(tmp_path, capsys):
    import ray

    from harness.sweep import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(SPACES / "defaults.yaml") + "\nbudgett: 3\n")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "budgett" in err and "budget" in err
    assert not ray.is_initialized()


def test_a_configuration_no_trial_could_run_is_refused_before_ray_starts(tmp_path, capsys):
    import ray

    from harness.sweep import main

    space = tmp_path / "broken.yaml"
    space.write_text(
        f"extends: {SPACES / 'defaults.yaml'}\n"
        "methods: [{name: broken, head: prompt_tuning, objectives: {rec: null, div: null}}]\n"
    )
    assert main([str(space), "--smoke"]) == 2
    err = capsys.readouterr().err
    assert "methods[0].objectives.div" in err and "heads that do: mos" in err
    assert not ray.is_initialized()


# ---- TorchTrainer: killed and resumed ------------------------------------------------------------


def test_torch_trainer_sweep_killed_mid_sweep_resumes_and_ends_with_every_record(sweep_env, tmp_path):
    space = _space(
        tmp_path,
        SPACES / "defaults.yaml",
        "resume",
        (
            "methods: [{name: pt, head: prompt_tuning}, {name: mos, head: mos}]\n"
            "smoke: {datasets: [synthetic-movielens], seeds: [0], concurrency: 1}\n"
        ),
    )
    spec = load_spec(space, smoke=True)
    assert spec.resources.executor == "torch_trainer"
    folder = tmp_path / "resume-smoke"
    first = subprocess.Popen(
        _command(space, tmp_path),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: _records(folder) or first.poll() is not None,
            600,
            f"the first finished trial's record in {folder / 'trials'}",
        )
        assert first.poll() is None, f"the sweep exited ({first.returncode}) before any trial finished"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)  # the driver and the Ray it started
        first.wait()
    before = {key: (folder / "trials" / f"{key}.json").stat().st_mtime_ns for key in _records(folder)}
    # one trial at a time: when the first record appears the second trial has a whole trial to go
    assert len(before) < 2, "the sweep had finished before it was killed"

    _sweep(space, tmp_path)  # the same command again
    records = _records(folder)
    assert len(records) == 2 and all(r["status"] == "ok" for r in records.values()), _statuses(records)
    assert all(r["smoke"] is True and r["dataset"] == "synthetic-movielens" for r in records.values())
    assert not list((folder / "trials").glob("*.running.json")), _statuses(records)
    for key, mtime in before.items():  # finished trials were not run again
        assert (folder / "trials" / f"{key}.json").stat().st_mtime_ns == mtime, f"{key} ran twice"
    for key, record in records.items():
        if record["status"] == "ok":
            assert record["metrics"]["test"]["implicit"]["performance"]["all"]["auc"]["value"] is not None, key
            assert record["provenance"]["git_commit"] and record["parameters"]["trainable"] > 0, key
            # what made it: the sweep's own command line and its search-space files
            assert record["command"].startswith("python -m harness.sweep ") and "--smoke" in record["command"]
            assert [Path(p).name for p in record["space"]] == ["defaults.yaml", "resume.yaml"], record["space"]
            assert record["selection"] == {
                "metrics": ["valid_auc"],
                "modes": ["max"],
                "rule": "best",
                "best": None,
                "bounds": {},
                "min_support": spec.selection.min_support,
            }, key
            assert (folder / "trials" / f"{key}.parquet").is_file(), key
    _report_end_to_end(folder, "--reference", "mos")


# ---- tune_trial: search with ASHA, a failing arm, the report --------------------------------------

OWN_PROCESS = "resources: {workers: 1, cpus_per_worker: 1, gpus_per_worker: 0, executor: tune_trial}"


def test_trials_in_their_own_process_search_fail_and_report(sweep_env, tmp_path):
    """executor: tune_trial. mos is searched (TPE, ASHA after epoch 1) and replicated; fine
    runs on both seeds; broken asks for 4 sequences, which leave validation and test empty,
    so each of its trials fails in the trial (a data error) and is recorded as failed: the other
    trials still run to their end, and the sweep exits 1 (issue 34), as its summary says."""
    space = _space(
        tmp_path,
        SPACES / "defaults.yaml",
        "own",
        (
            "methods:\n"
            "  - {head: mos}\n"
            "  - {name: fine, head: tallrec_pt}\n"
            "  - {name: broken, head: prompt_tuning, data: {n_sequences: 4}}\n"
            "search: {head_options.top_k: {choice: [1, 2]}}\n"
            "smoke:\n"
            "  datasets: [synthetic-movielens]\n"
            "  train: {epochs: 2}\n"
            "  scheduler: {asha: {grace_period: 1, reduction_factor: 2}}\n"
            f"  {OWN_PROCESS}\n"
        ),
    )
    spec = load_spec(space, smoke=True)
    console = _sweep(space, tmp_path, status=1)
    folder = tmp_path / "own-smoke"
    records = _records(folder)
    table = _statuses(records)
    # the console on a pipe: the sweep's own plain status lines, none of Tune's box, its best-trial
    # lines or its TensorBoard hint, no control characters; a failure said; the closing summary
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", console), console[-3000:]
    assert "Current best trial" not in console and "tensorboard" not in console.lower() and "╭" not in console
    assert re.search(r"\[replicate\] \d+/\d+ done, \d+ running, \d+ waiting, \d+ failed, \d+ stopped", console)
    assert "synthetic-movielens/broken seed 0 failed" in console, console[-3000:]
    counts = {s: sum(r["status"] == s for r in records.values()) for s in ("ok", "failed", "stopped")}
    assert f"trials: {counts['ok']} ok, {counts['failed']} failed, {counts['stopped']} stopped" in console
    assert f"report: python -m harness.report {folder} --allow-smoke" in console
    assert "exit status 1: a trial failed" in console, console[-3000:]
    by_arm = {}
    for record in records.values():
        by_arm.setdefault(record["arm"].split("/")[1], []).append(record)
    assert len(by_arm["mos"]) == _expected(spec), table
    _check_search_and_replication(spec, {k: r for k, r in records.items() if r["arm"].endswith("/mos")})
    assert sorted(r["seed"] for r in by_arm["fine"] if r["status"] == "ok") == [0, 1], table
    assert [r["status"] for r in by_arm["broken"]] == ["failed", "failed"], table
    assert all(
        "DataError" in r["error"] and "left valid and test empty" in r["error"] and r["traceback"]
        for r in by_arm["broken"]
    ), table
    assert all(r["device"] == "cpu" and r["workers"] == 1 for r in by_arm["fine"])

    report = _report_end_to_end(folder, "--reference", "fine")
    assert [r["method"] for r in report["rows"] if r["source"] == "ours"] == ["mos", "fine"]  # failed arm left out
    assert sum("broken" in n and "failed" in n for n in report["notes"]) == 2
    tests = (folder / "report" / "comparisons.csv").read_text().splitlines()
    assert len(tests) == 1 + 6 and all(",fine,mos," in line for line in tests[1:])
    assert (folder / "report" / "figures" / "search.svg").is_file()  # the TPE history

    # a trial in Tune's reused process gives, to the last digit, the numbers of the same run outside Ray
    import torch

    from harness.run import run
    from harness.worker import load_backbone_for

    [record] = [r for r in by_arm["fine"] if r["seed"] == 1]
    config = spec.run_config(spec.arm(record["arm"]), record["params"], 1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the trial's one CPU
    try:
        alone = run(
            config,
            backbone=lambda prepared: load_backbone_for(spec.backbone, prepared, 1),
            log=lambda message: None,
            device="cpu",
        )
    finally:
        torch.set_num_threads(threads)
    assert alone["test"] == record["metrics"]["test"]
    assert [e["train_loss"] for e in alone["fit"]["epochs"]] == [e["train_loss"] for e in record["fit"]["epochs"]]


# ---- extended (make test-all) ---------------------------------------------------------------------


@pytest.mark.extended
def test_two_train_workers_share_a_trial(sweep_env, tmp_path):
    space = _space(
        tmp_path,
        SPACES / "defaults.yaml",
        "ddp",
        (
            "methods: [{name: pt, head: tallrec_pt}]\n"
            "smoke: {datasets: [synthetic-movielens], resources: {workers: 2, cpus_per_worker: 1}, seeds: [0]}\n"
        ),
    )
    _sweep(space, tmp_path)
    [record] = _records(tmp_path / "ddp-smoke").values()
    assert record["status"] == "ok" and record["workers"] == 2, _statuses({"ddp": record})


@pytest.mark.extended
def test_both_executors_give_the_same_numbers(sweep_env, tmp_path):
    """The same three trials in Tune's reused process and each in its own TorchTrainer."""
    records = {}
    for executor in ("tune_trial", "torch_trainer"):
        space = _space(
            tmp_path,
            SPACES / "defaults.yaml",
            executor.replace("_", "-"),
            (
                "methods: [{name: pt, head: tallrec_pt}]\n"
                "smoke:\n  datasets: [synthetic-movielens]\n  seeds: [0, 1, 2]\n  concurrency: 1\n"
                f"  {OWN_PROCESS.replace('tune_trial', executor)}\n"
            ),
        )
        _sweep(space, tmp_path)
        records[executor] = _records(tmp_path / f"{executor.replace('_', '-')}-smoke")
    own, trainer = records["tune_trial"], records["torch_trainer"]
    assert own.keys() == trainer.keys() and len(own) == 3, _statuses(own) + "\n" + _statuses(trainer)
    losses = lambda r: [e["train_loss"] for e in r["fit"]["epochs"]]  # noqa: E731
    for key, record in own.items():  # to the last digit
        assert record["metrics"] == trainer[key]["metrics"] and losses(record) == losses(trainer[key]), key


@pytest.mark.extended
def test_mos_smoke_sweep_on_real_movielens(movielens_dir, monkeypatch, tmp_path):
    """``python -m harness.sweep search_spaces/mos.yaml --smoke`` exactly as the README gives it."""
    monkeypatch.setenv("HARNESS_DATA_DIR", str(movielens_dir))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    spec = load_spec(SPACES / "mos.yaml", smoke=True)
    _sweep(SPACES / "mos.yaml", tmp_path)
    records = _records(tmp_path / "mos-smoke")
    assert len(records) == _expected(spec), _statuses(records)
    assert all(r["dataset"] == "movielens-100k" for r in records.values())
    _check_search_and_replication(spec, records)


# ---- interrupted: the sweep stops and says how to resume ------------------------------------------


def test_a_phase_that_leaves_trials_without_a_record_stops_the_sweep(tmp_path):
    """Ctrl-C makes Tune end a phase and return: the sweep must not go on to the next phase, and
    its summary says it stopped and how to resume (no Ray needed to check that)."""
    from harness.records import Store, TrialJob
    from harness.sweep import Sweep, SweepInterrupted

    space = _space(tmp_path, SPACES / "defaults.yaml", "stop", "methods: [{name: mos, head: mos}]\n")
    sweep = Sweep(load_spec(space), str(tmp_path / "stop"), str(tmp_path / "stop" / "ray"))
    sweep._stop_if_unfinished("replication")  # no markers: nothing happens
    Store(str(tmp_path / "stop")).mark_running(TrialJob("stop", "replicate", "movielens-100k/mos", "c", {}, 0))
    with pytest.raises(SweepInterrupted, match="replication ended with 1 trial"):
        sweep._stop_if_unfinished("replication")
    sweep.interrupted = "replication ended with 1 trial(s) that wrote no record"
    summary = "\n".join(sweep.summary(1.0))
    assert summary.startswith("sweep stop stopped before the end after 1.0 min")
    assert "run the same command again to resume" in summary


def test_the_status_line_weighs_each_arms_work():
    """The time left counts forward passes: a trained arm's epoch (2.5 per training sample, one
    per validation pair) and test (3 per test pair), the frozen LLM's validation and test."""
    from harness.sweep import _work

    spec = load_spec(SPACES / "study_smollm2.yaml")
    works = {arm.name: _work(spec.run_config(arm, {}, 0)) for arm in spec.arms()}
    assert works["mos"] == (2.5 * 800 + 200, 3.0 * 1000) and works["llm"] == (0.0, 200 + 3.0 * 1000)


# ---- several selection metrics: the Pareto set replicated -----------------------------------------


def _pareto_brute_force(rows: list[dict], min_support: int, sf: str = "valid_abs_sf") -> set[int]:
    """Row i is selected unless its |SF| (metric ``sf``) is undefined or thin, or another defined row
    has AUC >= and |SF| <= with one strict: written out here, apart from harness.pareto."""
    support = {"valid_abs_sf": "valid_sf_support", "valid_abs_sf_liked": "valid_sf_liked_support"}[sf]

    def point(r):
        sf_value = r[sf] if r[support] >= min_support else None
        return None if sf_value is None else (r["valid_auc"], sf_value)

    points = [point(r) for r in rows]
    return {
        i
        for i, p in enumerate(points)
        if p is not None
        and not any(q is not None and q[0] >= p[0] and q[1] <= p[1] and (q[0] > p[0] or q[1] < p[1]) for q in points)
    }


def test_a_multi_metric_sweep_replicates_its_pareto_set(sweep_env, tmp_path):
    """pareto_mos.yaml --smoke (MoS alone), interrupted with SIGINT (Ctrl-C) once its first
    search record is written: the sweep stops (exit 130, no record for a cut-off trial, no
    selection from a partial search, no replication). Run again, it finishes: every record
    carries every validation metric, and the configurations replicated are exactly the
    Pareto set of the search records, on every seed."""
    space = _space(
        tmp_path,
        SPACES / "pareto_mos.yaml",
        "pareto",
        (
            "methods: [{name: mos, head: mos}]\nsearch: {objectives.up5.weight: null}\n"
            "smoke: {datasets: [synthetic-movielens]}\n"
        ),
    )
    spec = load_spec(space, smoke=True)
    folder = tmp_path / "pareto-smoke"
    first = subprocess.Popen(
        _command(space, tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: _records(folder) or first.poll() is not None, 600, f"the first search record in {folder / 'trials'}"
        )
        assert first.poll() is None, f"the sweep exited ({first.returncode}) before any trial finished"
        first.send_signal(signal.SIGINT)  # Ctrl-C, to the sweep's own process
        output, _ = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    records = _records(folder)
    assert first.returncode == 130, f"exit {first.returncode} after SIGINT:\n{output[-3000:]}"
    assert "stopped before the end" in output and "run the same command again to resume" in output, output[-3000:]
    assert not re.search(r"\] pareto \(", output), f"selected on a partial search:\n{output[-3000:]}"
    assert all(r["status"] == "ok" and r["phase"] == "search" for r in records.values()), _statuses(records)
    assert 1 <= len(records) < spec.budget, _statuses(records)

    _sweep(space, tmp_path)  # the same command again
    records = _records(folder)
    table = _statuses(records)
    assert records and all(r["status"] == "ok" for r in records.values()), table
    from harness.config.train import VALID_METRICS

    for r in records.values():
        assert set(VALID_METRICS) <= set(r["metrics"]), table
        assert r["selection"]["min_support"] == spec.selection.min_support and r["selection"]["rule"] == "pareto"
    search = sorted((r for r in records.values() if r["phase"] == "search"), key=lambda r: r["key"])
    assert len(search) == spec.budget, table
    [sf] = [m for m in spec.selection.metrics if m != "valid_auc"]
    pareto = {
        search[i]["config_id"]
        for i in _pareto_brute_force([r["metrics"] for r in search], spec.selection.min_support, sf)
    }
    assert pareto, f"no search trial had a defined validation SF:\n{table}"
    replicated = {r["config_id"] for r in records.values() if r["phase"] == "replicate"}
    assert replicated == pareto, table
    for config_id in pareto:
        assert sorted(r["seed"] for r in records.values() if r["config_id"] == config_id) == sorted(spec.seeds)
