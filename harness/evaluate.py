"""Evaluation: score a split under each prompt setting and compute the paper's metrics.

Per setting: SF (Eq. 4) over all pairs and Table 1's inside/outside rows, AUC,
Precision and Recall overall and per user group and per relation, and the
per-example scores (the significance tests of the report need them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from harness.batching import batches
from harness.metrics import SettingResult, scores_frame, setting_metrics
from harness.prompts import SETTINGS


@torch.inference_mode()
def score(model, prepared, encoded, indices: np.ndarray, setting: str, batch_size: int, pad_id: int,
          group_prompts: bool, by_length: bool = True) -> np.ndarray:
    """(len(indices),) float scores, logit(Yes) - logit(No), in ``indices`` order.

    by_length: batch prompts of similar length together (sorted by length), so
    batches carry little padding; each sample's score does not depend on its batch
    mates except through floating-point summation order (benchmarks/README.md
    gives the measured difference)."""
    model.eval()
    order = np.arange(len(indices))
    if by_length:
        offsets = encoded[setting].offsets
        order = np.argsort(offsets[indices + 1] - offsets[indices], kind="stable")
    out = [model(b.to(model.device)).score for b in batches(prepared, encoded, indices[order], setting, batch_size,
                                                            pad_id, group_prompts)]
    if not out:
        return np.empty(0)
    scores = np.empty(len(indices))
    scores[order] = torch.cat(out).double().cpu().numpy()
    return scores


def evaluate(model, prepared, encoded, indices: np.ndarray, batch_size: int, pad_id: int, group_prompts: bool,
             settings=SETTINGS, decision_threshold: float = 0.0) -> tuple[dict[str, SettingResult], pd.DataFrame]:
    """Metrics per setting over samples ``indices`` (e.g. the test split), and one
    row per (sample, setting) with its score."""
    results, frames = {}, []
    for setting in settings:
        scores = score(model, prepared, encoded, indices, setting, batch_size, pad_id, group_prompts)
        if not np.isfinite(scores).all():
            raise FloatingPointError(f"non-finite scores under the {setting} setting")
        results[setting] = setting_metrics(prepared, indices, scores, decision_threshold)
        frames.append(scores_frame(prepared, indices, setting, scores))
    return results, pd.concat(frames, ignore_index=True)
