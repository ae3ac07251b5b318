"""The selection of a multi-metric search: the Pareto set against a brute-force computation,
and each rule on points whose answer is known."""

import numpy as np
import pytest

from harness.pareto import closest_to_ideal, constrained, knee, pareto_mask, select


def _brute_force(points, maximize):
    """Row i is optimal unless some row j is at least as good on every metric, better on one."""
    sign = np.where(maximize, 1.0, -1.0)
    out = []
    for i, p in enumerate(points):
        if np.isnan(p).any():
            out.append(False)
            continue
        beaten = False
        for j, q in enumerate(points):
            if j == i or np.isnan(q).any():
                continue
            if all(sign[m] * q[m] >= sign[m] * p[m] for m in range(len(p))) and any(
                sign[m] * q[m] > sign[m] * p[m] for m in range(len(p))
            ):
                beaten = True
        out.append(not beaten)
    return np.array(out)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("maximize", [(True, False), (True, True), (False, True, True)])
def test_the_pareto_set_equals_a_brute_force_computation(seed, maximize):
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 6, size=(25, len(maximize))).astype(float)  # small integers: ties happen
    points[rng.random(25) < 0.1, 0] = np.nan  # and undefined rows
    assert (pareto_mask(points, maximize) == _brute_force(points, maximize)).all()


def test_auc_up_and_sf_down():
    # (valid AUC, |SF|): b is dominated by a (lower AUC, higher |SF|); d is undefined
    points = [[0.80, 0.30], [0.70, 0.35], [0.75, 0.10], [np.nan, 0.0], [0.60, 0.05]]
    assert pareto_mask(points, (True, False)).tolist() == [True, False, True, False, True]
    assert select(points, (True, False), "pareto") == [0, 2, 4]
    # the best AUC with |SF| at most 0.2, and with at most 0.01 (none)
    assert constrained(points, (True, False), best=0, bounds={1: 0.2}) == 2
    assert select(points, (True, False), "constrained", best=0, bounds={1: 0.01}) == []


def test_the_knee_is_where_the_front_bends():
    # a front that is flat, then steep: the corner (0.9, 0.9) is the knee
    points = [[1.0, 0.0], [0.95, 0.85], [0.9, 0.9], [0.2, 0.95], [0.0, 1.0]]
    assert knee(points, (True, True)) == 2
    assert closest_to_ideal(points, (True, True)) == 2
    with pytest.raises(ValueError, match="exactly two metrics"):
        knee([[1, 2, 3]], (True, True, True))


def test_the_ideal_point_on_the_normalized_front():
    # minimizing both: (0, 10) and (10, 0) are extremes; (3, 3) is nearest to (0, 0) once scaled
    points = [[0.0, 10.0], [10.0, 0.0], [3.0, 3.0], [4.0, 4.0]]
    assert closest_to_ideal(points, (False, False)) == 2
    assert closest_to_ideal([[np.nan, 1.0]], (True, True)) is None


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"points must be \(N, 2\)"):
        pareto_mask([1.0, 2.0], (True, False))
    with pytest.raises(ValueError, match="selection rule must be one of"):
        select([[1.0, 2.0]], (True, False), "best")


def test_every_rule_picks_from_the_pareto_set():
    rng = np.random.default_rng(3)
    for points in (rng.random((30, 2)) for _ in range(10)):
        front = set(np.flatnonzero(pareto_mask(points, (True, False))))
        for rule in ("knee", "ideal"):
            assert set(select(points, (True, False), rule)) <= front
        [chosen] = select(points, (True, False), "constrained", best=0, bounds={1: 0.5})
        assert chosen in front  # the best AUC within the bound is dominated by nothing


