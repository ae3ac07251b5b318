"""The sweep on an in-process Ray: a smoke sweep of a few trials, a bad YAML that
fails before Ray starts, and a driver killed mid-sweep then restarted.

Slow (about a minute per sweep on 2 cores): the smoke sweep starts real Ray Train
workers. Marked ``slow``; they run in the default test command.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.space import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "search_spaces" / "mos.yaml"
pytestmark = pytest.mark.slow


@pytest.fixture
def sweep_env(movielens_dir, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_DIR", str(movielens_dir))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def _records(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (folder / "trials").glob("*.json")
            if not p.name.endswith(".running.json")}


def _expected(spec) -> int:
    return spec.budget + len(spec.seeds) - 1   # search trials, then the best one's other seeds


def test_smoke_sweep_writes_valid_records_for_every_seed(sweep_env, tmp_path, capsys):
    import ray

    from harness.sweep import main

    try:
        assert main([str(SPACE), "--smoke", "--storage", str(tmp_path)]) == 0
    finally:
        ray.shutdown()
    out = capsys.readouterr().out
    spec = load_spec(SPACE, smoke=True)
    records = _records(tmp_path / "mos-smoke")
    assert len(records) == _expected(spec)
    assert all(r["status"] == "ok" and r["smoke"] is True for r in records.values())
    search = [r for r in records.values() if r["phase"] == "search"]
    assert len(search) == spec.budget and "search:" in out          # proposed by OptunaSearch
    assert len({json.dumps(r["params"], sort_keys=True) for r in search}) == spec.budget
    best = max(search, key=lambda r: r["metrics"]["valid_auc"])
    seeds = sorted(r["seed"] for r in records.values() if r["config_id"] == best["config_id"])
    assert seeds == sorted(spec.seeds)                              # the reported config has every seed
    for key, record in records.items():
        assert record["metrics"]["test"]["implicit"]["performance"]["all"]["auc"]["value"] is not None
        assert record["provenance"]["git_commit"] and record["parameters"]["trainable"] > 0
        assert (tmp_path / "mos-smoke" / "trials" / f"{key}.parquet").is_file()
    _report_end_to_end(tmp_path / "mos-smoke", "--reference", "mos")
    assert (tmp_path / "mos-smoke" / "report" / "figures" / "search.svg").is_file()   # the TPE history


def _report_end_to_end(folder: Path, *args: str) -> dict:
    """harness.report over a real smoke sweep's records, as a user runs it."""
    command = [sys.executable, "-m", "harness.report", str(folder), "--allow-smoke", "--resamples", "300",
               "--format", "json", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = folder / "report"
    assert {"table.md", "table.tex", "table.csv", "table.html", "comparisons.csv"} <= {p.name for p in report.iterdir()}
    assert (report / "figures" / "groups.png").is_file()
    return json.loads(done.stdout)


def test_bad_yaml_fails_before_ray_starts(tmp_path, capsys):
    import ray

    from harness.sweep import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "search_spaces" / "defaults.yaml") + "\nbudgett: 3\n")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "budgett" in err and "budget" in err
    assert not ray.is_initialized()


