"""Mixed precision (``train.precision``): a precision the device cannot run fast is refused
with the device named, autocast reaches the frozen backbone only (the head, its gradients and
the optimizer's state stay fp32), and a bf16 run on the tiny test models stays close to fp32.

Tolerance: bf16 keeps 8 significant bits, a unit roundoff of u = 2^-8. The tiny backbones
(two layers) round each matrix product's inputs once per layer, so a score or a loss moves by
a few u relative to its scale (measured: 1.3-2.2 u); 8 u leaves room for other CPUs' kernels."""

import numpy as np
import pytest
import torch

from harness import precision
from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.batching import batches
from harness.config.data import SampleConfig
from harness.config.train import TrainConfig
from harness.data.encode import encode_all, prompt_keys, render_prompts
from harness.data.prepare import prepare
from harness.heads import build_head
from harness.model import Recommender
from harness.train import fit

U = 2.0**-8
SAMPLE = SampleConfig(n_sequences=400)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data(train_data, tmp_path_factory):
    prepared = prepare(train_data.dataset, train_data.data_dir, SAMPLE, cache_dir=tmp_path_factory.mktemp("prep"))
    texts = [
        t
        for k in prompt_keys(prepared.samples.groups)
        for t in render_prompts(prepared.samples, k, ("male", "female"))[0][:20]
    ] + list(prepared.samples.titles)
    return prepared, texts


def test_a_precision_is_validated_and_fp32_keeps_every_config_id():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, fp16"):
        TrainConfig(precision="fp8")
    assert "precision" not in TrainConfig(lr=0.5).to_dict()  # earlier records' config ids hold
    assert TrainConfig(lr=0.5, precision="bf16").to_dict()["precision"] == "bf16"


def test_a_slow_precision_is_refused_with_the_device_and_the_alternatives():
    with pytest.raises(precision.PrecisionError, match="neither AMX nor AVX-512-BF16.*use fp32 here"):
        precision.check("bf16", CPU, flags={"avx2", "avx512f"})
    with pytest.raises(precision.PrecisionError, match="fp16 on the CPU.*no fast fp16 kernels"):
        precision.check("fp16", CPU, flags={"amx_bf16"})
    precision.check("bf16", CPU, flags={"avx512f", "amx_bf16"})  # AMX: fast
    precision.check("bf16", CPU, flags={"avx512_bf16"})
    precision.check("bf16", CPU, force=True, flags=set())  # forced: runs anyway
    precision.check("fp32", CPU, flags=set())


def test_a_refused_precision_stops_fit_before_any_work(data):
    prepared, texts = data
    backbone = tiny_llama(texts)
    encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
    model = Recommender(backbone, build_head("prompt_tuning"))
    if precision.cpu_runs_bf16_fast():
        pytest.skip("this CPU runs bf16 fast: nothing to refuse")
    with pytest.raises(precision.PrecisionError, match="force_precision"):
        fit(
            model,
            prepared,
            encoded,
            TrainConfig(head="prompt_tuning", precision="bf16"),
            backbone.tokenizer.pad_token_id,
        )


@pytest.mark.parametrize("make", [tiny_llama, tiny_t5], ids=["causal", "seq2seq"])
@pytest.mark.parametrize("head", ["prompt_tuning", "mos", "lora"])
def test_bf16_scores_stay_within_a_few_roundoffs_of_fp32(data, make, head):
    prepared, texts = data
    backbone = make(texts)
    torch.manual_seed(0)
    encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
    model = Recommender(backbone, build_head(head)).eval()
    batch = next(iter(batches(prepared, encoded, np.arange(32), "implicit", 32, backbone.tokenizer.pad_token_id, True)))
    outputs = {}
    with torch.no_grad():
        for name in ("fp32", "bf16"):
            model.precision = name
            outputs[name] = model(batch)
    a, b = outputs["fp32"], outputs["bf16"]
    assert b.score.dtype == b.nll.dtype == torch.float32  # the loss is taken in fp32
    assert (a.score - b.score).abs().max() <= 8 * U * a.score.abs().max()
    assert (a.nll - b.nll).abs().max() <= 8 * U * a.nll.abs().max()
    assert not torch.equal(a.score, b.score)  # bf16 did run


def test_autocast_reaches_the_backbone_only_and_the_head_trains_in_fp32(data):
    prepared, texts = data
    backbone = tiny_llama(texts)
    encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
    model = Recommender(backbone, build_head("mos"))
    seen = {}
    for name, module in model.lm.named_modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, i, out, name=name: seen.setdefault(name, out.dtype) and None)
    config = TrainConfig(
        head="mos",
        lr=0.5,
        epochs=1,
        batch_size=16,
        max_train_samples=32,
        max_eval_samples=32,
        precision="bf16",
        force_precision=True,
    )
    snapshots = []
    fit(model, prepared, encoded, config, backbone.tokenizer.pad_token_id, on_epoch_end=snapshots.append)
    state = {
        v.dtype
        for s in snapshots[-1]["optimizer"]["state"].values()
        for v in s.values()
        if torch.is_tensor(v) and v.is_floating_point()
    }
    assert seen and set(seen.values()) == {torch.bfloat16}  # every backbone product in bf16
    assert {p.dtype for p in model.trainable_parameters()} == {torch.float32}
    assert {p.grad.dtype for p in model.trainable_parameters() if p.grad is not None} == {torch.float32}
    assert state == {torch.float32}  # Adafactor's factored moments


def test_a_bf16_training_run_follows_the_fp32_one(data):
    prepared, texts = data
    losses = {}
    for name in ("fp32", "bf16"):
        backbone = tiny_llama(texts)
        torch.manual_seed(0)
        encoded = encode_all(prepared.samples, backbone.tokenizer, ("male", "female"), 256)
        model = Recommender(backbone, build_head("prompt_tuning"))
        config = TrainConfig(
            head="prompt_tuning",
            lr=0.5,
            epochs=2,
            patience=5,
            batch_size=16,
            max_train_samples=64,
            max_eval_samples=32,
            precision=name,
            force_precision=True,
        )
        losses[name] = np.array(
            [e["train_loss"] for e in fit(model, prepared, encoded, config, backbone.tokenizer.pad_token_id).epochs]
        )
    assert np.all(np.abs(losses["bf16"] - losses["fp32"]) <= 8 * U * losses["fp32"])
