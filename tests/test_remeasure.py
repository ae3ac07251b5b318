"""Measuring a trial's scores at another stereotype threshold (harness.report.remeasure):
a model trained on L_rec alone gives the same scores at any z, and its record measured at
another z equals the record of a trial run there; the report names the threshold."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.backbones.tiny import tiny_llama
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.records import TrialJob, TrialRecord
from harness.report import ReportError, build_report
from harness.report.__main__ import main as report_main
from harness.report.remeasure import _measurement, _relabelled, _with_test
from harness.run import run
from tests.conftest import MOVIELENS
from tests.report.fixtures import write_experiment
from tests.test_train import _texts

SAMPLE = SampleConfig(n_sequences=400)
PAPER = StereotypeConfig(3.0, "global")
WORKING = StereotypeConfig(1.0, "per_group")


def _record(result: dict, key: str = "t") -> TrialRecord:
    job = TrialJob(
        experiment="e", phase="replicate", arm=f"{result['config']['dataset']}/m", config_id=key, params={}, seed=0
    )
    return TrialRecord(
        job,
        "ok",
        metrics={"test": result["test"]},
        config=result["config"],
        threshold_moments=result["threshold_moments"],
    )


def _remeasured(record: TrialRecord, frame: pd.DataFrame, threshold: StereotypeConfig):
    samples, measurement = _measurement(record, threshold, {})
    new = _relabelled(frame, samples, measurement, record.key)
    return new, _with_test(record, new, measurement, threshold, samples.groups)


def _same_metrics(got: dict, want: dict) -> None:
    """Every test metric equal, values to 1e-12 (sums over pairs may run in another order)."""
    assert set(got) == set(want)
    for setting in want:
        for part in ("sf", "performance"):
            a, b = pd.json_normalize(got[setting][part]), pd.json_normalize(want[setting][part])
            assert sorted(a.columns) == sorted(b.columns)
            pd.testing.assert_frame_equal(a[sorted(a.columns)], b[sorted(b.columns)], rtol=1e-12)


def test_an_lrec_model_measured_at_another_z_is_the_trial_run_there(train_data, tmp_path):
    """TALLRec-- (prompt tuning on L_rec) run at the paper's threshold and at z = 1 per group:
    the same scores to the last digit (nothing it learns reads a stereotype label), and the
    first record measured at z = 1 per group is the second record: frame and test metrics."""
    texts = _texts(train_data, tmp_path)
    runs = {}
    for threshold in (PAPER, WORKING):
        config = RunConfig(
            dataset=train_data.dataset,
            data_dir=str(train_data.data_dir),
            sample=SAMPLE,
            stereotype=threshold,
            max_tokens=256,
            train=TrainConfig(
                head="tallrec_pt",
                objectives={"rec": None},
                epochs=2,
                batch_size=16,
                max_train_samples=64,
                max_eval_samples=64,
            ),
        )
        runs[threshold] = run(config, backbone=tiny_llama(texts), log=lambda message: None)
    paper, working = runs[PAPER], runs[WORKING]
    assert np.array_equal(paper["scores"]["score"].to_numpy(), working["scores"]["score"].to_numpy())
    columns = ["h", "target_in_own_group", "target_in_male", "target_in_female"]
    assert not paper["scores"][columns].equals(working["scores"][columns])  # the thresholds do differ here
    frame, record = _remeasured(_record(paper), paper["scores"], WORKING)
    pd.testing.assert_frame_equal(frame, working["scores"])
    _same_metrics(record.test, working["test"])
    assert record.threshold_moments == working["threshold_moments"]


def test_a_committed_study_record_measured_at_its_own_threshold_gives_its_numbers_back(monkeypatch):
    """On the real data: rebuilding a committed study trial's split and measuring its scores at
    the trial's own threshold reproduces every test metric of its record."""
    if not MOVIELENS.exists():
        pytest.skip("the real MovieLens-100K copy (../shared/data) is absent")
    monkeypatch.setenv("HARNESS_DATA_DIR", str(MOVIELENS.parent))
    from harness.records import Store

    store = Store(str(Path(__file__).resolve().parents[1] / "results" / "study-smollm2-ml100k"))
    key = "movielens-100k_llm__f0b595d66d2d__seed1"
    record, frame = store.read(key), store.scores(key)
    own = StereotypeConfig(**record.config["stereotype"])
    new_frame, new = _remeasured(record, frame, own)
    pd.testing.assert_frame_equal(new_frame, frame)
    _same_metrics(new.test, record.test)


