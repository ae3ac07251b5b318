"""The report over fixture records written by the harness's own code (tests/report/fixtures.py)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from harness.records import Store
from harness.report import ReportError, build_report
from harness.report.__main__ import main
from harness.report.collect import load

from .fixtures import write_experiment, write_record

METHODS = {"mos": 1.5, "same": 1.5, "weak": 0.0}  # "same" shifts exactly as mos, "weak" not at all
FAST = {"resamples": 500}


@pytest.fixture
def experiment(tmp_path):
    write_experiment(tmp_path / "exp", METHODS, datasets=("movielens-100k", "bookcrossing"))
    return tmp_path / "exp"


@pytest.fixture(scope="module")
def shared_experiment(tmp_path_factory):
    """The same records, written once for the tests that only read them and their report."""
    folder = tmp_path_factory.mktemp("shared") / "exp"
    write_experiment(folder, METHODS, datasets=("movielens-100k", "bookcrossing"))
    return folder


@pytest.fixture(scope="module")
def report(shared_experiment):
    """The shared records' report at the FAST settings, built once."""
    return build_report(shared_experiment, **FAST)


def _row(report, dataset, method, source="ours"):
    s = report.summary
    return s[(s.dataset == dataset) & (s.method == method) & (s.source == source)].iloc[0]


def test_rows_means_and_directions(report, shared_experiment):
    ours = report.summary[report.summary.source == "ours"]
    assert sorted(zip(ours.dataset, ours.method, strict=True)) == sorted(
        (d, m) for d in ("bookcrossing", "movielens-100k") for m in METHODS
    )
    assert list(ours[ours.dataset == "movielens-100k"].method) == ["same", "weak", "mos"]  # reference last
    trials = load(shared_experiment)
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


def test_bold_underline_and_markers_only_where_the_test_says(report):
    tested = report.comparisons
    assert set(tested.method_b) == {"same", "weak"} and (tested.method_a == "mos").all()
    same, weak = tested[tested.method_b == "same"], tested[tested.method_b == "weak"]
    assert not same.significant.any() and (same.effect.abs() < 2).all()
    assert weak[weak.metric == "auc"].significant.all()
    markdown = report.to_markdown()
    for _, row in report.summary[report.summary.source == "ours"].iterrows():
        line = next(x for x in markdown.splitlines() if f"| {row['dataset']}" in x and f"| {row['method']} " in x)
        auc_cell = line.split("|")[7]  # Dataset, Method, n, 3 SF, then AUC
        assert ("†" in auc_cell) == bool(row["auc_significant"])
        assert auc_cell.strip().startswith("**") == (row["auc_rank"] == 1)
        assert auc_cell.strip().startswith("<u>") == (row["auc_rank"] == 2)
    latex = report.to_latex()
    assert r"\textbf{" in latex and r"\underline{" in latex and r"$^\dagger$" in latex
    assert r"\$" not in latex and latex.count("{") == latex.count("}") and latex.count("$") % 2 == 0
    assert "<b>" in report.to_html() and "<u>" in report.to_html()
    assert (
        "paired t-test over seeds" in report.caption
        and "Holm-Bonferroni over the 24 tested comparisons" in report.caption
    )
    assert "exploratory family" in report.caption  # report.yaml names no claims here


def test_holm_adjusts_over_the_whole_table_and_effects_match_the_means(report):
    c = report.comparisons
    assert len(c) == 2 * 2 * 6  # datasets x other methods x tested columns
    assert (c.p_adjusted >= c.p).all() and (c.p_adjusted <= 1).all()
    row = c[(c.dataset == "movielens-100k") & (c.method_b == "weak") & (c.metric == "auc")].iloc[0]
    expected = _row(report, "movielens-100k", "mos")["auc_mean"] - _row(report, "movielens-100k", "weak")["auc_mean"]
    assert row.effect == pytest.approx(expected) and row.ci_low < row.effect < row.ci_high


def test_improvement_over_the_best_other_method(report):
    mos, same = _row(report, "bookcrossing", "mos"), _row(report, "bookcrossing", "same")
    weak = _row(report, "bookcrossing", "weak")
    best = max(same["auc_mean"], weak["auc_mean"])
    assert mos["auc_improvement"] == pytest.approx(100 * (mos["auc_mean"] - best) / best)
    assert np.isnan(same["auc_improvement"])


