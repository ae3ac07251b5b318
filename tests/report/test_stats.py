"""harness.stats on cases whose answers are known by hand or by harness.metrics."""

import numpy as np
import pytest

from harness import metrics, stats
from harness.two_level import two_level_test


@pytest.fixture
def pairs():
    rng = np.random.default_rng(3)
    n = 400
    labels = rng.integers(0, 2, n)
    scores = np.round(rng.normal(size=n) + labels, 1)  # rounded: many ties
    user_group = rng.integers(0, 2, n)
    return labels, scores, user_group, rng.random(n), rng.random((n, 2)) < 0.3


def test_kernels_with_unit_weights_equal_the_metrics(pairs):
    labels, scores, user_group, h, target_in_group = pairs
    ones = np.ones((1, len(labels)))
    predicted = scores > 0
    assert stats.weighted_auc(labels, scores, ones)[0] == pytest.approx(metrics.auc(labels, scores).value, abs=1e-12)
    assert stats.weighted_precision(labels, predicted, ones)[0] == pytest.approx(
        metrics.precision(labels, predicted).value
    )
    assert stats.weighted_recall(labels, predicted, ones)[0] == pytest.approx(metrics.recall(labels, predicted).value)
    expected = metrics.stereotype_fairness(predicted, user_group, h, target_in_group, ("a", "b")).value
    assert stats.weighted_sf(predicted, user_group, h, target_in_group, ones)[0] == pytest.approx(expected)


def test_integer_weights_equal_repeated_rows(pairs):
    labels, scores, user_group, h, target_in_group = pairs
    counts = np.random.default_rng(0).integers(0, 3, len(labels))
    keep = np.repeat(np.arange(len(labels)), counts)
    assert stats.weighted_auc(labels, scores, counts[None])[0] == pytest.approx(
        metrics.auc(labels[keep], scores[keep]).value, abs=1e-12
    )
    rec = scores > 0
    assert stats.weighted_sf(rec, user_group, h, target_in_group, counts[None])[0] == pytest.approx(
        metrics.stereotype_fairness(rec[keep], user_group[keep], h[keep], target_in_group[keep], ("a", "b")).value
    )


def test_undefined_metrics_are_nan():
    assert np.isnan(stats.weighted_auc(np.array([1, 1]), np.array([0.1, 0.2]), np.ones((1, 2))))[0]
    assert np.isnan(stats.weighted_precision(np.array([1, 0]), np.array([0, 0]), np.ones((1, 2))))[0]
    tig = np.array([[True, False], [True, False]])
    assert np.isnan(stats.weighted_sf(np.array([True, True]), np.array([0, 1]), np.ones(2), tig, np.ones((1, 2))))[0]


def test_holm_on_a_known_list():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, max(1*0.04, 0.06); NaN is not a comparison
    adjusted = stats.holm([0.01, 0.04, 0.03, np.nan, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, np.nan, 0.02])
    np.testing.assert_allclose(stats.holm([0.2, 0.9]), [0.4, 0.9])
    np.testing.assert_allclose(stats.holm([0.6, 0.7]), [1.0, 1.0])  # capped at 1


def _mean_metric(a, b):
    """Pooled mean of per-unit values: A's unit u weighs a[u], B's b[u]."""
    return lambda wa, wb: (wa @ a + wb @ b) / (wa + wb).sum(axis=1)


def test_identical_methods_give_p_one_and_a_zero_interval():
    a = np.arange(20, dtype=float)
    result = stats.paired_test(_mean_metric(a, a), 20, n_resamples=999)
    assert (result.effect, result.p_value, result.ci_low, result.ci_high) == (0.0, 1.0, 0.0, 0.0)


def test_exact_enumeration_on_three_units():
    # effect 2; of the 8 sign flips only "none" and "all" reach |effect| >= 2
    result = stats.paired_test(_mean_metric(np.array([1.0, 2.0, 3.0]), np.zeros(3)), 3, n_resamples=1000)
    assert result.effect == pytest.approx(2.0) and result.p_value == pytest.approx(2 / 8)


