"""Measurement: do the quickstart's arms train on the offline backbone?

The quickstart's data and sizes (MovieLens-100K, SmolLM2-135M, 2,000 sequences, 192
training and 100 validation/test samples), its two arms (TALLRec-- = prompt tuning on
L_rec, and MoS), each trained under two Adafactor settings, everything else alike:

- ``absolute``: the paper's T5 setting, lr 0.5 with ``scale_parameter`` off (a step moves
  a soft prompt by an RMS of up to 0.5; SmolLM2's embeddings have an RMS of 0.136);
- ``relative``: lr 0.5 with ``scale_parameter`` on (each step scaled by the prompt's RMS).

Beside them, the frozen model's mean L_rec (Eq. 11) on the same training samples: a
trained arm whose epoch-mean training loss stays above it has not learned. Per epoch:
training loss and validation AUC; at the end, test AUC (implicit prompt).

    python benchmarks/convergence.py --out results/convergence/convergence.json \\
        --figure results/convergence/convergence.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from measure import frozen_loss, quickstart_arguments, save_figure

from harness.backbones import load_backbone
from harness.config.data import SampleConfig
from harness.config.datasets import get_dataset
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.data.encode import encode_cached
from harness.data.paths import resolve_data_dir
from harness.data.prepare import prepare
from harness.prompts import PromptTemplate
from harness.provenance import provenance
from harness.run import run

ARMS = {"tallrec--": "tallrec_pt", "mos": "mos"}
SETTINGS = {"absolute": False, "relative": True}


def _frozen_loss(config: RunConfig) -> float:
    """The frozen model's mean L_rec on ``config``'s training samples (``measure.frozen_loss``)."""
    prepared = prepare(config.dataset, resolve_data_dir(config.data_dir), config.sample, config.stereotype)
    backbone = load_backbone(config.backbone)
    encoded = encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset(config.dataset).group_words,
        config.max_tokens,
        prepared.cache_folder,
        template=PromptTemplate(answer_cue=backbone.answer_cue),
    )
    return frozen_loss(prepared, encoded, backbone, config.train)


def measure(args) -> dict:
    def config(head: str, relative: bool) -> RunConfig:
        return RunConfig(
            dataset="movielens-100k",
            backbone=args.backbone,
            sample=SampleConfig(n_sequences=args.n_sequences, seed=args.seed),
            train=TrainConfig(
                head=head,
                epochs=args.epochs,
                patience=args.epochs,
                max_train_samples=args.train_samples,
                max_eval_samples=args.eval_samples,
                scale_parameter=relative,
                seed=args.seed,
            ),
        )

    stamp = provenance()  # at the start: the code that runs is the code loaded now
    frozen = _frozen_loss(config("tallrec_pt", False))
    print(f"frozen model: mean L_rec {frozen:.4f} on the training samples", flush=True)
    rows = []
    for arm, head in ARMS.items():
        for name, relative in SETTINGS.items():
            started = time.time()
            out = run(config(head, relative), log=lambda m: print(f"  {m}", file=sys.stderr, flush=True), device="cpu")
            # every part of the loss (train_rec is L_rec, the one comparable with the frozen model's)
            epochs = [
                {k: v for k, v in e.items() if k == "epoch" or k.startswith("train_") or k == "valid_auc"}
                for e in out["fit"]["epochs"]
            ]
            row = {
                "arm": arm,
                "head": head,
                "setting": name,
                "scale_parameter": relative,
                "epochs": epochs,
                "test_auc": out["test"]["implicit"]["performance"]["all"]["auc"]["value"],
                "seconds": time.time() - started,
            }
            rows.append(row)
            print(
                f"{arm:10s} {name:8s}: train loss per epoch {[round(e['train_loss'], 3) for e in epochs]} "
                f"(frozen {frozen:.3f}), valid AUC {[round(e['valid_auc'], 3) for e in epochs]}, test AUC "
                f"{row['test_auc']:.3f} ({row['seconds']:.0f} s)",
                flush=True,
            )
    return {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "frozen_loss": frozen,
        "runs": rows,
        "provenance": stamp,
    }


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss, auc) = plt.subplots(1, 2, figsize=(9, 3.4))
    for row in result["runs"]:
        x = [e["epoch"] for e in row["epochs"]]
        label = f"{row['arm']}, {row['setting']}"
        loss.plot(x, [e["train_loss"] for e in row["epochs"]], marker="o", label=label)
        auc.plot(x, [e["valid_auc"] for e in row["epochs"]], marker="o", label=label)
    loss.axhline(result["frozen_loss"], color="black", linestyle="--", label="frozen model")
    loss.set(xlabel="epoch", ylabel="epoch-mean training loss (nats; MoS: + L_fair - L_div)", title="Training loss")
    auc.set(xlabel="epoch", ylabel="validation AUC", title="Validation AUC")
    loss.legend(fontsize=7)
    save_figure(fig, path, "Quickstart arms on SmolLM2-135M, MovieLens-100K", result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quickstart_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--figure", type=Path)
    args = parser.parse_args(argv)
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    if args.figure:
        figure(result, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
