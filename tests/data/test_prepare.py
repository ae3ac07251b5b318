"""The whole data path on the real MovieLens-100K and BookCrossing subset:
samples, the training-split stereotype measurement, the cache and describe."""

import json

import numpy as np
import pandas as pd
import pytest

from harness.config.data import SampleConfig, StereotypeConfig
from harness.data import movielens
from harness.data.__main__ import main
from harness.data.describe import describe, to_text
from harness.data.prepare import prepare


@pytest.fixture(scope="module")
def ml(movielens_dir, tmp_path_factory):
    return prepare("movielens-100k", movielens_dir, cache_dir=tmp_path_factory.mktemp("prep"))


def test_movielens_table3_and_sample_sizes(ml):
    d = describe(ml)
    assert d["table3"]["users"] == 943 and d["table3"]["items"] == 1682 and d["table3"]["interactions"] == 100_000
    assert d["table3"]["users_per_group"] == {"male": 670, "female": 273}
    assert len(ml.samples) == 10_000 and sum(ml.samples.split_sizes.values()) == 10_000
    assert ml.samples.history.shape == (10_000, 10)


def test_movielens_samples_are_real_time_ordered_windows(ml, movielens_dir):
    table = movielens.load(movielens_dir)
    s = ml.samples
    by_user = table.interactions.groupby("user_id")
    title_of = dict(zip(table.items["item_id"], table.items["title"], strict=True))
    for i in [0, 1234, 9999]:
        rows = by_user.get_group(s.user_ids[s.user[i]]).sort_values("timestamp", kind="stable")
        titles = [title_of[x] for x in rows["item_id"]]
        window = [s.titles[j] for j in s.history[i]] + [s.titles[s.target[i]]]
        start = next(k for k in range(len(titles) - 10) if titles[k : k + 11] == window)
        ratings = rows["rating"].to_numpy()[start : start + 11]
        assert s.history_liked[i].tolist() == (ratings[:10] > 3).tolist()  # TALLRec's reading, the default
        assert s.label[i] == int(ratings[10] > 3) and s.target_rating[i] == ratings[10]


def test_split_is_by_user_and_close_to_8_1_1(ml):
    s = ml.samples
    train, valid, test = (set(s.user[s.mask(n)]) for n in ("train", "valid", "test"))
    assert not train & valid and not train & test and not valid & test
    sizes = s.split_sizes
    assert abs(sizes["train"] - 8000) < 100 and abs(sizes["valid"] - 1000) < 100


def test_degree_uses_training_interactions_only_and_matches_pandas(ml):
    """Eq. 1 recomputed with pandas from the training sequences."""
    s, m = ml.samples, ml.measurement
    train = s.mask("train")
    items = np.concatenate([s.history[train], s.target[train, None]], axis=1)
    pairs = pd.DataFrame({"user": np.repeat(s.user[train], 11), "item": items.ravel()}).drop_duplicates()
    group = pd.Series(s.user_group, index=s.user).groupby(level=0).first()
    pairs["group"] = group.loc[pairs["user"]].to_numpy()
    sizes = pairs.drop_duplicates("user")["group"].value_counts()
    rates = pairs.groupby(["item", "group"]).size().unstack(fill_value=0) / sizes
    expected = (rates[0] - rates[1]).reindex(range(len(s.titles)), fill_value=0.0)
    np.testing.assert_allclose(m.degree[:, 0], expected.to_numpy(), atol=1e-12)
    only_elsewhere = np.setdiff1d(np.r_[s.history[~train].ravel(), s.target[~train]], items.ravel())
    assert len(only_elsewhere) > 0 and not m.items_measured[only_elsewhere].any()
    assert (m.degree[only_elsewhere] == 0).all()


def test_h_and_threshold_follow_eq_2_and_3(ml):
    s, m = ml.samples, ml.measurement
    top = m.degree[m.items_measured].max(axis=1)
    assert m.threshold[0] == pytest.approx(top.mean() + 3 * top.std())
    i = int(np.argmax(m.h))
    own = s.user_group[i]
    assert m.h[i] == pytest.approx(np.mean([m.degree[v, own] >= m.threshold[own] for v in s.history[i]]))
    assert m.h[i] > 0


def test_per_group_scope_differs_from_global(ml, movielens_dir, tmp_path):
    per_group = prepare("movielens-100k", movielens_dir, stereo=StereotypeConfig(scope="per_group"), cache_dir=tmp_path)
    assert per_group.measurement.threshold[0] != per_group.measurement.threshold[1]
    np.testing.assert_array_equal(per_group.measurement.degree, ml.measurement.degree)


