"""What the measurement scripts share (``routing.py``, ``convergence.py``, ``lr_search.py``):
the quickstart-sized run's command-line settings, the frozen model's reference loss and the
figure's last steps."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from harness.batching import batches
from harness.config.train import TrainConfig
from harness.data.samples import capped
from harness.heads import build_head
from harness.model import Recommender


def quickstart_arguments(parser: argparse.ArgumentParser, train_samples: int = 192) -> None:
    """The backbone, data and sizes of a quickstart-sized run (MovieLens-100K, 2,000 sequences)."""
    parser.add_argument("--backbone", default="smollm2-135m")
    parser.add_argument("--n-sequences", type=int, default=2000)
    parser.add_argument("--train-samples", type=int, default=train_samples)
    parser.add_argument("--eval-samples", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)


def save_figure(fig, path: Path, title: str, result: dict) -> None:
    """Title the figure with the machine that measured it (its CPU model), and write it."""
    machine = result["provenance"]["machine"].get("cpu_model") or ""
    fig.suptitle(f"{title}; {machine}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def frozen_loss(prepared, encoded, backbone, config: TrainConfig) -> float:
    """Mean L_rec of the frozen backbone (no prompt, no training) over the run's training samples."""
    model = Recommender(backbone, build_head("llm")).eval()
    train = capped(np.flatnonzero(prepared.samples.mask("train")), config.max_train_samples, config.seed)
    with torch.inference_mode():
        losses = [
            model(batch).nll
            for batch in batches(
                prepared,
                encoded,
                train,
                config.train_setting,
                config.eval_batch_size,
                backbone.tokenizer.pad_token_id,
                False,
            )
        ]
    return float(torch.cat(losses).mean())
