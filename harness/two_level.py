"""The two-level bootstrap (seeds, then users within seeds) that the harness used before issue 29.
NOT a test the harness makes of a claim: with few seeds it is anti-conservative (``harness.seed_stats``
says why); kept as the reference that tests/report/test_calibration.py compares the seed-level test
with. Pure functions over numpy arrays; shapes as in ``harness.stats``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.stats import PairedResult, PooledMetric


def two_level_test(
    metrics: list[PooledMetric],
    n_units: list[int],
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
    batch: int = 500,
) -> PairedResult:
    """Paired two-level bootstrap of an effect averaged over seeds (NOT the harness's test of a
    claim: the module docstring says why it is kept).

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

    def effect(s: int, counts: np.ndarray) -> np.ndarray:  # (B, u_s) unit counts -> (B,) seed s's effect
        zeros = np.zeros_like(counts)
        return metrics[s](counts, zeros) - metrics[s](zeros, counts)

    per_seed_effects = [effect(s, np.ones((1, n)))[0] for s, n in enumerate(n_units)]
    observed, total = float(np.mean(per_seed_effects)), int(sum(n_units))
    if np.isnan(observed):
        return PairedResult(
            np.nan, np.nan, np.nan, np.nan, total, "the metric is undefined for a method", n_seeds=len(metrics)
        )
    effects, within = _two_level_draws(effect, n_units, n_resamples, seed, batch)
    defined = effects[~np.isnan(effects)]
    if not len(defined):
        return PairedResult(observed, np.nan, np.nan, np.nan, total, "no resample defines the metric")
    p = (1 + np.sum(np.abs(defined - observed) >= abs(observed))) / (len(defined) + 1)
    tail = 50.0 * (1.0 - confidence)
    low, high = np.percentile(defined, [tail, 100.0 - tail])
    reason = (
        f"over the {len(defined)} of {n_resamples} resamples where the metric is defined"
        if len(defined) < n_resamples
        else ""
    )
    var_between, var_within = _variance_parts(per_seed_effects, within)
    return PairedResult(
        observed, float(low), float(high), float(min(1.0, p)), total, reason, var_between, var_within, len(metrics)
    )


def _variance_parts(per_seed_effects: list[float], within: np.ndarray) -> tuple[float, float]:
    """(between, within): within a seed, over its users (each seed's user-level resamples, (R, S)
    ``within``); between seeds, the spread of the observed per-seed effects less what user sampling
    explains (NaN with one seed)."""
    with np.errstate(invalid="ignore"):
        var_within = float(np.nanmean(np.nanvar(within, axis=0, ddof=1)))
    n_seeds = len(per_seed_effects)
    var_between = max(0.0, float(np.var(per_seed_effects, ddof=1)) - var_within) if n_seeds > 1 else float("nan")
    return var_between, var_within


def _two_level_draws(
    effect: Callable[[int, np.ndarray], np.ndarray], n_units: list[int], n_resamples: int, seed: int, batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """(R,) resampled effects averaged over the drawn seeds (NaN where a drawn seed's is undefined)
    and (R, S) each seed's effect over its resampled users; ``effect(s, counts)``: seed s's effect
    under (B, u_s) unit counts."""
    n_seeds = len(n_units)
    rng = np.random.default_rng(seed)
    drawn: list[np.ndarray] = []
    within: list[np.ndarray] = []
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        seed_counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=size)  # (B, S)
        per_seed = np.stack(
            [
                effect(s, rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float))
                for s, n in enumerate(n_units)
            ],
            axis=1,
        )  # (B, S)
        within.append(per_seed)
        with np.errstate(invalid="ignore"):
            # a seed drawn 0 times weighs 0; an undefined effect of a drawn seed leaves the resample undefined
            total = np.where(seed_counts > 0, per_seed * seed_counts, 0.0).sum(axis=1)
            total[np.any((seed_counts > 0) & np.isnan(per_seed), axis=1)] = np.nan
        drawn.append(total / n_seeds)
    return np.concatenate(drawn), np.concatenate(within)