def test_a_split_that_cannot_be_rebuilt_is_refused_with_what_to_do(train_data, tmp_path, monkeypatch):
    """No data where the trial found it, or a split that is not the trial's: a clear error,
    never a table measured on other pairs."""
    texts = _texts(train_data, tmp_path)
    config = RunConfig(
        dataset="movielens-100k",
        data_dir=str(tmp_path / "no-data"),
        sample=SAMPLE,
        max_tokens=256,
        train=TrainConfig(head="llm", max_eval_samples=16),
    )
    record = _record({"config": config.to_dict(), "test": {}, "threshold_moments": None})
    with pytest.raises(ReportError, match="rebuilds its split of movielens-100k from .*no-data.*HARNESS_DATA_DIR"):
        _remeasured(record, pd.DataFrame(), WORKING)
    result = run(
        RunConfig(
            dataset=train_data.dataset,
            data_dir=str(train_data.data_dir),
            sample=SAMPLE,
            max_tokens=256,
            train=TrainConfig(head="llm", max_eval_samples=16),
        ),
        backbone=tiny_llama(texts),
        log=lambda message: None,
    )
    other = dataclasses.replace(
        _record(result), config={**result["config"], "sample": {**result["config"]["sample"], "seed": 1}}
    )  # another seed: another split
    with pytest.raises(ReportError, match="is not the one its trial scored"):
        _remeasured(other, result["scores"], WORKING)
    with pytest.raises(ReportError, match="predate the targets' degree columns"):
        _remeasured(_record(result), result["scores"].drop(columns=["degree_male"]), WORKING)


def test_rows_at_different_thresholds_are_said_and_one_threshold_needs_both_options(tmp_path):
    write_experiment(tmp_path, {"mos": 1.0}, experiment="fig5_zscore")
    write_experiment(tmp_path, {"z1.0": 0.5}, experiment="fig5_zscore", z=1.0)
    caption = build_report(tmp_path, significance=False, figures=False).caption
    assert (
        "each trial's own threshold, which differ between rows: z = 1, one global Z-score, as the paper: "
        "z1.0; z = 3, one global Z-score, as the paper: mos" in caption
    )
    with pytest.raises(ReportError, match="pass both --z Z and --threshold-scope"):  # scope alone: z still differs
        build_report(tmp_path, significance=False, figures=False, threshold_scope="per_group")
    with pytest.raises(ReportError, match="threshold scope must be one of global, per_group"):
        build_report(tmp_path, significance=False, figures=False, z=3.0, threshold_scope="all")


def test_the_experiments_report_yaml_sets_options_the_command_line_overrides(tmp_path, capsys):
    write_experiment(tmp_path, {"mos": 1.0, "tallrec": 0.5}, seeds=(0, 1))
    (tmp_path / "report.yaml").write_text("reference: tallrec\nresamples: 200\n")
    assert report_main([str(tmp_path), "--no-figures", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "options from" in err and "reference=tallrec" in err
    assert "tallrec's change" in json.loads((tmp_path / "report" / "table.json").read_text())["caption"]
    assert report_main([str(tmp_path), "--no-figures", "--reference", "mos", "--format", "csv"]) == 0
    assert "mos's change" in json.loads((tmp_path / "report" / "table.json").read_text())["caption"]
    (tmp_path / "report.yaml").write_text("referense: tallrec\n")
    assert report_main([str(tmp_path), "--no-figures"]) == 2
    assert "unknown report option(s) ['referense']" in capsys.readouterr().err
