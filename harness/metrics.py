"""Evaluation metrics: stereotype-aware fairness SF (Eq. 4), AUC, Precision, Recall.

Pure functions over numpy arrays. Shapes: N evaluated (user, target) pairs,
G stereotype groups. ``user_group`` holds group indices in ``[0, G)``;
``target_in_group`` is (N, G) bool, Eq. 3's indicator for each pair's target.

An undefined value is NaN with a reason, never 0 and never an exception:
analysts must see that a number is missing and why.

SF choices (the paper is ambiguous; each has an option):
- Eq. 4's numerator sums h over recommended pairs whose user is in G; its
  denominator counts recommended targets stereotyped to G over *all* recommended
  pairs (``denominator="all"``, the paper's formula as printed, and the only
  reading under which Table 1's "target outside the user's group" row is defined).
  ``denominator="group_users"`` counts only pairs whose user is in G, i.e. the
  calibration reading of §2.2.2: the share of G-items recommended to G-users
  against the share of G-items in their histories.
- "Recommended" means predicted positive: score > ``decision_threshold``
  (score = logit(Yes) - logit(No), so 0 means P(Yes) = 0.5). ``top_scored`` is the
  other reading: the top share of pairs by score, whatever the model answers (the
  report's ``--decision-rate``, the selectable ``valid_abs_sf_liked``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

SFDenominator = Literal["all", "group_users"]
PairRelation = Literal["all", "inside", "outside"]


@dataclass(frozen=True)
class Value:
    """A metric value, or NaN with the reason it is undefined."""

    value: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": None if np.isnan(self.value) else float(self.value), "reason": self.reason}


@dataclass(frozen=True)
class SFResult:
    """Eq. 4 overall and per group (``SF_G = 1 - ratio_G``; SF = mean over groups)."""

    value: float
    per_group: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _clean(self.value),
            "per_group": {g: _clean(v) for g, v in self.per_group.items()},
            "reasons": dict(self.reasons),
        }


def _clean(value: float) -> float | None:
    """A value as JSON holds it: JSON has no NaN."""
    return None if np.isnan(value) else float(value)


def rate_cut(scores: np.ndarray, k: int) -> float:
    """The threshold whose exceedances are the ``k`` highest ``scores``; a tie at the cut is left
    out whole (fewer than ``k`` then), so no order among equal scores is invented."""
    scores = np.asarray(scores, dtype=float)
    if not len(scores) or not np.isfinite(scores).all():
        raise ValueError("a recommendation rate needs finite scores for every pair; got none, NaN or infinite ones")
    ordered = np.sort(scores)[::-1]
    if k <= 0:
        return float(ordered[0])
    if k >= len(ordered):
        return float(ordered[-1]) - 1.0
    above, below = ordered[k - 1], ordered[k]
    return float(above if above == below else (above + below) / 2)


def top_scored(scores: np.ndarray, fraction: float) -> np.ndarray:
    """(N,) bool: the top ``round(fraction * N)`` pairs by score (less a tie at the cut)."""
    scores = np.asarray(scores, dtype=float)
    return scores > rate_cut(scores, int(round(fraction * len(scores))))


def stereotype_fairness(
    recommended: np.ndarray,
    user_group: np.ndarray,
    h: np.ndarray,
    target_in_group: np.ndarray,
    groups: tuple[str, ...],
    denominator: SFDenominator = "all",
) -> SFResult:
    """Eq. 4: ``SF = 1 - 1/|G| sum_G (sum_{u in S, u in G} h_u) / (sum_{v in S} 1(d_{v in G}))``.

    recommended: (N,) bool, the set S. user_group: (N,) int. h: (N,) float, Eq. 2
    for each pair's user history. target_in_group: (N, G) bool. groups: G names.
    A group whose denominator is 0 has no defined SF (NaN with the reason); the
    overall SF is then NaN too, since averaging fewer groups would change its meaning.
    """
    if denominator not in ("all", "group_users"):
        raise ValueError(f"SF denominator must be 'all' or 'group_users', got {denominator!r}")
    rec = np.asarray(recommended, dtype=bool)
    per_group, reasons = {}, {}
    for g, name in enumerate(groups):
        in_group = rec & (user_group == g)
        numerator = h[in_group].sum()
        pool = rec if denominator == "all" else in_group
        count = int(target_in_group[pool, g].sum())
        if count == 0:
            per_group[name] = float("nan")
            reasons[name] = f"no recommended target item is stereotyped to group '{name}'"
        else:
            per_group[name] = 1.0 - numerator / count
    values = np.array(list(per_group.values()))
    overall = float(values.mean()) if not np.isnan(values).any() else float("nan")
    if np.isnan(overall):
        reasons["overall"] = "undefined for group(s): " + ", ".join(n for n in groups if n in reasons)
    return SFResult(overall, per_group, reasons)


def pair_relation_mask(user_group: np.ndarray, target_in_group: np.ndarray, relation: PairRelation) -> np.ndarray:
    """(N,) bool: pairs whose target is inside / outside the user's own group
    (paper Table 1's two rows: ``u in G, v in G`` and ``u in G, v not in G``).
    "outside" includes targets stereotyped to no group at all, as the paper's
    ``v not in G`` reads literally."""
    inside: np.ndarray = target_in_group[np.arange(len(user_group)), user_group]
    if relation == "all":
        return np.ones(len(user_group), dtype=bool)
    if relation == "inside":
        return inside
    if relation == "outside":
        return ~inside
    raise ValueError(f"pair relation must be 'all', 'inside' or 'outside', got {relation!r}")


def stereotype_fairness_by_relation(
    recommended: np.ndarray,
    user_group: np.ndarray,
    h: np.ndarray,
    target_in_group: np.ndarray,
    groups: tuple[str, ...],
    denominator: SFDenominator = "all",
) -> dict[str, SFResult]:
    """SF over all pairs and over the pairs of each Table 1 row ("inside", "outside").

    Shapes as ``stereotype_fairness``; the restriction applies to S before Eq. 4.
    """
    out = {}
    for relation in ("all", "inside", "outside"):
        keep = pair_relation_mask(user_group, target_in_group, relation)
        out[relation] = stereotype_fairness(recommended & keep, user_group, h, target_in_group, groups, denominator)
    return out


def auc(labels: np.ndarray, scores: np.ndarray) -> Value:
    """Area under the ROC curve (Mann-Whitney U with mid-ranks for ties).

    labels: (N,) {0, 1}. scores: (N,) float, higher = more likely positive.
    """
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return Value(float("nan"), f"AUC needs both classes; got {n_pos} positive and {n_neg} negative")
    ranks = rankdata(scores)
    return Value(float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)))


def precision(labels: np.ndarray, predicted: np.ndarray) -> Value:
    """TP / (TP + FP). labels, predicted: (N,) {0, 1}."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    if not predicted.any():
        return Value(float("nan"), "no pair was predicted positive")
    return Value(float((labels & predicted).sum() / predicted.sum()))


def recall(labels: np.ndarray, predicted: np.ndarray) -> Value:
    """TP / (TP + FN). labels, predicted: (N,) {0, 1}."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    if not labels.any():
        return Value(float("nan"), "no positive label")
    return Value(float((labels & predicted).sum() / labels.sum()))


def performance(labels: np.ndarray, scores: np.ndarray, decision_threshold: float = 0.0) -> dict[str, Value]:
    """AUC, Precision and Recall of one set of pairs. labels, scores: (N,)."""
    predicted = np.asarray(scores) > decision_threshold
    return {"auc": auc(labels, scores), "precision": precision(labels, predicted), "recall": recall(labels, predicted)}


def performance_by_group(
    labels: np.ndarray,
    scores: np.ndarray,
    user_group: np.ndarray,
    groups: tuple[str, ...],
    decision_threshold: float = 0.0,
) -> dict[str, dict[str, Value]]:
    """``performance`` overall (key "all") and for each user group's pairs."""
    out = {"all": performance(labels, scores, decision_threshold)}
    for g, name in enumerate(groups):
        mask = user_group == g
        out[name] = performance(labels[mask], scores[mask], decision_threshold)
    return out


# ---- one prompt setting's metrics and per-example scores, as a trial record holds them ------------
# (here, not in harness.evaluate, so the report reads and recomputes them without loading torch)


@dataclass(frozen=True)
class SettingResult:
    sf: dict[str, Any]  # relation -> SFResult.to_dict()
    performance: dict[str, Any]  # "all" | group | "inside" | "outside" -> metric -> Value.to_dict()


def setting_metrics(
    prepared: Any,
    indices: np.ndarray,
    scores: np.ndarray,
    decision_threshold: float = 0.0,
    sf_denominator: SFDenominator = "all",
) -> SettingResult:
    """SF (all pairs and Table 1's inside/outside rows) and AUC/Precision/Recall (overall, per
    user group, per relation) of ``scores`` on the pairs ``indices`` of ``prepared``."""
    s, m = prepared.samples, prepared.measurement
    labels, ug = s.label[indices], s.user_group[indices]
    tig, h = m.target_in_group[indices], np.nan_to_num(m.h[indices])
    recommended = scores > decision_threshold
    sf = stereotype_fairness_by_relation(recommended, ug, h, tig, s.groups, sf_denominator)
    perf = performance_by_group(labels, scores, ug, s.groups, decision_threshold)
    for relation in ("inside", "outside"):
        keep = pair_relation_mask(ug, tig, relation)
        perf[relation] = performance(labels[keep], scores[keep], decision_threshold)
    return SettingResult(
        sf={k: v.to_dict() for k, v in sf.items()},
        performance={k: {n: v.to_dict() for n, v in d.items()} for k, d in perf.items()},
    )


def scores_frame(prepared: Any, indices: np.ndarray, setting: str, scores: np.ndarray) -> pd.DataFrame:
    """One row per evaluated pair with everything Eq. 4 and the performance metrics
    need, so the report can recompute any metric on resampled users: the user
    (the resampling unit: SF is a ratio over a group), its group and h (Eq. 2),
    and whether the target is stereotyped to each group (``target_in_<group>``), with
    the target's degree towards each group (Eq. 1, ``degree_<group>``), so that the
    report can re-threshold at another z (Eq. 3) without retraining (Figure 5)."""
    s, m = prepared.samples, prepared.measurement
    frame = pd.DataFrame(
        {
            "sample": indices,
            "setting": setting,
            "score": scores,
            "label": s.label[indices],
            "user": s.user[indices],
            "user_group": np.asarray(s.groups)[s.user_group[indices]],
            "h": np.nan_to_num(m.h[indices]),
            "target_in_own_group": m.target_in_group[indices, s.user_group[indices]],
        }
    )
    for g, name in enumerate(s.groups):
        frame[f"target_in_{name}"] = m.target_in_group[indices, g]
    for g, name in enumerate(s.groups):
        frame[f"degree_{name}"] = m.degree[s.target[indices], g]
    return frame
