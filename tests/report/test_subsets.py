"""Named pair subsets (harness.report.subsets): their relations' grammar, and the values measured on
them, which are the records' where the records hold them and the figures' where the figures draw them."""

import numpy as np
import pytest

from harness.report.collect import load
from harness.report.figures import _subset_auc
from harness.report.subsets import SubsetError, parse, values_on

from .fixtures import write_figures

DATASET = "movielens-100k"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    return write_figures(tmp_path_factory.mktemp("subsets") / "exp", "fig4_fig5", DATASET)


def test_relations_parse_into_subsets_and_bad_ones_say_what_is_wrong():
    assert parse("inside-outside") == ("inside", "outside")
    assert parse("users:male-users:female") == ("users:male", "users:female")
    assert parse("below-above") == ("below", "above") and parse("targets:age_18_24") == ("targets:age_18_24", None)
    for bad, words in [
        ("men", "unknown pair subset 'men'"),
        ("users:", "a group's name"),
        ("users:male-targets:female", "two different subsets of one kind"),
        ("users:male-users:male", "two different subsets of one kind"),
        ("all-inside", "two different subsets of one kind"),
        ("below-above-all", "more than two subsets"),
        ("users:ma le", "a group's name"),
    ]:
        with pytest.raises(SubsetError, match=words):
            parse(bad)


def test_the_values_a_claim_tests_are_the_records_and_the_figures(experiment):
    trials = load(experiment, ("all", "inside", "outside"))
    for subset in ("users:male", "users:female"):  # the records' per-group performance (Figure 4's user bars)
        values = values_on(trials, DATASET, "mos", subset)
        for _, row in values.iterrows():
            held = trials.records[row.key].test["implicit"]["performance"][subset.split(":")[1]]
            for metric in ("auc", "precision", "recall"):
                assert row[metric] == pytest.approx(100 * held[metric]["value"], abs=1e-9), (row.key, metric)
    for subset in ("targets:male", "below", "above"):  # Figure 4's item bars, Figure 5's lines
        values = values_on(trials, DATASET, "items", subset)
        assert values.auc.tolist() == [_subset_auc(trials, trials.records[k], subset) for k in values.key]
    inside = trials.values[(trials.values.relation == "inside") & (trials.values.method == "flat")].set_index("seed")
    measured = values_on(trials, DATASET, "flat", "inside")  # one definition of inside: the records'
    np.testing.assert_allclose(measured[["auc", "precision", "recall"]], inside[["auc", "precision", "recall"]])
    assert (values_on(trials, DATASET, "mos", "users:male").auc == 100.0).all()
