"""Measurement: does MoS's top-1 router learn, and can it tell the stereotype groups apart?

On real data (MovieLens-100K with the offline SmolLM2-135M backbone), MoS at top-1 under
each gate (``eq7``, the literal Eq. 7, and ``switch``, the default) and each router input
(``prompt``, ``prompt+stereotype``), trained alike (same seed, samples and epochs). From the
records' routing diagnostics: the router's gradient norm per epoch, each group prompt's
expert usage on the test split, and how far apart the two groups route (total variation
distance between their usage distributions: 0 = the same experts, 1 = disjoint).

    python benchmarks/routing.py --out results/routing/routing.json --figure results/routing/routing.png

Needs the MovieLens-100K data (``python -m harness.data fetch movielens-100k``) and the
backbone (``python -m harness.backbones fetch smollm2-135m``). About 4 minutes a
configuration on 2 CPU cores at the default size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from measure import quickstart_arguments, save_figure

from harness.config.data import SampleConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.provenance import provenance
from harness.run import run

GATES = ("eq7", "switch")
ROUTER_INPUTS = ("prompt", "prompt+stereotype")


def measure(args) -> dict:
    stamp = provenance()  # at the start: the code that runs is the code loaded now
    rows = []
    for gate in GATES:
        for router_input in ROUTER_INPUTS:
            config = RunConfig(
                dataset="movielens-100k",
                backbone=args.backbone,
                max_tokens=args.max_tokens,
                sample=SampleConfig(n_sequences=args.n_sequences, seed=args.seed),
                train=TrainConfig(
                    head="mos",
                    head_options={"top_k": 1, "gate": gate, "router_input": router_input},
                    epochs=args.epochs,
                    patience=args.epochs,
                    max_train_samples=args.train_samples,
                    max_eval_samples=args.eval_samples,
                    seed=args.seed,
                ),
            )
            started = time.time()
            out = run(config, log=lambda message: print(f"  {message}", file=sys.stderr, flush=True), device="cpu")
            test = out["test_diagnostics"]
            row = {
                "gate": gate,
                "router_input": router_input,
                "seconds": time.time() - started,
                "epochs": [
                    {
                        "epoch": e["epoch"],
                        "train_loss": e.get("train_loss"),
                        "valid_auc": e["valid_auc"],
                        **e["diagnostics"],
                    }
                    for e in out["fit"]["epochs"]
                ],
                "test": test,
                "test_separation": test["routing_separation"],
                "test_auc": out["test"]["implicit"]["performance"]["all"]["auc"]["value"],
            }
            rows.append(row)
            grads = ", ".join(f"{e['router_grad_norm']:.3g}" for e in row["epochs"])
            print(
                f"gate {gate:6s} router_input {router_input:17s}: router grad norm per epoch [{grads}], "
                f"test usage {np.round(test['expert_usage'], 2).tolist()}, separation "
                f"{row['test_separation']:.3f}, test AUC {row['test_auc']:.4f} ({row['seconds']:.0f} s)",
                flush=True,
            )
    return {"settings": vars(args), "groups": ["male", "female"], "configurations": rows, "provenance": stamp}


def figure(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["configurations"]
    fig, axes = plt.subplots(1, len(rows) + 1, figsize=(3.2 * (len(rows) + 1), 3.2))
    for row in rows:
        grads = [e["router_grad_norm"] for e in row["epochs"]]
        axes[0].plot(
            [e["epoch"] for e in row["epochs"]], grads, marker="o", label=f"{row['gate']}, {row['router_input']}"
        )
    axes[0].set(xlabel="epoch", ylabel="router gradient norm (mean per step)", title="Does the router learn?")
    axes[0].legend(fontsize=6)
    for ax, row in zip(axes[1:], rows, strict=True):
        usage = np.asarray(row["test"]["expert_usage"])
        ax.imshow(usage, vmin=0, vmax=1, cmap="Blues")
        for (g, n), value in np.ndenumerate(usage):
            ax.text(n, g, f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set(
            xticks=range(usage.shape[1]),
            yticks=range(usage.shape[0]),
            yticklabels=result["groups"],
            xlabel="expert",
            title=f"{row['gate']}, {row['router_input']}\nseparation {row['test_separation']:.2f}",
        )
        ax.title.set_fontsize(8)
    save_figure(fig, path, "MoS top-1 routing on MovieLens-100K test pairs (SmolLM2-135M)", result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    quickstart_arguments(parser, train_samples=160)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSON with every configuration's diagnostics")
    parser.add_argument("--figure", type=Path, help="PNG: router gradient norms and test expert usage")
    args = parser.parse_args(argv)
    result = measure(args)
    result["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in result["settings"].items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    if args.figure:
        figure(result, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
