"""Experiment tracking against a real MLflow tracking server on 127.0.0.1 (SQLite backend store),
started and stopped here; skipped, with the reason, where the tracking extra is not installed
(``make test`` installs it). The Tracker on hand-made records, then a smoke sweep logging to the
server, killed once after its first record and run again: one run per trial key, whose metrics,
parameters and tags are the records' (read back through MLflow's client). Slow (the server and two
sweeps: about two minutes on 2 cores), still in ``make test``."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from harness.records import Store

from .report.fixtures import write_record

mlflow = pytest.importorskip("mlflow", reason="the tracking extra is not installed: pip install -e '.[tracking]'")

STARTUP = 180  # seconds a cold server may take to create its database (under load, 2 cores)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A tracking server's URI; stopped after the module."""
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'db.sqlite'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "server.log", "w"),
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP
    while True:  # wait for the server to answer, not for a fixed time
        try:
            if urllib.request.urlopen(f"{uri}/health", timeout=5).status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the MLflow server did not start: {(folder / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield uri
    process.terminate()
    process.wait(timeout=60)


def _record(tmp_path, key_seed=0, status="ok"):
    store = Store(str(tmp_path / "exp"))
    fit = {
        "epochs": [
            {"epoch": 1, "valid_auc": 0.61, "valid_sf": 0.3, "train_loss": 0.9, "seconds": 3.0},
            {"epoch": 2, "valid_auc": 0.64, "valid_sf": None, "train_loss": 0.7, "seconds": 3.0},
        ]
    }
    key = write_record(store, "tracked", "movielens-100k", "mos", key_seed, 1.0, status=status, fit=fit)
    return next(r for r in store.records() if r.key == key)


def test_a_record_becomes_one_run_with_its_metrics_tags_and_artifact(server, tmp_path):
    from harness.tracking import KEY_TAG, Tracker, final_metrics

    record = _record(tmp_path)
    tracker = Tracker(server, "tracked")
    tracker.log_epoch(record.job, 1, record.fit["epochs"][0])  # live, while it trains
    run_id = tracker.finish(record)
    again = Tracker(server, "tracked")  # a resumed sweep: a new process
    assert again.finish(record) is None  # already FINISHED: not logged twice
    client = mlflow.tracking.MlflowClient(server)
    runs = client.search_runs([again.experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{record.key}'")
    assert [r.info.run_id for r in runs] == [run_id] and runs[0].info.status == "FINISHED"
    run = runs[0]
    assert run.data.tags["harness.arm"] == "movielens-100k/mos" and run.data.tags["harness.seed"] == "0"
    assert run.data.tags["harness.config_id"] == record.job.config_id and run.data.tags["harness.status"] == "ok"
    assert run.data.tags["harness.machine"] == "Test CPU"
    assert [m.value for m in client.get_metric_history(run_id, "valid_auc")] == [0.61, 0.64]  # epoch 1 once
    assert [m.step for m in client.get_metric_history(run_id, "train_loss")] == [1, 2]
    for name, value in final_metrics(record).items():
        assert run.data.metrics[name] == pytest.approx(value)
    assert run.data.params["train.train_setting"] == "implicit"
    local = client.download_artifacts(run_id, "record.json", str(tmp_path))
    assert json.loads(open(local).read())["key"] == record.key


def test_a_failed_trial_ends_failed(server, tmp_path):
    from harness.tracking import Tracker

    record = _record(tmp_path, key_seed=5, status="failed")
    tracker = Tracker(server, "tracked-failed")
    run_id = tracker.finish(record)
    assert mlflow.tracking.MlflowClient(server).get_run(run_id).info.status == "FAILED"


def test_without_mlflow_the_error_says_how_to_install_it(monkeypatch):
    from harness import tracking

    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(tracking.TrackingError, match=r'pip install -e "\.\[tracking\]"'):
        tracking.Tracker("mlruns", "x")


# ---- a smoke sweep logging to the server, killed once and resumed (issue 34) -----------------------

ROOT = Path(__file__).resolve().parents[1]
SWEEP_SPACE = """extends: {defaults}
name: tracked
methods: [{{name: pt, head: prompt_tuning}}]
smoke:
  datasets: [synthetic-movielens]
  seeds: [0, 1, 2]
  concurrency: 1
  resources: {{workers: 1, cpus_per_worker: 1, gpus_per_worker: 0, executor: tune_trial}}
"""


def _trial_records(folder: Path) -> dict:
    store = Store(str(folder))
    return {r.key: r for r in store.records()}


def _wait_for_a_record(process, folder: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not _trial_records(folder) and process.poll() is None:
        assert time.monotonic() < deadline, f"no trial record in {folder / 'trials'} after {timeout:.0f} s"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_sweep_killed_and_resumed_logs_each_trial_once_as_its_record_says(server, train_data, monkeypatch, tmp_path):
    from harness.tracking import KEY_TAG, epoch_metrics, final_metrics

    monkeypatch.setenv("HARNESS_DATA_DIR", str(train_data.data_dir))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    space = tmp_path / "tracked.yaml"
    space.write_text(SWEEP_SPACE.format(defaults=ROOT / "search_spaces" / "defaults.yaml"))
    command = [sys.executable, "-m", "harness.sweep", str(space), "--smoke", "--storage", str(tmp_path)]
    command += ["--tracking-uri", server]
    folder = tmp_path / "tracked-smoke"
    first = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_for_a_record(first, folder)
        assert first.poll() is None, f"the sweep exited ({first.returncode}) before it could be killed"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)  # the driver and the Ray it started
        first.wait()
    assert len(_trial_records(folder)) < 3, "the sweep had finished before it was killed"
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]

    records = _trial_records(folder)
    assert len(records) == 3 and all(r.ok for r in records.values()), {k: r.error for k, r in records.items()}
    client = mlflow.tracking.MlflowClient(server)
    experiment = client.get_experiment_by_name("tracked-smoke")  # one MLflow experiment per harness experiment
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    assert sorted(run.data.tags[KEY_TAG] for run in runs) == sorted(records)  # one run per trial key
    for run in runs:
        record, tags = records[run.data.tags[KEY_TAG]], run.data.tags
        why = f"{record.key}: run {run.info.run_id}"
        assert run.info.status == "FINISHED", why
        expected = {
            "harness.experiment": record.job.experiment,
            "harness.phase": record.job.phase,
            "harness.arm": record.job.arm,
            "harness.seed": str(record.job.seed),
            "harness.config_id": record.job.config_id,
            "harness.commit": record.provenance["git_commit"],
            "harness.machine": record.provenance["machine"]["cpu_model"],
            "harness.status": "ok",
        }
        assert {k: tags.get(k) for k in expected} == expected, why
        finals = final_metrics(record)
        assert finals and {k: run.data.metrics[k] for k in finals} == finals, why
        for name in ("train_loss", "valid_auc", "valid_sf"):
            logged = [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, name)]
            wanted = [(e["epoch"], epoch_metrics(e)[name]) for e in record.fit["epochs"] if name in epoch_metrics(e)]
            assert logged == wanted, f"{why}: {name} {logged} != {wanted}"  # each epoch once
        assert run.data.params["train.lr"] == str(record.config["train"]["lr"]), why
        assert run.data.params["dataset"] == "synthetic-movielens", why
        local = client.download_artifacts(run.info.run_id, "record.json", str(tmp_path / run.info.run_id[:8]))
        assert json.loads(Path(local).read_text()) == json.loads(json.dumps(record.to_json())), why


def test_the_flag_alone_logs_to_a_sqlite_store_beside_the_records(tmp_path):
    """``--tracking-uri`` without a URI: ``STORAGE/mlflow.db``, artifacts in ``STORAGE/mlartifacts``
    (MLflow 3's file store refuses to start unless told to); ``tracking:`` in the YAML when no flag."""
    from harness.space import load_spec
    from harness.sweep.preflight import checked

    space = tmp_path / "t.yaml"
    space.write_text(f"extends: {ROOT / 'search_spaces' / 'mos.yaml'}\nname: t\ntracking: sqlite:///{tmp_path}/x.db\n")
    spec = load_spec(space, smoke=True)
    assert spec.tracking == f"sqlite:///{tmp_path}/x.db"
    results = str(tmp_path / "runs" / "t-smoke")
    tracker = checked(spec, results, local=False, tracking_uri="")
    assert tracker.uri == f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}" and (tmp_path / "runs" / "mlflow.db").is_file()
    experiment = tracker.client.get_experiment(tracker.experiment_id)
    assert experiment.name == "t-smoke" and experiment.artifact_location.endswith(
        str(tmp_path / "runs" / "mlartifacts")
    )
    assert checked(spec, results, local=False).uri == spec.tracking  # no flag: the search space's


def test_a_tracking_store_that_cannot_be_used_is_refused_before_ray(tmp_path, capsys):
    import ray

    from harness.sweep import main

    space = ROOT / "search_spaces" / "mos.yaml"
    bad = "nosuchscheme://host"  # a store MLflow does not know
    assert main([str(space), "--smoke", "--storage", str(tmp_path), "--address", "x", "--tracking-uri", bad]) == 2
    assert "tracking at nosuchscheme://host" in capsys.readouterr().err and not ray.is_initialized()
