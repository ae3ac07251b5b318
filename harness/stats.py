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

from dataclasses import dataclass
from typing import Callable

import numpy as np
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
        return weights @ values
    return weights @ np.bincount(unit, weights=values, minlength=weights.shape[1])


def weighted_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray,
                 unit: np.ndarray | None = None) -> np.ndarray:
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


def weighted_precision(labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray,
                       unit: np.ndarray | None = None) -> np.ndarray:
    """TP / (TP + FP). labels, predicted: (N,) {0, 1}; weights and unit as
    ``weighted_auc``. Returns (B,)."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    return _ratio(_weighted_sum(labels & predicted, weights, unit), _weighted_sum(predicted, weights, unit))


def weighted_recall(labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray,
                    unit: np.ndarray | None = None) -> np.ndarray:
    """TP / (TP + FN). labels, predicted: (N,) {0, 1}; weights and unit as
    ``weighted_auc``. Returns (B,)."""
    labels, predicted = np.asarray(labels).astype(bool), np.asarray(predicted).astype(bool)
    return _ratio(_weighted_sum(labels & predicted, weights, unit), _weighted_sum(labels, weights, unit))


def weighted_sf(recommended: np.ndarray, user_group: np.ndarray, h: np.ndarray, target_in_group: np.ndarray,
                weights: np.ndarray, unit: np.ndarray | None = None, denominator: str = "all") -> np.ndarray:
    """Eq. 4 with the denominator over all recommended pairs (``harness.metrics``'
    default): ``1 - mean_G (sum_{u in G} w h) / (sum w 1(d_v in G))``; ``denominator=
    "group_users"`` counts only G's users' recommended pairs there (the other reading).

    recommended: (N,) bool. user_group: (N,) int in [0, G). h: (N,).
    target_in_group: (N, G) bool. weights and unit as ``weighted_auc``.
    Returns (B,); NaN where a group has no recommended target stereotyped to it.
    """
    return sf_from_sums(*sf_sums(recommended, user_group, h, target_in_group, weights, unit, denominator))


def sf_sums(recommended: np.ndarray, user_group: np.ndarray, h: np.ndarray, target_in_group: np.ndarray,
            weights: np.ndarray, unit: np.ndarray | None = None,
            denominator: str = "all") -> tuple[np.ndarray, np.ndarray]:
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
    return np.mean(1.0 - _ratio(numerators, denominators), axis=0)


def holm(p_values) -> np.ndarray:
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
    reason: str = ""   # why the test could not be run (effect and p NaN), or a caveat on the interval
    # two-level test only: the effect's variance between seeds (net of user sampling) and
    # within a seed (over its users), the parts a minimum detectable effect scales
    var_between: float = float("nan")
    var_within: float = float("nan")
    n_seeds: int = 0


def paired_test(metric: PooledMetric, n_units: int, *, n_resamples: int = 10_000, confidence: float = 0.95,
                seed: int = 0, batch: int = 500) -> PairedResult:
    """Paired permutation test and bootstrap interval of ``metric(A) - metric(B)`` on units.

    ``metric(weights_a, weights_b)`` scores the rows of both methods pooled, A's
    rows of unit u weighted by ``weights_a[:, u]`` and B's by ``weights_b[:, u]``,
    both (B, U); so method A alone is ``metric(1, 0)``. The permutation swaps A
    and B within each unit (two-sided, on |effect|; a resample whose effect is
    undefined counts as at least as extreme, which keeps the test conservative).
    The bootstrap draws U units with replacement and weighs both methods' rows
    alike (percentile interval at ``confidence``, over the resamples where the
    metric is defined; ``reason`` says how many those were when not all).
    """
    def effect(on_b: np.ndarray) -> np.ndarray:   # on_b: (B, U) weight of B's rows on "side A"
        return metric(1.0 - on_b, on_b) - metric(on_b, 1.0 - on_b)

    observed = float(effect(np.zeros((1, n_units)))[0])
    if np.isnan(observed):
        return PairedResult(np.nan, np.nan, np.nan, np.nan, n_units, "the metric is undefined for a method")
    a, b = np.arange(n_units), np.arange(n_units) + n_units

    def swapped(x, y, axis=-1):   # x: (..., U) holds u where unit u kept A's rows, u + U where it got B's
        value = np.abs(effect((x >= n_units).reshape(-1, n_units).astype(float)))
        return np.where(np.isnan(value), np.inf, value).reshape(x.shape[:-1])

    permutation = sps.permutation_test((a, b), swapped, permutation_type="samples", vectorized=True,
                                       n_resamples=n_resamples, alternative="greater", batch=batch,
                                       rng=np.random.default_rng(seed))

    low, high, undefined = _bootstrap_interval(metric, n_units, n_resamples, confidence, seed, batch)
    reason = f"interval over the {n_resamples - undefined} of {n_resamples} resamples where the metric is " \
             "defined" if undefined else ""
    return PairedResult(observed, low, high, float(permutation.pvalue), n_units, reason)


def _bootstrap_interval(metric: PooledMetric, n_units: int, n_resamples: int, confidence: float, seed: int,
                        batch: int) -> tuple[float, float, int]:
    """Percentile interval of the paired bootstrap, and how many resamples were undefined.
    Drawn here rather than by scipy.stats.bootstrap, which cannot leave out resamples
    where a ratio metric is undefined (a group with no recommended item)."""
    if n_units < 2:
        return np.nan, np.nan, 0
    rng = np.random.default_rng(seed)
    effects = []
    for start in range(0, n_resamples, batch):
        counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=min(batch, n_resamples - start))
        zeros = np.zeros_like(counts, dtype=float)
        effects.append(metric(counts.astype(float), zeros) - metric(zeros, counts.astype(float)))
    effects = np.concatenate(effects)
    undefined = int(np.isnan(effects).sum())
    if undefined == len(effects):
        return np.nan, np.nan, undefined
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(effects[~np.isnan(effects)], [tail, 100.0 - tail])
    return float(low), float(high), undefined


def two_level_test(metrics: list[PooledMetric], n_units: list[int], *, n_resamples: int = 10_000,
                   confidence: float = 0.95, seed: int = 0, batch: int = 500) -> PairedResult:
    """Paired two-level bootstrap of an effect averaged over seeds. NOT the harness's test of a
    claim: with few seeds it is anti-conservative (``harness.seed_stats`` says why, and
    tests/report/test_calibration.py measures its false-positive rate); kept as the reference
    that calibration test compares the seed-level test with.

    ``metrics[s]`` is seed s's ``PooledMetric`` over its own ``n_units[s]`` units (a test
    user of that seed's split). The effect is the mean over seeds of ``metric(A) - metric(B)``.
    Each resample draws S seeds with replacement, then each drawn seed's users with
    replacement (both methods' rows of a user together, so the pairing holds), and averages
    the per-seed effects over the drawn seeds. With S seeds and few of them, a seed-to-seed
    spread of the effect widens the distribution however many users there are, as it should.

    p is two-sided, from the distribution centred on the observed effect:
    ``(1 + #{|e* - e| >= |e|}) / (R + 1)`` over the R resamples where the effect is defined;
    identical methods give e* = e = 0 and p = 1. The interval is the percentile interval.
    """
    def effect(s: int, counts: np.ndarray) -> np.ndarray:   # (B, u_s) unit counts -> (B,) seed s's effect
        zeros = np.zeros_like(counts)
        return metrics[s](counts, zeros) - metrics[s](zeros, counts)

    n_seeds = len(metrics)
    per_seed_effects = [effect(s, np.ones((1, n)))[0] for s, n in enumerate(n_units)]
    observed = float(np.mean(per_seed_effects))
    if np.isnan(observed):
        return PairedResult(np.nan, np.nan, np.nan, np.nan, int(sum(n_units)), "the metric is undefined for a method",
                            n_seeds=n_seeds)
    rng = np.random.default_rng(seed)
    effects, within = [], []
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        seed_counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=size)       # (B, S)
        per_seed = np.stack([effect(s, rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float))
                             for s, n in enumerate(n_units)], axis=1)                           # (B, S)
        within.append(per_seed)
        with np.errstate(invalid="ignore"):
            # a seed drawn 0 times weighs 0; an undefined effect of a drawn seed leaves the resample undefined
            total = np.where(seed_counts > 0, per_seed * seed_counts, 0.0).sum(axis=1)
            total[np.any((seed_counts > 0) & np.isnan(per_seed), axis=1)] = np.nan
        effects.append(total / n_seeds)
    effects = np.concatenate(effects)
    defined = effects[~np.isnan(effects)]
    if not len(defined):
        return PairedResult(observed, np.nan, np.nan, np.nan, int(sum(n_units)), "no resample defines the metric")
    p = (1 + np.sum(np.abs(defined - observed) >= abs(observed))) / (len(defined) + 1)
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    reason = f"over the {len(defined)} of {n_resamples} resamples where the metric is defined" \
        if len(defined) < n_resamples else ""
    # variance parts: within a seed, over its users (each seed's user-level resamples); between
    # seeds, the spread of the observed per-seed effects less what user sampling explains
    with np.errstate(invalid="ignore"):
        var_within = float(np.nanmean(np.nanvar(np.concatenate(within), axis=0, ddof=1)))
    var_between = max(0.0, float(np.var(per_seed_effects, ddof=1)) - var_within) if n_seeds > 1 else float("nan")
    return PairedResult(observed, float(low), float(high), float(min(1.0, p)), int(sum(n_units)), reason,
                        var_between, var_within, n_seeds)


