"""One seed's paired rows of two methods as the arrays the user-level tests resample, and each
table column as a ``harness.stats.PooledMetric`` over them.

Pairing: within one seed both methods scored the same test pairs (the sample split follows the
seed), so rows are matched on the sample index; across seeds the test users differ, so a
resampling unit is a (seed, user) pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import stats


@dataclass(frozen=True)
class Block:
    """One seed's paired rows of both methods (n rows each), and where its units sit
    among all units (``units``: a slice of the global unit axis)."""

    label: np.ndarray
    score_a: np.ndarray
    score_b: np.ndarray
    user_group: np.ndarray
    h: np.ndarray
    target_in_group: np.ndarray  # (n, G)
    unit: np.ndarray  # (n,) local unit index in [0, units.stop - units.start)
    units: slice


def block(a: pd.DataFrame, b: pd.DataFrame, setting: str, offset: int) -> Block:
    """The rows of one prompt ``setting`` of two score frames of one seed, paired on the sample."""
    a, b = a[a.setting == setting], b[b.setting == setting]
    merged = a.merge(b[["sample", "score"]], on="sample", suffixes=("_a", "_b"), validate="one_to_one")
    groups = [
        c.removeprefix("target_in_") for c in a.columns if c.startswith("target_in_") and c != "target_in_own_group"
    ]
    users, unit = np.unique(merged["user"].to_numpy(), return_inverse=True)
    return Block(
        label=merged["label"].to_numpy(),
        score_a=merged["score_a"].to_numpy(),
        score_b=merged["score_b"].to_numpy(),
        user_group=pd.Categorical(merged["user_group"], categories=groups).codes.astype(np.int64),
        h=merged["h"].to_numpy(dtype=float),
        target_in_group=merged[[f"target_in_{g}" for g in groups]].to_numpy(dtype=bool),
        unit=unit,
        units=slice(offset, offset + len(users)),
    )


def kernel(
    bl: Block,
    metric: str,
    relation: str,
    sf_reading: str = "all",
    relation_b: str | None = None,
    absolute: bool = False,
):
    """(weights_a (B, u), weights_b (B, u)) -> (B,): the metric of this seed's rows of
    both methods pooled, each row weighted by its unit's weight for its method.
    The pooled rows are A's then B's; B's units are numbered after A's. ``relation_b``:
    B's rows restricted to another pair subset than A's (Table 1: one model's rows
    inside against the same model's rows outside the user's group). ``absolute``: an SF
    is returned as |SF| (``sf_effect="abs"``)."""
    n_units, n_rows = bl.units.stop - bl.units.start, len(bl.unit)
    inside = bl.target_in_group[np.arange(len(bl.unit)), bl.user_group]
    subset = {"all": np.ones_like(inside), "inside": inside, "outside": ~inside}
    keep = np.r_[subset[relation], subset[relation_b or relation]]
    # AUC, precision and recall sum integer weights of 0/1 (or 1/2) terms, exact in float64
    # whatever the order; SF's h is a fraction, so its two methods are summed apart
    scores, label = np.r_[bl.score_a, bl.score_b], np.tile(bl.label, 2)
    unit = np.r_[bl.unit, bl.unit + n_units]
    if metric.startswith("sf_"):
        # each method's sums apart, then added: identical methods give an effect of exactly 0
        rows = (bl.user_group, bl.h, bl.target_in_group)
        rec_a, rec_b = (bl.score_a > 0) & keep[:n_rows], (bl.score_b > 0) & keep[n_rows:]

        def sf(wa, wb):
            num_a, den_a = stats.sf_sums(rec_a, *rows, wa, bl.unit, sf_reading)
            num_b, den_b = stats.sf_sums(rec_b, *rows, wb, bl.unit, sf_reading)
            return stats.sf_from_sums(num_a + num_b, den_a + den_b)

        return (lambda wa, wb: np.abs(sf(wa, wb))) if absolute else sf
    scores, label, unit = scores[keep], label[keep], unit[keep]
    if metric == "auc":
        return lambda wa, wb: stats.weighted_auc(label, scores, np.hstack([wa, wb]), unit)
    function = stats.weighted_precision if metric == "precision" else stats.weighted_recall
    return lambda wa, wb: function(label, scores > 0, np.hstack([wa, wb]), unit)


def pooled_metric(
    blocks: list[Block],
    metric: str,
    relation: str,
    sf_reading: str = "all",
    relation_b: str | None = None,
    absolute: bool = False,
) -> stats.PooledMetric:
    """``stats.PooledMetric`` of one table column (×100): the mean over seeds of the
    metric of both methods' rows pooled (scores > 0 are the recommended pairs)."""
    kernels = [kernel(b, metric, relation, sf_reading, relation_b, absolute) for b in blocks]

    def value(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
        wa, wb = np.atleast_2d(wa), np.atleast_2d(wb)
        return 100.0 * np.mean(
            [k(wa[:, b.units], wb[:, b.units]) for b, k in zip(blocks, kernels, strict=True)], axis=0
        )

    return value
