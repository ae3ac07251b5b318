"""A resumed search proposes what the uninterrupted one would have (issue 36), tested the way it
fails: the same command run once without interruption, and again in a fresh folder with the
whole process group killed (SIGKILL) in the middle of its search phase, after some records and
before the budget is spent, then run to its end. The two must hold the same records (keys,
parameters, status, metrics, per-example scores to the byte) and the same proposals ledger:

- ``pareto_mos.yaml --smoke``: three arms searched on validation AUC and |SF| (TPE on two
  metrics), one trial at a time, killed twice (once mid-trial), then their Pareto sets replicated;
- ``mos.yaml --smoke`` with a budget of 4: TPE on validation AUC with ASHA's stops, two trials in
  flight (so a proposal waits for its window), killed twice (once mid-trial).

Both on the generated synthetic-movielens data set, trials in Tune's own process. Marked
``extended`` (``make test-all``): each takes minutes (three Ray starts and two sweeps).
"""

import hashlib
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
SPACES = ROOT / "search_spaces"
pytestmark = [pytest.mark.slow, pytest.mark.extended]
OWN_PROCESS = "resources: {workers: 1, cpus_per_worker: 1, gpus_per_worker: 0, executor: tune_trial}"


@pytest.fixture
def sweep_env(train_data, monkeypatch):
    monkeypatch.setenv("HARNESS_DATA_DIR", str(train_data.data_dir))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def _command(space: Path, storage: Path) -> list[str]:
    return [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(storage)]


def _trials(folder: Path) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text())
        for p in (folder / "trials").glob("*.json")
        if not p.name.endswith(".running.json")
    }


def _search(folder: Path) -> int:
    return sum(r["phase"] == "search" for r in _trials(folder).values())


def _marker(folder: Path) -> bool:
    return any(
        not p.with_name(p.name.replace(".running", "")).exists() for p in (folder / "trials").glob("*.running.json")
    )


def _killed_when(space: Path, storage: Path, folder: Path, condition, what: str) -> None:
    """Start the sweep, wait until ``condition()`` holds, then SIGKILL its process group (the driver and
    the Ray it started)."""
    process = subprocess.Popen(
        _command(space, storage), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 600
        while not ((folder / "trials").is_dir() and condition()) and process.poll() is None:
            assert time.monotonic() < deadline, f"timed out after 600 s waiting for {what}"
            time.sleep(0.2)
        assert process.poll() is None, f"the sweep exited ({process.returncode}) before {what}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _run(space: Path, storage: Path) -> None:
    done = subprocess.run(_command(space, storage), cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"the sweep exited {done.returncode}:\n" + done.stdout[-2000:] + done.stderr[-3000:]


def _study(folder: Path) -> dict:
    """What the study holds, as the comparison sees it: each record's parameters, status, proposal,
    metrics and the SHA-256 of its per-example scores; each proposal's file."""
    trials = {}
    for key, r in _trials(folder).items():
        scores = folder / "trials" / f"{key}.parquet"
        trials[key] = {
            **{k: r.get(k) for k in ("phase", "params", "status", "proposal", "metrics")},
            "scores": hashlib.sha256(scores.read_bytes()).hexdigest() if scores.exists() else None,
        }
    proposals = {str(p.relative_to(folder)): json.loads(p.read_text()) for p in (folder / "proposals").rglob("*.json")}
    return {"trials": trials, "proposals": proposals}


def _same(whole: dict, resumed: dict) -> None:
    table = "\n".join(f"  {k}: {v['status']} {v['params']}" for k, v in sorted(whole["trials"].items()))
    assert sorted(resumed["trials"]) == sorted(whole["trials"]), (
        f"different records after the resume:\nuninterrupted:\n{table}\nresumed: {sorted(resumed['trials'])}"
    )
    for key, expected in whole["trials"].items():
        got = resumed["trials"][key]
        assert got == expected, f"{key} differs: " + str(
            {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
        )
    assert resumed["proposals"] == whole["proposals"]


def _check(tmp_path: Path, space: Path, experiment: str, kills: list) -> dict:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    spec = load_spec(space, smoke=True)
    _run(space, whole)
    for condition, what in kills:
        _killed_when(space, resumed, resumed / experiment, lambda c=condition: c(resumed / experiment), what)
        records = _trials(resumed / experiment)
        assert records and all(r["phase"] == "search" for r in records.values()), f"not killed mid-search ({what})"
        assert _search(resumed / experiment) < spec.budget * len(spec.arms()), f"the search had ended ({what})"
    _run(space, resumed)
    assert not list((resumed / experiment / "trials").glob("*.running.json"))
    study = _study(whole / experiment)
    _same(study, _study(resumed / experiment))
    return study


def test_a_multi_metric_search_killed_mid_phase_resumes_to_the_uninterrupted_study(sweep_env, tmp_path):
    space = tmp_path / "pareto36.yaml"
    space.write_text(
        f"extends: {SPACES / 'pareto_mos.yaml'}\nname: pareto36\nsmoke: {{datasets: [synthetic-movielens]}}\n"
    )
    study = _check(
        tmp_path,
        space,
        "pareto36-smoke",
        [
            (lambda f: _search(f) >= 1, "the first search record"),
            (lambda f: _search(f) >= 5 and _marker(f), "a trial running after five search records"),
        ],
    )
    search = [t for t in study["trials"].values() if t["phase"] == "search"]
    assert len(search) == 9 and sorted(t["proposal"] for t in search) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert any(t["phase"] == "replicate" for t in study["trials"].values())


def test_a_tpe_search_with_asha_killed_mid_phase_resumes_to_the_uninterrupted_study(sweep_env, tmp_path):
    space = tmp_path / "mos36.yaml"
    space.write_text(
        f"extends: {SPACES / 'mos.yaml'}\nname: mos36\n"
        f"smoke: {{datasets: [synthetic-movielens], budget: 4, concurrency: 2, {OWN_PROCESS}}}\n"
    )
    study = _check(
        tmp_path,
        space,
        "mos36-smoke",
        [
            (lambda f: _search(f) >= 1, "the first search record"),
            (lambda f: _search(f) >= 2 and _marker(f), "a trial running after two search records"),
        ],
    )
    search = [t for t in study["trials"].values() if t["phase"] == "search"]
    assert len(search) == 4 and any(t["status"] == "stopped" for t in search), "ASHA stopped no trial: nothing tested"
