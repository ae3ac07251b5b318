"""Which configurations a multi-metric search selects: the Pareto set and the rules that pick
one point of it. Pure functions over an (N points, M metrics) array, ``maximize`` saying each
metric's direction; numpy only.

A row holding NaN (a metric undefined for that configuration, e.g. validation SF with too
little support) is never selected and never dominates another row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

RULES = ("pareto", "knee", "ideal", "constrained")


def _oriented(points: ArrayLike, maximize: Sequence[bool]) -> np.ndarray:
    """The points with every metric turned into one to maximize."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != len(maximize):
        raise ValueError(f"points must be (N, {len(maximize)}), got shape {points.shape}")
    oriented: np.ndarray = np.where(np.asarray(maximize, dtype=bool), points, -points)
    return oriented


def pareto_mask(points: ArrayLike, maximize: Sequence[bool]) -> np.ndarray:
    """(N,) bool: the rows no other row dominates (at least as good on every metric and better
    on one). Equal rows are all kept."""
    x = _oriented(points, maximize)
    defined = ~np.isnan(x).any(axis=1)
    optimal: np.ndarray = defined.copy()
    for i in np.flatnonzero(defined):
        others = x[defined]
        dominated = ((others >= x[i]).all(axis=1) & (others > x[i]).any(axis=1)).any()
        optimal[i] = not dominated
    return optimal


def _normalized_front(points: ArrayLike, maximize: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """The Pareto rows' indices and their metrics scaled to [0, 1] over the front (1 = the
    front's best value of that metric; a metric equal on the whole front scales to 1)."""
    front = np.flatnonzero(pareto_mask(points, maximize))
    x = _oriented(points, maximize)[front]
    if not len(front):
        return front, x
    low, high = x.min(axis=0), x.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return front, np.where(high > low, (x - low) / span, 1.0)


def closest_to_ideal(points: ArrayLike, maximize: Sequence[bool]) -> int | None:
    """The Pareto row nearest (Euclidean, on the front-normalized scale) to the ideal point
    that is best on every metric at once; None when no row is defined."""
    front, scaled = _normalized_front(points, maximize)
    if not len(front):
        return None
    return int(front[np.argmin(np.linalg.norm(1.0 - scaled, axis=1))])


def knee(points: ArrayLike, maximize: Sequence[bool]) -> int | None:
    """Two metrics: the Pareto row farthest from the line through the front's two extremes
    (on the front-normalized scale), i.e. where trading one metric for the other turns
    expensive. With two or fewer Pareto rows, the one closest to the ideal point."""
    if len(maximize) != 2:
        raise ValueError(f"the knee rule needs exactly two metrics, got {len(maximize)}")
    front, scaled = _normalized_front(points, maximize)
    if len(front) <= 2:
        return closest_to_ideal(points, maximize)
    # extremes: best on metric 0 is (1, a), best on metric 1 is (b, 1); the line between them
    start, end = scaled[np.argmax(scaled[:, 0])], scaled[np.argmax(scaled[:, 1])]
    direction = end - start
    distance = np.abs(direction[0] * (scaled[:, 1] - start[1]) - direction[1] * (scaled[:, 0] - start[0]))
    return int(front[np.argmax(distance)])


def constrained(points: ArrayLike, maximize: Sequence[bool], best: int, bounds: dict[int, float]) -> int | None:
    """The row best on metric ``best`` among those within ``bounds`` (metric index -> bound:
    at least the bound for a metric to maximize, at most it for one to minimize). A tie on
    ``best`` goes to the row better on the other metrics, in their order (so the choice is never
    dominated), then to the earliest row. None when no defined row is within bounds."""
    points = np.asarray(points, dtype=float)
    x = _oriented(points, maximize)  # checks the shape
    keep = ~np.isnan(points).any(axis=1)
    for metric, bound in bounds.items():
        keep &= points[:, metric] >= bound if maximize[metric] else points[:, metric] <= bound
    if not keep.any():
        return None
    rows = np.flatnonzero(keep)
    order = [best] + [m for m in range(x.shape[1]) if m != best]
    # lexsort sorts ascending on its last key first: the best row sorts last, the earliest of equals first
    ranked = np.lexsort((-rows,) + tuple(x[rows, m] for m in reversed(order)))
    return int(rows[ranked[-1]])


def select(
    points: ArrayLike, maximize: Sequence[bool], rule: str, best: int = 0, bounds: dict[int, float] | None = None
) -> list[int]:
    """The rows ``rule`` selects for replication: every Pareto row ("pareto"), or one row
    ("knee", "ideal", "constrained"); [] when none qualifies."""
    if rule == "pareto":
        return [int(i) for i in np.flatnonzero(pareto_mask(points, maximize))]
    if rule == "knee":
        chosen = knee(points, maximize)
    elif rule == "ideal":
        chosen = closest_to_ideal(points, maximize)
    elif rule == "constrained":
        chosen = constrained(points, maximize, best, bounds or {})
    else:
        raise ValueError(f"selection rule must be one of {', '.join(RULES)}, got {rule!r}")
    return [] if chosen is None else [chosen]
