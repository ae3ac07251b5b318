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
from harness.report import subsets


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
    groups: tuple[str, ...] = ()  # the G groups' names, in target_in_group's column order


def block(a: pd.DataFrame, b: pd.DataFrame, setting: str, offset: int) -> Block:
    """The rows of one prompt ``setting`` of two score frames of one seed, paired on the sample."""
    a, b = a[a.setting == setting], b[b.setting == setting]
    merged = a.merge(b[["sample", "score"]], on="sample", suffixes=("_a", "_b"), validate="one_to_one")
    user_group, target_in_group, groups = subsets.arrays(merged)
    users, unit = np.unique(merged["user"].to_numpy(), return_inverse=True)
    return Block(
        label=merged["label"].to_numpy(),
        score_a=merged["score_a"].to_numpy(),
        score_b=merged["score_b"].to_numpy(),
        user_group=user_group,
        h=merged["h"].to_numpy(dtype=float),
        target_in_group=target_in_group,
        unit=unit,
        units=slice(offset, offset + len(users)),
        groups=groups,
    )


def subset_mask(bl: Block, subset: str) -> np.ndarray:
    """(n,) bool: this seed's rows in the pair subset ``subset`` (``harness.report.subsets``)."""
    return subsets.mask(subset, bl.user_group, bl.target_in_group, bl.groups)


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
    The pooled rows are A's then B's; B's units are numbered after A's. ``relation``: A's
    rows restricted to a pair subset (``harness.report.subsets``); ``relation_b``: B's rows
    restricted to another subset than A's (a contrast, Table 1's: one model's rows inside
    against the same model's rows outside the user's group). ``absolute``: an SF is
    returned as |SF| (``sf_effect="abs"``)."""
    n_units, n_rows = bl.units.stop - bl.units.start, len(bl.unit)
    keep = np.r_[subset_mask(bl, relation), subset_mask(bl, relation_b or relation)]
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


def unit_sides(blocks: list[Block], first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
    """Of a contrast whose subsets hold different users (users:<g>-users:<h>): (U,) each unit's
    side, 0 where its rows are in ``first``, 1 in ``second``, -1 in neither, and (U,) its block
    (the seed), the strata ``stats.paired_test(sides=...)`` permutes within."""
    sides, strata = [], []
    for i, bl in enumerate(blocks):
        n = bl.units.stop - bl.units.start
        in_first = np.bincount(bl.unit, weights=subset_mask(bl, first), minlength=n) > 0
        in_second = np.bincount(bl.unit, weights=subset_mask(bl, second), minlength=n) > 0
        if (in_first & in_second).any():
            raise ValueError(f"{first} and {second} share a user: their units are not apart")
        sides.append(np.where(in_first, 0, np.where(in_second, 1, -1)))
        strata.append(np.full(n, i))
    return np.concatenate(sides), np.concatenate(strata)


def agreement(blocks: list[Block], relation: str) -> float:
    """The share of the compared test pairs (pooled over seeds) on which A and B decide alike."""
    same = [((bl.score_a > 0) == (bl.score_b > 0))[subset_mask(bl, relation)] for bl in blocks]
    pooled = np.concatenate(same)
    return float(pooled.mean()) if len(pooled) else np.nan


def units_better(
    blocks: list[Block], metric: str, relation: str, resamples: int, seed: int, alpha: float
) -> tuple[float, float, float]:
    """P(A better than B) over (seed, test user) units where both are defined (ties count one half),
    and its percentile interval at 1 - ``alpha`` from ``resamples`` resamplings of the users within
    each seed (the models held fixed; ``seed`` seeds them)."""
    better, strata = [], []
    for i, bl in enumerate(blocks):
        k = kernel(bl, metric, relation, "all")
        n = bl.units.stop - bl.units.start
        eye, zero = np.eye(n), np.zeros((n, n))
        difference = k(eye, zero) - k(zero, eye)  # (n,) per unit: A's value minus B's
        keep = ~np.isnan(difference)
        better.append(np.where(difference[keep] > 0, 1.0, np.where(difference[keep] == 0, 0.5, 0.0)))
        strata.append(np.full(keep.sum(), i))
    values, where = np.concatenate(better), np.concatenate(strata)
    if not len(values):
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    draws = np.zeros((resamples, 2))
    for i in np.unique(where):  # users resampled within their seed
        mine = values[where == i]
        picks = mine[rng.integers(0, len(mine), size=(resamples, len(mine)))]
        draws += np.stack([picks.sum(axis=1), np.full(resamples, len(mine))], axis=1)
    tail = 50.0 * alpha
    low, high = np.percentile(draws[:, 0] / draws[:, 1], [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)
