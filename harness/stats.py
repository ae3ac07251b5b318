"""The user-level tests (the trained models held fixed: how sure we are of these checkpoints'
numbers) and their resampling kernels, pure functions over numpy arrays, on scipy. The tests
behind † and every verdict are at the seed level, in ``harness.seed_stats``.

Shapes: N evaluated pairs (rows), U resampling units, B resamples, G groups.
The unit is a test user within one seed's test split (SF is a ratio over a
group, so single predictions are not independent; the paper's seeds also draw
different test users, so a unit is a (seed, user) pair). Every metric below
takes row weights ``W`` of shape (B, N): a bootstrap resample weights each
row by how often its unit was drawn; a paired permutation gives each method's
rows weight 1 on the side their unit was swapped to. With ``W`` all ones each
kernel equals its counterpart in ``harness.metrics``, which the tests check.

The permutation test is scipy's ``scipy.stats.permutation_test`` with
``permutation_type="samples"`` (swap the two methods within each unit; exact
enumeration when 2^U <= n_resamples); the bootstrap interval is a percentile
interval over multinomial unit counts. Both are seeded, so the same inputs give
the same p-values and intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

# (weights_a (B, U), weights_b (B, U)) -> (B,): the metric of the pooled rows of
# both methods, A's rows of unit u weighted by weights_a[:, u] and B's by weights_b[:, u]
PooledMetric = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _weighted_sum(values: np.ndarray, weights: np.ndarray, unit: np.ndarray | None) -> np.ndarray:
    """(B,) sums of ``values`` (N,) under row weights (B, N), or unit weights (B, U)
    when ``unit`` (N,) maps rows to units: sum per unit first, then one product."""
    values = np.asarray(values, dtype=float)
    if unit is None:
        summed: np.ndarray = weights @ values
    else:
        summed = weights @ np.bincount(unit, weights=values, minlength=weights.shape[1])
    return summed


def weighted_auc(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray, unit: np.ndarray | None = None
) -> np.ndarray:
    """AUC (Mann-Whitney, ties count one half) of weighted rows.

    labels: (N,) {0, 1}. scores: (N,). weights: (B, N) >= 0, or (B, U) with
    ``unit`` (N,) giving each row's unit. Returns (B,); NaN where a resample has
    no positive or no negative weight.
    """
    labels = np.asarray(labels).astype(bool)
    weights = np.atleast_2d(weights)
    if unit is not None:
        weights = weights[:, unit]
    order = np.argsort(scores, kind="stable")
    s, y, w = np.asarray(scores)[order], labels[order], weights[:, order]
    # rows of equal score form one level; [start, end) of each row's level in sorted order
    new_level = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(new_level)
    ends = np.r_[starts[1:], len(s)]
    level = np.cumsum(new_level) - 1
    negative = np.concatenate([np.zeros((w.shape[0], 1)), np.cumsum(w * ~y, axis=1)], axis=1)
    below = negative[:, starts[level]]
    tied = negative[:, ends[level]] - below
    wins = ((below + 0.5 * tied) * w * y).sum(axis=1)
    return _ratio(wins, (w * y).sum(axis=1) * (w * ~y).sum(axis=1))


def weighted_precision(
    labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray, unit: np.ndarray | None = None
) -> np.ndarray:
    """TP / (TP + FP). labels, predicted: (N,) {0, 1}; weights and unit as
    ``weighted_auc``. Returns (B,)."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    return _ratio(_weighted_sum(labels & predicted, weights, unit), _weighted_sum(predicted, weights, unit))