def test_a_large_shift_is_significant_and_the_same_seed_gives_the_same_p():
    rng = np.random.default_rng(1)
    b = rng.normal(size=60)
    a = b + 1.0 + 0.1 * rng.normal(size=60)
    first = stats.paired_test(_mean_metric(a, b), 60, n_resamples=2000, seed=7)
    again = stats.paired_test(_mean_metric(a, b), 60, n_resamples=2000, seed=7)
    assert first.p_value == pytest.approx(1 / 2001) and first == again
    assert first.ci_low < first.effect < first.ci_high and first.ci_low > 0.8


def _seeds(deltas, units=50, seed=3):
    """Per seed: B's unit values, and A's = B's + that seed's delta + a little noise."""
    rng = np.random.default_rng(seed)
    out = []
    for delta in deltas:
        b = rng.normal(size=units)
        out.append((b + delta + 0.05 * rng.normal(size=units), b))
    return out


def test_two_level_test_gives_p_one_on_identical_inputs():
    seeds = [(b, b) for _, b in _seeds([0.0, 0.0, 0.0])]
    result = two_level_test([_mean_metric(a, b) for a, b in seeds], [50] * 3, n_resamples=999)
    assert (result.effect, result.p_value, result.ci_low, result.ci_high) == (0.0, 1.0, 0.0, 0.0)


def test_seed_to_seed_variation_makes_the_two_level_p_larger_than_the_user_level_p():
    """Effects of 2.0, 0.1 and 0.3 on three seeds: every user-level resample sees a clear
    shift (the trained models held fixed), while redrawing the seeds often does not."""
    seeds = _seeds([2.0, 0.1, 0.3])
    two_level = two_level_test([_mean_metric(a, b) for a, b in seeds], [50] * 3, n_resamples=4000, seed=1)
    pooled_a, pooled_b = np.concatenate([a for a, _ in seeds]), np.concatenate([b for _, b in seeds])
    users = stats.paired_test(_mean_metric(pooled_a, pooled_b), 150, n_resamples=4000, seed=1)
    assert two_level.effect == pytest.approx(users.effect)  # the same effect: mean over seeds
    assert users.p_value == pytest.approx(1 / 4001)  # as small as it can be
    assert two_level.p_value > 0.01 and two_level.p_value > 40 * users.p_value
    assert two_level.ci_high - two_level.ci_low > 3 * (users.ci_high - users.ci_low)
    again = two_level_test([_mean_metric(a, b) for a, b in seeds], [50] * 3, n_resamples=4000, seed=1)
    assert again == two_level  # seeded


def test_a_shift_alike_on_every_seed_is_significant_at_both_levels():
    seeds = _seeds([1.0, 1.0, 1.0])
    result = two_level_test([_mean_metric(a, b) for a, b in seeds], [50] * 3, n_resamples=2000)
    assert result.p_value == pytest.approx(1 / 2001) and result.ci_low > 0.8


def _partitioned(values, side):
    """Pooled mean of per-unit values where unit u's rows are A's (side 0) or B's (side 1) only."""
    on_a, on_b = (side == 0).astype(float), (side == 1).astype(float)

    def metric(wa, wb):
        with np.errstate(invalid="ignore"):  # a bootstrap resample with no unit on a side: undefined
            return (wa @ (values * on_a) + wb @ (values * on_b)) / (wa @ on_a + wb @ on_b)

    return metric


def test_the_relabelled_permutation_keeps_each_strata_group_sizes():
    # one stratum, one unit of 4 on A's side: of the 4 size-keeping assignments only the observed
    # one reaches |effect| = 5 (the others give 0 - 5/3); a unit on neither side never moves
    side, values = np.array([0, 1, 1, 1, -1]), np.array([5.0, 0, 0, 0, 100])
    result = stats.paired_test(_partitioned(values, side), 5, n_resamples=4000, sides=(side, np.zeros(5, dtype=int)))
    assert result.effect == pytest.approx(5.0) and result.p_value == pytest.approx(0.25, abs=0.03)
    # two strata of one unit a side: 2 of the 4 within-stratum assignments reach |effect| = 1
    side, values = np.array([0, 1, 0, 1]), np.array([1.0, 0, 1, 0])
    result = stats.paired_test(_partitioned(values, side), 4, n_resamples=4000, sides=(side, np.array([0, 0, 1, 1])))
    assert result.effect == pytest.approx(1.0) and result.p_value == pytest.approx(0.5, abs=0.03)
