"""Evaluation: score a split under each prompt setting and compute the paper's metrics.

Per setting: SF (Eq. 4) over all pairs and Table 1's inside/outside rows, AUC,
Precision and Recall overall and per user group and per relation, and the
per-example scores (the significance tests of the report need them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from harness import metrics
from harness.batching import batches
from harness.prompts import SETTINGS


@dataclass(frozen=True)
class SettingResult:
    sf: dict                  # relation -> SFResult.to_dict()
    performance: dict         # "all" | group | "inside" | "outside" -> metric -> Value.to_dict()


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


def setting_metrics(prepared, indices: np.ndarray, scores: np.ndarray, decision_threshold: float = 0.0,
                    sf_denominator: str = "all") -> SettingResult:
    s, m = prepared.samples, prepared.measurement
    labels, ug = s.label[indices], s.user_group[indices]
    tig, h = m.target_in_group[indices], np.nan_to_num(m.h[indices])
    recommended = scores > decision_threshold
    sf = metrics.stereotype_fairness_by_relation(recommended, ug, h, tig, s.groups, sf_denominator)
    perf = metrics.performance_by_group(labels, scores, ug, s.groups, decision_threshold)
    for relation in ("inside", "outside"):
        keep = metrics.pair_relation_mask(ug, tig, relation)
        perf[relation] = metrics.performance(labels[keep], scores[keep], decision_threshold)
    return SettingResult(sf={k: v.to_dict() for k, v in sf.items()},
                         performance={k: {n: v.to_dict() for n, v in d.items()} for k, d in perf.items()})


def scores_frame(prepared, indices: np.ndarray, setting: str, scores: np.ndarray) -> pd.DataFrame:
    """One row per evaluated pair with everything Eq. 4 and the performance metrics
    need, so the report can recompute any metric on resampled users: the user
    (the resampling unit: SF is a ratio over a group), its group and h (Eq. 2),
    and whether the target is stereotyped to each group (``target_in_<group>``), with
    the target's degree towards each group (Eq. 1, ``degree_<group>``), so that the
    report can re-threshold at another z (Eq. 3) without retraining (Figure 5)."""
    s, m = prepared.samples, prepared.measurement
    frame = pd.DataFrame({
        "sample": indices, "setting": setting, "score": scores, "label": s.label[indices],
        "user": s.user[indices], "user_group": np.asarray(s.groups)[s.user_group[indices]],
        "h": np.nan_to_num(m.h[indices]),
        "target_in_own_group": m.target_in_group[indices, s.user_group[indices]],
    })
    for g, name in enumerate(s.groups):
        frame[f"target_in_{name}"] = m.target_in_group[indices, g]
    for g, name in enumerate(s.groups):
        frame[f"degree_{name}"] = m.degree[s.target[indices], g]
    return frame


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
