"""harness.cost: a trial's work from its config, its seconds from rates, the rates a finished
record ran at, per-arm statistics and the projection's bases, on numbers worked out by hand."""

from pathlib import Path

import pytest

from harness.cost import (
    Work,
    machine,
    measured_rates,
    project,
    record_work,
    seconds_per_trial,
    trial_seconds,
    work,
)
from harness.rates import gpu_rates
from harness.records import TrialJob, TrialRecord
from harness.space import load_spec

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"


def a_record(
    arm="movielens-100k/mos",
    seconds=170.0,
    status="ok",
    cpu="Test CPU @ 1.00GHz",
    head="mos",
    experiment="pilot",
    backbone="smollm2-135m",
) -> TrialRecord:
    """A pilot trial: 2 epochs of 100 training samples and 50 validation pairs (train_s 130), 100
    test pairs in 3 settings (test_s 30), 10 s besides: scoring 300 / 30 = 10 pairs/s, validation
    2 x 50 / 10 = 10 s, training 200 / (130 - 10) = 5/3 samples/s."""
    job = TrialJob(experiment, "replicate", arm, "cfg", {}, 0, head=head, backbone=backbone)
    return TrialRecord(
        job,
        status,
        seconds=seconds,
        provenance={"machine": {"cpu_model": cpu}},
        fit={"epochs": [{"epoch": 1}, {"epoch": 2}], "train_samples": 100, "valid_samples": 50},
        timings={"data_s": 1.0, "train_s": 130.0, "test_s": 30.0},
        data={"splits": {"train": 800, "valid": 100, "test": 100}},
        config={"train": {"max_eval_samples": None}},
    )


def test_a_trials_work_is_its_capped_nominal_splits_and_its_epochs():
    spec = load_spec(QUICKSTART)
    llm, mos = (spec.run_config(arm, {}, 0) for arm in spec.arms())
    # 2,000 sequences x (0.8, 0.1, 0.1), capped at 64 / 32 / 90; one epoch
    assert work(mos) == Work(train=64, valid=32, test=90, epochs=1, min_epochs=1, trains=True)
    assert work(llm).trains is False
    assert work(mos, splits=(1606, 20, 199)) == Work(64, 20, 90, 1, 1, True)


def test_trial_seconds_is_the_stated_formula():
    w = Work(train=800, valid=100, test=100, epochs=5, min_epochs=2, trains=True)
    assert trial_seconds(w, 8.0, 20.0, 2) == pytest.approx(2 * (800 / 8 + 100 / 20) + 3 * 100 / 20)
    assert trial_seconds(w, 8.0, 20.0, 5, factor=2.0, other=7.0) == pytest.approx(7 + 5 * 2 * (100 + 5) + 15)
    frozen = Work(800, 100, 100, 5, 2, trains=False)  # validated once, then scored
    assert trial_seconds(frozen, None, 20.0, 5) == pytest.approx(100 / 20 + 300 / 20)


def test_the_rates_a_record_ran_at():
    record = a_record()
    assert record_work(record) == Work(100, 50, 100, 2, 2, True)
    rates = measured_rates(record)
    assert (rates.train, rates.eval, rates.other) == pytest.approx((5 / 3, 10.0, 10.0))
    # its own work at its own rates gives back its seconds
    assert trial_seconds(record_work(record), rates.train, rates.eval, 2, other=rates.other) == pytest.approx(170.0)
    assert measured_rates(a_record(status="failed")) is None


def test_seconds_per_trial_counts_ok_records_per_arm_and_names_their_machines():
    records = [
        a_record(seconds=100.0),
        a_record(seconds=300.0, cpu="Other CPU"),
        a_record(status="failed"),
        a_record(arm="movielens-100k/llm", seconds=50.0),
    ]
    stats = seconds_per_trial(records)
    assert stats["movielens-100k/mos"] == {
        "trials": 2,
        "mean": 200.0,
        "min": 100.0,
        "max": 300.0,
        "machines": {"Other CPU": 1, "Test CPU @ 1.00GHz": 1},
    }
    assert stats["movielens-100k/llm"]["trials"] == 1
    assert machine(TrialRecord(TrialJob("e", "search", "d/m", "c", {}, 0), "ok")) == "unknown machine"


def test_gpu_rates_come_from_the_committed_h200_benchmarks():
    rates = gpu_rates(ROOT / "results" / "benchmarks", "smollm2-135m", 8, 32)
    assert rates["train"]["model"] == "smollm2-135m-shape" and rates["train"]["batch_size"] == 8
    assert rates["eval"]["batch_size"] == 32 and "H200" in rates["eval"]["device"]
    assert gpu_rates(ROOT / "results" / "benchmarks", "tiny-t5", 8, 32) is None  # never timed
    assert gpu_rates(ROOT / "results" / "benchmarks", "smollm2-135m", 16, 32) is None  # not at batch 16


def test_the_projection_takes_the_arms_records_else_the_pilot_else_none():
    spec = load_spec(QUICKSTART)  # llm and mos, 64 / 32 / 90, one epoch
    remaining = {"movielens-100k/llm": (2, 2), "movielens-100k/mos": (1, 1)}
    own = [
        a_record(arm="movielens-100k/llm", seconds=60.0, head="llm"),
        a_record(arm="movielens-100k/llm", seconds=120.0, head="llm"),
    ]
    result = project(spec, remaining, records=own)
    llm, mos = result["arms"]
    assert llm["basis"]["kind"] == "records" and llm["hours"]["mean"] == pytest.approx([180 / 3600] * 2)
    assert llm["hours"]["range"] == pytest.approx([120 / 3600, 240 / 3600])
    assert mos["basis"] is None and mos["hours"] is None  # no basis, no number
    assert result["total"]["without_basis"] == ["movielens-100k/mos"]
    assert result["gpu_hours"] is None  # no benchmarks folder given

    # the pilot's mos record (rates 5/3 and 10 a second, 10 s besides) scaled to 64 / 32 / 90, one epoch
    scaled = 10 + (64 * 3 / 5 + 32 / 10) + 3 * 90 / 10
    mos = project(spec, remaining, records=own, pilot=[a_record()])["arms"][1]
    assert mos["basis"]["kind"] == "pilot" and mos["basis"]["mean"] == pytest.approx(scaled)
    assert mos["basis"]["machines"] == {"Test CPU @ 1.00GHz": 1} and mos["basis"]["note"] is None
    assert mos["hours"]["mean"] == pytest.approx([scaled / 3600] * 2)


def test_the_gpu_projection_divides_the_work_by_the_benchmarks_rates():
    spec = load_spec(QUICKSTART)
    result = project(spec, {"movielens-100k/mos": (3, 3)}, benchmarks=ROOT / "results" / "benchmarks")
    mos = result["arms"][1]["gpu"]
    tr, ev = mos["rates"]["train"]["samples_per_s"], mos["rates"]["eval"]["samples_per_s"]
    assert mos["seconds_per_trial"] == pytest.approx([64 / tr + 32 / ev + 270 / ev] * 2)
    assert result["gpu_hours"] == pytest.approx([3 * mos["seconds_per_trial"][0] / 3600] * 2)
