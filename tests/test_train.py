"""The training loop and a whole run with the tiny test-fixture backbones (their numbers
mean nothing; their behaviour does), on the generated synthetic-movielens data set, and
the first test also on the real MovieLens-100K copy when ../shared/data has it."""

import numpy as np
import pytest
import torch
from transformers import T5Config, T5ForConditionalGeneration

from harness.backbones.base import Backbone, freeze
from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.config.data import SampleConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.data.encode import prompt_keys, render_prompts
from harness.data.prepare import prepare
from harness.heads import build_head
from harness.model import Recommender
from harness.objectives.sf import SFLoss
from harness.run import run, trainable_parameters
from harness.train import TrainingError

SAMPLE = SampleConfig(n_sequences=400)


def _texts(data, cache):
    p = prepare(data.dataset, data.data_dir, SAMPLE, cache_dir=cache)
    words = ("male", "female")
    return [t for k in prompt_keys(p.samples.groups) for t in render_prompts(p.samples, k, words)[0][:20]] + list(
        p.samples.titles
    )


@pytest.fixture(scope="module")
def texts(train_data, tmp_path_factory):
    return _texts(train_data, tmp_path_factory.mktemp("prep"))


def _run(data, backbone, **train):
    config = RunConfig(
        dataset=data.dataset,
        data_dir=str(data.data_dir),
        sample=SAMPLE,
        max_tokens=256,
        train=TrainConfig(**{"epochs": 3, "batch_size": 16, "max_train_samples": 128, "max_eval_samples": 64, **train}),
    )
    return run(config, backbone=backbone, log=lambda message: None)


def test_a_validation_cap_leaves_the_test_split_whole(train_data, tmp_path):
    """max_valid_samples caps validation alone: the test split is scored whole (a study's SF needs it)."""
    result = _run(
        train_data,
        tiny_t5(_texts(train_data, tmp_path)),
        head="prompt_tuning",
        epochs=1,
        max_train_samples=16,
        max_eval_samples=None,
        max_valid_samples=16,
    )
    assert result["fit"]["valid_samples"] == 16 and result["fit"]["train_samples"] == 16
    assert len(result["scores"]) == 3 * result["data"]["splits"]["test"] > 3 * 16


