"""Eq. 4's recommendations S at one rate (``--decision-rate``): each row's top share of test
pairs, so that rows differ by what they rank high, not by how many pairs they answer Yes."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from harness.report import ReportError, build_report
from harness.report.__main__ import main
from harness.report.collect import load
from harness.report.decision import at_rate, parse_rate
from harness.report.rescore import at_share, cut

from .fixtures import write_experiment

FAST = {"resamples": 300}


def test_the_cut_takes_the_top_k_and_leaves_a_tie_at_the_cut_out():
    scores = np.array([0.9, -3.0, 2.0, 0.5, 0.5, 7.0])
    assert (at_share(scores, 0.5) > 0).tolist() == [True, False, True, False, False, True]  # top 3
    assert (at_share(scores, 4 / 6) > 0).sum() == 3  # the 4th and 5th tie at 0.5: both left out
    assert (at_share(scores, 1.0) > 0).all() and cut(scores, 0) == 7.0
    assert not (at_share(scores, 0.0) > 0).any()
    shifted = at_share(scores, 0.5)
    assert np.argsort(shifted).tolist() == np.argsort(scores).tolist()  # the order, so AUC, is kept


def test_rates_are_checked():
    assert parse_rate(None) is None and parse_rate("yes") is None
    assert parse_rate("liked") == "liked" and parse_rate("0.25") == 0.25
    for bad in ("most", "0", "1.5", "-0.1"):
        with pytest.raises(ReportError, match="--decision-rate must be 'yes', 'liked' or a share"):
            parse_rate(bad)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rate")
    write_experiment(folder, {"weak": 0.3, "mos": 1.0}, seeds=(0, 1))
    return folder


def test_at_the_liked_share_s_has_as_many_pairs_as_are_liked(experiment):
    trials, notes = at_rate(load(experiment), "liked")
    assert notes == []  # continuous scores: no tie at any cut
    for key in trials.replicated:
        for setting, part in trials.scores(key).groupby("setting"):
            assert (part.score > 0).sum() == round(part.label.mean() * len(part)), (key, setting)
    values = trials.values[trials.values.relation == "all"]
    # |S| = the liked pairs, so precision (TP/|S|) equals recall (TP/liked)
    assert np.allclose(values.precision, values.recall)


def test_a_model_that_says_yes_to_everything_is_measured_by_its_ranking(experiment):
    """The same scores plus 10 (every pair answered Yes, the same order): the Yes answers give it
    the all-yes row's recall of 100; at a rate every number equals the unshifted model's."""
    trials = load(experiment)
    key = next(k for k, r in trials.replicated.items() if r.job.method == "weak")
    frame = trials.scores(key)
    yes = dataclasses.replace(trials, _scores={**trials._scores, key: frame.assign(score=frame.score + 10.0)})
    assert (yes.scores(key).score > 0).all()  # every pair answered Yes
    at, _ = at_rate(trials, "liked")
    yes_at, _ = at_rate(yes, "liked")
    columns = ["sf_implicit", "sf_explicit", "sf_counterfactual", "auc", "precision", "recall"]
    pd.testing.assert_frame_equal(at.values[columns], yes_at.values[columns])
    metrics = yes_at.replicated[key].test["implicit"]
    assert metrics["performance"]["all"]["recall"]["value"] < 1.0


def test_the_report_at_a_rate_keeps_auc_and_says_what_s_is(experiment):
    yes = build_report(experiment, reference="mos", figures=False, **FAST)
    rate = build_report(experiment, reference="mos", figures=False, decision_rate="liked", **FAST)
    ours = lambda r: r.summary[r.summary.source == "ours"].set_index("method")  # noqa: E731
    assert np.allclose(ours(yes).auc_mean, ours(rate).auc_mean)
    assert not np.allclose(ours(yes).precision_mean, ours(rate).precision_mean)
    assert (
        "top-scored test pairs, as many as its seed's test pairs hold liked ones" in rate.caption
        and "--decision-rate yes" in rate.caption
    )
    assert "Eq. 4's S" not in yes.caption
    references = rate.summary[rate.summary.source == "reference"].set_index("method")
    assert references.loc["oracle", "precision_mean"] == pytest.approx(100.0)  # S = exactly the liked pairs
    assert references.loc["oracle", "recall_mean"] == pytest.approx(100.0)
    assert references.loc["all-yes", "recall_mean"] == pytest.approx(100.0)  # every pair, whatever the rate
    comparisons = rate.comparisons
    assert set(comparisons.metric) >= {"sf_implicit", "auc"}
    auc = comparisons[comparisons.metric == "auc"].set_index("method_b").effect
    assert auc.to_dict() == pytest.approx(
        yes.comparisons[yes.comparisons.metric == "auc"].set_index("method_b").effect.to_dict()
    )


def test_at_a_share_every_row_recommends_it_and_the_tests_read_that_s(experiment):
    """A numeric rate: the oracle recommends liked pairs first (below the liked share: precision
    100; above it: recall 100), random that share; the SF tests read the same S as the table."""
    for rate in (0.3, 0.8):  # the fixture's pairs are about half liked
        report = build_report(experiment, reference="mos", figures=False, decision_rate=rate, **FAST)
        rows = report.summary.set_index("method")
        assert rows.loc["oracle", "precision_mean" if rate < 0.5 else "recall_mean"] == pytest.approx(100.0)
        assert rows.loc["random", "precision_mean"] == pytest.approx(rows.loc["all-yes", "precision_mean"], abs=3)
        tested = report.comparisons[
            (report.comparisons.metric == "sf_implicit") & (report.comparisons.relation == "all")
        ].set_index("method_b")
        for method in tested.index:  # each effect is the difference of the table's means
            assert tested.loc[method, "effect"] == pytest.approx(
                rows.loc["mos", "sf_implicit_mean"] - rows.loc[method, "sf_implicit_mean"], abs=1e-9
            )


def test_a_rate_needs_every_records_scores(tmp_path):
    folder = tmp_path / "noscores"
    write_experiment(folder, {"mos": 1.0}, seeds=(0,))
    next((folder / "trials").glob("*.parquet")).unlink()
    with pytest.raises(
        ReportError,
        match="--decision-rate measures every replicated record from its per-example "
        "scores: record .* has no per-example scores .*drop --decision-rate",
    ):
        build_report(folder, reference="mos", figures=False, significance=False, decision_rate="liked")


def test_a_cut_of_nan_scores_is_refused():
    with pytest.raises(ReportError, match="finite scores"):
        cut(np.array([0.1, np.nan]), 1)


def test_the_command_line_refuses_a_bad_rate(experiment, capsys):
    assert main([str(experiment), "--decision-rate", "half", "--no-figures", "--out", str(experiment / "r")]) == 2
    assert (
        "--decision-rate must be 'yes', 'liked' or a share of the test pairs in (0, 1], got 'half'"
        in capsys.readouterr().err
    )
