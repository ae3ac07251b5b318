"""harness.seed_stats on cases whose answers are known by hand or by scipy."""

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from harness import seed_stats


def test_the_t_test_is_scipys_paired_t_test_with_its_interval():
    a, b = np.array([70.0, 72.0, 69.0, 75.0]), np.array([65.0, 71.0, 60.0, 70.0])
    test = seed_stats.t_test(a - b)
    assert test.p == pytest.approx(sps.ttest_rel(a, b).pvalue)
    half = sps.t.ppf(0.975, 3) * np.std(a - b, ddof=1) / 2
    assert (test.ci_low, test.ci_high) == pytest.approx((np.mean(a - b) - half, np.mean(a - b) + half))
    assert test.mean == pytest.approx(5.0) and test.sd == pytest.approx(np.std(a - b, ddof=1)) and test.n == 4
    one_sided = seed_stats.t_test(a - b, null=-2.0, alternative="greater")
    assert one_sided.p == pytest.approx(sps.ttest_1samp(a - b, -2.0, alternative="greater").pvalue)


def test_the_sign_flip_test_enumerates_every_sign_pattern():
    effects = np.array([1.0, -2.0, 3.0, 4.0])
    means = [np.mean(effects * np.array(signs)) for signs in itertools.product((1, -1), repeat=4)]
    by_hand = np.mean([abs(m) >= abs(np.mean(effects)) - 1e-12 for m in means])
    assert seed_stats.t_test(effects).p_signflip == pytest.approx(by_hand)  # 6 / 16
    assert seed_stats.t_test([1.0, 2.0, 3.0]).p_signflip == pytest.approx(0.25)  # its floor at 3 seeds
    assert seed_stats.signflip_floor(3) == 0.25 and seed_stats.signflip_floor(5) == 0.0625
    assert seed_stats.signflip_floor(5, "greater") == 1 / 32


def test_too_few_seeds_or_no_spread_give_a_reason():
    assert np.isnan(seed_stats.t_test([3.0]).p) and "2 seeds" in seed_stats.t_test([3.0]).reason
    assert seed_stats.t_test([0.0, 0.0, 0.0]).p == 1.0  # identical rows: nothing to reject
    assert np.isnan(seed_stats.t_test([1.0, 1.0]).p)  # a constant non-zero effect
    assert seed_stats.t_test([1.0, np.nan, 3.0]).n == 2  # an undefined seed is left out


def test_power_mde_and_seeds_needed_come_from_the_noncentral_t():
    # at no effect the two-sided test rejects at its level
    assert seed_stats.power(0.0, 1.0, 5, 0.05) == pytest.approx(0.05)
    # power by simulation of the test itself, 20,000 draws (binomial SD of 0.8: 0.003)
    rng = np.random.default_rng(0)
    draws = rng.normal(1.5, 1.0, size=(20_000, 5))
    simulated = np.mean(sps.ttest_1samp(draws, 0.0, axis=1).pvalue < 0.05)
    assert seed_stats.power(1.5, 1.0, 5, 0.05) == pytest.approx(simulated, abs=0.012)
    mde = seed_stats.mde(1.0, 5, 0.05)
    assert seed_stats.power(mde, 1.0, 5, 0.05) == pytest.approx(0.8, abs=1e-6)
    normal = (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) / np.sqrt(3)
    assert seed_stats.mde(1.0, 3, 0.05) > 1.9 * normal  # t at 2 df, not the normal quantiles
    assert seed_stats.mde(1.0, 3, 0.05 / 9) > seed_stats.mde(1.0, 3, 0.05)  # Holm's first step asks more
    n = seed_stats.seeds_needed(mde, 1.0, 0.05)
    assert n == 5 and seed_stats.power(mde, 1.0, 4, 0.05) < 0.8  # 5 is the fewest
    assert seed_stats.seeds_needed(0.0, 1.0, 0.05) is None and seed_stats.seeds_needed(1.0, np.nan, 0.05) is None
    assert seed_stats.seeds_needed(-1.0, 1.0, 0.05, alternative="greater") is None
    assert seed_stats.mde(0.0, 5, 0.05) == 0.0 and np.isnan(seed_stats.mde(1.0, 1, 0.05))
    assert seed_stats.power(1e3, 1.0, 2, 0.05) == pytest.approx(1.0)  # far tails stay finite


def test_an_upper_confidence_bound_of_the_sd():
    # chi-square: (n - 1) s^2 / sigma^2 ~ chi2(n - 1); the bound at 80% is s sqrt((n - 1) / chi2_0.2)
    assert seed_stats.sd_upper(2.0, 3) == pytest.approx(2.0 * np.sqrt(2 / sps.chi2.ppf(0.2, 2)))
    assert seed_stats.sd_upper(2.0, 3) > 2.0 and np.isnan(seed_stats.sd_upper(2.0, 1))


def test_probability_of_improvement_and_its_clopper_pearson_interval():
    share, low, high = seed_stats.probability_of_improvement([2.0, 1.0, -1.0, 0.0], higher_is_better=True)
    assert share == pytest.approx(2.5 / 4)
    assert low == pytest.approx(sps.beta.ppf(0.025, 2.5, 2.5)) and high == pytest.approx(sps.beta.ppf(0.975, 3.5, 1.5))
    share, low, high = seed_stats.probability_of_improvement([-1.0, -2.0, -3.0], higher_is_better=False)
    assert share == 1.0 and high == 1.0 and low == pytest.approx(0.025 ** (1 / 3))  # exact: 3/3 better
    assert np.isnan(seed_stats.probability_of_improvement([np.nan], True)[0])


def test_holm_levels_are_the_step_down_alphas():
    levels = seed_stats.holm_levels([0.04, 0.001, np.nan, 0.02], 0.05)
    assert levels[1] == pytest.approx(0.05 / 3) and levels[3] == pytest.approx(0.05 / 2)
    assert levels[0] == pytest.approx(0.05) and np.isnan(levels[2])