def test_killed_driver_restarts_and_runs_every_trial_once(sweep_env, tmp_path):
    command = [sys.executable, "-m", "harness.sweep", str(SPACE), "--smoke", "--storage", str(tmp_path)]
    folder = tmp_path / "mos-smoke"
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not _records(folder):
        time.sleep(1)
    assert _records(folder), "no trial finished within 5 minutes"
    os.killpg(first.pid, signal.SIGKILL)                           # the driver and the Ray it started
    first.wait()
    before = {key: (folder / "trials" / f"{key}.json").stat().st_mtime_ns for key in _records(folder)}
    assert len(before) < _expected(load_spec(SPACE, smoke=True))  # it was killed mid-sweep
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    records = _records(folder)
    assert len(records) == _expected(load_spec(SPACE, smoke=True))
    assert all(r["status"] == "ok" for r in records.values())
    assert not list((folder / "trials").glob("*.running.json"))
    for key, mtime in before.items():                              # finished trials were not run again
        assert (folder / "trials" / f"{key}.json").stat().st_mtime_ns == mtime


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(sweep_env, tmp_path):
    space = tmp_path / "broken.yaml"
    space.write_text(
        f"extends: {ROOT / 'search_spaces' / 'defaults.yaml'}\n"
        "methods:\n"
        "  - {name: broken, head: prompt_tuning, objectives: {rec: null, div: null}}   # div needs MoS experts\n"
        "  - {name: fine, head: tallrec_pt}\n"
        "  - {name: also-fine, head: prompt_tuning}\n")
    command = [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    records = _records(tmp_path / "out" / "broken-smoke")
    by_arm = {}
    for record in records.values():
        by_arm.setdefault(record["arm"].split("/")[1], []).append(record)
    assert {r["status"] for r in by_arm["broken"]} == {"failed"}
    assert all("div" in r["error"] and r["traceback"] for r in by_arm["broken"])
    assert sorted(r["seed"] for r in by_arm["fine"] if r["status"] == "ok") == [0, 1]
    report = _report_end_to_end(tmp_path / "out" / "broken-smoke", "--reference", "fine")
    assert [r["method"] for r in report["rows"]] == ["also-fine", "fine"]        # failed arm not averaged in
    assert sum("broken" in n and "failed" in n for n in report["notes"]) == 2
    tests = (tmp_path / "out" / "broken-smoke" / "report" / "comparisons.csv").read_text().splitlines()
    assert len(tests) == 1 + 6 and all(",fine,also-fine," in line for line in tests[1:])


def test_two_train_workers_share_a_trial(sweep_env, tmp_path):
    space = tmp_path / "ddp.yaml"
    space.write_text(
        f"extends: {ROOT / 'search_spaces' / 'defaults.yaml'}\n"
        "methods: [{name: pt, head: tallrec_pt}]\n"
        "smoke: {resources: {workers: 2, cpus_per_worker: 1}, seeds: [0]}\n")
    command = [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [record] = _records(tmp_path / "out" / "ddp-smoke").values()
    assert record["status"] == "ok" and record["workers"] == 2


def _own_process_sweep(tmp_path, extends: Path, methods: str, smoke: str = ""):
    space = tmp_path / "own.yaml"
    space.write_text(f"extends: {extends}\nname: own\nmethods:\n{methods}smoke: {{{smoke}resources: "
                     "{workers: 1, cpus_per_worker: 1, gpus_per_worker: 0, executor: tune_trial}}\n")
    command = [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return load_spec(space, smoke=True), _records(tmp_path / "out" / "own-smoke")


def test_trials_that_train_in_their_own_process(sweep_env, tmp_path):
    """executor: tune_trial: the search, ASHA and the replication as with a TorchTrainer,
    each trial in the Tune trial's own process, which Tune reuses."""
    spec, records = _own_process_sweep(tmp_path, SPACE, "  - {head: mos}\n")
    statuses = {key: (r["phase"], r["status"]) for key, r in records.items()}
    assert len(records) == _expected(spec), statuses
    # ASHA may stop a weak search trial at its first report (here nothing sits between
    # the report and Tune); the configuration replicated on every seed runs to the end
    assert all(s == "ok" or (phase == "search" and s == "stopped") for phase, s in statuses.values()), statuses
    assert {r["phase"] for r in records.values()} == {"search", "replicate"}


def test_trials_in_their_own_process_reuse_it_and_give_a_torch_trainers_numbers(sweep_env, tmp_path):
    _, records = _own_process_sweep(tmp_path, ROOT / "search_spaces" / "defaults.yaml",
                                    "  - {name: pt, head: tallrec_pt}\n", "seeds: [0, 1, 2], concurrency: 1, ")
    assert len(records) == 3 and all(r["status"] == "ok" for r in records.values())
    assert len({r["pid"] for r in records.values()}) == 1          # one process, kept by Tune for every trial
    assert all(r["device"] == "cpu" and r["workers"] == 1 for r in records.values())
    space = tmp_path / "trainer.yaml"                              # the same trials, each in a TorchTrainer
    space.write_text((tmp_path / "own.yaml").read_text().replace("executor: tune_trial", "executor: torch_trainer")
                     .replace("name: own", "name: trainer"))
    command = [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    trainer = _records(tmp_path / "out" / "trainer-smoke")
    assert trainer.keys() == records.keys()
    losses = lambda r: [e["train_loss"] for e in r["fit"]["epochs"]]  # noqa: E731
    for key, record in records.items():                            # to the last digit
        assert record["metrics"] == trainer[key]["metrics"] and losses(record) == losses(trainer[key])


def test_a_failing_trial_in_its_own_process_is_recorded(sweep_env, tmp_path):
    _, records = _own_process_sweep(tmp_path, ROOT / "search_spaces" / "defaults.yaml",
                                    "  - {name: broken, head: prompt_tuning, objectives: {rec: null, div: null}}\n")
    assert records and all(r["status"] == "failed" and "div" in r["error"] for r in records.values())