def test_training_lowers_the_loss_and_reports_every_setting(any_train_data, tmp_path):
    result = _run(any_train_data, tiny_t5(_texts(any_train_data, tmp_path)), head="mos", patience=5)
    losses = [e["train_loss"] for e in result["fit"]["epochs"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert set(result["test"]) == {"implicit", "explicit", "counterfactual"}
    perf = result["test"]["implicit"]["performance"]
    assert {"all", "male", "female", "inside", "outside"} <= set(perf)
    assert set(result["scores"]["setting"]) == {"implicit", "explicit", "counterfactual"}
    assert len(result["scores"]) == 3 * min(64, result["data"]["splits"]["test"])
    assert result["parameters"]["trainable"] > 0
    for routing in [e["diagnostics"] for e in result["fit"]["epochs"]] + [result["test_diagnostics"]]:
        assert len(routing["expert_usage"]) == 2 and routing["samples"] > 0  # MoS's routing, recorded
    assert all(e["diagnostics"]["router_grad_norm"] > 0 for e in result["fit"]["epochs"])  # the router learns
    assert result["test_diagnostics"]["router_grad_norm"] is None  # nothing trains on test
    per_setting = result["test_diagnostics"]["per_setting"]  # the test routing of each prompt setting
    assert set(per_setting) == {"implicit", "explicit", "counterfactual"}
    assert sum(p["samples"] for p in per_setting.values()) == result["test_diagnostics"]["samples"]
    pooled = np.mean([p["expert_usage"] for p in per_setting.values()], axis=0)  # equal samples per setting
    assert np.allclose(result["test_diagnostics"]["expert_usage"], pooled)
    assert result["config"]["train"]["resolved_head_options"]["gate"] == "switch"
    moments, scores = result["threshold_moments"], result["scores"]  # Figure 5 can re-threshold at any z
    for g, group in enumerate(moments["groups"]):
        threshold = moments["mean"][g] + 3.0 * moments["std"][g]  # the run's z
        assert (scores[f"target_in_{group}"] == (scores[f"degree_{group}"] >= threshold)).all()


def test_same_seed_same_numbers_to_the_last_digit(train_data, texts):
    a = _run(train_data, tiny_llama(texts), head="prompt_tuning", epochs=2)
    b = _run(train_data, tiny_llama(texts), head="prompt_tuning", epochs=2)
    assert [e["train_loss"] for e in a["fit"]["epochs"]] == [e["train_loss"] for e in b["fit"]["epochs"]]
    assert np.array_equal(a["scores"]["score"].to_numpy(), b["scores"]["score"].to_numpy())
    assert a["test"] == b["test"]
    c = _run(train_data, tiny_llama(texts), head="prompt_tuning", epochs=2, seed=1)
    assert not np.array_equal(a["scores"]["score"].to_numpy(), c["scores"]["score"].to_numpy())


def test_frozen_llm_is_evaluated_without_training(train_data, texts):
    result = _run(train_data, tiny_t5(texts), head="llm")
    assert result["fit"]["epochs"] == [] and result["parameters"]["trainable"] == 0


def test_nan_loss_raises_a_training_error(train_data, texts, monkeypatch):
    monkeypatch.setattr(SFLoss, "loss", lambda self, model, batch, out, training: out.score.sum() * float("nan"))
    with pytest.raises(TrainingError, match=r"loss is nan at epoch 1, step 1 \(rec=.*sf=nan"):
        _run(train_data, tiny_t5(texts), head="prompt_tuning")


def test_config_validation_names_the_problem():
    with pytest.raises(KeyError, match="registered heads"):
        TrainConfig(head="nope")
    with pytest.raises(ValueError, match="unknown option"):
        TrainConfig(head="mos", head_options={"experts": 3})
    with pytest.raises(KeyError, match="registered objectives: "):
        TrainConfig(head="mos", objectives={"rec": {}, "parity": {}})
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="lr is null for head 'mos'.*RunConfig"):  # no silent 0.5: the backbone
        _ = TrainConfig(head="mos").learning_rate  # decides (default_lr)
    assert TrainConfig(head="llm").learning_rate == 0.0 and TrainConfig(head="mos", lr=0.3).learning_rate == 0.3
    with pytest.raises(ValueError, match="max_valid_samples must be >= 1 or null"):
        TrainConfig(max_valid_samples=0)
    # validation's cap: its own where set, else the one it shares with test
    assert TrainConfig(max_eval_samples=100).valid_cap == 100
    assert TrainConfig(max_eval_samples=100, max_valid_samples=20).valid_cap == 20
    assert TrainConfig(max_valid_samples=20).valid_cap == 20 and TrainConfig().valid_cap is None


def test_a_null_lr_takes_the_backbones_default_and_the_record_names_it():
    """T5 and unregistered backbones keep the paper's §4.1.4 values; SmolLM2's prompt-based heads
    take its measured lr (results/lr_search/), its adapters the paper's; an explicit lr is kept."""
    from harness.config.backbones import BACKBONES as REGISTRY
    from harness.config.run import RunConfig

    smollm2 = REGISTRY["smollm2-135m"].lr["prompt"]
    assert smollm2 != 0.5
    for backbone, head, expected in [
        ("t5-base", "mos", 0.5),
        ("t5-base", "lora", 0.005),
        ("smollm2-135m", "mos", smollm2),
        ("smollm2-135m", "tallrec_pt", smollm2),
        ("smollm2-135m", "tallrec", 0.005),
        ("/some/local/checkpoint", "mos", 0.5),
    ]:
        config = RunConfig(backbone=backbone, train=TrainConfig(head=head))
        assert config.train.lr == config.train.learning_rate == expected, (backbone, head)
        assert config.to_dict()["train"]["lr"] == expected
    assert RunConfig(backbone="smollm2-135m", train=TrainConfig(head="mos", lr=0.3)).train.lr == 0.3
    frozen = RunConfig(backbone="smollm2-135m", train=TrainConfig(head="llm")).train  # nothing to train
    assert frozen.lr is None and frozen.learning_rate == 0.0
    from harness.config.heads import DEFAULT_LR, HEADS

    for spec in REGISTRY.values():  # a typo in a key would silently keep the paper's value
        assert set(spec.lr) <= set(HEADS) | set(DEFAULT_LR), (spec.name, spec.lr)
        assert all(v > 0 for v in spec.lr.values()) and (not spec.lr or spec.lr_source), spec.name


@pytest.mark.parametrize("head, paper_percent", [("prompt_tuning", 0.0138), ("p_tuning", 0.1097), ("tallrec", 0.3954)])
def test_table5_trainable_percentages_on_a_t5_base_shape(head, paper_percent):
    """t5-base's shape on the meta device (no weights): the paper's Table 5 column."""
    config = T5Config(
        vocab_size=32128,
        d_model=768,
        d_kv=64,
        d_ff=3072,
        num_layers=12,
        num_heads=12,
        decoder_start_token_id=0,
        pad_token_id=0,
    )
    with torch.device("meta"):
        backbone = Backbone("t5-base shape", freeze(T5ForConditionalGeneration(config)), None, "seq2seq", 1, 2)
        counts = trainable_parameters(Recommender(backbone, build_head(head)))
    assert counts["backbone"] == 222_903_552
    assert counts["percent"] == pytest.approx(paper_percent, abs=1.5e-4)


def test_resume_after_an_epoch_gives_the_same_numbers(train_data, texts, tmp_path):
    """A run stopped after epoch 1 and resumed from its snapshot ends bit-identical."""
    from harness.data.encode import encode_all
    from harness.train import fit

    prepared = prepare(train_data.dataset, train_data.data_dir, SAMPLE, cache_dir=tmp_path)
    config = TrainConfig(
        head="mos", lr=0.5, epochs=3, patience=5, batch_size=16, max_train_samples=64, max_eval_samples=32
    )

    def fresh():
        backbone = tiny_llama(texts)
        torch.manual_seed(0)
        encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
        return Recommender(backbone, build_head("mos")), encoded, backbone.tokenizer.pad_token_id

    model, encoded, pad = fresh()
    snapshots = []
    whole = fit(model, prepared, encoded, config, pad, on_epoch_end=lambda state: snapshots.append(state))
    assert [s["epoch"] for s in snapshots] == [1, 2, 3]
    model2, encoded2, _ = fresh()
    resumed = fit(model2, prepared, encoded2, config, pad, resume=snapshots[0])
    assert [e["epoch"] for e in resumed.epochs] == [1, 2, 3]
    assert [e["train_loss"] for e in resumed.epochs] == [e["train_loss"] for e in whole.epochs]
    for key, value in model.trainable_state_dict().items():
        torch.testing.assert_close(value, model2.trainable_state_dict()[key], rtol=0, atol=0)


def test_adafactor_scale_parameter_is_an_option(train_data, texts):
    """The paper's absolute step (scale_parameter False, default) and the relative one differ."""
    absolute = _run(train_data, tiny_llama(texts), head="prompt_tuning", epochs=1)
    relative = _run(train_data, tiny_llama(texts), head="prompt_tuning", epochs=1, scale_parameter=True)
    assert absolute["config"]["train"]["scale_parameter"] is False
    assert relative["fit"]["epochs"][0]["train_loss"] != absolute["fit"]["epochs"][0]["train_loss"]


def test_validation_measures_sf_beside_auc_each_epoch(train_data, texts, tmp_path):
    """Each epoch's validation holds AUC, SF (Eq. 4 on the same scores, score > 0), |SF| and SF's
    support; the fit result keeps the best epoch's (a multi-metric search selects on them)."""
    from harness import metrics
    from harness.config.train import VALID_METRICS
    from harness.data.encode import encode_all
    from harness.data.samples import capped
    from harness.evaluate import validate
    from harness.train import TrainingData, fit

    prepared = prepare(train_data.dataset, train_data.data_dir, SAMPLE, cache_dir=tmp_path)
    config = TrainConfig(
        head="prompt_tuning", lr=0.5, epochs=2, patience=5, batch_size=16, max_train_samples=32, max_valid_samples=64
    )
    backbone = tiny_llama(texts)
    encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
    model = Recommender(backbone, build_head("prompt_tuning"))
    result = fit(model, prepared, encoded, config, backbone.tokenizer.pad_token_id)
    for epoch in result.epochs:
        assert set(VALID_METRICS) <= set(epoch)
    best = next(e for e in result.epochs if e["epoch"] == result.best_epoch)
    assert result.best_valid == {k: best[k] for k in VALID_METRICS}
    # the model now holds the best epoch's weights: validating again gives its numbers
    valid_idx = capped(np.flatnonzero(prepared.samples.mask("valid")), 64, config.seed)
    data = TrainingData(prepared, encoded, backbone.tokenizer.pad_token_id, False)
    again = validate(model, data, valid_idx, config)
    assert again == result.best_valid
    scores = data.scores(model, valid_idx, "implicit", config.eval_batch_size)
    s, m = prepared.samples, prepared.measurement
    sf = metrics.stereotype_fairness(
        scores > 0, s.user_group[valid_idx], np.nan_to_num(m.h[valid_idx]), m.target_in_group[valid_idx], s.groups
    )
    if again["valid_sf"] is None:
        assert np.isnan(sf.value) and again["valid_sf_support"] == 0
    else:
        assert again["valid_sf"] == sf.value and again["valid_abs_sf"] == abs(sf.value)
        assert again["valid_sf_support"] == int(m.target_in_group[valid_idx][scores > 0].sum(axis=0).min()) > 0
    # _liked: S the top-scored pairs, as many as the validation pairs hold liked ones
    top = metrics.top_scored(scores, float(np.mean(s.label[valid_idx] == 1)))
    assert top.sum() <= round(np.mean(s.label[valid_idx] == 1) * len(valid_idx))
    liked = metrics.stereotype_fairness(
        top, s.user_group[valid_idx], np.nan_to_num(m.h[valid_idx]), m.target_in_group[valid_idx], s.groups
    )
    if again["valid_sf_liked"] is None:
        assert np.isnan(liked.value)
    else:
        assert again["valid_abs_sf_liked"] == abs(liked.value)
        assert again["valid_sf_liked_support"] == int(m.target_in_group[valid_idx][top].sum(axis=0).min())
