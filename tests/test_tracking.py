"""Experiment tracking against a real MLflow tracking server on 127.0.0.1 (SQLite backend store),
started and stopped here; skipped, with the reason, where the tracking extra is not installed."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

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
