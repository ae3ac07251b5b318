"""``python -m harness``: one smoke run end to end through the command line, with
a tiny test-fixture T5 saved to a local directory (its numbers mean nothing)."""

import json

import pandas as pd
import pytest

from harness.__main__ import main
from harness.backbones.tiny import tiny_t5
from harness.config.data import SampleConfig
from harness.data.encode import prompt_keys, render_prompts
from harness.data.prepare import prepare


@pytest.fixture(scope="module")
def tiny_dir(train_data, tmp_path_factory):
    p = prepare(
        train_data.dataset,
        train_data.data_dir,
        SampleConfig(n_sequences=300),
        cache_dir=tmp_path_factory.mktemp("prep"),
    )
    texts = [t for k in prompt_keys(p.samples.groups) for t in render_prompts(p.samples, k, ("male", "female"))[0]]
    backbone = tiny_t5(texts + list(p.samples.titles))
    folder = tmp_path_factory.mktemp("tiny-t5")
    backbone.model.save_pretrained(folder)
    backbone.tokenizer.save_pretrained(folder)
    return folder


def _data(data) -> list[str]:
    return ["--dataset", data.dataset, "--data-dir", str(data.data_dir)]


def test_smoke_run_writes_a_record_and_scores(tiny_dir, train_data, tmp_path, capsys):
    out = tmp_path / "run.json"
    rc = main(
        [
            "--backbone",
            str(tiny_dir),
            *_data(train_data),
            "--head",
            "mos",
            "--smoke",
            "--n-sequences",
            "300",
            "--max-tokens",
            "256",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    captured = capsys.readouterr()
    assert "not results" in captured.err and "implicit" in captured.out
    record = json.loads(out.read_text())
    assert record["smoke"] is True and record["config"]["train"]["head"] == "mos"
    assert record["provenance"]["command"].startswith("python -m harness")
    scores = pd.read_parquet(out.with_suffix(".parquet"))
    assert set(scores["setting"]) == {"implicit", "explicit", "counterfactual"}


def test_list_and_errors(capsys, train_data):
    assert main(["--list"]) == 0
    assert "mos" in capsys.readouterr().out
    assert main(["--head", "nope", *_data(train_data)]) == 2
    assert "registered heads" in capsys.readouterr().err
    assert main(["--backbone", "no-such-model", *_data(train_data), "--smoke", "--n-sequences", "300"]) == 2
    assert "registered" in capsys.readouterr().err
