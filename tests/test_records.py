"""The typed trial record: a job's one key, the JSON round trip of each kind of record (ok,
failed, stopped), and clear errors for what is not a record."""

import json

import pandas as pd
import pytest

from harness.records import RECORD_FORMAT, Store, TrialJob, TrialRecord, trial_key

JOB = TrialJob(
    experiment="e",
    phase="replicate",
    arm="movielens-100k/mos",
    config_id="abc123",
    params={"x": 1},
    seed=2,
    dataset="movielens-100k",
    backbone="smollm2-135m",
    head="mos",
    objectives={"rec": {}},
    command="python -m harness.sweep s.yaml",
    space=["s.yaml"],
)


def test_a_job_has_one_key_and_method():
    assert JOB.key == trial_key("movielens-100k/mos", "abc123", 2) == "movielens-100k_mos__abc123__seed2"
    assert JOB.method == "mos"
    assert TrialJob.from_json(JOB.to_json()) == JOB


def test_a_job_without_the_sweeps_command_writes_no_command_key():
    """Records made before the sweep named its command have no such keys; they stay without."""
    job = TrialJob("e", "search", "d/m", "c", {}, 0)
    assert "command" not in job.to_json() and "space" not in job.to_json()
    assert job.to_json()["smoke"] is False


@pytest.mark.parametrize(
    "record",
    [
        TrialRecord(
            JOB,
            "ok",
            metrics={"valid_auc": 0.7, "test": {"implicit": {"sf": {}}}},
            config={"train": {}},
            parameters={"percent": 0.1},
            seconds=3.0,
            provenance={"git_commit": "x"},
        ),
        TrialRecord(JOB, "failed", error="RuntimeError: boom", traceback="Traceback …", seconds=1.0, provenance={}),
        TrialRecord(JOB, "stopped", metrics={"valid_auc": 0.6}),
    ],
    ids=["ok", "failed", "stopped"],
)
def test_each_kind_of_record_round_trips_through_json_and_the_store(tmp_path, record):
    data = json.loads(json.dumps(record.to_json()))
    assert TrialRecord.from_json(data) == record
    assert data["format"] == RECORD_FORMAT and data["key"] == JOB.key and data["error"] == record.error
    assert ("test" in data) == (record.status == "ok")  # the test metrics also at the top level, as always
    store = Store(str(tmp_path))
    store.mark_running(JOB)
    assert store.running() == [JOB]
    store.write(record, pd.DataFrame({"score": [0.5]}) if record.ok else None)
    assert store.read(JOB.key) == record and store.running() == [] and store.records() == [record]


def test_keys_a_newer_version_wrote_are_kept():
    data = {**TrialRecord(JOB, "ok", metrics={"valid_auc": 0.5}).to_json(), "energy_kwh": 0.3}
    record = TrialRecord.from_json(data)
    assert record.extra == {"energy_kwh": 0.3} and record.to_json() == data


def test_what_is_not_a_record_is_refused_with_its_reason(tmp_path):
    with pytest.raises(ValueError, match="status must be one of"):
        TrialRecord(JOB, "finished")
    with pytest.raises(ValueError, match="a trial job needs config_id, params"):
        TrialRecord.from_json({"experiment": "e", "phase": "search", "arm": "d/m", "seed": 0, "status": "ok"})
    with pytest.raises(ValueError, match="does not match its arm, config_id and seed"):
        TrialRecord.from_json({**TrialRecord(JOB, "ok").to_json(), "key": "another"})
    store = Store(str(tmp_path))
    (tmp_path / "trials" / "notes.json").write_text('{"hello": 1}')
    with pytest.raises(ValueError, match=r"notes.json is not a trial record this version reads: .*move it out"):
        store.records()
