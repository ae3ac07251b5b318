"""The report over fixture records written by the harness's own code (tests/report/fixtures.py)."""

import json

import numpy as np
import pytest

from harness.report import ReportError, build_report
from harness.report.__main__ import main
from harness.report.collect import load

from .fixtures import write_experiment, write_record

METHODS = {"mos": 1.5, "same": 1.5, "weak": 0.0}   # "same" shifts exactly as mos, "weak" not at all
FAST = {"resamples": 500}


@pytest.fixture
def experiment(tmp_path):
    write_experiment(tmp_path / "exp", METHODS, datasets=("movielens-100k", "bookcrossing"))
    return tmp_path / "exp"


def _row(report, dataset, method, source="ours"):
    s = report.summary
    return s[(s.dataset == dataset) & (s.method == method) & (s.source == source)].iloc[0]


def test_rows_means_and_directions(experiment):
    report = build_report(experiment, **FAST)
    ours = report.summary[report.summary.source == "ours"]
    assert sorted(zip(ours.dataset, ours.method)) == sorted(
        (d, m) for d in ("bookcrossing", "movielens-100k") for m in METHODS)
    assert list(ours[ours.dataset == "movielens-100k"].method) == ["same", "weak", "mos"]   # reference last
    trials = load(experiment)
    per_seed = trials.values[(trials.values.method == "weak") & (trials.values.dataset == "bookcrossing")]
    row = _row(report, "bookcrossing", "weak")
    assert row["auc_mean"] == pytest.approx(per_seed["auc"].mean())
    assert row["auc_std"] == pytest.approx(per_seed["auc"].std(ddof=1)) and row["n"] == 3
    # AUC: higher is better, so the shifted methods rank first; SF: lower is better
    assert _row(report, "movielens-100k", "weak")["auc_rank"] == 0
    for column in ("sf_implicit", "auc"):
        means = ours[ours.dataset == "movielens-100k"].set_index("method")[f"{column}_mean"]
        best = means.idxmax() if column == "auc" else means.idxmin()
        assert _row(report, "movielens-100k", best)[f"{column}_rank"] == 1


def test_bold_underline_and_markers_only_where_the_test_says(experiment):
    report = build_report(experiment, **FAST)
    tested = report.comparisons
    assert set(tested.method_b) == {"same", "weak"} and (tested.method_a == "mos").all()
    same, weak = tested[tested.method_b == "same"], tested[tested.method_b == "weak"]
    assert not same.significant.any() and (same.effect.abs() < 2).all()
    assert weak[weak.metric == "auc"].significant.all()
    markdown = report.to_markdown()
    for _, row in report.summary[report.summary.source == "ours"].iterrows():
        line = next(x for x in markdown.splitlines() if f"| {row['dataset']}" in x and f"| {row['method']} " in x)
        auc_cell = line.split("|")[7]   # Dataset, Method, n, 3 SF, then AUC
        assert ("†" in auc_cell) == bool(row["auc_significant"])
        assert auc_cell.strip().startswith("**") == (row["auc_rank"] == 1)
        assert auc_cell.strip().startswith("<u>") == (row["auc_rank"] == 2)
    latex = report.to_latex()
    assert r"\textbf{" in latex and r"\underline{" in latex and r"$^\dagger$" in latex
    assert r"\$" not in latex and latex.count("{") == latex.count("}") and latex.count("$") % 2 == 0
    assert "<b>" in report.to_html() and "<u>" in report.to_html()
    assert "Holm-Bonferroni" in report.caption and "500 resamples" in report.caption


def test_holm_adjusts_over_the_whole_table_and_effects_match_the_means(experiment):
    report = build_report(experiment, **FAST)
    c = report.comparisons
    assert len(c) == 2 * 2 * 6                                 # datasets x other methods x tested columns
    assert (c.p_adjusted >= c.p).all() and (c.p_adjusted <= 1).all()
    row = c[(c.dataset == "movielens-100k") & (c.method_b == "weak") & (c.metric == "auc")].iloc[0]
    expected = _row(report, "movielens-100k", "mos")["auc_mean"] - _row(report, "movielens-100k", "weak")["auc_mean"]
    assert row.effect == pytest.approx(expected) and row.ci_low < row.effect < row.ci_high


def test_improvement_over_the_best_other_method(experiment):
    report = build_report(experiment, **FAST)
    mos, same = _row(report, "bookcrossing", "mos"), _row(report, "bookcrossing", "same")
    weak = _row(report, "bookcrossing", "weak")
    best = max(same["auc_mean"], weak["auc_mean"])
    assert mos["auc_improvement"] == pytest.approx(100 * (mos["auc_mean"] - best) / best)
    assert np.isnan(same["auc_improvement"])


