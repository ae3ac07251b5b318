"""Inference at the level where the seeds vary: pure functions over per-seed values, on scipy.

The unit of replication is the training run. A seed draws the split, the training samples and
the initialisation, so a claim about methods is a claim about the distribution of a trained
model's metric over seeds. Two methods run on the same seed are scored on the same test pairs,
so they are paired by seed, and the data of a comparison is the vector of per-seed effects
``d`` (S,), ``d_s = metric(A, seed s) - metric(B, seed s)``.

- ``t_test``: the paired t-test on ``d`` (``scipy.stats.ttest_1samp``, df = S - 1) and its
  t-interval, two-sided against 0 or one-sided against a margin; beside it the exact sign-flip
  permutation test of ``d`` (``scipy.stats.permutation_test``, one sample: every sign pattern),
  which assumes only that ``d`` is symmetric about the null. Its smallest attainable p is
  2 / 2^S (two-sided): 0.25 at 3 seeds, 0.0625 at 5, 0.0039 at 9, so at few seeds it cannot
  reach α at all (``signflip_floor`` says so) and the t-test is the primary test.
- ``power``, ``mde``, ``seeds_needed``: the t-test's power from the noncentral t distribution
  (``scipy.stats.nct``) at the α a verdict uses, from the SD of the per-seed effects. No normal
  approximation: at 3 seeds the t quantiles make the MDE about twice the normal one.
- ``probability_of_improvement``: the share of paired seeds on which A beats B (ties half), with
  a Clopper-Pearson interval (Bouthillier et al. 2021 and rliable recommend P(A > B) beside the
  mean for few runs; an exact binomial interval because a percentile bootstrap of a share over
  3-10 seeds cannot reach past the observed seeds).
- ``holm_levels``: the α each hypothesis is compared with in Holm's step-down.

Why not the two-level bootstrap (seeds, then users within seeds; ``harness.two_level.two_level_test``):
with 3 seeds it has 10 distinct seed draws, shrinks the between-seed variance by (S - 1) / S, and
its percentile interval cannot reach beyond the observed seeds; the user-level resampling then
adds a precision the training runs do not have. ``tests/report/test_calibration.py`` measures its
false-positive rate against this module's on the same simulated studies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy import stats as sps

ALTERNATIVES = ("two-sided", "greater", "less")
POWER = 0.8  # the power an MDE and a seeds-needed figure are quoted at


@dataclass(frozen=True)
class SeedTest:
    """A paired comparison over seeds: per-seed effects ``d`` (S,), A - B."""

    n: int  # seeds with both values defined
    mean: float  # mean of d: the effect
    sd: float  # SD of d (ddof 1): the between-seed SD of the effect
    ci_low: float  # t-interval of the mean at ``confidence`` (two-sided)
    ci_high: float
    p: float  # paired t-test, against ``null`` on the side ``alternative``
    p_signflip: float  # exact sign-flip permutation test, same null and side
    signflip_floor: float  # the smallest p the sign-flip test can give at this n
    null: float = 0.0
    alternative: str = "two-sided"
    reason: str = ""  # why p is NaN, when it is


def t_test(effects: ArrayLike, null: float = 0.0, alternative: str = "two-sided", confidence: float = 0.95) -> SeedTest:
    """Paired t-test and exact sign-flip test of per-seed effects ``effects`` (S,) against ``null``.

    ``alternative``: "two-sided", "greater" (H1: mean > null) or "less". NaN entries (a seed where
    a method's metric is undefined) are left out; the caller decides whether that is allowed.
    Fewer than 2 seeds, or effects with no spread, give p NaN with the reason (no spread and a
    mean exactly at the null: p = 1)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    d = np.asarray(effects, dtype=float)
    d = d[~np.isnan(d)]
    n = len(d)
    mean = float(d.mean()) if n else np.nan
    sd = float(d.std(ddof=1)) if n > 1 else np.nan
    floor = signflip_floor(n, alternative)
    if n < 2 or sd == 0:
        return _untested(n, mean, sd, floor, null, alternative)
    result = sps.ttest_1samp(d, null, alternative=alternative)
    interval = sps.ttest_1samp(d, null).confidence_interval(confidence)
    flips = sps.permutation_test(
        (d - null,), np.mean, permutation_type="samples", vectorized=True, n_resamples=np.inf, alternative=alternative
    )
    return SeedTest(
        n,
        mean,
        sd,
        float(interval.low),
        float(interval.high),
        float(result.pvalue),
        float(flips.pvalue),
        floor,
        null,
        alternative,
    )


def _untested(n: int, mean: float, sd: float, floor: float, null: float, alternative: str) -> SeedTest:
    """Fewer than 2 seeds, or effects with no spread: p NaN with the reason (no spread and a mean
    exactly at the null: p = 1)."""
    if n < 2:
        return SeedTest(
            n,
            mean,
            sd,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            floor,
            null,
            alternative,
            f"needs at least 2 seeds with both values, got {n}",
        )
    same = mean == null
    return SeedTest(
        n,
        mean,
        sd,
        mean,
        mean,
        1.0 if same else np.nan,
        1.0 if same else np.nan,
        floor,
        null,
        alternative,
        "" if same else "the per-seed effects have no spread",
    )


def signflip_floor(n: int, alternative: str = "two-sided") -> float:
    """The smallest p an exact sign-flip test of ``n`` effects can give: 2 / 2^n two-sided,
    1 / 2^n one-sided (all effects on one side)."""
    if n < 1:
        return np.nan
    return min(1.0, (2.0 if alternative == "two-sided" else 1.0) / 2.0**n)


def power(effect: float, sd: float, n: int, alpha: float, alternative: str = "two-sided") -> float:
    """The paired t-test's power to reject at ``alpha`` when the true mean effect is ``effect``
    (distance from the null, in the tested direction for a one-sided test) and the per-seed
    effects have SD ``sd``, with ``n`` seeds: noncentral t with df = n - 1 and noncentrality
    effect * sqrt(n) / sd."""
    if n < 2 or np.isnan(sd) or np.isnan(effect):
        return np.nan
    if sd == 0:
        return 1.0 if effect != 0 else alpha
    df, nc = n - 1, effect * np.sqrt(n) / sd
    if alternative == "two-sided":
        crit, nc = sps.t.ppf(1 - alpha / 2, df), abs(nc)
        # scipy's far tail of a large noncentrality can come back NaN; it is ~0 there
        return float(_tail(sps.nct.sf(crit, df, nc), nc > crit) + np.nan_to_num(sps.nct.cdf(-crit, df, nc)))
    crit, nc = sps.t.ppf(1 - alpha, df), nc if alternative == "greater" else -nc
    return float(_tail(sps.nct.sf(crit, df, nc), nc > crit))


def _tail(value: float, far: bool) -> float:
    """An upper tail of the noncentral t, 1 or 0 where scipy gives NaN (far beyond or below the
    critical value)."""
    return (1.0 if far else 0.0) if np.isnan(value) else float(value)


def mde(sd: float, n: int, alpha: float, target: float = POWER, alternative: str = "two-sided") -> float:
    """The minimum detectable effect: the smallest true effect (distance from the null) that the
    paired t-test at ``alpha`` rejects with probability ``target``, for ``n`` seeds whose
    per-seed effects have SD ``sd``. NaN with fewer than 2 seeds or an unknown SD; 0 when the
    effects have no spread."""
    if n < 2 or np.isnan(sd):
        return np.nan
    if sd == 0:
        return 0.0
    side = "greater" if alternative != "two-sided" else alternative
    high = sd
    while power(high, sd, n, alpha, side) < target:
        high *= 2
    return float(optimize.brentq(lambda e: power(e, sd, n, alpha, side) - target, 0.0, high, xtol=1e-10 * sd))


def seeds_needed(
    effect: float, sd: float, alpha: float, target: float = POWER, alternative: str = "two-sided", most: int = 10_000
) -> int | None:
    """The fewest seeds (at least 2) whose paired t-test at ``alpha`` detects a true effect
    ``effect`` (distance from the null) with probability ``target``, when the per-seed effects
    have SD ``sd``; None when the effect or SD is unknown, the effect is 0, or more than ``most``
    seeds would be needed."""
    if effect is None or np.isnan(effect) or effect == 0 or np.isnan(sd):
        return None
    effect = abs(effect) if alternative == "two-sided" else effect
    if alternative != "two-sided" and effect <= 0:
        return None
    side = "greater" if alternative != "two-sided" else alternative
    if power(effect, sd, most, alpha, side) < target:
        return None
    low, high = 2, 2
    while power(effect, sd, high, alpha, side) < target:
        low, high = high, min(most, high * 2)
    while low < high:  # power grows with n: bisect for the first n that reaches it
        middle = (low + high) // 2
        if power(effect, sd, middle, alpha, side) >= target:
            high = middle
        else:
            low = middle + 1
    return int(low)


def sd_upper(sd: float, n: int, confidence: float = 0.8) -> float:
    """A one-sided upper confidence bound of the true SD from an SD estimated on ``n`` seeds
    (chi-square with n - 1 df): a plan sized on it is sized for a spread this large."""
    if n < 2 or np.isnan(sd):
        return np.nan
    return float(sd * np.sqrt((n - 1) / sps.chi2.ppf(1 - confidence, n - 1)))


def probability_of_improvement(
    effects: ArrayLike, higher_is_better: bool, confidence: float = 0.95
) -> tuple[float, float, float]:
    """P(A > B) over paired seeds: the share of ``effects`` (S,) on which A is better than B (an
    effect of 0 counts one half), and its Clopper-Pearson interval at ``confidence``. NaN effects
    are left out. Returns (share, low, high)."""
    d = np.asarray(effects, dtype=float)
    d = d[~np.isnan(d)]
    n = len(d)
    if not n:
        return np.nan, np.nan, np.nan
    better = d > 0 if higher_is_better else d < 0
    k = float(better.sum() + 0.5 * (d == 0).sum())
    tail = (1 - confidence) / 2
    low = 0.0 if k == 0 else float(sps.beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - tail, k + 1, n - k))
    return k / n, low, high


def holm_levels(p_values: ArrayLike, alpha: float) -> np.ndarray:
    """(M,) the α each p is compared with in Holm's step-down: alpha / (m - j) at its rank j
    (0-based, ascending p, ties in input order); NaN entries (untested) stay NaN and do not count.
    A p that ``stats.holm`` leaves significant is below its level, and so are all smaller ones."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    out[order] = alpha / (len(order) - np.arange(len(order)))
    return out
