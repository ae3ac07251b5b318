"""Claims on Figures 4 and 5: one method's AUC (Precision, Recall) on two subsets of its own test
pairs (users of two groups, targets stereotyped to two groups, targets below and above the
threshold), on records whose answers are known by construction."""

import numpy as np
import pytest

from harness.plan import make_plan
from harness.report import build_report
from harness.report.claims import AGREES, DIFFERS, Claim, ClaimError, parse_claims
from harness.report.collect import load
from harness.report.subsets import values_on

from .fixtures import write_figures

EXPERIMENT, DATASET = "fig4_fig5", "movielens-100k"
FAST = {"resamples": 200, "figures": False, "methods": ("mos",)}  # the claims alone: no table comparisons
FIGURES = [
    {"name": "f4-auc-users", "a": "mos", "b": "mos", "relation": "users:male-users:female", "metric": "auc",
     "expect": "higher"},
    {"name": "f4-auc-items", "a": "items", "b": "items", "relation": "targets:male-targets:female",
     "metric": "auc", "expect": "differs"},
    {"name": "f5-auc-threshold", "a": "flat", "b": "flat", "relation": "below-above", "metric": "auc",
     "expect": "higher"},
]  # fmt: skip


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    return write_figures(tmp_path_factory.mktemp("figures") / "exp", EXPERIMENT, DATASET)


def test_a_claim_refuses_a_bad_relation_sf_on_new_subsets_and_a_contrast_of_two_methods():
    claim = dict(FIGURES[0])
    for change, words in [
        ({"relation": "users:male-user:female"}, "unknown pair subset 'user:female'"),
        ({"b": "tallrec"}, "a and b name the same method exactly when relation is a contrast"),
        ({"relation": "users:male"}, "a and b name the same method exactly when relation is a contrast"),
        ({"metric": "sf_implicit"}, "the paper defines SF"),
        ({"metric": "sf_implicit", "relation": "below", "b": "tallrec"}, "the paper defines SF"),
    ]:
        with pytest.raises(ClaimError, match=words):
            parse_claims([{**claim, **change}])
    assert Claim("t1", "mos", "mos", "sf_implicit", "lower", relation="inside-outside").relation == "inside-outside"
    assert Claim("one", "mos", "tallrec", "recall", "higher", relation="users:female").b == "tallrec"


def test_a_group_the_data_set_does_not_have_is_refused_with_its_groups(experiment):
    claims = parse_claims([{**FIGURES[0], "relation": "users:men-users:female"}])
    with pytest.raises(ClaimError, match=r"names group\(s\) \['men'\].*groups are male, female"):
        build_report(experiment, claims=claims, **FAST)


def test_the_figure_claims_get_their_known_answers(experiment, tmp_path):
    report = build_report(experiment, claims=parse_claims(FIGURES), **FAST)
    claims = report.claims().set_index("claim")
    assert set(claims.index) == {c["name"] for c in FIGURES} and (claims.seeds == 3).all()
    users, items, threshold = (claims.loc[c["name"]] for c in FIGURES)
    assert 35 < users.effect < 65 and users.verdict == AGREES, users.why  # 100 against ~50
    assert 35 < threshold.effect < 65 and threshold.verdict == AGREES, threshold.why
    assert items.effect > 10 and items.verdict == DIFFERS, items.why  # targets:female mixes both
    # the user-level test: users reassigned between the groups for users:*, swapped within users otherwise
    assert users.p_users == pytest.approx(1 / 201) and "reassigns users" in users.note
    assert threshold.p_users == pytest.approx(1 / 201) and "reassigns" not in threshold.note
    assert users.ci_users_low > 30 and np.isnan(users.agreement)  # one model: nothing to agree with
    assert (claims.family == "claims").all() and (claims.p_adjusted <= 3 * claims.p + 1e-12).all()
    report.save(tmp_path / "out")
    text = (tmp_path / "out" / "claims.md").read_text()
    assert "mos users:male − users:female" in text and "flat below − above" in text
    assert "a contrast of one method's pair subsets, as below-above, " in report.caption


def test_a_subset_claim_of_two_methods_reads_both_on_it(experiment):
    claim = {"name": "male-auc", "a": "mos", "b": "flat", "relation": "users:male", "metric": "auc",
             "expect": "higher"}  # fmt: skip
    row = build_report(experiment, claims=parse_claims([claim]), **FAST).claims().iloc[0]
    trials = load(experiment, ("all",))
    expected = (
        values_on(trials, DATASET, "mos", "users:male").auc - values_on(trials, DATASET, "flat", "users:male").auc
    )
    assert row.effect == pytest.approx(expected.mean()) and row.effect > 10
    assert 0 < row.agreement < 1 and row.poi_users > 0.5


def test_a_plan_sizes_the_figure_claims(experiment):
    plan = make_plan(experiment, parse_claims(FIGURES), {}, effect=5.0, benchmarks=None)
    by = {c.claim: c for c in plan.claims}
    assert by["f4-auc-users"].relation == "users:male-users:female" and by["f4-auc-users"].seeds >= 2
    assert plan.family == 3 and plan.methods[f"{DATASET}/mos"]["seeds"] == by["f4-auc-users"].seeds
