"""Evaluation: score a split under each prompt setting and compute the paper's metrics.

Per setting: SF (Eq. 4) over all pairs and Table 1's inside/outside rows, AUC,
Precision and Recall overall and per user group and per relation, and the
per-example scores (the significance tests of the report need them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from harness import metrics
from harness.batching import batches
from harness.metrics import SettingResult, scores_frame, setting_metrics
from harness.prompts import SETTINGS


@torch.inference_mode()
def score(
    model,
    prepared,
    encoded,
    indices: np.ndarray,
    setting: str,
    batch_size: int,
    pad_id: int,
    group_prompts: bool,
    by_length: bool = True,
) -> np.ndarray:
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
    out = [
        model(b.to(model.device)).score
        for b in batches(prepared, encoded, indices[order], setting, batch_size, pad_id, group_prompts)
    ]
    if not out:
        return np.empty(0)
    scores = np.empty(len(indices))
    scores[order] = torch.cat(out).double().cpu().numpy()
    return scores


def evaluate(
    model,
    prepared,
    encoded,
    indices: np.ndarray,
    batch_size: int,
    pad_id: int,
    group_prompts: bool,
    settings=SETTINGS,
    decision_threshold: float = 0.0,
) -> tuple[dict[str, SettingResult], pd.DataFrame]:
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


def validate(model, data, valid_idx: np.ndarray, config) -> dict:
    """The validation metrics of one epoch, under the training prompt setting: AUC (early stopping
    and the best epoch are chosen on it; -inf when undefined) and Eq. 4's SF over the recommended
    pairs (score > 0, as the test tables), its absolute value and its support: the fewest
    recommended validation targets stereotyped to one group (the count SF's denominator rests on;
    SF is None when a group has none). The same three with S the top-scored pairs, as many as
    are liked (``_liked``: what the model ranks, whatever it answers). A multi-metric search
    selects on these. ``data``: ``harness.train.TrainingData``; ``config``: the ``TrainConfig``."""
    scores = data.scores(model, valid_idx, config.train_setting, config.eval_batch_size)
    s, m = data.prepared.samples, data.prepared.measurement
    auc = metrics.auc(s.label[valid_idx], scores).value
    stereotyped = m.target_in_group[valid_idx]
    out: dict[str, float | int | None] = {"valid_auc": float("-inf") if np.isnan(auc) else float(auc)}
    finite = bool(len(scores)) and bool(np.isfinite(scores).all())  # a rate needs every score (rate_cut)
    liked = metrics.top_scored(scores, float(np.mean(s.label[valid_idx] == 1))) if finite else None
    for suffix, recommended in (("", scores > 0), ("_liked", liked)):
        if recommended is None:
            out |= {f"valid_sf{suffix}": None, f"valid_abs_sf{suffix}": None, f"valid_sf{suffix}_support": 0}
            continue
        sf = metrics.stereotype_fairness(
            recommended, s.user_group[valid_idx], np.nan_to_num(m.h[valid_idx]), stereotyped, s.groups
        ).value
        out |= {
            f"valid_sf{suffix}": None if np.isnan(sf) else float(sf),
            f"valid_abs_sf{suffix}": None if np.isnan(sf) else abs(float(sf)),
            f"valid_sf{suffix}_support": int(stereotyped[recommended].sum(axis=0).min()),
        }
    return out
