"""Measurement: which Adafactor learning rate suits soft prompts on a backbone?

The paper's lr 0.5 (§4.1.4, absolute step: ``scale_parameter`` off) was set for T5,
whose input embeddings are large; on SmolLM2-135M (embedding RMS 0.136) one step of
0.5 moves a soft prompt by several times the embedding scale. This script searches
the learning rate on a grid, per prompt-based head, on the quickstart's data and sizes
(MovieLens-100K, 2,000 sequences, 192 training and 100 validation samples), for
several seeds, and selects by the harness's own rule, the best validation AUC over the
epochs, averaged over heads and seeds (``select``). The test split is never read. The
search is at the quickstart's scale (192 samples, 2 epochs: 48 steps); a study that trains
longer at the chosen lr takes more steps of the same size.

Per run it keeps every epoch's training loss and its parts (``train_rec`` is L_rec,
Eq. 11: the one comparable with the frozen model's), validation AUC and the run's
seconds; per seed, two reference losses on the same training samples: the frozen
model's mean L_rec, and the label prior's entropy (the loss of always predicting the
share of liked targets). Runs are
written to ``--out`` as they finish, and a rerun with the same settings skips them, so
the search can be stopped and resumed.

    python benchmarks/lr_search.py --out results/lr_search/lr_search.json \\
        --figure results/lr_search/lr_search.png
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
from measure import frozen_loss, quickstart_arguments, save_figure

from harness.backbones import load_backbone
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.datasets import get_dataset
from harness.config.train import TrainConfig
from harness.data.encode import encode_cached
from harness.data.paths import resolve_data_dir
from harness.data.prepare import prepare
from harness.data.samples import capped
from harness.heads import build_head
from harness.model import Recommender
from harness.prompts import PromptTemplate
from harness.provenance import provenance
from harness.train import fit, set_seed

# the prompt-based heads of the quickstart and of Table 5: TALLRec-- (prompt tuning on
# L_rec), p-tuning and MoS (L = L_rec + L_fair - L_div)
HEADS = ("tallrec_pt", "p_tuning", "mos")
LRS = (0.5, 0.1, 0.02, 0.004)  # factors of 5 below the paper's 0.5


def _data(args, seed: int, backbone):
    sample = SampleConfig(n_sequences=args.n_sequences, seed=seed)
    prepared = prepare("movielens-100k", resolve_data_dir(None), sample, StereotypeConfig(), log=lambda m: None)
    encoded = encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset("movielens-100k").group_words,
        512,
        prepared.cache_folder,
        template=PromptTemplate(answer_cue=backbone.answer_cue),
    )
    return prepared, encoded


def label_prior_loss(prepared, config: TrainConfig) -> float:
    """The mean L_rec of the best constant predictor on the run's training samples: the entropy
    (nats) of their share of liked targets. A model below it has learned more than the base rate."""
    train = capped(np.flatnonzero(prepared.samples.mask("train")), config.max_train_samples, config.seed)
    share = float(prepared.samples.label[train].mean())
    return 0.0 if share in (0.0, 1.0) else -(share * np.log(share) + (1 - share) * np.log(1 - share))


def _key(head: str, lr: float, seed: int) -> str:
    return f"{head}|{lr:g}|{seed}"


def _best(run: dict) -> float:
    """A run's best validation AUC over its epochs (NaN where no epoch's AUC is defined)."""
    defined = [e["valid_auc"] for e in run["epochs"] if np.isfinite(e["valid_auc"])]
    return max(defined) if defined else float("nan")


def select(result: dict) -> dict:
    """The rule, fixed before the search ran: per lr, the mean over heads and seeds of each run's
    best validation AUC; the family's lr is the highest. Per head the same, for information (one
    value for the family pools every run, where a head alone has as many runs as seeds)."""
    lrs = [f"{lr:g}" for lr in result["settings"]["lrs"]]
    by_head = {}
    for head in result["settings"]["heads"]:
        by_head[head] = {}
        for lr in result["settings"]["lrs"]:
            runs = [r for r in result["runs"] if r["head"] == head and r["lr"] == lr]
            if runs:
                best = [_best(r) for r in runs]
                by_head[head][f"{lr:g}"] = {
                    "seeds": [r["seed"] for r in runs],
                    "best_valid_auc": best,
                    "mean": float(np.nanmean(best)) if np.isfinite(best).any() else None,
                    "last_train_rec": [r["epochs"][-1]["train_rec"] for r in runs],
                }
    pooled = {}
    for lr in lrs:
        values = [b for head in by_head.values() if lr in head for b in head[lr]["best_valid_auc"]]
        pooled[lr] = {"runs": len(values), "mean": float(np.nanmean(values)) if np.isfinite(values).any() else None}
    defined = {lr: v["mean"] for lr, v in pooled.items() if v["mean"] is not None}
    return {
        "rule": "the lr with the highest mean best validation AUC over heads and seeds",
        "family_lr": float(max(defined, key=defined.get)) if defined else None,
        "pooled": pooled,
        "by_head": {
            head: {
                "lr": float(max((k for k in v if v[k]["mean"] is not None), key=lambda k: v[k]["mean"], default="nan")),
                "by_lr": v,
            }
            for head, v in by_head.items()
        },
    }


def measure(args) -> dict:
    result = {
        "settings": {
            "backbone": args.backbone,
            "n_sequences": args.n_sequences,
            "train_samples": args.train_samples,
            "eval_samples": args.eval_samples,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "heads": args.heads,
            "lrs": args.lrs,
        },
        "frozen_loss": {},
        "label_prior_loss": {},
        "runs": [],
        "provenance": provenance(),
    }
    if args.out.exists():
        old = json.loads(args.out.read_text())
        if old["settings"] != result["settings"]:
            sys.exit(
                f"{args.out} holds a search with other settings ({old['settings']}); choose another --out or delete it"
            )
        resumed = old.get("resumed", []) + [result["provenance"]]  # every session that added runs
        result.update(
            frozen_loss=old["frozen_loss"],
            label_prior_loss=old.get("label_prior_loss", {}),
            runs=old["runs"],
            provenance=old["provenance"],
            resumed=resumed,
        )
        print(f"resuming: {len(result['runs'])} runs already in {args.out}", flush=True)
    done = {_key(r["head"], r["lr"], r["seed"]) for r in result["runs"]}
    backbone = load_backbone(args.backbone)
    pad_id = backbone.tokenizer.pad_token_id
    total = len(args.seeds) * len(args.heads) * len(args.lrs)
    for seed in args.seeds:
        prepared, encoded = _data(args, seed, backbone)
        base = TrainConfig(
            epochs=args.epochs,
            patience=args.epochs,
            max_train_samples=args.train_samples,
            max_eval_samples=args.eval_samples,
            seed=seed,
        )
        if str(seed) not in result["frozen_loss"]:
            result["frozen_loss"][str(seed)] = frozen_loss(prepared, encoded, backbone, base)
        result["label_prior_loss"][str(seed)] = label_prior_loss(prepared, base)
        frozen = result["frozen_loss"][str(seed)]
        print(
            f"seed {seed}: frozen model's mean L_rec {frozen:.4f} on the training samples; the label "
            f"prior's {result['label_prior_loss'][str(seed)]:.4f}",
            flush=True,
        )
        for head in args.heads:
            for lr in args.lrs:
                if _key(head, lr, seed) in done:
                    continue
                config = dataclasses.replace(base, head=head, lr=lr)
                started = time.time()
                set_seed(seed)
                model = Recommender(backbone, build_head(head))
                fitted = fit(model, prepared, encoded, config, pad_id)
                epochs = [
                    {k: v for k, v in e.items() if k == "epoch" or k.startswith("train_") or k == "valid_auc"}
                    for e in fitted.epochs
                ]
                result["runs"].append(
                    {"head": head, "lr": lr, "seed": seed, "epochs": epochs, "seconds": time.time() - started}
                )
                _write(result, args.out)
                print(
                    f"[{len(result['runs'])}/{total}] seed {seed} {head:10s} lr {lr:<6g}: L_rec per epoch "
                    f"{[round(e['train_rec'], 3) for e in epochs]} (frozen {frozen:.3f}), valid AUC "
                    f"{[round(e['valid_auc'], 3) for e in epochs]} ({time.time() - started:.0f} s)",
                    flush=True,
                )
    result["selected"] = select(result)
    result["provenance"]["finished_utc"] = provenance()["date_utc"]
    _write(result, args.out)
    return result


def _write(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heads, lrs = result["settings"]["heads"], result["settings"]["lrs"]
    fig, axes = plt.subplots(2, len(heads), figsize=(3.6 * len(heads), 6), squeeze=False)
    colours = dict(zip(lrs, plt.cm.viridis(np.linspace(0, 0.9, len(lrs))), strict=True))
    frozen = np.mean(list(result["frozen_loss"].values()))
    for col, head in enumerate(heads):
        loss, auc = axes[0][col], axes[1][col]
        for run in (r for r in result["runs"] if r["head"] == head):
            x = [e["epoch"] for e in run["epochs"]]
            style = dict(
                color=colours[run["lr"]],
                marker="o",
                linestyle="-" if run["seed"] == min(result["settings"]["seeds"]) else "--",
                label=f"lr {run['lr']:g}, seed {run['seed']}",
            )
            loss.plot(x, [e["train_rec"] for e in run["epochs"]], **style)
            auc.plot(x, [e["valid_auc"] for e in run["epochs"]], **style)
        loss.axhline(frozen, color="black", linestyle=":", label="frozen model")
        if result.get("label_prior_loss"):
            loss.axhline(
                np.mean(list(result["label_prior_loss"].values())),
                color="grey",
                linestyle="-.",
                label="label prior (constant predictor)",
            )
        auc.axhline(0.5, color="grey", linestyle=":")
        loss.set(title=head, xlabel="epoch", ylabel="epoch-mean L_rec (nats)", yscale="log")
        auc.set(xlabel="epoch", ylabel="validation AUC")
        loss.legend(fontsize=6)
    save_figure(
        fig,
        path,
        f"Adafactor lr search, {result['settings']['backbone']}, MovieLens-100K "
        f"({result['settings']['train_samples']} training samples)",
        result,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quickstart_arguments(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--heads", nargs="+", default=list(HEADS))
    parser.add_argument("--lrs", type=float, nargs="+", default=list(LRS))
    parser.add_argument("--out", type=Path, required=True, help="JSON, written after every run; resumed from")
    parser.add_argument("--figure", type=Path)
    args = parser.parse_args(argv)
    result = measure(args)
    if args.figure:
        figure(result, args.figure)
    chosen = result["selected"]
    print(
        f"family lr {chosen['family_lr']:g}: mean best validation AUC per lr over every head and seed "
        f"{ {lr: v['mean'] and round(v['mean'], 4) for lr, v in chosen['pooled'].items()} }"
    )
    for head, per in chosen["by_head"].items():
        print(
            f"  {head}: best alone at lr {per['lr']:g} "
            f"{ {lr: v['mean'] and round(v['mean'], 4) for lr, v in per['by_lr'].items()} }"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
