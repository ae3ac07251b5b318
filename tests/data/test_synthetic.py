"""The generated synthetic-movielens data set: the same table everywhere, MovieLens's
normal form, a stereotype that Eq. 1-3 find in both groups, and nothing to fetch."""

import pandas as pd

from harness.config.data import SampleConfig
from harness.data import synthetic
from harness.data.__main__ import main
from harness.data.prepare import prepare


def test_the_same_table_every_time_in_the_normal_form():
    a, b = synthetic.load(), synthetic.load()
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert a.groups == ("male", "female") and set(a.users["group"]) == {"male", "female"}
    assert a.interactions["rating"].between(1, 5).all() and set(a.interactions["rating"]) == {1, 2, 3, 4, 5}
    assert a.interactions.groupby("user_id")["timestamp"].is_monotonic_increasing.all()
    assert a.items["title"].str.match(r".+ \(\d{4}\)$").all()  # "Title (Year)", as MovieLens
    assert "not real data" in a.report.notes[0]


def test_prepared_with_a_stereotype_in_both_groups(tmp_path):
    p = prepare(synthetic.NAME, tmp_path / "nothing-here", SampleConfig(n_sequences=2000), cache_dir=tmp_path)
    sizes = p.samples.split_sizes
    assert sum(sizes.values()) == 2000 and min(sizes.values()) > 100
    assert p.measurement.item_in_group.sum(axis=0).min() >= 1  # items stereotyped to each group
    assert 0.3 < p.samples.label.mean() < 0.9  # both labels occur


def test_nothing_to_fetch(capsys, tmp_path):
    assert main(["fetch", synthetic.NAME, "--data-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing to fetch" in captured.err
