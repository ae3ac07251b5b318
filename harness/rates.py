"""Measured rates of the harness's training and scoring (``benchmarks/train_step.py`` and
``benchmarks/gpu_sharing.py`` JSONs, under ``results/benchmarks/``): samples/s of a phase for a
model, the newest GPU rates for a backbone at given batch sizes, and how much more trials train
sharing one GPU. ``harness.cost`` turns them into machine time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def rate(path: Path, phase: str, model: str) -> tuple[float, dict]:
    """The harness path's samples/s of ``phase`` ("train" or "eval") for ``model`` in a
    ``benchmarks/train_step.py`` JSON, and what it was measured on. ValueError if the file has
    no such model."""
    data = json.loads(Path(path).read_text())
    if model not in data["models"]:
        raise ValueError(f"{path} has no {model!r} (it has {', '.join(data['models'])})")
    samples = float(data["models"][model][phase]["harness_samples_per_s"])
    return samples, {
        "file": str(path),
        "device": data.get("device"),
        "model": model,
        "batch_size": data["settings"]["batch_size"],
        "date_utc": data["provenance"]["date_utc"],
        "samples_per_s": samples,
    }


def sharing_gain(path: Path, processes: int) -> float:
    """How much more ``processes`` trials sharing one GPU train in total than one alone
    (``benchmarks/gpu_sharing.py`` JSON). ValueError if either count was not measured."""
    data = json.loads(Path(path).read_text())
    totals = {r["processes"]: float(r["total_samples_per_s"]) for r in data["results"]}
    if processes not in totals or 1 not in totals:
        raise ValueError(f"{path} has no measurement at {processes} and 1 process(es): {sorted(totals)}")
    return totals[processes] / totals[1]


def gpu_rates(folder: Path, backbone: str, batch_size: int, eval_batch_size: int) -> dict | None:
    """{"train": source, "eval": source} (``rate``'s sources): the newest GPU rates in ``folder``'s
    train_step.py JSONs (any depth) for ``backbone`` or its random-init ``<backbone>-shape``, the
    training rate at ``batch_size`` and the scoring rate at ``eval_batch_size``; None if either is
    missing."""
    found: dict[str, Any] = {}
    for path in sorted(Path(folder).rglob("train_step*.json")):
        data = json.loads(path.read_text())
        if "cuda" not in str(data.get("device")) or not isinstance(data.get("models"), dict):
            continue
        for model in (backbone, f"{backbone}-shape"):
            for phase, batch in (("train", batch_size), ("eval", eval_batch_size)):
                if model in data["models"] and data["settings"]["batch_size"] == batch:
                    source = rate(path, phase, model)[1]
                    if phase not in found or source["date_utc"] > found[phase]["date_utc"]:
                        found[phase] = source
    return found if len(found) == 2 else None
