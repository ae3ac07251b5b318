"""Benchmark: what MoS's router input costs per training step, and how much of the group it carries.

On real data (MovieLens-100K, the offline SmolLM2-135M), MoS at its paper objectives
(L_rec + L_fair + L_div) trained by ``harness.train``'s step on the same real batches under
``router_input`` ``prompt`` (pooled input embeddings, the default) and ``hidden`` (one extra
frozen forward per group prompt, ``harness.model.pooled_states``; ``hidden_last`` runs the
same forward and pools it otherwise, so it costs the same). Steps alternate between the two
so machine noise hits both; medians of wall and CPU (process) seconds are reported: on a
shared machine the CPU seconds say what the step itself costs.

Beside the cost, for each input (``hidden_last`` too) over the same training samples:
- ``group_signal``: how far the two group prompts of a sample lie apart along the direction
  that separates the groups on average (u = the mean over samples of x_g1 - x_g2, normalised),
  in units of the inputs' spread along u within a group (Fisher's d'); what a linear router
  can use to tell the groups apart, whatever the inputs' scale (``rms``).
- ``batch_drift``: the largest difference of a sample's hidden input computed in its batch
  against alone (whether a cache keyed by sample would change the numbers: not 0 means it would).

    python benchmarks/router_input.py --out results/benchmarks/router_input.json
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
from transformers.optimization import Adafactor

from harness.backbones import load_backbone
from harness.batching import batches
from harness.config.data import SampleConfig
from harness.config.datasets import get_dataset
from harness.data.encode import encode_cached
from harness.data.paths import resolve_data_dir
from harness.data.prepare import prepare
from harness.data.samples import capped
from harness.heads import build_head
from harness.model import Recommender
from harness.objectives import build_objective
from harness.prompts import PromptTemplate
from harness.provenance import provenance
from harness.train import set_seed, training_step

INPUTS = ("prompt", "hidden", "hidden_last")
TIMED = ("prompt", "hidden")  # hidden_last: the same forward as hidden, pooled otherwise
OBJECTIVES = ("rec", "sf", "div")  # MoS's paper objectives (Table 5)


def _data(args):
    prepared = prepare("movielens-100k", resolve_data_dir(None), SampleConfig(n_sequences=args.n_sequences))
    backbone = load_backbone(args.backbone)
    encoded = encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset("movielens-100k").group_words,
        512,
        prepared.cache_folder,
        template=PromptTemplate(answer_cue=backbone.answer_cue),
    )
    train = capped(np.flatnonzero(prepared.samples.mask("train")), args.steps * args.batch_size, 0)
    return (
        prepared,
        backbone,
        list(batches(prepared, encoded, train, "implicit", args.batch_size, backbone.tokenizer.pad_token_id, True)),
    )


def _arm(backbone, router_input: str, prepared):
    set_seed(0)
    model = Recommender(backbone, build_head("mos", router_input=router_input))
    objectives = {name: build_objective(name) for name in OBJECTIVES}
    train_mask = prepared.samples.mask("train")
    for objective in objectives.values():
        objective.fit(prepared, train_mask)
    optimizer = Adafactor(model.trainable_parameters(), lr=0.5, relative_step=False, scale_parameter=False)
    return model.train(), training_step(model, objectives, optimizer)


def step_seconds(backbone, prepared, train_batches, warmup: int) -> dict:
    """Median wall and CPU seconds per training step of each timed router input, interleaved."""
    arms = {name: _arm(backbone, name, prepared) for name in TIMED}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in TIMED}
    for i, batch in enumerate(train_batches):
        for name, (_, step) in arms.items():
            wall, cpu = time.perf_counter(), time.process_time()
            step(batch, 1, i)
            if i >= warmup:
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        name: {
            "median_wall_s": statistics.median(w for w, _ in t),
            "median_cpu_s": statistics.median(c for _, c in t),
            "steps": len(t),
        }
        for name, t in times.items()
    }


def group_signal(features: torch.Tensor) -> float:
    """features: (2, M, d), two groups' router inputs for M samples -> the mean separation of a
    sample's two inputs along the mean group direction, over the inputs' spread along it."""
    difference = (features[0] - features[1]).double()
    direction = difference.mean(dim=0)
    direction = direction / direction.norm()
    along = features.double() @ direction  # (2, M)
    return float((difference @ direction).mean() / along.var(dim=1).mean().sqrt())


@torch.no_grad()
def router_inputs(backbone, train_batches) -> dict:
    """Each input's group signal and, for the hidden ones, the batch drift (see the docstring)."""
    out = {}
    for name in INPUTS:
        head = build_head("mos", router_input=name)
        head.attach(backbone)
        features = torch.cat([head._router_input(b, backbone) for b in train_batches], dim=1)  # (G, M, d)
        row = {"group_signal": group_signal(features), "rms": float(features.pow(2).mean().sqrt())}
        if name != "prompt":
            batch = train_batches[0]
            alone = torch.cat([head._router_input(_one(batch, i), backbone) for i in range(len(batch))], dim=1)
            row["batch_drift"] = float((alone - head._router_input(batch, backbone)).abs().max())
        out[name] = row
    return out


def _one(batch, i: int):
    """Sample ``i`` of ``batch`` alone, its group prompts cut to their own length."""
    width = int(batch.group_attention_mask[:, i].sum(dim=-1).max())
    return type(batch)(
        **{
            **vars(batch),
            "group_input_ids": batch.group_input_ids[:, i : i + 1, :width],
            "group_attention_mask": batch.group_attention_mask[:, i : i + 1, :width],
        }
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--n-sequences", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12, help="training steps per input (the first --warmup untimed)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args(argv)
    stamp = provenance()
    prepared, backbone, train_batches = _data(args)
    tokens = [int(b.group_attention_mask.sum(dim=-1).float().mean()) for b in train_batches]
    result = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "group_prompt_tokens_mean": tokens,
        "step": step_seconds(backbone, prepared, train_batches, args.warmup),
        "inputs": router_inputs(backbone, train_batches),
        "provenance": stamp,
    }
    for row in result["step"].values():
        for clock in ("wall", "cpu"):
            row[f"{clock}_ratio_to_prompt"] = row[f"median_{clock}_s"] / result["step"]["prompt"][f"median_{clock}_s"]
    print(json.dumps({k: result[k] for k in ("group_prompt_tokens_mean", "step", "inputs")}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