def weighted_recall(
    labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray, unit: np.ndarray | None = None
) -> np.ndarray:
    """TP / (TP + FN). labels, predicted: (N,) {0, 1}; weights and unit as
    ``weighted_auc``. Returns (B,)."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    return _ratio(_weighted_sum(labels & predicted, weights, unit), _weighted_sum(labels, weights, unit))


def weighted_sf(
    recommended: np.ndarray,
    user_group: np.ndarray,
    h: np.ndarray,
    target_in_group: np.ndarray,
    weights: np.ndarray,
    unit: np.ndarray | None = None,
    denominator: str = "all",
) -> np.ndarray:
    """Eq. 4 with the denominator over all recommended pairs (``harness.metrics``'
    default): ``1 - mean_G (sum_{u in G} w h) / (sum w 1(d_v in G))``; ``denominator=
    "group_users"`` counts only G's users' recommended pairs there (the other reading).

    recommended: (N,) bool. user_group: (N,) int in [0, G). h: (N,).
    target_in_group: (N, G) bool. weights and unit as ``weighted_auc``.
    Returns (B,); NaN where a group has no recommended target stereotyped to it.
    """
    return sf_from_sums(*sf_sums(recommended, user_group, h, target_in_group, weights, unit, denominator))


def sf_sums(
    recommended: np.ndarray,
    user_group: np.ndarray,
    h: np.ndarray,
    target_in_group: np.ndarray,
    weights: np.ndarray,
    unit: np.ndarray | None = None,
    denominator: str = "all",
) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 4's weighted sums per group: numerators ``sum_{u in G} w h`` and denominators
    ``sum w 1(d_v in G)``, each (G, B). Sums of two sets of rows add, so a pooled SF is
    ``sf_from_sums(num_a + num_b, den_a + den_b)``: summed that way, swapping two
    identical sets of rows gives the same bits (float addition is commutative, a
    reordered dot product is not), and the paired effect of identical methods is exactly 0."""
    if denominator not in ("all", "group_users"):
        raise ValueError(f"SF denominator must be 'all' or 'group_users', got {denominator!r}")
    rec = np.asarray(recommended, dtype=bool)
    weights = np.atleast_2d(weights)
    groups = range(target_in_group.shape[1])
    numerators = np.array([_weighted_sum(h * (rec & (user_group == g)), weights, unit) for g in groups])
    pool = [rec if denominator == "all" else rec & (user_group == g) for g in groups]
    denominators = np.array([_weighted_sum(pool[g] & target_in_group[:, g], weights, unit) for g in groups])
    return numerators, denominators