def test_a_search_spaces_selection_reads_records_metrics_and_drops_thin_sf():
    """Selection.choose: records' validation metrics in; an SF resting on fewer than min_support
    targets counts as undefined, so that configuration cannot be selected on SF."""
    from harness.config.sweep import Selection

    rows = [
        {"valid_auc": 0.80, "valid_abs_sf": 0.30, "valid_sf_support": 20},
        {"valid_auc": 0.70, "valid_abs_sf": 0.01, "valid_sf_support": 3},  # thin: not selectable
        {"valid_auc": 0.75, "valid_abs_sf": 0.20, "valid_sf_support": 12},
        {"valid_auc": 0.90, "valid_abs_sf": None, "valid_sf_support": 0},
    ]  # SF undefined
    two = Selection(("valid_auc", "valid_abs_sf"), ("max", "min"), "pareto")
    assert two.choose(rows) == [0, 2]
    assert Selection(("valid_auc", "valid_abs_sf"), ("max", "min"), "pareto", min_support=3).choose(rows) == [0, 1, 2]
    assert Selection(
        ("valid_auc", "valid_abs_sf"), ("max", "min"), "constrained", best="valid_auc", bounds={"valid_abs_sf": 0.25}
    ).choose(rows) == [2]
    assert Selection().choose(rows) == [3]  # one metric, as always: the best validation AUC


def test_sf_at_the_liked_rate_is_selected_on_its_own_support():
    """valid_abs_sf_liked (S the top-scored pairs) rests on valid_sf_liked_support, not on the
    Yes answers' support: a model answering Yes to every pair has the one and may lack the other."""
    from harness.config.sweep import Selection

    rows = [
        {
            "valid_auc": 0.80,
            "valid_abs_sf": 0.30,
            "valid_sf_support": 2,
            "valid_abs_sf_liked": 0.10,
            "valid_sf_liked_support": 20,
        },
        {
            "valid_auc": 0.85,
            "valid_abs_sf": 0.01,
            "valid_sf_support": 50,
            "valid_abs_sf_liked": 0.20,
            "valid_sf_liked_support": 3,
        },
    ]  # thin at the rate
    liked = Selection(("valid_auc", "valid_abs_sf_liked"), ("max", "min"), "pareto")
    assert liked.values(rows[0]) == [0.80, 0.10] and liked.values(rows[1]) == [0.85, None]
    assert liked.choose(rows) == [0]
    assert Selection(("valid_auc", "valid_abs_sf"), ("max", "min"), "pareto").choose(rows) == [1]


def test_the_knee_and_the_ideal_point_differ_where_the_front_says_so():
    # the chord from (1, 0) to (0, 1): (0.98, 0.5) lies farthest from it (the knee), while
    # (0.7, 0.7) lies nearest to the ideal (1, 1)
    points = [[1.0, 0.0], [0.98, 0.5], [0.7, 0.7], [0.0, 1.0]]
    assert knee(points, (True, True)) == 1
    assert closest_to_ideal(points, (True, True)) == 2


def test_a_tie_on_the_best_metric_goes_to_the_row_better_on_the_others():
    # equal AUC: the lower |SF| wins, whatever the rows' order (which follows the records' keys)
    assert constrained([[0.8, 0.3], [0.8, 0.1]], (True, False), best=0, bounds={}) == 1
    assert constrained([[0.8, 0.1], [0.8, 0.3]], (True, False), best=0, bounds={}) == 0
    assert constrained([[0.8, 0.1], [0.8, 0.1]], (True, False), best=0, bounds={}) == 0  # equal: the earliest
    assert constrained([[0.3, 0.8], [0.1, 0.8], [0.2, 0.7]], (False, True), best=1, bounds={}) == 1


def test_a_metric_that_is_not_finite_is_undefined_for_the_selection():
    from harness.config.sweep import Selection

    selection = Selection(("valid_auc", "valid_abs_sf"), ("max", "min"), rule="pareto", min_support=1)
    rows = [
        {"valid_auc": float("-inf"), "valid_abs_sf": 0.0, "valid_sf_support": 5},  # AUC undefined
        {"valid_auc": 0.7, "valid_abs_sf": float("nan"), "valid_sf_support": 5},
        {"valid_auc": 0.6, "valid_abs_sf": 0.2, "valid_sf_support": 5},
    ]
    assert selection.values(rows[0]) == [None, 0.0] and selection.values(rows[1]) == [0.7, None]
    assert selection.choose(rows) == [2]
    assert Selection().choose([{"valid_auc": float("-inf")}, {"valid_auc": 0.55}]) == [1]