def test_outputs_are_byte_identical_on_a_second_run(experiment, tmp_path):
    first = {p.name: p.read_bytes() for p in build_report(experiment, **FAST).save(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in build_report(experiment, **FAST).save(tmp_path / "b")}
    assert first.keys() == second.keys() and first == second
    assert {
        "table.md",
        "table.tex",
        "table.csv",
        "table.html",
        "index.html",
        "table.json",
        "comparisons.csv",
        "comparisons.json",
        "tradeoff.png",
        "tradeoff.svg",
        "groups.png",
    } <= set(first)


def test_a_report_removes_what_an_earlier_one_left_in_its_folder(experiment, tmp_path):
    (tmp_path / "out" / "figures").mkdir(parents=True)
    for name in ("pareto.md", "pareto.csv", "figures/pareto.png", "figures/pareto.svg", "notes.txt"):
        (tmp_path / "out" / name).write_text("from an earlier report")
    written = build_report(experiment, **FAST).save(tmp_path / "out")
    left = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert left == {p.relative_to(tmp_path / "out").as_posix() for p in written} | {"notes.txt"}


def test_paper_numbers_beside_ours(experiment):
    report = build_report(experiment, paper=True, **FAST)
    paper = _row(report, "movielens-100k", "mos", source="paper")
    assert paper["sf_implicit_mean"] == 55.49 and paper["recall_mean"] == 50.80
    assert "mos (paper)" in report.to_markdown() and "published numbers" in report.caption
    assert not ((report.summary.source == "paper") & (report.summary.method == "weak")).any()
    with pytest.raises(ReportError, match="--paper-table"):
        write_experiment(experiment.parent / "other", METHODS, seeds=(0,), experiment="my_experiment")
        build_report(experiment.parent / "other", paper=True, **FAST)


def test_paper_rows_beside_another_backbone_are_marked_not_comparable(tmp_path):
    write_experiment(tmp_path / "t4", {"mos": 1.0, "up5": 0.0}, seeds=(0, 1), backbone="smollm2-135m")
    report = build_report(tmp_path / "t4", paper=True, **FAST)
    assert "mos (paper, not comparable)" in report.to_markdown()
    assert "not comparable with ours" in report.caption and "smollm2-135m" in report.caption


def test_table1_rows_split_by_relation(tmp_path):
    write_experiment(tmp_path / "t1", {"tallrec": 1.0}, experiment="table1_preliminary")
    report = build_report(tmp_path / "t1", reference="tallrec", paper=True, **FAST)
    ours = report.summary[report.summary.source == "ours"]
    assert list(ours.relation) == ["outside", "inside"]
    assert _row(report, "movielens-100k", "tallrec", source="paper")["sf_implicit_mean"] == -4.53
    assert "Target items" in report.to_markdown()


def test_table1s_claim_is_each_methods_inside_against_its_outside(tmp_path):
    """With Table 1's rows, each method's inside-minus-outside difference is tested: its effect is
    the mean over seeds of the table's inside value minus its outside value, in the Holm family."""
    write_experiment(tmp_path / "t1", {"tallrec": 1.0, "llm": 0.2}, experiment="table1_preliminary")
    report = build_report(tmp_path / "t1", reference="tallrec", relations=["inside", "outside"], **FAST)
    contrasts = report.comparisons[report.comparisons.relation == "inside-outside"]
    assert sorted(set(contrasts.method_a)) == ["llm", "tallrec"] and (contrasts.method_a == contrasts.method_b).all()
    assert len(report.comparisons) == 2 * 6 + 2 * 6  # tallrec vs llm in two relations, two contrasts
    per_seed = report.per_seed[report.per_seed.source == "ours"].set_index(["method", "relation", "seed"])
    for _, row in contrasts.iterrows():
        inside = per_seed.loc[(row.method_a, "inside"), row.metric]
        outside = per_seed.loc[(row.method_a, "outside"), row.metric]
        assert row.effect == pytest.approx((inside - outside).mean(), abs=1e-9)
        assert row.ci_low <= row.effect <= row.ci_high and row.p_adjusted >= row.p


def test_a_table_of_some_methods_tests_only_them(shared_experiment):
    report = build_report(shared_experiment, methods=["weak", "mos"], figures=False, **FAST)
    assert set(report.comparisons.method_b) == {"weak"} and len(report.comparisons) == 2 * 6
    assert set(report.summary[report.summary.source == "ours"].method) == {"weak", "mos"}
    with pytest.raises(ReportError, match=r"--methods names \['nope'\], which have no records"):
        build_report(shared_experiment, methods=["nope"], figures=False, **FAST)


def test_seeds_reads_only_those_seeds_for_every_row_and_claim(tmp_path, capsys):
    """A later study's arm pairs with the first seeds of an earlier one's: --seeds (report.yaml's
    seeds:) leaves the other seeds' records out of the table, the tests and the claims alike."""
    store = write_experiment(tmp_path / "exp", {"mos": 1.5, "weak": 0.0}, seeds=(0, 1, 2, 3))
    write_record(store, "table4_fairness_methods", "movielens-100k", "late", 0, 0.0)
    write_record(store, "table4_fairness_methods", "movielens-100k", "late", 1, 0.0)
    report = build_report(tmp_path / "exp", seeds="0,1", figures=False, **FAST)
    assert set(report.per_seed.seed) == {0, 1}
    assert set(report.summary[report.summary.source == "ours"].n) == {2}
    assert any("Seeds read: 0, 1 only" in n for n in report.notes)
    whole = build_report(tmp_path / "exp", figures=False, **FAST)
    assert set(whole.per_seed.seed) == {0, 1, 2, 3}
    with pytest.raises(
        ReportError, match=r"--seeds names \[7\], which have no ok records; seeds with records: \[0, 1, 2, 3\]"
    ):
        build_report(tmp_path / "exp", seeds=[0, 7], figures=False, **FAST)
    with pytest.raises(ReportError, match="seeds must be integers"):
        build_report(tmp_path / "exp", seeds="0,one", figures=False, **FAST)
    # named seeds are a promise about every row: a method short of one stops the report, never
    # quietly resting that method's tests on fewer seeds
    with pytest.raises(ReportError, match=r"late on movielens-100k has no ok record of seed\(s\) \[2\] \(no record"):
        build_report(tmp_path / "exp", seeds="0,1,2", figures=False, **FAST)
    without_late = build_report(tmp_path / "exp", seeds="0,1,2", methods=["weak"], figures=False, **FAST)
    assert set(without_late.per_seed.seed) == {0, 1, 2}
    # a failed trial is named; the reference cannot be left out with --methods, and the hint says so
    write_record(store, "table4_fairness_methods", "movielens-100k", "mos", 4, 1.5, status="failed")
    write_record(store, "table4_fairness_methods", "movielens-100k", "weak", 4, 0.0)
    with pytest.raises(ReportError) as error:
        build_report(tmp_path / "exp", seeds="0,4", methods=["weak"], figures=False, **FAST)
    assert "mos on movielens-100k has no ok record of seed(s) [4] (not ok: movielens-100k_mos__" in str(error.value)
    assert "failed" in str(error.value) and "--methods" not in str(error.value)
    (tmp_path / "exp" / "report.yaml").write_text("seeds: [0, 1]\n")
    assert main([str(tmp_path / "exp"), "--no-figures", "--resamples", "200"]) == 0
    assert "seeds=[0, 1]" in capsys.readouterr().err


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
    sources = [r["source"] for r in printed["rows"]]
    assert printed["experiment"] == "table4_fairness_methods" and sources.count("ours") == 6
    assert sources.count("reference") == 2 * 3  # all-yes, oracle, random per data set
    written = sorted(p.name for p in (experiment / "report").iterdir())
    assert written == [
        "comparisons.csv",
        "comparisons.json",
        "index.html",
        "table.csv",
        "table.html",
        "table.json",
        "table.md",
        "table.tex",
    ]


def test_search_history_and_zscore_figures(tmp_path):
    store = write_experiment(tmp_path / "z", {"mos": 1.0}, seeds=(0, 1), experiment="fig5_zscore")
    for z in (1.0, 2.0):
        write_record(store, "fig5_zscore", "movielens-100k", f"z{z}", 0, 1.0, z=z)
    for i in range(3):
        write_record(
            store,
            "fig5_zscore",
            "movielens-100k",
            "mos",
            0,
            1.0,
            phase="search",
            config_id=f"s{i}",
            valid_auc=0.5 + 0.1 * i,
            date=f"2026-11-25T0{i}:00:00+00:00",
        )
    report = build_report(tmp_path / "z", **FAST)
    assert {"tradeoff", "groups", "zscore", "zscore_retrained", "search"} <= set(report.figures)


def test_the_reused_search_trial_of_a_replicated_configuration_is_one_of_its_seeds(tmp_path):
    """The sweep replicates the chosen configuration on every seed and reuses its first-seed
    search trial (same key): the table counts that seed; other search trials stay out."""
    store = write_experiment(tmp_path / "s", {"mos": 1.0, "llm": 0.0}, seeds=(1, 2), experiment="mos")
    write_record(store, "mos", "movielens-100k", "mos", 0, 1.0, phase="search")  # the chosen one
    write_record(store, "mos", "movielens-100k", "mos", 0, 2.0, phase="search", config_id="other")
    trials = load(tmp_path / "s")
    assert sorted(trials.values[trials.values.method == "mos"].seed) == [0, 1, 2]
    assert not any(r.job.config_id == "other" for r in trials.records.values())


def test_identical_scores_give_p_one_and_no_marker(tmp_path):
    store = write_experiment(tmp_path / "copy", {"mos": 1.0})
    for seed in (0, 1, 2):
        write_record(store, "table4_fairness_methods", "movielens-100k", "copy", seed, 1.0, noise_of="mos")
    report = build_report(tmp_path / "copy", **FAST)
    c = report.comparisons
    assert (c.effect == 0).all() and (c.p == 1).all() and not c.significant.any()
    assert "†" not in report.to_markdown().split("\n\n")[1]  # the table, not the caption


def test_the_sign_flip_tests_floor_is_said_where_it_cannot_reach_alpha(experiment):
    """At 3 seeds the exact sign-flip test cannot go below 2 / 2^3: the notes say it is shown, not used;
    the seed-level t-test is exact, so the user-level resamples do not limit it."""
    report = build_report(experiment, resamples=100, figures=False)
    assert (report.comparisons.signflip_floor == 0.25).all()
    assert any("cannot go below 0.25 with 3 seeds" in n for n in report.notes)
    assert report.comparisons.significant.any()


def test_records_read_through_a_uri(experiment, tmp_path, capsys):
    uri = f"file://{experiment}"
    assert main([uri, "--resamples", "200", "--no-figures"]) == 2 and "--out" in capsys.readouterr().err
    assert main([uri, "--resamples", "200", "--no-figures", "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "table.md").read_text() == build_report(
        experiment, resamples=200, figures=False
    ).to_markdown()


def test_a_column_undefined_in_every_row_stays_with_its_reason(tmp_path, monkeypatch):
    from . import fixtures

    split = fixtures.test_split

    def no_stereotyped_targets(seed, **kwargs):  # SF has no denominator: undefined everywhere
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


def _block(sf, auc, n_sf):
    """One (dataset, relation) block of summary rows: methods a, b, c, mos; 3 seeds each."""
    from harness.report.collect import COLUMNS

    rows = []
    for i, method in enumerate(("a", "b", "c", "mos")):
        row = {"dataset": "movielens-100k", "relation": "all", "method": method, "n": 3}
        for name, _, _ in COLUMNS:
            mean = sf[i] if name.startswith("sf_") else auc[i] if name == "auc" else 1.0
            row.update(
                {f"{name}_mean": mean, f"{name}_std": 0.1, f"{name}_n": n_sf[i] if name.startswith("sf_") else 3}
            )
        rows.append(row)
    return pd.DataFrame(rows)


def test_sf_is_ranked_by_its_distance_from_zero_unless_signed_is_asked():
    from harness.report.compare import no_comparisons
    from harness.report.comparison import TestConfig
    from harness.report.summary import _annotate

    part = _block(sf=[-30.0, 10.0, 20.0, 15.0], auc=[60.0, 61.0, 62.0, 63.0], n_sf=[3, 3, 3, 3])
    ranked = _annotate(part, no_comparisons(), TestConfig(), ["sf_implicit", "auc"])
    assert list(ranked["sf_implicit_rank"]) == [0, 1, 0, 2]  # |SF|: b 10 best, mos 15 second
    assert ranked["sf_implicit_improvement"].iloc[3] == pytest.approx(100 * (15 - 10) / 10)
    signed = _annotate(part, no_comparisons(), TestConfig(), ["sf_implicit"], sf_rank="signed")
    assert list(signed["sf_implicit_rank"]) == [1, 2, 0, 0]  # the paper's bolding: -30 "fairest"
    assert signed["sf_implicit_improvement"].iloc[3] == pytest.approx(100 * (15 - (-30)) / 30)


def test_a_mean_over_fewer_seeds_is_never_ranked_nor_the_best_other():
    from harness.report.compare import no_comparisons
    from harness.report.comparison import TestConfig
    from harness.report.summary import _annotate

    part = _block(sf=[1.0, 10.0, 20.0, 15.0], auc=[60.0, 61.0, 62.0, 63.0], n_sf=[1, 3, 3, 2])
    ranked = _annotate(part, no_comparisons(), TestConfig(), ["sf_implicit", "auc"])
    assert list(ranked["sf_implicit_rank"]) == [0, 1, 2, 0]  # a (1/3 seeds) and mos (2/3) unranked
    assert np.isnan(ranked["sf_implicit_improvement"].iloc[3])  # mos itself is incomplete: no %
    part = _block(sf=[1.0, 10.0, 20.0, 15.0], auc=[60.0, 61.0, 62.0, 63.0], n_sf=[1, 3, 3, 3])
    ranked = _annotate(part, no_comparisons(), TestConfig(), ["sf_implicit"])
    assert ranked["sf_implicit_improvement"].iloc[3] == pytest.approx(50.0)  # against b (10), not a's 1/3 seed
    with pytest.raises(ValueError, match="sf_rank"):
        _annotate(part, no_comparisons(), TestConfig(), ["sf_implicit"], sf_rank="absolute")


def test_reference_rows_on_a_hand_made_split():
    """Two users, four pairs. SF (Eq. 4, denominator over all recommended pairs) by hand:
    all-yes: male 1 - (0.5 + 0.5) / 1 = 0, female 1 - (0.2 + 0.2) / 1 = 0.6, SF 0.3;
    oracle (pairs 0 and 2): male 1 - 0.5 / 1 = 0.5, female 1 - 0.2 / 1 = 0.8, SF 0.65."""
    from types import SimpleNamespace

    from harness.report.reference import reference_values

    frame = pd.DataFrame(
        {
            "sample": [0, 1, 2, 3],
            "setting": "implicit",
            "score": 0.0,
            "label": [1, 0, 1, 0],
            "user": [1, 1, 2, 2],
            "user_group": ["male", "male", "female", "female"],
            "h": [0.5, 0.5, 0.2, 0.2],
            "target_in_own_group": [True, False, True, False],
            "target_in_male": [True, False, False, False],
            "target_in_female": [False, False, True, False],
        }
    )
    trials = SimpleNamespace(
        values=pd.DataFrame({"dataset": ["d"], "seed": [0], "method": ["mos"], "key": ["k"]}), scores=lambda key: frame
    )
    rows, notes = reference_values(trials, ("all",), "mos", draws=50)
    by = rows.set_index("method")
    assert by.loc["all-yes", ["sf_implicit", "sf_explicit", "sf_counterfactual"]].tolist() == pytest.approx([30.0] * 3)
    assert by.loc["all-yes", ["auc", "precision", "recall"]].tolist() == pytest.approx([50.0, 50.0, 100.0])
    assert by.loc["oracle", "sf_implicit"] == pytest.approx(65.0)
    assert by.loc["oracle", ["auc", "precision", "recall"]].tolist() == pytest.approx([100.0, 100.0, 100.0])
    assert 0 <= by.loc["random", "auc"] <= 100 and not notes
    again, _ = reference_values(trials, ("all",), "mos", draws=50)
    pd.testing.assert_frame_equal(rows, again)  # seeded


def test_reference_rows_are_labelled_first_and_never_ranked(report):
    block = report.summary[report.summary.dataset == "movielens-100k"]
    assert list(block.method[:3]) == ["all-yes", "oracle", "random"] and set(block.source[:3]) == {"reference"}
    assert (block.loc[block.source == "reference", "auc_rank"].fillna(0) == 0).all()
    assert "oracle (reference)" in report.to_markdown()
    oracle = block[block.method == "oracle"].iloc[0]
    assert oracle.auc_mean == 100.0 and oracle.n == 3


def test_sf_support_counts_eq4s_denominator_and_users_and_flags_thin_ones(experiment):
    from types import SimpleNamespace

    from harness.records import TrialJob, TrialRecord
    from harness.report.support import sf_support, thin_notes

    frame = pd.DataFrame(
        {
            "sample": [0, 1, 2, 3],
            "setting": "implicit",
            "score": [1.0, 1.0, 1.0, -1.0],
            "label": [1, 0, 1, 0],
            "user": [1, 1, 2, 3],
            "user_group": ["male", "male", "female", "female"],
            "h": 0.1,
            "target_in_own_group": [True, False, True, False],
            "target_in_male": [True, True, False, False],
            "target_in_female": [False, False, True, True],
        }
    )
    record = TrialRecord(TrialJob("e", "replicate", "d/mos", "c", {}, 0, dataset="d"), "ok")
    trials = SimpleNamespace(records={record.key: record}, scores=lambda key: frame)
    support = sf_support(trials, ("all", "inside")).set_index(["relation", "group"])
    assert support.loc[("all", "male"), ["targets", "users"]].tolist() == [2, 1]  # pairs 0, 1; user 1
    assert support.loc[("all", "female"), ["targets", "users"]].tolist() == [1, 1]  # pair 2 (3 not recommended)
    assert support.loc[("inside", "male"), "targets"] == 1 and support["defined"].all()
    # what the pairs hold, recommended or not: pairs 0, 1 (male); 2, 3 (female); inside: 0 and 2
    assert support.loc[("all", "female"), "available"] == 2 and support.loc[("inside", "female"), "available"] == 1
    assert thin_notes(support.reset_index(), 2) == [
        "‡ d/mos: SF rests on fewer than 2 recommended targets stereotyped to female (implicit seed 0: 1)",
        "‡ d/mos (inside): SF rests on fewer than 2 recommended targets stereotyped to female (implicit seed 0: 1)",
        "‡ d/mos (inside): SF rests on fewer than 2 recommended targets stereotyped to male (implicit seed 0: 1)",
    ]

    flagged = build_report(experiment, min_support=10_000, figures=False, **FAST)  # every defined SF is "thin"
    assert "‡" in flagged.to_markdown() and any(n.startswith("‡ ") for n in flagged.notes)
    ours = flagged.summary[flagged.summary.source == "ours"]
    assert (ours["sf_implicit_support"] > 0).all() and ours["sf_implicit_thin"].all()
    assert "‡" not in build_report(experiment, min_support=0, figures=False, **FAST).to_markdown()


def test_minimum_detectable_effects_and_the_seeds_the_papers_gaps_need(tmp_path):
    write_experiment(tmp_path / "t4", {"mos": 1.0, "up5": 0.0})  # table4: the paper printed both rows
    report = build_report(tmp_path / "t4", **FAST)
    c = report.comparisons.set_index("metric")
    assert (c["mde"] > 0).all()
    assert c.loc["auc", "paper_gap"] == pytest.approx(69.64 - 67.60)  # Table 4, MovieLens: MoS - UP5
    assert c.loc["sf_implicit", "paper_gap"] == pytest.approx(55.49 - 75.31)
    assert (c["seeds_for_paper_gap"] >= 2).all()
    assert any("the smallest true effect the seed-level test detects" in n for n in report.notes)
    assert any("the paper's effects would need" in n for n in report.notes)


def test_the_other_reading_of_eq4s_denominator_is_recomputed_from_the_scores(report, shared_experiment):
    from harness import stats

    # hand case: two male pairs (targets stereotyped male, female), one female pair (target male)
    rec, ug, h = np.ones(3, bool), np.array([0, 0, 1]), np.array([0.5, 0.5, 0.2])
    tig = np.array([[True, False], [False, True], [True, False]])
    num, den = stats.sf_sums(rec, ug, h, tig, np.ones((1, 3)))
    assert den[:, 0].tolist() == [2, 1]  # all pairs: male targets 2, female 1
    num, den = stats.sf_sums(rec, ug, h, tig, np.ones((1, 3)), denominator="group_users")
    assert den[:, 0].tolist() == [1, 0]  # G's users only: female has none
    plain = report
    other = build_report(shared_experiment, sf_reading="group_users", figures=False, **FAST)
    assert "over G's users' recommended pairs only" in other.caption and "as printed" in plain.caption
    a, b = (_row(r, "movielens-100k", "mos")["sf_implicit_mean"] for r in (plain, other))
    assert a != b
    assert _row(plain, "movielens-100k", "mos")["auc_mean"] == _row(other, "movielens-100k", "mos")["auc_mean"]
    with pytest.raises(ReportError, match="drop --no-significance"):
        build_report(shared_experiment, sf_reading="group_users", significance=False)


def test_figure5_rethresholds_one_trained_model_at_each_z(report, shared_experiment):
    """One model's test pairs, re-thresholded: at the z it was measured at (3) the split into
    below/above is the records' own; a higher z puts fewer targets above."""
    from harness.report.figures import Z_GRID, _rethresholded_auc

    assert "zscore" in report.figures and "zscore_retrained" not in report.figures  # one z in the records
    trials = load(shared_experiment)
    key, record = next((k, r) for k, r in trials.records.items() if r.job.method == "mos")
    frame = trials.scores(key)
    frame = frame[frame.setting == "implicit"]
    moments = record.threshold_moments
    stereotyped = frame[["target_in_male", "target_in_female"]].any(axis=1).to_numpy()
    from harness import metrics

    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    below, above = _rethresholded_auc(frame, moments, 3.0)
    assert above == pytest.approx(100 * metrics.auc(labels[stereotyped], scores[stereotyped]).value)
    assert below == pytest.approx(100 * metrics.auc(labels[~stereotyped], scores[~stereotyped]).value)
    degree = frame[["degree_male", "degree_female"]].to_numpy()
    counts = [(degree >= 0.5 + z * 0.05).any(axis=1).sum() for z in Z_GRID]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_figure4_names_the_pairs_each_auc_bar_rests_on(report, shared_experiment):
    """Each AUC bar of Figure 4 names its test pairs (mean per seed), and any bar the seeds it averages
    where its value is undefined on some: a small group's bar says how little it rests on."""
    from harness.report.figures import _bar_label
    from harness.report.subsets import arrays, mask

    trials = load(shared_experiment)
    runs = [r for r in trials.records.values() if r.job.method == "mos" and r.job.dataset == "movielens-100k"]
    pairs = []
    for record in runs:
        frame = trials.scores(record.key)
        pairs.append(mask("users:female", *arrays(frame[frame.setting == "implicit"])).sum())
    axes = report.figures["groups"].axes  # one per data set, sorted: bookcrossing, movielens-100k
    labels = [t.get_text() for t in axes[1].get_xticklabels()]
    assert f"AUC, user ∈ female ({np.mean(pairs):.0f} pairs)" in labels
    assert "SF term, G = female" in labels
    assert _bar_label("AUC, user ∈ teen", [60.0, np.nan, 70.0], [5, 0, 4]) == "AUC, user ∈ teen (3 pairs, 2/3 seeds)"
    assert _bar_label("SF term, G = teen", [np.nan, 20.0]) == "SF term, G = teen (1/2 seeds)"
    assert _bar_label("AUC, item ∈ teen", [np.nan, np.nan], [np.nan, np.nan]) == "AUC, item ∈ teen (0/2 seeds)"


def test_figure5_labels_each_z_with_the_pairs_its_point_above_rests_on():
    """Under each z the figure names the test pairs its "above" point rests on (mean per seed), and the
    seeds it averages where the AUC above is undefined on some (seed 1 at z = 3.5 has no liked pair
    above): a high z's point says how little it rests on."""
    import pandas as pd

    from harness.report.figures import _zscore_figure

    frame = pd.DataFrame(
        [
            {"dataset": "d", "z": 1.0, "below": 60.0, "above": 70.0, "pairs_above": 40, "seed": 0},
            {"dataset": "d", "z": 1.0, "below": 62.0, "above": 72.0, "pairs_above": 52, "seed": 1},
            {"dataset": "d", "z": 3.5, "below": 61.0, "above": 80.0, "pairs_above": 3, "seed": 0},
            {"dataset": "d", "z": 3.5, "below": 63.0, "above": float("nan"), "pairs_above": 1, "seed": 1},
        ]
    )
    (ax,) = _zscore_figure(frame, "test").axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1\n46", "3.5\n2 (1/2)"]
    assert "the test pairs above" in ax.get_xlabel()


def test_figure5_as_retrained_pools_one_configuration_across_z_never_methods(tmp_path):
    """The paper's protocol pools models that differ in z alone: a study whose methods merely run at
    different z (TALLRec at 3, MoS at 1) gets no such figure; MoS trained at 1 and at 3 does, each
    model read at its own threshold."""
    from harness.report.figures import _above_at, zscore_retrained

    store = write_experiment(tmp_path / "m", {"llm": 0.0}, seeds=(0, 1))  # z = 3
    for seed in (0, 1):
        write_record(store, "table4_fairness_methods", "movielens-100k", "mos", seed, 1.0, z=1.0)
    trials = load(tmp_path / "m")

    def with_heads(head_of):  # the fixture's configs name no head; real records do
        records = {
            k: dataclasses.replace(r, config={**r.config, "train": {**r.config["train"], "head": head_of(r)}})
            for k, r in trials.records.items()
        }
        return dataclasses.replace(trials, records=records)

    assert zscore_retrained(with_heads(lambda r: r.job.method), "mos") is None
    figure = zscore_retrained(with_heads(lambda r: "mos"), "mos")
    (ax,) = figure.axes
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["1", "3"]
    at_own, at_one = [], []  # the z = 3 models' pairs above their own threshold, and above z = 1's
    for record in (r for r in trials.records.values() if r.job.method == "llm"):
        frame = trials.scores(record.key)
        frame = frame[frame.setting == "implicit"]
        at_own.append(int(_above_at(frame, record.threshold_moments, 3.0).sum()))
        at_one.append(int(_above_at(frame, record.threshold_moments, 1.0).sum()))
    assert sum(at_own) < sum(at_one)
    assert ax.get_xticklabels()[1].get_text().split("\n")[1] == f"{np.mean(at_own):.0f}"


def test_a_multi_metric_search_gets_its_tradeoff_table_and_front(tmp_path):
    """Search records with validation AUC and |SF|; two configurations replicated on seeds 0-1:
    the trade-off table has one row per replicated configuration with its seeds' test means,
    and the validation front leaves out a dominated point and one whose SF is thin."""
    from harness.report.collect import load
    from harness.report.pareto import replicated_points, search_points

    store = write_experiment(tmp_path / "p", {"llm": 0.0}, seeds=(0, 1), experiment="pareto")
    search = {"a": (0.80, 0.30, 20), "b": (0.75, 0.10, 20), "c": (0.70, 0.35, 20), "d": (0.90, 0.01, 2)}
    for config_id, (auc, sf, support) in search.items():
        write_record(
            store,
            "pareto",
            "movielens-100k",
            "mos",
            0,
            1.0 + auc,
            phase="search",
            config_id=config_id,
            valid_auc=auc,
            valid_sf=(sf, support),
        )
    for config_id in ("a", "b"):
        write_record(store, "pareto", "movielens-100k", "mos", 1, 1.0 + search[config_id][0], config_id=config_id)
    trials = load(tmp_path / "p")
    front = search_points(trials, min_support=10).set_index("config_id")
    assert front.front.to_dict() == {"a": True, "b": True, "c": False, "d": False}
    points = replicated_points(trials).query("method == 'mos'").set_index("config_id")
    assert list(points.index) == ["a", "b"] and (points.seeds == 2).all()
    seeds = [r for r in trials.replicated.values() if r.job.config_id == "a"]
    auc = [100 * r.test["implicit"]["performance"]["all"]["auc"]["value"] for r in seeds]
    assert points.loc["a", "test_auc_mean"] == pytest.approx(np.mean(auc))
    assert points.loc["a", "valid_abs_sf"] == pytest.approx(30.0)
    report = build_report(tmp_path / "p", reference="llm", **FAST)
    assert "pareto" in report.figures and len(report.tradeoff) == 3  # mos a and b, and llm's one
    assert any(n.startswith("Trade-off (pareto.md): 3 replicated") for n in report.notes)
    written = {p.name for p in report.save(tmp_path / "out")}
    assert {"pareto.md", "pareto.csv"} <= written


def test_the_front_counts_support_as_the_sweep_selected(tmp_path):
    """Search records carry the sweep's selection: the front reads its min_support, not the
    report's --min-support, so it is the set the sweep replicated."""
    from harness.report.collect import load
    from harness.report.pareto import search_points

    store = write_experiment(tmp_path / "p", {"llm": 0.0}, seeds=(0,), experiment="pareto")
    selection = {
        "metrics": ["valid_auc", "valid_abs_sf"],
        "modes": ["max", "min"],
        "rule": "pareto",
        "best": None,
        "bounds": {},
        "min_support": 2,
    }
    for config_id, (auc, sf, support) in {"a": (0.80, 0.30, 20), "d": (0.90, 0.01, 2)}.items():
        write_record(
            store,
            "pareto",
            "movielens-100k",
            "mos",
            0,
            1.0 + auc,
            phase="search",
            config_id=config_id,
            valid_auc=auc,
            valid_sf=(sf, support),
            selection=selection,
        )
    trials = load(tmp_path / "p")
    assert trials.searched[0].job.selection == selection  # the record round-trips it
    front = search_points(trials, min_support=10).set_index("config_id")
    assert front.front.to_dict() == {"a": False, "d": True}  # d's 2 targets count at 2
    assert front.loc["d", "valid_abs_sf"] == pytest.approx(1.0)
    report = build_report(tmp_path / "p", reference="llm", **FAST)
    assert any(
        "counts an SF on 2 or more recommended targets per group (the sweep's select.min_support)" in n
        for n in report.notes
    )


def test_the_front_reads_the_sf_metric_the_search_selected_on(tmp_path):
    """A search on valid_abs_sf_liked: the front and the trade-off table read that metric and its
    support, and the note says where each |SF| takes S; a one-metric search has no trade-off."""
    from harness.report.collect import load
    from harness.report.pareto import has_tradeoff, search_points

    store = write_experiment(tmp_path / "p", {"llm": 0.0}, seeds=(0,), experiment="pareto")
    selection = {
        "metrics": ["valid_auc", "valid_abs_sf_liked"],
        "modes": ["max", "min"],
        "rule": "pareto",
        "best": None,
        "bounds": {},
        "min_support": 10,
    }
    for config_id, (auc, yes, liked) in {"a": (0.80, 0.01, 0.30), "b": (0.70, 0.02, 0.10)}.items():
        write_record(
            store,
            "pareto",
            "movielens-100k",
            "mos",
            0,
            1.0 + auc,
            phase="search",
            config_id=config_id,
            valid_auc=auc,
            valid_sf=(yes, 20),
            selection=selection,
            extra_metrics={"valid_abs_sf_liked": liked, "valid_sf_liked_support": 20},
        )
    trials = load(tmp_path / "p")
    front = search_points(trials, min_support=10).set_index("config_id")
    assert front.valid_abs_sf.to_dict() == pytest.approx({"a": 30.0, "b": 10.0})
    assert front.front.to_dict() == {"a": True, "b": True}  # on the Yes answers' |SF|, b would be dominated
    report = build_report(tmp_path / "p", reference="llm", figures=False, **FAST)
    [note] = [n for n in report.notes if n.startswith("Trade-off")]
    assert "(valid_abs_sf_liked)" in note and "its test |SF| takes S = the Yes answers" in note
    one = dict(selection, metrics=["valid_auc"], modes=["max"], rule="best")
    store = write_experiment(tmp_path / "one", {"llm": 0.0}, seeds=(0,), experiment="one")
    write_record(
        store,
        "one",
        "movielens-100k",
        "mos",
        0,
        1.5,
        phase="search",
        config_id="c",
        valid_auc=0.8,
        valid_sf=(0.1, 20),
        selection=one,
    )
    assert not has_tradeoff(load(tmp_path / "one"))


def test_rows_at_different_precisions_are_noted(tmp_path):
    store = write_experiment(tmp_path / "prec", {"mos": 1.0}, seeds=(0, 1))
    for seed in (0, 1):
        write_record(store, "table4_fairness_methods", "movielens-100k", "up5", seed, 0.5, precision="bf16")
    report = build_report(tmp_path / "prec", figures=False, **FAST)
    assert "Precisions differ between rows (bf16: up5; fp32: mos)" in " ".join(report.notes)


def test_an_sf_claim_read_on_its_distance_from_zero_tests_each_seeds_abs_sf(tmp_path):
    """--sf-effect abs: each seed's |SF| of A minus B's, averaged over the seeds (outside the
    user's group these fixtures' SF is below 0, so |SF| and SF differ); AUC is tested as before,
    and the caption says which way every effect goes."""
    write_experiment(tmp_path / "t1", {"mos": 1.5, "weak": 0.0}, experiment="table1_preliminary")
    options = dict(relations=["inside", "outside"], **FAST)
    signed = build_report(tmp_path / "t1", **options)
    absolute = build_report(tmp_path / "t1", sf_effect="abs", **options)
    per_seed = absolute.per_seed[absolute.per_seed.source == "ours"].set_index(["method", "relation", "seed"])
    tested = 0
    for row in absolute.comparisons[absolute.comparisons.metric.str.startswith("sf_")].itertuples():
        a, b = (row.method_a, "inside"), (row.method_b, "outside")  # a Table 1 contrast
        if row.relation != "inside-outside":
            a, b = (row.method_a, row.relation), (row.method_b, row.relation)
        gap = per_seed.loc[a, row.metric].abs() - per_seed.loc[b, row.metric].abs()
        assert row.effect == pytest.approx(gap.mean(), abs=1e-9)
        tested += 1
        if row.relation != "inside-outside":  # the seed-level t-test reads the same |SF|
            from scipy.stats import ttest_rel

            assert row.p == pytest.approx(
                ttest_rel(per_seed.loc[a, row.metric].abs(), per_seed.loc[b, row.metric].abs()).pvalue
            )
    assert tested == 3 * 4  # mos vs weak inside and outside, two contrasts
    users = [
        c[(c.relation == "outside") & (c.metric == "sf_implicit")].iloc[0][["p_users", "ci_users_low"]]
        for c in (signed.comparisons, absolute.comparisons)
    ]
    assert users[0].ci_users_low != pytest.approx(users[1].ci_users_low)  # the user-level test reads |SF| too
    outside = signed.comparisons[
        (signed.comparisons.relation == "outside") & (signed.comparisons.metric == "sf_implicit")
    ].effect.iloc[0]
    assert outside != pytest.approx(
        absolute.comparisons.set_index(["relation", "metric"]).loc[("outside", "sf_implicit"), "effect"]
    )
    keys = ["relation", "method_b", "metric"]
    auc = [c[c.metric == "auc"].set_index(keys)[["effect", "p"]] for c in (signed.comparisons, absolute.comparisons)]
    pd.testing.assert_frame_equal(*auc)
    assert "method_a − method_b" in absolute.caption and "|SF| minus the other's" in absolute.caption
    assert "|SF| minus" not in signed.caption
    with pytest.raises(ReportError, match="sf_effect"):
        build_report(tmp_path / "t1", sf_effect="magnitude", **FAST)


def test_the_papers_gaps_come_from_the_table_asked_for(tmp_path):
    write_experiment(tmp_path / "mine", {"mos": 1.0, "up5": 0.0}, experiment="my_experiment")
    report = build_report(tmp_path / "mine", paper_table="table4", **FAST)
    c = report.comparisons.set_index("metric")
    assert c.loc["auc", "paper_gap"] == pytest.approx(69.64 - 67.60)  # Table 4, MovieLens: MoS - UP5
    assert np.isnan(build_report(tmp_path / "mine", **FAST).comparisons.paper_gap).all()


def _tradeoff_experiment(tmp_path, selection, search, replicated=("a", "b"), seeds=(1,)):
    """Search records (config -> (valid AUC, |SF|, support, |SF| liked)) on seed 0 with ``selection``,
    and the ``replicated`` configurations on ``seeds``, one shift per configuration."""
    store = write_experiment(tmp_path / "p", {"llm": 0.0}, seeds=(0, 1), experiment="pareto")
    for config_id, (auc, sf, support, liked) in search.items():
        write_record(
            store,
            "pareto",
            "movielens-100k",
            "mos",
            0,
            1.0 + auc,
            phase="search",
            config_id=config_id,
            valid_auc=auc,
            valid_sf=(sf, support),
            selection=selection,
            extra_metrics={"valid_abs_sf_liked": liked, "valid_sf_liked_support": support},
        )
    for config_id in replicated:
        for seed in seeds:
            write_record(
                store,
                "pareto",
                "movielens-100k",
                "mos",
                seed,
                1.0 + search[config_id][0],
                config_id=config_id,
                selection=selection,
            )
    return tmp_path / "p"


PARETO = {
    "metrics": ["valid_auc", "valid_abs_sf"],
    "modes": ["max", "min"],
    "rule": "pareto",
    "best": None,
    "bounds": {},
    "min_support": 10,
}


def test_the_main_table_shows_the_tradeoffs_best_validation_auc_and_lists_no_pareto_point_as_excluded(tmp_path):
    folder = _tradeoff_experiment(tmp_path, PARETO, {"a": (0.70, 0.10, 20, 0.1), "b": (0.80, 0.30, 20, 0.1)})
    report = build_report(folder, reference="llm", figures=False, **FAST)
    shown = {r.job.config_id for r in load(folder).records.values() if r.job.method == "mos"}
    assert shown == {"b"}  # the most seeds, then the best validation AUC
    assert not any("is not the arm's reported one" in n for n in report.notes)
    assert any("the most seeds, then the best valid_auc of its search trial" in n for n in report.notes)


def test_the_tradeoff_leaves_out_what_the_recorded_rule_no_longer_selects_and_flags_thin_test_sf(tmp_path):
    """c was replicated under an earlier rule: the knee of a, b, c is b alone now. The front is
    computed on every recorded metric (a is dominated on AUC and |SF| but not once |SF| liked
    counts), and each point's test |SF| carries its support."""
    three = dict(PARETO, metrics=["valid_auc", "valid_abs_sf", "valid_abs_sf_liked"], modes=["max", "min", "min"])
    search = {"a": (0.70, 0.35, 20, 0.01), "b": (0.80, 0.30, 20, 0.20), "c": (0.75, 0.10, 20, 0.30)}
    folder = _tradeoff_experiment(tmp_path, three, search, replicated=("a", "b", "c"))
    from harness.report.pareto import replicated_points, search_points, unselected

    trials = load(folder)
    front = search_points(trials, min_support=10).set_index("config_id")
    assert front.front.to_dict() == {"a": True, "b": True, "c": True}
    assert front.selected.to_dict() == {"a": True, "b": True, "c": True}
    knee = dict(PARETO, rule="knee")
    folder = _tradeoff_experiment(
        tmp_path / "k",
        knee,
        {"a": (0.70, 0.10, 20, 0.1), "b": (0.78, 0.12, 20, 0.1), "c": (0.80, 0.40, 20, 0.1)},
        replicated=("b", "c"),
    )
    trials = load(folder)
    assert unselected(trials) == ["movielens-100k/mos c"]
    points = replicated_points(trials, min_support=10**6)
    assert sorted(points[points.method == "mos"].config_id) == ["b"]
    assert points.test_sf_thin.all() and (points.test_sf_support > 0).all()
    report = build_report(folder, reference="llm", figures=False, min_support=10**6, **FAST)
    assert any(
        "no longer selects from the search records are left out of pareto.md: movielens-100k/mos c" in n
        for n in report.notes
    )
    from harness.report.pareto import to_markdown

    assert "‡" in to_markdown(report.tradeoff)


def test_each_tradeoff_point_carries_its_own_test_sf_support(tmp_path):
    """The fewest recommended targets stereotyped to a group, over the point's own seeds, counted
    here from the per-example scores; without the scores' tests (--no-significance) none."""
    folder = _tradeoff_experiment(
        tmp_path, PARETO, {"a": (0.70, 0.10, 20, 0.1), "b": (0.80, 0.30, 20, 0.1)}, seeds=(1, 2)
    )
    from harness.report.pareto import replicated_points

    trials = load(folder)
    points = replicated_points(trials, min_support=10).set_index("config_id")
    for config_id in ("a", "b"):
        fewest = []
        for r in (r for r in trials.replicated.values() if r.job.config_id == config_id):
            frame = trials.scores(r.key)
            frame = frame[(frame.setting == "implicit") & (frame.score > 0)]
            fewest.append(min(int(frame[f"target_in_{g}"].sum()) for g in ("female", "male")))
        assert points.loc[config_id, "test_sf_support"] == min(fewest)
    assert points.loc["a", "test_sf_support"] != points.loc["b", "test_sf_support"]
    bare = replicated_points(trials, min_support=10, support=False)
    assert bare.test_sf_support.isna().all() and not bare.test_sf_thin.any()


def test_the_tradeoff_reads_the_rule_the_arm_was_last_replicated_under(tmp_path):
    """The YAML's rule changed from pareto to knee once the search was done: the replication
    records carry the knee, so the knee's configuration is kept and the pareto-only one is not.
    With nothing selected left the trade-off is empty, not an error."""
    from harness.report.collect import restrict
    from harness.report.pareto import replicated_points, unselected

    search = {"a": (0.70, 0.10, 20, 0.1), "b": (0.78, 0.12, 20, 0.1), "c": (0.80, 0.40, 20, 0.1)}
    folder = _tradeoff_experiment(tmp_path, PARETO, search, replicated=())
    store = Store(str(folder))
    for config_id in ("b", "c"):
        write_record(
            store,
            "pareto",
            "movielens-100k",
            "mos",
            1,
            1.5,
            config_id=config_id,
            selection=dict(PARETO, rule="knee"),
            date="2026-11-26T00:00:00+00:00",
        )
    trials = load(folder)
    assert unselected(trials) == ["movielens-100k/mos c"]
    assert sorted(replicated_points(trials).config_id) == ["b", "cfg"]  # mos b, and llm's one
    only_c = restrict(trials, {"mos"})
    only_c = dataclasses.replace(
        only_c, replicated={k: r for k, r in only_c.replicated.items() if r.job.config_id == "c"}
    )
    assert replicated_points(only_c).empty


def test_the_tradeoffs_test_sf_takes_the_tables_reading_of_eq4(tmp_path):
    folder = _tradeoff_experiment(tmp_path, PARETO, {"a": (0.70, 0.10, 20, 0.1), "b": (0.80, 0.30, 20, 0.1)})
    report = build_report(folder, reference="llm", figures=False, sf_reading="group_users", **FAST)
    points = report.tradeoff.set_index(["method", "config_id"])
    values = report.per_seed[(report.per_seed.source == "ours") & (report.per_seed.method == "llm")]
    assert points.loc[("llm", "cfg"), "test_abs_sf_mean"] == pytest.approx(values.sf_implicit.abs().mean())
    plain = build_report(folder, reference="llm", figures=False, **FAST).tradeoff.set_index(["method", "config_id"])
    assert plain.loc[("llm", "cfg"), "test_abs_sf_mean"] != pytest.approx(
        points.loc[("llm", "cfg"), "test_abs_sf_mean"]
    )
