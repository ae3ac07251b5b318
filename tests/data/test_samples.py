"""Sliding windows, sampling and the leak-free split, on a small table built by hand."""

import numpy as np
import pandas as pd
import pytest

from harness.config.data import SampleConfig, is_liked
from harness.data.samples import SPLITS, build_samples
from harness.data.schema import DataError, LoadReport, RatingsTable


def _table(n_users=30, per_user=15, with_time=True):
    rows = []
    for u in range(n_users):
        for k in range(per_user):
            # timestamps run backwards in file order, so sorting matters
            rows.append((f"u{u}", f"i{(u + k) % 40}", float(1 + (u + k) % 5), float(1000 - k) if with_time else np.nan))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    users = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(n_users + 1)],
            "group": ["male" if u % 3 else "female" for u in range(n_users)] + [pd.NA],
        }
    )
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(40)], "title": [f"Title {i}" for i in range(40)]})
    return RatingsTable("toy", inter, users, items, ("male", "female"), LoadReport())


def test_windows_follow_time_order_and_labels_follow_the_threshold():
    table = _table(n_users=2, per_user=12)
    s = build_samples(table, SampleConfig(n_sequences=100, ratios=(1, 0, 0)), like_threshold=3, time_order=True)
    assert len(s) == 4 and s.notes  # 2 users x (12 - 11 + 1) windows; fewer than asked is noted
    # user u0's items in time order are i11, i10, ..., i0 (timestamps run backwards)
    titles = [s.titles[i] for i in s.history[0]] + [s.titles[s.target[0]]]
    assert titles == [f"Title {k}" for k in range(11, 0, -1)]
    ratings = np.array([1.0 + k % 5 for k in range(11, 0, -1)])
    assert s.history_liked[0].tolist() == (ratings[:10] > 3).tolist()
    assert s.label[0] == int(ratings[10] > 3) and s.target_rating[0] == ratings[10]


def test_liked_comparison():
    assert is_liked(np.array([2.0, 3.0, 4.0]), 3, "ge").tolist() == [False, True, True]
    assert is_liked(np.array([2.0, 3.0, 4.0]), 3, "gt").tolist() == [False, False, True]


def _one_user(ratings: list[float]) -> RatingsTable:
    """One user's ratings in time order, one item each."""
    n = len(ratings)
    inter = pd.DataFrame(
        {
            "user_id": "u0",
            "item_id": [f"i{k}" for k in range(n)],
            "rating": ratings,
            "timestamp": np.arange(n, dtype=float),
        }
    )
    users = pd.DataFrame({"user_id": ["u0"], "group": ["male"]})
    items = pd.DataFrame({"item_id": [f"i{k}" for k in range(n)], "title": [f"T{k}" for k in range(n)]})
    return RatingsTable("toy", inter, users, items, ("male", "female"), LoadReport())


@pytest.mark.parametrize(
    "options, history_liked, labels",
    [
        ({}, [0, 0, 0, 1, 1, 0, 0, 0, 1, 1], [0, 0]),  # the default, TALLRec's: liked when rating > 3
        ({"like_comparison": "ge"}, [0, 0, 1, 1, 1, 0, 1, 1, 1, 1], [1, 0]),  # the paper's literal: >= 3
    ],
    ids=["gt-default", "ge-literal"],
)
def test_labels_by_hand_under_both_readings(options, history_liked, labels):
    """12 ratings, two windows of 11: history 1-10 then target 11, history 2-11 then target 12.
    The history's liked/disliked marks follow the same rule as the target's label."""
    ratings = [1, 2, 3, 4, 5, 2, 3, 3, 4, 5, 3, 1]
    s = build_samples(_one_user(ratings), SampleConfig(n_sequences=2, ratios=(1, 0, 0), **options), 3, True)
    assert s.history_liked[0].astype(int).tolist() == history_liked
    assert s.history_liked[1].astype(int).tolist() == history_liked[1:] + [labels[0]]
    assert s.label.tolist() == labels and s.target_rating.tolist() == [3.0, 1.0]
    assert s.like_comparison == options.get("like_comparison", "gt")


def test_user_split_is_disjoint_close_to_8_1_1_and_seeded():
    table = _table(n_users=300, per_user=14)
    config = SampleConfig(n_sequences=1000, seed=7)
    s = build_samples(table, config, 3, True)
    users = {name: set(s.user[s.mask(name)]) for name in SPLITS}
    assert not (users["train"] & users["valid"]) and not (users["train"] & users["test"])
    assert not (users["valid"] & users["test"])
    sizes = s.split_sizes
    assert sum(sizes.values()) == 1000
    assert abs(sizes["train"] - 800) <= 4 and abs(sizes["valid"] - 100) <= 8  # whole users of <= 4 windows
    again = build_samples(table, config, 3, True)
    assert np.array_equal(s.history, again.history) and np.array_equal(s.split, again.split)
    other = build_samples(table, SampleConfig(n_sequences=1000, seed=8), 3, True)
    assert not np.array_equal(s.split, other.split)


def test_random_split_is_exact():
    s = build_samples(_table(n_users=300, per_user=14), SampleConfig(n_sequences=1000, split="random"), 3, True)
    assert s.split_sizes == {"train": 800, "valid": 100, "test": 100}


def test_users_without_group_are_left_out():
    table = _table(n_users=5, per_user=11)
    extra = pd.DataFrame(
        {"user_id": ["u5"] * 11, "item_id": [f"i{k}" for k in range(11)], "rating": 4.0, "timestamp": 1.0}
    )
    table = RatingsTable(
        "toy", pd.concat([table.interactions, extra]), table.users, table.items, table.groups, table.report
    )
    s = build_samples(table, SampleConfig(window=3, n_sequences=100, split="random"), 3, True)  # 5 users
    assert "u5" not in set(s.user_ids) and len(s) == 5 * 9
    assert set(s.user_group.tolist()) <= {0, 1}


def test_no_timestamps_uses_a_seeded_order():
    table = _table(n_users=3, per_user=20, with_time=False)
    a, b, c = (
        build_samples(table, SampleConfig(n_sequences=10, seed=seed, split="random"), 3, time_order=False)
        for seed in (1, 1, 2)
    )
    assert np.array_equal(a.history, b.history) and not np.array_equal(a.history, c.history)


def test_a_user_split_that_leaves_a_split_empty_is_refused_with_its_counts():
    """Few users, one with most sequences: a whole user takes the validation share."""
    table = _table(n_users=12, per_user=15)
    heavy = pd.DataFrame(
        {"user_id": "u0", "item_id": [f"i{k % 40}" for k in range(300)], "rating": 4.0, "timestamp": np.arange(300.0)}
    )
    table = RatingsTable(
        "toy",
        pd.concat([table.interactions[table.interactions.user_id != "u0"], heavy]),
        table.users,
        table.items,
        table.groups,
        table.report,
    )
    with pytest.raises(DataError) as info:
        for seed in range(20):  # whichever seed puts the heavy user across the validation share
            build_samples(table, SampleConfig(n_sequences=340, seed=seed), 3, True)
    message = str(info.value)
    assert "left valid empty" in message and "valid 0" in message and "12 users" in message
    assert "data.split: random" in message and "data.ratios" in message


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": 1}, "window"),
        ({"split": "time"}, "split"),
        ({"ratios": (0.5, 0.5, 0.5)}, "ratios"),
        ({"like_comparison": "le"}, "like_comparison"),
        ({"n_sequences": 0}, "n_sequences"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SampleConfig(**kwargs)