def test_cache_round_trip_and_key(movielens_dir, tmp_path):
    first = prepare("movielens-100k", movielens_dir, SampleConfig(n_sequences=500), cache_dir=tmp_path)
    second = prepare("movielens-100k", movielens_dir, SampleConfig(n_sequences=500), cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache
    for name in ("history", "history_liked", "target", "label", "target_rating", "split", "user_group"):
        np.testing.assert_array_equal(getattr(first.samples, name), getattr(second.samples, name))
    np.testing.assert_array_equal(first.measurement.h, second.measurement.h)
    assert list(first.samples.titles) == list(second.samples.titles)
    other = prepare("movielens-100k", movielens_dir, SampleConfig(n_sequences=500, seed=1), cache_dir=tmp_path)
    assert not other.from_cache


def test_bookcrossing_subset_prepares_with_age_groups(bookcrossing_subset_dir, tmp_path):
    bx = prepare("bookcrossing", bookcrossing_subset_dir, cache_dir=tmp_path)
    d = describe(bx)
    assert d["table3"]["users_per_group"] == {"adult": 27_502, "teen": 1_664}
    assert d["table3"]["users_without_group"] == 18_952 + 129 + 52
    assert set(np.unique(bx.samples.user_group)) == {0, 1}
    assert bx.samples.like_threshold == 7.0  # the working default (TALLRec's > 5: 86% of the ratings liked)
    rows = d["samples"]["positive_share"]
    assert [(r["liked_when"], r["labels"]) for r in rows] == [
        ("rating > 7", True),
        ("rating > 5", False),
        ("rating >= 5", False),
    ]
    assert rows[0]["share"]["all"] < rows[1]["share"]["all"] < rows[2]["share"]["all"]
    own = describe(
        prepare("bookcrossing", bookcrossing_subset_dir, SampleConfig(like_threshold=8.0), cache_dir=tmp_path)
    )
    assert [(r["liked_when"], r["labels"]) for r in own["samples"]["positive_share"]][-1] == ("rating > 8", True)
    assert "teen" in to_text(d)


def test_cli_describe_json(movielens_dir, tmp_path, capsys):
    assert (
        main(
            [
                "describe",
                "movielens-100k",
                "--data-dir",
                str(movielens_dir),
                "--json",
                "--n-sequences",
                "2000",
                "--cache-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["samples"]["sequences"] == 2000
    assert set(out["stereotype"]["items_stereotyped"]) == {"male", "female"}
    assert out["stereotype"]["threshold"]["male"] == out["stereotype"]["threshold"]["female"]


def test_describe_shows_the_liked_share_of_each_split_under_both_readings(ml, movielens_dir, tmp_path):
    """MovieLens-100K: about 55% of targets liked at rating > 3 (the labels, by default), about
    82% at rating >= 3 (the paper's literal reading); the same windows, so ge counts every gt."""
    d = describe(ml)
    rows = d["samples"]["positive_share"]
    assert d["samples"]["like_comparison"] == "gt" and [r["liked_when"] for r in rows] == ["rating > 3", "rating >= 3"]
    gt, ge = (r["share"] for r in rows)
    assert [r["labels"] for r in rows] == [True, False]
    for part in ("train", "valid", "test", "all"):
        assert 0.5 < gt[part] < 0.6 and 0.8 < ge[part] < 0.9, (part, gt, ge)
    assert gt["all"] == d["samples"]["positive_labels"] == ml.samples.label.mean()
    lines = {line.split("  ")[0]: line for line in to_text(d).splitlines() if line.startswith("rating ")}
    assert "TALLRec's, the default  yes" in lines["rating > 3"] and f"{gt['test']:.4f}" in lines["rating > 3"]
    assert "the paper's literal" in lines["rating >= 3"] and "yes" not in lines["rating >= 3"]
    literal = prepare("movielens-100k", movielens_dir, SampleConfig(like_comparison="ge"), cache_dir=tmp_path)
    again = describe(literal)["samples"]
    assert [r["share"] for r in again["positive_share"]] == [gt, ge] and again["positive_labels"] == ge["all"]
    assert [r["labels"] for r in again["positive_share"]] == [False, True]


def test_bookcrossings_working_threshold_is_7_and_ge_alone_still_reads_the_papers_median():
    """BookCrossing: None stands for 7 under gt (the working default: TALLRec's > 5 labels 86% of the
    explicit ratings liked) and for the paper's median 5 under ge (the literal reading); MovieLens: 3 both."""
    from harness.config.datasets import get_dataset

    bx, ml = get_dataset("bookcrossing"), get_dataset("movielens-100k")
    assert bx.resolve_like_threshold(None, "gt") == 7.0 and bx.resolve_like_threshold(None, "ge") == 5.0
    assert bx.resolve_like_threshold(5.0, "gt") == 5.0  # TALLRec's rule, named
    assert [(c, t) for c, t, _ in bx.readings()] == [("gt", 7.0), ("gt", 5.0), ("ge", 5.0)]
    assert ml.resolve_like_threshold(None, "gt") == ml.resolve_like_threshold(None, "ge") == 3.0
    assert [(c, t) for c, t, _ in ml.readings()] == [("gt", 3.0), ("ge", 3.0)]


def test_the_cache_key_names_the_threshold_a_none_stands_for(monkeypatch):
    """A data set's default threshold may change (BookCrossing's did): the prepared-data cache is keyed
    on the threshold a None resolves to, so a cache of the old default is never read for the new."""
    from dataclasses import replace

    from harness.config.data import StereotypeConfig
    from harness.config.datasets import get_dataset
    from harness.data import prepare as prepare_module

    stereo, files, sample = StereotypeConfig(), {"a": "hash"}, SampleConfig()
    now = prepare_module.cache_key("bookcrossing", files, sample, stereo)
    old = replace(get_dataset("bookcrossing"), like_threshold=5.0)
    monkeypatch.setattr(prepare_module, "get_dataset", lambda name: old)
    assert prepare_module.cache_key("bookcrossing", files, sample, stereo) != now


def test_cli_list_says_both_readings(capsys):
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert (
        "liked when rating > 3 (TALLRec's, the default; the paper's literal: >= 3, data.like_comparison: ge)"
        in lines["movielens-100k"]
    )
    assert "liked when rating > 7 (the working default, docs/data.md; TALLRec's rule: > 5" in lines["bookcrossing"]
    assert "the paper's literal: >= 5, data.like_comparison: ge" in lines["bookcrossing"]


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(["describe", "movielens-100k", "--data-dir", str(tmp_path)]) == 2
    assert "python -m harness.data fetch movielens-100k" in capsys.readouterr().err
    assert main(["describe", "netflix"]) == 2
    assert "registered data sets: bookcrossing, movielens-100k" in capsys.readouterr().err


def test_metrics_on_real_movielens_agree_with_direct_computation(ml):
    """SF and AUC on the real test split, against computations written out longhand."""
    from harness import metrics

    s, m = ml.samples, ml.measurement
    test = s.mask("test")
    groups, ug, h, tig = s.groups, s.user_group[test], m.h[test], m.target_in_group[test]
    recommend_all = np.ones(test.sum(), dtype=bool)
    sf = metrics.stereotype_fairness(recommend_all, ug, h, tig, groups)
    for g, name in enumerate(groups):
        users_h = sum(hv for hv, gv in zip(h, ug, strict=True) if gv == g)
        targets = sum(1 for row in tig if row[g])
        assert sf.per_group[name] == pytest.approx(1 - users_h / targets)
    # a score the model never sees: how many of the history items were liked
    scores = s.history_liked[test].sum(axis=1).astype(float)
    labels = s.label[test]
    pos, neg = scores[labels == 1], scores[labels == 0]
    longhand = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        len(pos) * len(neg)
    )
    assert metrics.auc(labels, scores).value == pytest.approx(longhand)
    assert 0.5 < longhand < 1.0


def test_cli_support_counts_the_same_targets_under_any_labels(movielens_dir, capsys):
    """``support``: the targets stereotyped to each group rest on the splits and the degrees alone, so
    another like threshold changes the liked counts only (fewer liked at rating > 4 than > 3)."""
    common = ["support", "movielens-100k", "--data-dir", str(movielens_dir), "--n-sequences", "2000"]
    common += ["--seeds", "0", "--threshold", "1:per_group", "--json"]
    assert main(common) == 0
    default = json.loads(capsys.readouterr().out)
    assert main([*common, "--like-threshold", "4"]) == 0
    stricter = json.loads(capsys.readouterr().out)
    assert [r["targets"] for r in stricter] == [r["targets"] for r in default]
    assert all(stricter[0]["liked"][g] <= default[0]["liked"][g] for g in ("male", "female"))
    assert sum(stricter[0]["liked"].values()) < sum(default[0]["liked"].values())
    assert [r["user_pairs"] for r in stricter] == [r["user_pairs"] for r in default]
    row = default[0]  # each user group's side: its users' pairs make up the test split, liked ones among them
    assert sum(row["user_pairs"].values()) == row["test_pairs"]
    for g in row["users"]:
        assert 0 < row["users"][g] <= row["user_pairs"][g] and row["user_liked"][g] <= row["user_pairs"][g]
    assert stricter[0]["user_liked"]["male"] < row["user_liked"]["male"]
    assert main([*common, "--like-threshold", "5"]) == 2  # every rating on one side: refused
    assert "like_threshold 5" in capsys.readouterr().err
