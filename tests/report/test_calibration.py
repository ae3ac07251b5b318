"""Known-answer calibration of the test behind † and every verdict, by simulation.

A synthetic study: S seeds; seed s shifts method A over B by b_s ~ N(delta, SIGMA_B^2) (what
training draws: the between-seed variance), and each of its U test users adds a paired
difference ~ N(0, SIGMA_W^2) (the within-seed, user-level variance). A method's per-seed metric
is the mean over its users, so seed s's effect is d_s = b_s + mean_u(noise) and
Var(d_s) = SIGMA_B^2 + SIGMA_W^2 / U. At delta = 0 a valid test rejects at alpha = 0.05 in a
share of draws inside the binomial interval of 0.05, whichever variance dominates; at delta = the
MDE its power is 0.8. These tests fail if the test is anti-conservative or its power formula is
off. The two-level bootstrap that the harness used before (``harness.two_level.two_level_test``) is
run on the same draws and its false-positive rate printed: where the seeds' spread dominates, as
in the first study (per-seed AUC effects spread by several points while a seed's whole test
split pins its own to about half a point), it rejects 2 to 5 times too often.
"""

import numpy as np
import pytest
from scipy import stats as sps

from harness import seed_stats
from harness.two_level import two_level_test

USERS, ALPHA, DRAWS = 50, 0.05, 4000
SEEDS_DOMINATE = (3.0, 3.5)  # (SIGMA_B, SIGMA_W): a seed's effect varies by 3 between seeds, 0.5 within
USERS_DOMINATE = (1.0, 7.0)  # 1 between seeds, 1 within


def _study(rng, seeds: int, delta: float, sigmas=SEEDS_DOMINATE, draws: int = DRAWS) -> tuple[np.ndarray, np.ndarray]:
    """(draws, seeds, users) user-level values of A and of B."""
    sigma_b, sigma_w = sigmas
    base = rng.normal(size=(draws, seeds, USERS))  # shared by both methods: the pairing
    shift = rng.normal(delta, sigma_b, size=(draws, seeds, 1))
    a = base + shift + rng.normal(0, sigma_w / np.sqrt(2), size=(draws, seeds, USERS))
    b = base + rng.normal(0, sigma_w / np.sqrt(2), size=(draws, seeds, USERS))
    return a, b


def _p_values(a, b) -> np.ndarray:
    """The seed-level paired t-test of every draw, vectorised (harness.seed_stats.t_test's test)."""
    effects = (a - b).mean(axis=2)
    return sps.ttest_1samp(effects, 0.0, axis=1).pvalue


def _binomial_interval(n: int, p: float = ALPHA, level: float = 0.999) -> tuple[float, float]:
    return sps.binom.ppf((1 - level) / 2, n, p) / n, sps.binom.ppf(1 - (1 - level) / 2, n, p) / n


def _mean_metric(ya, yb):
    """A ``stats.PooledMetric``: the weighted mean of both methods' rows of one seed."""
    return lambda wa, wb: (wa @ ya + wb @ yb) / (wa.sum(axis=1) + wb.sum(axis=1))


@pytest.mark.parametrize("sigmas", [SEEDS_DOMINATE, USERS_DOMINATE], ids=["seeds-dominate", "users-dominate"])
@pytest.mark.parametrize("seeds", [3, 5])
def test_at_no_effect_the_seed_level_test_rejects_at_its_level(seeds, sigmas):
    rng = np.random.default_rng(seeds)
    a, b = _study(rng, seeds, 0.0, sigmas)
    p = _p_values(a, b)
    for i in range(20):  # the harness's function gives the same p
        assert seed_stats.t_test((a[i] - b[i]).mean(axis=1)).p == pytest.approx(p[i], rel=1e-9)
    rate = float(np.mean(p < ALPHA))
    low, high = _binomial_interval(DRAWS)
    # the two-level bootstrap on the first 200 of the same draws, 400 resamples each
    two_level = np.mean(
        [
            two_level_test(
                [_mean_metric(a[i, s], b[i, s]) for s in range(seeds)], [USERS] * seeds, n_resamples=400, seed=i
            ).p_value
            < ALPHA
            for i in range(200)
        ]
    )
    interval = f"99.9% binomial interval of {ALPHA}: [{low:.4f}, {high:.4f}]"
    print(
        f"\n{seeds} seeds, (sigma_b, sigma_w) = {sigmas}, {DRAWS} draws: the seed-level t-test rejects "
        f"{rate:.4f} at alpha {ALPHA} ({interval}); the two-level bootstrap rejects {two_level:.3f} of the first "
        "200 draws"
    )
    assert low <= rate <= high, f"{seeds} seeds: rate {rate} outside [{low}, {high}]"
    if sigmas == SEEDS_DOMINATE:  # the old test: anti-conservative there
        assert two_level > high


def test_at_the_mde_the_seed_level_test_has_the_power_the_formula_says():
    seeds, (sigma_b, sigma_w) = 5, SEEDS_DOMINATE
    sigma_d = float(np.sqrt(sigma_b**2 + sigma_w**2 / USERS))  # the SD of a seed's effect
    mde = seed_stats.mde(sigma_d, seeds, ALPHA)
    rng = np.random.default_rng(11)
    power = float(np.mean(_p_values(*_study(rng, seeds, mde)) < ALPHA))
    low, high = _binomial_interval(DRAWS, seed_stats.POWER)
    print(
        f"\nMDE {mde:.3f} at {seeds} seeds (per-seed SD {sigma_d:.3f}): empirical power {power:.4f}, "
        f"99.9% binomial interval of 0.8 over {DRAWS} draws [{low:.4f}, {high:.4f}]"
    )
    assert low <= power <= high


def test_the_sign_flip_test_never_rejects_more_than_alpha():
    seeds, draws = 6, 400  # its floor at 6 seeds: 2 / 64 < 0.05
    rng = np.random.default_rng(5)
    a, b = _study(rng, seeds, 0.0, draws=draws)
    rate = np.mean([seed_stats.t_test((a[i] - b[i]).mean(axis=1)).p_signflip < ALPHA for i in range(draws)])
    assert rate <= _binomial_interval(draws)[1]
