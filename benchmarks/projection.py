"""Projection: how long the paper-scale study takes on one GPU, from measured throughputs.

Nothing is run here. The paper-scale search spaces are resolved exactly as the sweep resolves
them: arms, seeds, epochs, caps and split sizes. Their samples are then divided by the
throughputs that benchmarks/train_step.py and benchmarks/gpu_sharing.py measured on a GPU.

- **Per trial.** ``epochs × (train samples / train rate + validation samples / scoring rate)
  + 3 prompt settings × test samples / scoring rate`` (``harness.cost.trial_seconds``, which
  ``python -m harness.sweep SPACE --dry-run`` uses too).
  - The frozen LLM (``head: llm``) trains nothing: it is validated once, then scored.
  - Early stopping (``patience``) ends a trial after between ``patience + 1`` and ``epochs``
    epochs, so the projection is a range: every trial stopping as early as it can, or none
    stopping.
  - A search (``search:``, ``budget``) runs its budget on the first seed, then replicates the
    chosen configuration on the other seeds (the first seed's trial is reused). ASHA may stop
    a searched trial early; the upper bound counts every epoch.
- **Split sizes.** Nominal: ``n_sequences`` × the split ratios (8,000 / 1,000 / 1,000 at the
  paper's 10,000). MovieLens-100K's real splits differ by under 2% (8,014 / 997 / 989 at
  seed 0).
- **Rates.** The harness path's training samples/s at the training batch, and its scoring
  samples/s at the scoring batch (``train.batch_size`` 8, ``eval_batch_size`` 32), from
  train_step.py JSON files. These are timed on the prompt-tuning head.
- **Assumption: every head costs what prompt tuning costs per sample.**
  - MoS runs the backbone once, with the mixed prompt; its router reads pooled input
    embeddings, not the backbone.
  - LoRA adds small adapter products to the same forward and backward pass.
  - Neither has been timed on a GPU here. On the study's shared 2-core CPU TALLRec's (LoRA)
    training took 0.8-2.5x TALLRec--'s (prompt tuning) per seed, 1.2x over the three seeds
    (results/study-smollm2-ml100k), too noisy to set a factor.
    ``--lora-factor`` scales the LoRA heads by a factor of your choice.
- **A cluster.** ``--gpus`` GPUs as fast as the measured one, one trial each: at least
  the work spread evenly over them, and at least the longest trial. The cluster files' GPUs
  (A10G, T4) have not been measured here; scale by their speed relative to the measured GPU.
- **Sharing.** ``--sharing`` (gpu_sharing.py JSON): N trials on one GPU train at the measured
  total rate, so their wall time shrinks by total(N) / total(1). That was measured for
  training steps; scoring is assumed to share alike.

    python benchmarks/projection.py --train-rate results/benchmarks/h200/train_step_t5base_b8.json \\
        --eval-rate results/benchmarks/h200/train_step_t5base_b32.json \\
        --sharing results/benchmarks/h200/gpu_sharing_t5base.json --out results/benchmarks/projection.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from harness.cost import trial_seconds, work  # noqa: E402  the one home of the formula
from harness.rates import rate, sharing_gain  # noqa: E402

SPACES = ("table1_preliminary", "table2_llm_vs_llmrs", "table4_fairness_methods", "table5_paradigms", "table6_ablation")
LORA_HEADS = ("tallrec", "lora")


def trials(space: str):
    """(arm key, head, run config, trials of it) for every trial the space's sweep would run."""
    from harness.space import load_spec

    spec = load_spec(ROOT / "search_spaces" / f"{space}.yaml")
    for arm in spec.arms():
        config = spec.run_config(arm, {}, spec.seeds[0])
        count = (spec.budget + len(spec.seeds) - 1) if spec.search_space(arm) else len(spec.seeds)
        yield arm.key, config.train.head, config, count


def project(args) -> dict:
    try:
        train_rate, train_source = rate(args.train_rate, "train", args.model)
        eval_rate, eval_source = rate(args.eval_rate, "eval", args.model)
        gain = sharing_gain(args.sharing, args.processes) if args.sharing else 1.0
    except ValueError as error:
        raise SystemExit(str(error)) from error
    rows = []
    for space in args.spaces:
        for key, head, config, count in trials(space):
            factor, w = args.lora_factor if head in LORA_HEADS else 1.0, work(config)
            low, high = (trial_seconds(w, train_rate, eval_rate, epochs, factor) for epochs in (w.min_epochs, w.epochs))
            rows.append(
                {
                    "space": space,
                    "arm": key,
                    "head": head,
                    "trials": count,
                    "seconds_per_trial": [low, high],
                    "seconds": [low * count, high * count],
                }
            )
    total = [sum(r["seconds"][i] for r in rows) for i in (0, 1)]
    return {
        "model": args.model,
        "train_rate": train_source,
        "eval_rate": eval_source,
        "sharing": {"file": str(args.sharing) if args.sharing else None, "processes": args.processes, "gain": gain},
        "lora_factor": args.lora_factor,
        "spaces": list(args.spaces),
        "arms": rows,
        "trials": sum(r["trials"] for r in rows),
        "hours_one_gpu_one_trial_at_a_time": [s / 3600 for s in total],
        "hours_one_gpu_shared": [s / 3600 / gain for s in total],
        "hours_per_space": {
            s: [sum(r["seconds"][i] for r in rows if r["space"] == s) / 3600 for i in (0, 1)] for s in args.spaces
        },
        # N GPUs at this rate, one trial each: no sooner than the work spread evenly, nor than the longest trial
        "gpus": args.gpus,
        "hours_n_gpus": [
            max(s / args.gpus, max(r["seconds_per_trial"][i] for r in rows)) / 3600 for i, s in enumerate(total)
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--train-rate",
        type=Path,
        required=True,
        help="train_step.py JSON at the training batch (8): its harness training samples/s",
    )
    parser.add_argument(
        "--eval-rate",
        type=Path,
        required=True,
        help="train_step.py JSON at the scoring batch (32): its harness scoring samples/s",
    )
    parser.add_argument("--sharing", type=Path, help="gpu_sharing.py JSON: the gain of N trials on one GPU")
    parser.add_argument("--processes", type=int, default=4, help="trials sharing one GPU (default 4)")
    parser.add_argument("--model", default="t5-base-shape")
    parser.add_argument("--spaces", nargs="+", default=list(SPACES))
    parser.add_argument(
        "--lora-factor",
        type=float,
        default=1.0,
        help="a LoRA head's per-sample cost over prompt tuning's (default 1: not measured on a GPU)",
    )
    parser.add_argument(
        "--gpus",
        type=int,
        default=8,
        help="GPUs of a cluster running one trial each (default 8: cluster/aws.yaml, gcp.yaml)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = project(args)
    for space, (low, high) in result["hours_per_space"].items():
        print(f"{space:26s} {low:6.2f}-{high:6.2f} h (one trial at a time)")
    low, high = result["hours_one_gpu_one_trial_at_a_time"]
    print(
        f"{result['trials']} trials: {low:.2f}-{high:.2f} h on one {result['train_rate']['device']}, one trial at "
        f"a time; {low / result['sharing']['gain']:.2f}-{high / result['sharing']['gain']:.2f} h with "
        f"{args.processes} sharing it (gain {result['sharing']['gain']:.2f}x)"
    )
    low, high = result["hours_n_gpus"]
    print(f"on {args.gpus} GPUs as fast as this one, one trial each: at least {low:.2f}-{high:.2f} h")
    if args.out:
        from harness.provenance import provenance

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**result, "provenance": provenance()}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
