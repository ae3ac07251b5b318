"""Eq. 1-3 on tiny cases computed by hand."""

import numpy as np
import pytest

from harness import stereotype


def _paper_example():
    # 10 users in G1 (index 0), 10 in G2 (index 1); item 0 interacted by
    # 3 of G1 (30%) and 1 of G2 (10%) -> the paper's d_{v in G1} = 0.2 (§2.1.2).
    user_group = np.array([0] * 10 + [1] * 10)
    users = np.r_[np.arange(20), [0, 1, 2, 10]]
    items = np.r_[np.full(20, 1), [0, 0, 0, 0]]  # every user also has item 1
    return users, items, user_group


def test_paper_example_degree_is_0_2():
    users, items, user_group = _paper_example()
    rates = stereotype.group_interaction_rates(users, items, user_group, n_items=2, n_groups=2)
    np.testing.assert_allclose(rates[0], [0.3, 0.1])
    degree = stereotype.item_degree(rates)
    np.testing.assert_allclose(degree[0], [0.2, -0.2])
    np.testing.assert_allclose(degree[1], [0.0, 0.0])


def test_duplicate_interactions_count_once_and_group_size_counts_present_users():
    user_group = np.array([0, 0, 1, 1, 1])  # user 4 has no interaction: not in |G2|
    users = np.array([0, 0, 1, 2, 3])
    items = np.array([0, 0, 1, 0, 1])
    rates = stereotype.group_interaction_rates(users, items, user_group, 2, 2)
    np.testing.assert_allclose(rates, [[1 / 2, 1 / 2], [1 / 2, 1 / 2]])


def test_three_groups_subtract_all_other_groups():
    rates = np.array([[0.5, 0.1, 0.2]])
    np.testing.assert_allclose(stereotype.item_degree(rates), [[0.2, -0.6, -0.4]])


def test_global_threshold_is_mean_plus_z_std_of_items_own_group_degree():
    degree = np.array([[0.4, -0.4], [-0.1, 0.1], [0.0, 0.0], [0.2, -0.2]])
    top = np.array([0.4, 0.1, 0.0, 0.2])
    expected = top.mean() + 1.5 * top.std()
    np.testing.assert_allclose(stereotype.stereotype_threshold(degree, z=1.5), [expected, expected])


def test_per_group_threshold_and_items_mask():
    degree = np.array([[0.4, -0.4], [-0.1, 0.1], [9.0, 9.0]])
    mask = np.array([True, True, False])
    got = stereotype.stereotype_threshold(degree, z=1.0, scope="per_group", items=mask)
    np.testing.assert_allclose(got, [0.15 + 0.25, -0.15 + 0.25])


def test_threshold_rejects_unknown_scope_and_empty_items():
    with pytest.raises(ValueError, match="scope"):
        stereotype.stereotype_threshold(np.zeros((2, 2)), scope="both")
    with pytest.raises(ValueError, match="no items"):
        stereotype.stereotype_threshold(np.zeros((2, 2)), items=np.array([False, False]))


def test_stereotyped_and_user_proportion():
    degree = np.array([[0.3, -0.3], [-0.5, 0.5], [0.0, 0.0]])
    in_group = stereotype.stereotyped(degree, np.array([0.25, 0.25]))
    assert in_group.tolist() == [[True, False], [False, True], [False, False]]
    history = np.array([[0, 0, 1, 2], [0, 1, -1, -1], [-1, -1, -1, -1]])
    h = stereotype.user_proportion(history, np.array([0, 1, 0]), in_group)
    np.testing.assert_allclose(h[:2], [2 / 4, 1 / 2])
    assert np.isnan(h[2])


def test_threshold_moments_rebuild_the_threshold_at_any_z():
    degree = np.array([[0.1, 0.0], [0.3, 0.2], [0.0, 0.9], [0.5, 0.1]])
    for scope in ("global", "per_group"):
        mean, std = stereotype.threshold_moments(degree, scope)
        for z in (0.0, 1.0, 3.0):
            np.testing.assert_allclose(mean + z * std, stereotype.stereotype_threshold(degree, z, scope))
