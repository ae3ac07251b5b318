"""Benchmark: each optimisation of the harness, before and after, in one run.

On the quickstart's data (MovieLens-100K, SmolLM2-135M prompts) with a freshly
initialised head of the given kind:

- eval-by-length: scoring the test split in length-sorted batches against
  batches in split order (``harness.evaluate.score(by_length=...)``); reports
  samples/s of both, padding tokens of both, and the largest score difference;
- vocabulary-projection: a causal forward projecting only the scored position
  onto the vocabulary (the harness) against projecting every position.

Runs alternate before/after ``--repeats`` times so machine noise hits both;
medians are reported.

    python benchmarks/optimisations.py [--model smollm2-135m] [--head mos] [--samples 96] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.backbones import load_backbone  # noqa: E402
from harness.config.data import SampleConfig, StereotypeConfig  # noqa: E402
from harness.config.datasets import get_dataset  # noqa: E402
from harness.data.encode import encode_cached  # noqa: E402
from harness.data.paths import resolve_data_dir  # noqa: E402
from harness.data.prepare import prepare  # noqa: E402
from harness.evaluate import score  # noqa: E402
from harness.heads import build_head  # noqa: E402
from harness.model import Recommender  # noqa: E402
from harness.prompts import PromptTemplate  # noqa: E402
from harness.provenance import provenance  # noqa: E402
from harness.train import set_seed  # noqa: E402


def padded_tokens(encoded, indices: np.ndarray, batch_size: int) -> int:
    lengths = np.diff(encoded.offsets)[indices]
    return int(
        sum(
            lengths[s : s + batch_size].max() * len(lengths[s : s + batch_size])
            for s in range(0, len(lengths), batch_size)
        )
    )


def eval_by_length(model, prepared, encoded, indices, batch_size, pad_id, groups, repeats) -> dict:
    times = {False: [], True: []}
    scores = {}
    for _ in range(repeats):
        for by_length in (False, True):
            started = time.perf_counter()
            scores[by_length] = score(
                model, prepared, encoded, indices, "implicit", batch_size, pad_id, groups, by_length=by_length
            )
            times[by_length].append(time.perf_counter() - started)
    lengths = np.diff(encoded["implicit"].offsets)[indices]
    order = np.argsort(lengths, kind="stable")
    before, after = (len(indices) / statistics.median(times[k]) for k in (False, True))
    return {
        "samples": len(indices),
        "batch_size": batch_size,
        "real_tokens": int(lengths.sum()),
        "padded_tokens_before": padded_tokens(encoded["implicit"], indices, batch_size),
        "padded_tokens_after": padded_tokens(encoded["implicit"], indices[order], batch_size),
        "samples_per_s_before": before,
        "samples_per_s_after": after,
        "speedup": after / before,
        "max_abs_score_difference": float(np.abs(scores[True] - scores[False]).max()),
        "max_abs_score": float(np.abs(scores[False]).max()),
        "same_recommendations": bool(((scores[True] > 0) == (scores[False] > 0)).all()),
    }


@torch.inference_mode()
def vocabulary_projection(backbone, prepared, encoded, indices, batch_size, pad_id, repeats) -> dict:
    """A causal LM's forward with the vocabulary projected at the scored (last)
    position only, as the harness does, against projecting every position (what
    ``model(...).logits`` does by default)."""
    from harness.batching import collate

    lm = backbone.model
    base, head = getattr(lm, lm.base_model_prefix), lm.get_output_embeddings()
    batch = collate(prepared, encoded, indices[:batch_size], "implicit", pad_id, False)
    times = {"last": [], "all": []}
    for _ in range(repeats):
        for where in ("last", "all"):
            started = time.perf_counter()
            hidden = base(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
            head(hidden[:, -1] if where == "last" else hidden)
            times[where].append(time.perf_counter() - started)
    last, every = (statistics.median(times[k]) for k in ("last", "all"))
    return {
        "batch_size": batch_size,
        "tokens": int(batch.input_ids.shape[1]),
        "vocabulary": head.out_features,
        "seconds_last_position": last,
        "seconds_every_position": every,
        "speedup": every / last,
    }


def profile_step(model, prepared, encoded, indices, batch_size, pad_id, groups, config) -> str:
    """torch.profiler's table of one training step (forward, losses, backward, Adafactor)."""
    from torch.profiler import ProfilerActivity, profile
    from transformers.optimization import Adafactor

    from harness.batching import collate
    from harness.train import build_objectives, training_step

    objectives = build_objectives(config, prepared, indices)
    optimizer = Adafactor(
        model.trainable_parameters(),
        lr=config.learning_rate,
        relative_step=False,
        scale_parameter=False,
        warmup_init=False,
    )
    batch = collate(prepared, encoded, indices[:batch_size], config.train_setting, pad_id, groups)
    model.train()
    step = training_step(model, objectives, optimizer)
    step(batch, 1, 0)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(batch, 1, 1)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--head", default="mos")
    parser.add_argument("--samples", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write torch.profiler's table of one training step here")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    prepared = prepare(
        "movielens-100k",
        resolve_data_dir(None),
        SampleConfig(n_sequences=2000),
        StereotypeConfig(),
        log=lambda *_: None,
    )
    backbone = load_backbone(args.model)
    encoded = encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset("movielens-100k").group_words,
        512,
        prepared.cache_folder,
        template=PromptTemplate(answer_cue=backbone.answer_cue),
        log=lambda *_: None,
    )
    set_seed(0)
    model = Recommender(backbone, build_head(args.head))
    indices = np.flatnonzero(prepared.samples.mask("test"))[: args.samples]
    groups = args.head == "mos"
    out = {
        "model": args.model,
        "head": args.head,
        "threads": torch.get_num_threads(),
        "eval_by_length": eval_by_length(
            model, prepared, encoded, indices, args.batch_size, backbone.tokenizer.pad_token_id, groups, args.repeats
        ),
    }
    if args.profile:
        from harness.config import RunConfig, TrainConfig

        train = np.flatnonzero(prepared.samples.mask("train"))
        # the lr a run of this head on this backbone takes (a bare TrainConfig has none: default_lr needs the
        # backbone); before issue 33 this took the paper's 0.5, which changes no timing
        config = RunConfig(backbone=args.model, train=TrainConfig(head=args.head)).train
        table = profile_step(model, prepared, encoded, train, 8, backbone.tokenizer.pad_token_id, groups, config)
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(
            f"# one training step, {args.model} + {args.head}, batch 8, {torch.get_num_threads()} threads\n{table}\n"
        )
        print(table)
    if backbone.kind == "causal":
        out["vocabulary_projection"] = vocabulary_projection(
            backbone, prepared, encoded, indices, 8, backbone.tokenizer.pad_token_id, args.repeats
        )
    print(json.dumps(out, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"provenance": provenance(), **out}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
