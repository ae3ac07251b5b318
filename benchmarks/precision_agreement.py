"""Measurement: does a head trained and scored in bf16 give the fp32 run's scores and metrics?

For each head, two runs of ``harness.run.run`` alike in everything (MovieLens-100K,
SmolLM2-135M, the same seed, split, training samples and test pairs) except
``train.precision``: fp32, then bf16 (autocast on the frozen backbone; the head's
parameters and optimizer state stay fp32). Per head and prompt setting: the largest
score difference (and the largest |score|, its scale), the share of test pairs whose
Yes/No answer (score > 0) flips, and the AUC and SF differences, SF at z = 1 with one
Z-score per group (the study's measurement; ``--z``/``--threshold-scope`` change it).

On a CPU without AMX or AVX-512-BF16 bf16 is emulated and about 3x slower; the harness
refuses it there unless forced, as this script does (``force_precision``).

    python benchmarks/precision_agreement.py --out results/benchmarks/precision_agreement.json

The JSON is rewritten after each head, and a rerun keeps the heads it holds under the same
settings: on a 2-core CPU with emulated bf16 a head takes 10-30 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.provenance import provenance
from harness.run import run

HEADS = ("llm", "tallrec", "tallrec_pt", "prompt_tuning", "mos")
PRECISIONS = ("fp32", "bf16")


def config(args, head: str, precision: str) -> RunConfig:
    return RunConfig(
        dataset="movielens-100k",
        backbone=args.backbone,
        sample=SampleConfig(n_sequences=args.n_sequences, seed=args.seed),
        stereotype=StereotypeConfig(args.z, args.threshold_scope),
        train=TrainConfig(
            head=head,
            epochs=args.epochs,
            patience=args.epochs,
            max_train_samples=args.train_samples,
            max_valid_samples=args.valid_samples,
            max_eval_samples=args.eval_samples,
            seed=args.seed,
            precision=precision,
            force_precision=precision != "fp32",
        ),
    )


def _value(entry) -> float:
    value = (entry or {}).get("value")
    return float("nan") if value is None else float(value)


def agreement(fp32: dict, bf16: dict) -> dict:
    """Per prompt setting: how far the bf16 run's scores and metrics are from the fp32 run's."""
    a, b = fp32["scores"], bf16["scores"]
    out = {}
    for setting in sorted(set(a.setting)):
        sa = a[a.setting == setting].sort_values("sample")
        sb = b[b.setting == setting].sort_values("sample")
        if not np.array_equal(sa["sample"].to_numpy(), sb["sample"].to_numpy()):
            raise RuntimeError(f"{setting}: the two runs scored different test pairs")
        x, y = sa["score"].to_numpy(), sb["score"].to_numpy()
        ta, tb = fp32["test"][setting], bf16["test"][setting]
        out[setting] = {
            "pairs": int(len(x)),
            "max_abs_score": float(np.abs(x).max()),
            "max_score_difference": float(np.abs(x - y).max()),
            "mean_score_difference": float(np.abs(x - y).mean()),
            "answers_flipped": float(np.mean((x > 0) != (y > 0))),
            "auc_fp32": _value(ta["performance"]["all"]["auc"]),
            "auc_bf16": _value(tb["performance"]["all"]["auc"]),
            "sf_fp32": _value(ta["sf"]["all"]),
            "sf_bf16": _value(tb["sf"]["all"]),
        }
    return out


def _settings(args) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items() if k not in ("out", "heads")}


def measure(args) -> dict:
    """Each head's two runs, the JSON rewritten after each head. The heads already in ``args.out``
    under the same settings are kept, and not run again (so a measurement can span sessions, and a
    later run adds heads). The provenance stays the first run's; each head records its own commit, date and seconds."""
    stamp = provenance()
    rows = []
    if args.out.is_file():
        done = json.loads(args.out.read_text())
        if done.get("settings") == _settings(args):  # every head it holds stays, asked for or not
            rows, stamp = done["heads"], done["provenance"]
            print(f"kept from {args.out}: {', '.join(r['head'] for r in rows)}", flush=True)
    for head in args.heads:
        if any(r["head"] == head for r in rows):
            continue
        runs, seconds = {}, {}
        for precision in PRECISIONS:
            started = time.time()
            runs[precision] = run(
                config(args, head, precision), device="cpu", log=lambda m: print(f"  {m}", file=sys.stderr, flush=True)
            )
            seconds[precision] = time.time() - started
        per_setting = agreement(runs["fp32"], runs["bf16"])
        rows.append(
            {
                "head": head,
                "seconds": seconds,
                "settings": per_setting,
                "git_commit": provenance()["git_commit"],
                "date_utc": provenance()["date_utc"],
                "train_loss": {p: [e["train_loss"] for e in r["fit"]["epochs"]] for p, r in runs.items()},
            }
        )
        worst = max(per_setting.values(), key=lambda s: s["max_score_difference"])
        print(
            f"{head:14s} largest |score difference| {worst['max_score_difference']:.4f} (largest |score| "
            f"{worst['max_abs_score']:.2f}); AUC difference up to "
            f"{max(abs(s['auc_bf16'] - s['auc_fp32']) for s in per_setting.values()):.4f}; answers flipped up to "
            f"{max(s['answers_flipped'] for s in per_setting.values()):.1%}; fp32 {seconds['fp32']:.0f} s, "
            f"bf16 {seconds['bf16']:.0f} s",
            flush=True,
        )
        _write(args.out, {"settings": _settings(args), "heads": rows, "provenance": stamp})
    return {"settings": _settings(args), "heads": rows, "provenance": stamp}


def _write(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--heads", nargs="+", default=list(HEADS), help=f"heads to compare (default: {' '.join(HEADS)})"
    )
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--n-sequences", type=int, default=2000)
    parser.add_argument("--train-samples", type=int, default=64)
    parser.add_argument("--valid-samples", type=int, default=32)
    parser.add_argument("--eval-samples", type=int, default=50, help="test pairs, each scored in 3 prompt settings")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--z", type=float, default=1.0)
    parser.add_argument("--threshold-scope", default="per_group", choices=("global", "per_group"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    _write(args.out, measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
