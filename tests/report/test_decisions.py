"""The decisions table: each row's Yes rate and the SF of a random recommender at that rate."""

import numpy as np
import pytest

from harness.metrics import setting_metrics
from harness.report import build_report, rescore
from harness.report.collect import load
from harness.report.decisions import ALL_YES, all_yes_notes, decisions

from .fixtures import write_experiment


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decisions") / "exp"
    write_experiment(folder, {"mos": 1.5, "weak": 0.0})
    return load(folder, ("all", "inside", "outside"))


def test_yes_rates_are_the_share_of_pairs_scored_above_zero(trials):
    table = decisions(trials, ("all", "inside"), draws=5)
    for row in table.itertuples():
        scores = trials.scores(row.key)
        part = scores[scores.setting == row.setting]
        pairs = part if row.relation == "all" else part[part.target_in_own_group]
        assert row.yes == pytest.approx(100 * np.mean(pairs.score > 0))
    assert len(table) == len(trials.records) * 3 * 2


def test_at_every_pair_the_rate_matched_reference_is_all_yes(trials):
    key = next(iter(trials.records))
    frame = trials.scores(key)
    shifted = frame.assign(score=frame.score.abs() + 1.0)  # every pair recommended
    trials._scores[key] = shifted
    try:
        table = decisions(trials, ("all",), draws=3)
    finally:
        trials._scores[key] = frame
    row = table[(table.key == key) & (table.setting == "implicit")].iloc[0]
    prepared, indices = rescore.test_split(shifted)
    all_yes = setting_metrics(prepared, indices, np.ones(len(indices))).sf["all"]["value"]
    assert row.yes == 100.0 and row.sf_random == pytest.approx(100 * all_yes)


def test_the_draws_depend_on_the_seed_and_the_count_alone(trials):
    """Two rows that say Yes equally often on a seed meet the same random recommendations."""
    table = decisions(trials, ("all",), draws=4)
    again = decisions(trials, ("all",), draws=4)
    assert table.equals(again)


def test_a_row_that_says_yes_to_almost_every_pair_is_noted(trials):
    table = decisions(trials, ("all",), draws=2)
    mos = table.method == "mos"
    table.loc[mos, "yes"] = 100.0 * ALL_YES
    notes = all_yes_notes(trials, table)
    assert len(notes) == 1 and "movielens-100k/mos" in notes[0] and "on 3 of 3 seed(s)" in notes[0]


def test_the_report_shows_the_decisions_table(trials):
    report = build_report(trials.store.root, resamples=200, figures=False)
    text = report.to_markdown()
    assert "Decisions: per row and prompt setting" in text and "random at its rate, SF implicit" in text
    assert "<h2>Decisions</h2>" in report.to_page()
    assert {"yes_implicit_mean", "sf_random_implicit_mean"} <= set(report.summary.columns)