def test_outputs_are_byte_identical_on_a_second_run(experiment, tmp_path):
    first = {p.name: p.read_bytes() for p in build_report(experiment, **FAST).save(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in build_report(experiment, **FAST).save(tmp_path / "b")}
    assert first.keys() == second.keys() and first == second
    assert {"table.md", "table.tex", "table.csv", "table.html", "table.json", "comparisons.csv",
            "comparisons.json", "tradeoff.png", "tradeoff.svg", "groups.png"} <= set(first)


def test_paper_numbers_beside_ours(experiment):
    report = build_report(experiment, paper=True, **FAST)
    paper = _row(report, "movielens-100k", "mos", source="paper")
    assert paper["sf_implicit_mean"] == 55.49 and paper["recall_mean"] == 50.80
    assert "mos (paper)" in report.to_markdown() and "published numbers" in report.caption
    assert not ((report.summary.source == "paper") & (report.summary.method == "weak")).any()
    with pytest.raises(ReportError, match="--paper-table"):
        write_experiment(experiment.parent / "other", METHODS, seeds=(0,), experiment="my_experiment")
        build_report(experiment.parent / "other", paper=True, **FAST)


def test_table1_rows_split_by_relation(tmp_path):
    write_experiment(tmp_path / "t1", {"tallrec": 1.0}, experiment="table1_preliminary")
    report = build_report(tmp_path / "t1", reference="tallrec", paper=True, **FAST)
    ours = report.summary[report.summary.source == "ours"]
    assert list(ours.relation) == ["outside", "inside"]
    assert _row(report, "movielens-100k", "tallrec", source="paper")["sf_implicit_mean"] == -4.53
    assert "Target items" in report.to_markdown()


def test_smoke_failed_and_bad_input(tmp_path, capsys):
    store = write_experiment(tmp_path / "smoke", {"mos": 1.0}, seeds=(0,), smoke=True)
    with pytest.raises(ReportError, match="--allow-smoke"):
        build_report(tmp_path / "smoke")
    assert build_report(tmp_path / "smoke", allow_smoke=True, **FAST).to_markdown().startswith("### SMOKE")
    write_record(store, "table4_fairness_methods", "movielens-100k", "up5", 1, 0.0, status="failed", smoke=True)
    report = build_report(tmp_path / "smoke", allow_smoke=True, **FAST)
    assert any("up5" in n and "failed" in n and "boom" in n for n in report.notes)
    assert main([str(tmp_path / "nothing")]) == 2 and "no trials/ folder" in capsys.readouterr().err
    assert main([str(tmp_path / "smoke"), "--allow-smoke", "--reference", "nope"]) == 2
    assert "reference method 'nope'" in capsys.readouterr().err


def test_cli_writes_every_output_and_prints_the_format(experiment, capsys):
    assert main([str(experiment), "--format", "json", "--resamples", "200", "--no-figures"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["experiment"] == "table4_fairness_methods" and len(printed["rows"]) == 6
    written = sorted(p.name for p in (experiment / "report").iterdir())
    assert written == ["comparisons.csv", "comparisons.json", "table.csv", "table.html", "table.json",
                       "table.md", "table.tex"]


def test_search_history_and_zscore_figures(tmp_path):
    store = write_experiment(tmp_path / "z", {"mos": 1.0}, seeds=(0, 1), experiment="fig5_zscore")
    for i, z in enumerate((1.0, 2.0)):
        write_record(store, "fig5_zscore", "movielens-100k", f"z{z}", 0, 1.0, z=z)
    for i in range(3):
        write_record(store, "fig5_zscore", "movielens-100k", "mos", 10 + i, 1.0, phase="search",
                     valid_auc=0.5 + 0.1 * i, date=f"2026-11-25T0{i}:00:00+00:00")
    report = build_report(tmp_path / "z", **FAST)
    assert {"tradeoff", "groups", "zscore", "search"} <= set(report.figures)


def test_identical_scores_give_p_one_and_no_marker(tmp_path):
    store = write_experiment(tmp_path / "copy", {"mos": 1.0})
    for seed in (0, 1, 2):
        write_record(store, "table4_fairness_methods", "movielens-100k", "copy", seed, 1.0, noise_of="mos")
    report = build_report(tmp_path / "copy", **FAST)
    c = report.comparisons
    assert (c.effect == 0).all() and (c.p == 1).all() and not c.significant.any()
    assert "†" not in report.to_markdown().split("\n\n")[1]          # the table, not the caption


def test_too_few_resamples_to_mark_anything_is_said(experiment):
    report = build_report(experiment, resamples=100)
    assert not report.comparisons.significant.any()
    assert any("no cell can be marked" in n for n in report.notes)


def test_records_read_through_a_uri(experiment, tmp_path, capsys):
    uri = f"file://{experiment}"
    assert main([uri, "--resamples", "200", "--no-figures"]) == 2 and "--out" in capsys.readouterr().err
    assert main([uri, "--resamples", "200", "--no-figures", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "table.md").read_text() == build_report(experiment, resamples=200,
                                                                     figures=False).to_markdown()


def test_a_column_undefined_in_every_row_stays_with_its_reason(tmp_path, monkeypatch):
    from . import fixtures

    split = fixtures.test_split

    def no_stereotyped_targets(seed, **kwargs):     # SF has no denominator: undefined everywhere
        prepared, base = split(seed, **kwargs)
        prepared.measurement.target_in_group[:] = False
        return prepared, base
    monkeypatch.setattr(fixtures, "test_split", no_stereotyped_targets)
    write_experiment(tmp_path / "exp", {"mos": 1.0, "weak": 0.0}, seeds=(0, 1))
    report = build_report(tmp_path / "exp", **FAST)
    assert report.columns[:3] == ("sf_implicit", "sf_explicit", "sf_counterfactual")
    table = report.to_markdown()
    assert "SF implicit" in table and "SF counterfactual" in table
    assert any("SF implicit is undefined in every row" in n for n in report.notes)
