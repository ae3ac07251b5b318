"""benchmarks/projection.py: the paper-scale study's GPU time from the committed H200 rates,
checked against the arithmetic done by hand for one trained arm and the frozen LLM."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
H200 = ROOT / "results" / "benchmarks" / "h200"
sys.path.insert(0, str(ROOT / "benchmarks"))
from projection import main  # noqa: E402


def test_the_projection_counts_every_trial_and_divides_its_samples_by_the_measured_rates(tmp_path):
    out = tmp_path / "projection.json"
    assert (
        main(
            [
                "--train-rate",
                str(H200 / "train_step_t5base_b8.json"),
                "--eval-rate",
                str(H200 / "train_step_t5base_b32.json"),
                "--sharing",
                str(H200 / "gpu_sharing_t5base.json"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    train = json.loads((H200 / "train_step_t5base_b8.json").read_text())["models"]["t5-base-shape"]
    score = json.loads((H200 / "train_step_t5base_b32.json").read_text())["models"]["t5-base-shape"]
    tr, ev = train["train"]["harness_samples_per_s"], score["eval"]["harness_samples_per_s"]
    # Table 1: 2 arms, Table 2: 2, Table 4: 8, Table 5: 12, Table 6: 14 (both data sets), 3 seeds each
    assert result["trials"] == 3 * (2 + 2 + 8 + 12 + 14)
    arms = {(a["space"], a["arm"]): a for a in result["arms"]}
    mos = arms[("table5_paradigms", "movielens-100k/mos")]["seconds_per_trial"]
    assert mos == pytest.approx([2 * (8000 / tr + 1000 / ev) + 3000 / ev, 5 * (8000 / tr + 1000 / ev) + 3000 / ev])
    # the frozen LLM: validated once (as train.fit does for a head with nothing to train), then scored
    assert arms[("table2_llm_vs_llmrs", "movielens-100k/llm")]["seconds_per_trial"] == pytest.approx(
        [1000 / ev + 3000 / ev] * 2
    )
    gain = result["sharing"]["gain"]
    assert gain == pytest.approx(292.0 / 131.0)
    assert result["hours_one_gpu_shared"] == pytest.approx(
        [h / gain for h in result["hours_one_gpu_one_trial_at_a_time"]]
    )
