"""``python -m harness``: one training run from the command line (no Ray).

python -m harness --head mos --dataset movielens-100k --backbone smollm2-135m
python -m harness --list
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SMOKE_CAPS = {"max_train_samples": 64, "max_eval_samples": 64, "epochs": 1}


def _parser() -> argparse.ArgumentParser:
    from harness.config import RunConfig, SampleConfig, TrainConfig  # torch-free: the defaults' one home

    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Train one head on a frozen LM and test it under the "
        "implicit, explicit and counterfactual prompt settings (the paper's metrics).",
    )
    parser.add_argument("--list", action="store_true", help="list data sets, backbones, heads and objectives")
    parser.add_argument("--dataset", help=f"default {RunConfig.dataset}")
    parser.add_argument("--data-dir", help="data directory (default $HARNESS_DATA_DIR or the user cache)")
    parser.add_argument("--backbone", help=f"registered name, local directory or hub id (default {RunConfig.backbone})")
    parser.add_argument("--head", help=f"default {TrainConfig.head}")
    parser.add_argument("--head-options", default="{}", help="JSON, e.g. '{\"top_k\": 2}'")
    parser.add_argument(
        "--objectives",
        help='JSON name -> options, e.g. \'{"rec": {}, "sf": {"weight": 0.5}}\' '
        "(default: the head's objectives in the paper)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        help="Adafactor lr; default: the backbone's (python -m harness.backbones "
        "list), else the paper's 0.5 prompt-based, 0.005 adapter-based (§4.1.4)",
    )
    parser.add_argument("--epochs", type=int, help=f"default {TrainConfig.epochs}")
    parser.add_argument("--batch-size", type=int, help=f"default {TrainConfig.batch_size}")
    parser.add_argument("--seed", type=int, default=0, help="sampling and training seed (default 0)")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: the GPU when torch sees one, else the CPU)")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16", "fp16"),
        help="the frozen backbone's compute (autocast); the head and optimizer stay fp32 "
        "(default fp32; refused where the device runs it slowly, see --force-precision)",
    )
    parser.add_argument("--force-precision", action="store_true", help="run --precision even where it is slow")
    parser.add_argument("--n-sequences", type=int, help=f"default {SampleConfig.n_sequences:,}")
    parser.add_argument("--max-tokens", type=int, help=f"default {RunConfig.max_tokens}")
    parser.add_argument("--max-train-samples", type=int)
    parser.add_argument("--max-eval-samples", type=int, help="cap on validation and test samples")
    parser.add_argument("--max-valid-samples", type=int, help="cap on validation alone (over --max-eval-samples)")
    parser.add_argument(
        "--smoke", action="store_true", help=f"tiny run to check the set-up: {SMOKE_CAPS}; its numbers are NOT results"
    )
    parser.add_argument("--out", type=Path, help="write the run's JSON record here (scores beside it as .parquet)")
    return parser


def _list() -> int:
    from harness.config import registered

    print("\n".join(registered()))
    return 0


def _given(**values) -> dict:
    """The options given on the command line; the others keep the configs' defaults."""
    return {k: v for k, v in values.items() if v is not None}


def _config(args):
    from harness.config import RunConfig, SampleConfig, TrainConfig

    caps = {
        "max_train_samples": args.max_train_samples,
        "max_eval_samples": args.max_eval_samples,
        "max_valid_samples": args.max_valid_samples,
        "epochs": args.epochs,
    }
    if args.smoke:
        caps = SMOKE_CAPS
    train = TrainConfig(
        head_options=json.loads(args.head_options),
        objectives=json.loads(args.objectives) if args.objectives else None,
        lr=args.lr,
        seed=args.seed,
        force_precision=args.force_precision,
        **_given(head=args.head, batch_size=args.batch_size, precision=args.precision, **caps),
    )
    sample = SampleConfig(seed=args.seed, **_given(n_sequences=args.n_sequences))
    return RunConfig(
        data_dir=args.data_dir,
        sample=sample,
        train=train,
        **_given(dataset=args.dataset, backbone=args.backbone, max_tokens=args.max_tokens),
    )


def _summary(record: dict) -> str:
    lines = [f"{'setting':15s} {'SF':>8s} {'AUC':>8s} {'Prec':>8s} {'Recall':>8s}"]
    fmt = lambda v: "   n/a" if v is None else f"{100 * v:8.2f}"  # noqa: E731  x100 as in the paper
    for setting, result in record["test"].items():
        perf = result["performance"]["all"]
        lines.append(
            f"{setting:15s} {fmt(result['sf']['all']['value'])} {fmt(perf['auc']['value'])} "
            f"{fmt(perf['precision']['value'])} {fmt(perf['recall']['value'])}"
        )
    p = record["parameters"]
    lines.append(f"trainable parameters: {p['trainable']:,} ({p['percent']:.4f}%)")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        return _list()
    from harness.backbones import BackboneError
    from harness.data.schema import DataError
    from harness.run import run
    from harness.train import TrainingError

    try:
        config = _config(args)
        if args.smoke:
            print("WARNING: --smoke caps the run to a few samples; its numbers are not results.", file=sys.stderr)
        record = run(config, log=lambda message: print(message, file=sys.stderr, flush=True), device=args.device)
    except (DataError, BackboneError, TrainingError, KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    scores = record.pop("scores")
    record["smoke"] = args.smoke
    print(_summary(record))
    if args.out:
        from harness.files import atomic_write
        from harness.provenance import provenance

        record["provenance"] = provenance(["-m", "harness", *(argv if argv is not None else sys.argv[1:])])
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(json.dumps(record, indent=2, default=float)))
        atomic_write(args.out.with_suffix(".parquet"), lambda tmp: scores.to_parquet(tmp, index=False))
        print(f"wrote {args.out} and {args.out.with_suffix('.parquet')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
