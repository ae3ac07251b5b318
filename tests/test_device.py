"""Where a run trains: the device is resolved, the model and every batch go there,
and a GPU run's numbers, checkpoints and records are those of the CPU run within
floating-point noise. The CUDA tests skip on a machine without a GPU (CI); they run
on the project's GPU machine (benchmarks/README.md says when and where)."""

import io

import numpy as np
import pytest
import torch

from harness.__main__ import main as cli_main
from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.config.data import SampleConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.data.encode import prompt_keys, render_prompts
from harness.data.prepare import prepare
from harness.device import resolve_device
from harness.model import Batch
from harness.run import run

SAMPLE = SampleConfig(n_sequences=400)
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


@pytest.fixture(scope="module")
def texts(train_data, tmp_path_factory):
    p = prepare(train_data.dataset, train_data.data_dir, SAMPLE, cache_dir=tmp_path_factory.mktemp("prep"))
    return [
        t for k in prompt_keys(p.samples.groups) for t in render_prompts(p.samples, k, ("male", "female"))[0][:20]
    ] + list(p.samples.titles)


def _run(data, backbone, device, fit_hooks=None, **train):
    config = RunConfig(
        dataset=data.dataset,
        data_dir=str(data.data_dir),
        sample=SAMPLE,
        max_tokens=256,
        train=TrainConfig(**{"epochs": 2, "batch_size": 16, "max_train_samples": 96, "max_eval_samples": 48, **train}),
    )
    return run(config, backbone=backbone, log=lambda message: None, device=device, fit_hooks=fit_hooks)


def test_device_names_are_resolved_or_refused_with_the_fix():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu0'.*cpu, cuda or cuda:N"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA GPU; use --device cpu"):
            resolve_device("cuda")


def test_batch_moves_every_tensor_and_stays_put_when_already_there():
    n = 3
    batch = Batch(
        input_ids=torch.ones(n, 4, dtype=torch.long),
        attention_mask=torch.ones(n, 4, dtype=torch.long),
        labels=torch.zeros(n, dtype=torch.long),
        user_group=torch.zeros(n, dtype=torch.long),
        h=torch.zeros(n),
        target_in_group=torch.zeros(n, 2, dtype=torch.bool),
        index=torch.arange(n),
    )
    assert batch.to(torch.device("cpu")) is batch
    moved = batch.to(torch.device("meta"))
    assert all(getattr(moved, name).device.type == "meta" for name in ("input_ids", "labels", "h", "index"))
    assert moved.group_input_ids is None and moved.weight is None


def test_cpu_run_names_its_device(train_data, texts):
    result = _run(train_data, tiny_t5(texts), "cpu", head="prompt_tuning", epochs=1)
    assert result["device"] == "cpu"


def test_cli_refuses_an_unavailable_device(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert cli_main(["--smoke", "--device", "cuda"]) == 2
    assert "sees no CUDA GPU" in capsys.readouterr().err


@cuda
@pytest.mark.parametrize(
    "make, head, objectives, score_rtol",
    [
        # measured on an H200 (results/benchmarks/h200/test_device.txt): at most 5.2e-6 apart
        (tiny_t5, "mos", None, 1e-4),
        (tiny_t5, "p_tuning", None, 1e-4),
        (tiny_t5, "prompt_tuning", {"rec": {}, "up5": {}}, 1e-4),
        (tiny_llama, "prompt_tuning", {"rec": {}, "ifairlrs": {}, "fairllm": {}}, 1e-4),
        # LoRA's dropout draws its masks from the GPU's generator, not the CPU's: the
        # trajectories part a little (measured: scores within 0.83%)
        (tiny_llama, "tallrec", None, 2e-2),
    ],
)
def test_gpu_run_matches_the_cpu_run(train_data, texts, make, head, objectives, score_rtol):
    """Same seed, same data: the GPU's losses and scores are the CPU's up to float32
    rounding (other kernels, other summation order), and the metrics agree."""
    on_cpu = _run(train_data, make(texts), "cpu", head=head, objectives=objectives)
    on_gpu = _run(train_data, make(texts), "cuda", head=head, objectives=objectives)
    assert on_gpu["device"].startswith("cuda:0 (")
    np.testing.assert_allclose(
        [e["train_loss"] for e in on_gpu["fit"]["epochs"]],
        [e["train_loss"] for e in on_cpu["fit"]["epochs"]],
        rtol=1e-3,
    )
    gpu, cpu = on_gpu["scores"]["score"].to_numpy(), on_cpu["scores"]["score"].to_numpy()
    print(f"{head}: largest relative score difference GPU/CPU {np.max(np.abs(gpu - cpu) / np.abs(cpu)):.2e}")
    np.testing.assert_allclose(gpu, cpu, rtol=score_rtol, atol=1e-5)
    auc = lambda r: r["test"]["implicit"]["performance"]["all"]["auc"]["value"]  # noqa: E731
    assert auc(on_gpu) == pytest.approx(auc(on_cpu), abs=0.02)


@cuda
def test_gpu_run_resumed_from_its_checkpoint_ends_as_the_uninterrupted_one(train_data, texts):
    """The snapshot carries the GPU's generator (LoRA dropout draws from it); resumed
    after epoch 1, from a checkpoint loaded onto the CPU as the Train worker loads it."""
    snapshots = []
    whole = _run(
        train_data, tiny_llama(texts), "cuda", {"on_epoch_end": snapshots.append}, head="tallrec", epochs=3, patience=5
    )
    assert snapshots[0]["cuda_rng"] is not None
    saved = io.BytesIO()
    torch.save(snapshots[0], saved)
    saved.seek(0)
    on_cpu = torch.load(saved, weights_only=False, map_location="cpu")  # as harness.worker.Reporter loads it
    resumed = _run(train_data, tiny_llama(texts), "cuda", {"resume": on_cpu}, head="tallrec", epochs=3, patience=5)
    np.testing.assert_allclose(
        [e["train_loss"] for e in resumed["fit"]["epochs"]],
        [e["train_loss"] for e in whole["fit"]["epochs"]],
        rtol=1e-5,
    )
    np.testing.assert_allclose(resumed["scores"]["score"], whole["scores"]["score"], atol=1e-4)
