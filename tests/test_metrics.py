"""SF (Eq. 4), AUC, Precision and Recall on tiny cases computed by hand."""

import numpy as np
import pytest

from harness import metrics

GROUPS = ("male", "female")


def _pairs():
    # 6 pairs: users 0-3 male, 4-5 female.
    user_group = np.array([0, 0, 0, 0, 1, 1])
    h = np.array([0.5, 0.2, 0.3, 0.9, 0.4, 0.6])
    target_in_group = np.array([[1, 0], [1, 0], [0, 0], [1, 0], [0, 1], [1, 0]], dtype=bool)
    recommended = np.array([1, 1, 1, 0, 1, 1], dtype=bool)
    return recommended, user_group, h, target_in_group


def test_sf_as_printed_counts_group_items_over_all_recommended_pairs():
    rec, ug, h, tig = _pairs()
    result = metrics.stereotype_fairness(rec, ug, h, tig, GROUPS)
    # male: numerator h of recommended male pairs 0.5+0.2+0.3 = 1.0;
    # recommended targets in male group: pairs 0, 1, 5 -> 3.  SF_male = 1 - 1/3
    # female: numerator 0.4+0.6 = 1.0; recommended targets in female group: pair 4 -> 1. SF_female = 0
    assert result.per_group["male"] == pytest.approx(1 - 1 / 3)
    assert result.per_group["female"] == pytest.approx(0.0)
    assert result.value == pytest.approx((2 / 3 + 0) / 2)
    assert result.reasons == {}


def test_sf_group_users_denominator():
    rec, ug, h, tig = _pairs()
    result = metrics.stereotype_fairness(rec, ug, h, tig, GROUPS, denominator="group_users")
    # male: 1.0 / 2 (pairs 0, 1) -> 0.5;  female: 1.0 / 1 (pair 4) -> 0
    assert result.per_group == pytest.approx({"male": 0.5, "female": 0.0})
    assert result.value == pytest.approx(0.25)


def test_sf_negative_when_under_recommending():
    ug = np.array([0, 0])
    h = np.array([0.8, 0.8])
    tig = np.array([[1, 0], [0, 1]], dtype=bool)
    result = metrics.stereotype_fairness(np.array([True, True]), ug, h, tig, GROUPS)
    assert result.per_group["male"] == pytest.approx(1 - 1.6 / 1)


def test_sf_undefined_group_is_nan_with_reason_not_zero():
    rec, ug, h, tig = _pairs()
    tig = tig.copy()
    tig[:, 1] = False
    result = metrics.stereotype_fairness(rec, ug, h, tig, GROUPS)
    assert np.isnan(result.per_group["female"]) and np.isnan(result.value)
    assert "female" in result.reasons["female"] and "female" in result.reasons["overall"]
    assert result.to_dict()["value"] is None


def test_sf_nothing_recommended_is_nan():
    rec, ug, h, tig = _pairs()
    result = metrics.stereotype_fairness(np.zeros(6, dtype=bool), ug, h, tig, GROUPS)
    assert np.isnan(result.value)


def test_pair_relation_masks_table1_rows():
    _, ug, _, tig = _pairs()
    assert metrics.pair_relation_mask(ug, tig, "inside").tolist() == [True, True, False, True, True, False]
    assert metrics.pair_relation_mask(ug, tig, "outside").tolist() == [False, False, True, False, False, True]
    assert metrics.pair_relation_mask(ug, tig, "all").all()
    with pytest.raises(ValueError, match="relation"):
        metrics.pair_relation_mask(ug, tig, "across")


def test_auc_by_hand_with_ties():
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.9, 0.5, 0.1])
    # positive/negative pairs: (0.9,0.9) tie 0.5, (0.9,0.1) 1, (0.5,0.9) 0, (0.5,0.1) 1 -> 2.5/4
    assert metrics.auc(labels, scores).value == pytest.approx(0.625)


def test_auc_single_class_is_nan_with_reason():
    value = metrics.auc(np.ones(3), np.arange(3.0))
    assert np.isnan(value.value) and "both classes" in value.reason


def test_precision_recall_by_hand():
    labels = np.array([1, 1, 0, 0, 1])
    scores = np.array([2.0, -1.0, 0.5, -3.0, 0.1])
    perf = metrics.performance(labels, scores)
    assert perf["precision"].value == pytest.approx(2 / 3)
    assert perf["recall"].value == pytest.approx(2 / 3)
    none = metrics.performance(labels, -np.ones(5))
    assert np.isnan(none["precision"].value) and none["recall"].value == 0.0


def test_performance_by_group():
    labels = np.array([1, 0, 1, 0])
    scores = np.array([1.0, -1.0, -1.0, 1.0])
    out = metrics.performance_by_group(labels, scores, np.array([0, 0, 1, 1]), GROUPS)
    assert out["male"]["auc"].value == 1.0 and out["female"]["auc"].value == 0.0
    assert out["all"]["auc"].value == pytest.approx(0.5)


def test_sf_by_relation_restricts_the_recommended_set():
    rec, ug, h, tig = _pairs()
    out = metrics.stereotype_fairness_by_relation(rec, ug, h, tig, GROUPS)
    assert out["all"].value == metrics.stereotype_fairness(rec, ug, h, tig, GROUPS).value
    # inside: recommended pairs 0, 1, 4. male: (0.5+0.2)/2 -> 1-0.35; female: 0.4/1 -> 0.6
    assert out["inside"].per_group == pytest.approx({"male": 1 - 0.35, "female": 0.6})
    # outside: recommended pairs 2 (male, neutral target) and 5 (female user, male target).
    # male: 0.3 / 1 -> 0.7; female: no recommended target in the female group -> NaN
    assert out["outside"].per_group["male"] == pytest.approx(0.7)
    assert np.isnan(out["outside"].per_group["female"]) and np.isnan(out["outside"].value)
