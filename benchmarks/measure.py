"""What the measurement scripts share (``routing.py``, ``convergence.py``, ``lr_search.py``):
the quickstart-sized run's command-line settings and the figure's last steps."""

from __future__ import annotations

import argparse
from pathlib import Path


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