def sf_from_sums(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """(G, B) sums of ``sf_sums`` -> (B,) SF; NaN where a group's denominator is 0."""
    sf: np.ndarray = np.mean(1.0 - _ratio(numerators, denominators), axis=0)
    return sf


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values, in the input order.

    p_values: (M,). NaN entries (untested comparisons) stay NaN and do not count
    towards M. ``adjusted[i] = max_{j <= rank(i)} min(1, (M - j) p_(j))``.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(stepped)
    return out


@dataclass(frozen=True)
class PairedResult:
    """One paired comparison of method A against B: effect = A - B."""

    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    n_units: int
    reason: str = ""  # why the test could not be run (effect and p NaN), or a caveat on the interval
    # two-level test only: the effect's variance between seeds (net of user sampling) and
    # within a seed (over its users), the parts a minimum detectable effect scales
    var_between: float = float("nan")
    var_within: float = float("nan")
    n_seeds: int = 0


def paired_test(
    metric: PooledMetric,
    n_units: int,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
    batch: int = 500,
    sides: tuple[np.ndarray, np.ndarray] | None = None,
) -> PairedResult:
    """Paired permutation test and bootstrap interval of ``metric(A) - metric(B)`` on units.

    ``metric(weights_a, weights_b)`` scores the rows of both methods pooled, A's
    rows of unit u weighted by ``weights_a[:, u]`` and B's by ``weights_b[:, u]``,
    both (B, U); so method A alone is ``metric(1, 0)``. The permutation swaps A
    and B within each unit (two-sided, on |effect|; a resample whose effect is
    undefined counts as at least as extreme, which keeps the test conservative).
    The bootstrap draws U units with replacement and weighs both methods' rows
    alike (percentile interval at ``confidence``, over the resamples where the
    metric is defined; ``reason`` says how many those were when not all).

    ``sides``: (side, stratum), each (U,), where A's and B's rows are different units (one
    model's pairs of group g's users against those of group h's): side 0 a unit with rows on
    A's side, 1 on B's, -1 on neither. A swap within a unit would then move each unit by a fair
    coin, mixing assignments of every group size; instead the sides are permuted among each
    stratum's (seed's) units, keeping its group sizes (``_relabelled_p``).
    """

    def effect(on_b: np.ndarray) -> np.ndarray:  # on_b: (B, U) weight of B's rows on "side A"
        return metric(1.0 - on_b, on_b) - metric(on_b, 1.0 - on_b)

    observed = float(effect(np.zeros((1, n_units)))[0])
    if np.isnan(observed):
        return PairedResult(np.nan, np.nan, np.nan, np.nan, n_units, "the metric is undefined for a method")
    p_value = (
        _permutation_p(effect, n_units, n_resamples, seed, batch)
        if sides is None
        else _relabelled_p(effect, observed, *sides, n_resamples, seed, batch)
    )
    low, high, undefined = _bootstrap_interval(metric, n_units, n_resamples, confidence, seed, batch)
    reason = (
        f"interval over the {n_resamples - undefined} of {n_resamples} resamples where the metric is defined"
        if undefined
        else ""
    )
    return PairedResult(observed, low, high, p_value, n_units, reason)


def _permutation_p(
    effect: Callable[[np.ndarray], np.ndarray], n_units: int, n_resamples: int, seed: int, batch: int
) -> float:
    """scipy's paired permutation test of |effect|: A and B swapped within each unit, one-sided on
    the magnitude; an undefined resampled effect counts as at least as extreme (conservative).
    ``effect(on_b)``: (B, U) weight of B's rows on side A -> (B,) effect."""
    a, b = np.arange(n_units), np.arange(n_units) + n_units

    # x: (..., U) holds u where unit u kept A's rows, u + U where it got B's
    def swapped(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        value = np.abs(effect((x >= n_units).reshape(-1, n_units).astype(float)))
        out: np.ndarray = np.where(np.isnan(value), np.inf, value).reshape(x.shape[:-1])
        return out

    permutation = sps.permutation_test(
        (a, b),
        swapped,
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="greater",
        batch=batch,
        rng=np.random.default_rng(seed),
    )
    return float(permutation.pvalue)


def _relabelled_p(
    effect: Callable[[np.ndarray], np.ndarray],
    observed: float,
    side: np.ndarray,
    stratum: np.ndarray,
    n_resamples: int,
    seed: int,
    batch: int,
) -> float:
    """The permutation p where A's and B's units differ: the sides permuted within each stratum
    (drawn here: scipy's ``permutation_test`` has no strata), a unit whose side changed swapped;
    two-sided on |effect|, an undefined or tied (scipy's relative tolerance) resample counted as
    extreme; (1 + extreme) / (1 + n_resamples)."""
    rng = np.random.default_rng(seed)
    movable = [np.flatnonzero((stratum == s) & (side >= 0)) for s in np.unique(stratum)]
    bar, extreme = abs(observed) * (1 - 100 * np.finfo(float).eps), 0
    for start in range(0, n_resamples, batch):
        on_b = np.zeros((min(batch, n_resamples - start), len(side)))
        for units in movable:
            on_b[:, units] = rng.permuted(np.tile(side[units], (len(on_b), 1)), axis=1) != side[units]
        value = np.abs(effect(on_b))
        extreme += int(np.sum(np.isnan(value) | (value >= bar)))
    return (1 + extreme) / (1 + n_resamples)


def _bootstrap_interval(
    metric: PooledMetric, n_units: int, n_resamples: int, confidence: float, seed: int, batch: int
) -> tuple[float, float, int]:
    """Percentile interval of the paired bootstrap, and how many resamples were undefined.
    Drawn here rather than by scipy.stats.bootstrap, which cannot leave out resamples
    where a ratio metric is undefined (a group with no recommended item)."""
    if n_units < 2:
        return np.nan, np.nan, 0
    rng = np.random.default_rng(seed)
    drawn: list[np.ndarray] = []
    for start in range(0, n_resamples, batch):
        counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=min(batch, n_resamples - start))
        zeros = np.zeros_like(counts, dtype=float)
        drawn.append(metric(counts.astype(float), zeros) - metric(zeros, counts.astype(float)))
    effects = np.concatenate(drawn)
    undefined = int(np.isnan(effects).sum())
    if undefined == len(effects):
        return np.nan, np.nan, undefined
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(effects[~np.isnan(effects)], [tail, 100.0 - tail])
    return float(low), float(high), undefined
