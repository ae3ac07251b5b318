"""Significance-tested tables and figures from one experiment's trial records.

    from harness.report import build_report
    report = build_report("results/table4_fairness_methods", reference="mos", paper=True)
    print(report.to_markdown()); report.save("results/table4_fairness_methods/report")

``python -m harness.report --help`` is the same from the command line.
"""

from __future__ import annotations

from pathlib import Path

from harness.report import paper as published
from harness.report.collect import LABELS, ReportError, load
from harness.report.compare import TestConfig, compare, no_comparisons
from harness.report.table import MARK, Report, summarize

__all__ = ["Report", "ReportError", "TestConfig", "build_report"]


def build_report(folder: str | Path, reference: str = "mos", alpha: float = 0.05, resamples: int = 10_000,
                 seed: int = 0, paper: bool = False, paper_table: str | None = None, relations=None,
                 methods=None, significance: bool = True, figures: bool = True, allow_smoke: bool = False,
                 log=lambda *_: None) -> Report:
    """The report of the experiment whose records are under ``folder``/trials.

    reference: the method every other one is tested against (and whose improvement
    over the best other method is shown). paper / paper_table: put the paper's
    published numbers beside ours (the table is inferred from the experiment's
    name, e.g. "table4_..."). relations: pair subsets to tabulate, ("all",) unless
    the paper table splits them (Table 1: target outside / inside the user's group).
    """
    if not 0 < alpha < 1:
        raise ReportError(f"alpha must be in (0, 1), got {alpha}")
    if resamples < 100:
        raise ReportError(f"resamples must be at least 100 for a usable p-value, got {resamples}")
    tests = TestConfig(reference, alpha, resamples, seed)
    trials = load(folder, ("all", "inside", "outside"), allow_smoke)
    table = _paper_table(trials.experiment, paper, paper_table)
    relations = tuple(relations or (table.relations if table else ("all",)))
    bad = set(relations) - {"all", "inside", "outside"}
    if bad:
        raise ReportError(f"relations must be among all, inside, outside; got {sorted(bad)}")
    if reference not in set(trials.values.method):
        raise ReportError(f"reference method {reference!r} has no ok records in {folder}; methods with records: "
                          f"{sorted(set(trials.values.method))} (pass --reference METHOD)")
    comparisons = compare(trials, tests, relations, log) if significance else no_comparisons()
    summary = summarize(trials, comparisons, tests, relations, table, methods)
    # every column stays, even one undefined in every row: "–" there, and a note says so
    empty = [f"{LABELS[c]} is undefined in every row (the notes above give each record's reason)"
             for c in LABELS if summary[f"{c}_mean"].isna().all()]
    report = Report(trials.experiment, summary, comparisons, tests, tuple(LABELS),
                    _caption(tests, comparisons, significance, summary, table),
                    tuple(_notes(trials, relations) + empty + _power(tests, comparisons)),
                    trials.smoke)
    if figures:
        from harness.report.figures import make_figures
        report.figures.update(make_figures(trials, summary, tests))
    return report


def _paper_table(experiment: str, paper: bool, name: str | None):
    if not paper and name is None:
        return None
    if name is not None:
        if name not in published.TABLES:
            raise ReportError(f"--paper-table {name!r} is not one of the paper's tables {sorted(published.TABLES)}")
        return published.TABLES[name]
    table = published.table_for(experiment)
    if table is None:
        raise ReportError(f"--paper: experiment {experiment!r} does not name a paper table; pass --paper-table "
                          f"with one of {sorted(published.TABLES)}")
    return table


def _caption(tests: TestConfig, comparisons, significance: bool, summary, table) -> str:
    seeds = sorted(set(summary.loc[summary.source == "ours", "n"].astype(int)))
    text = (f"Values ×100 (Params % as printed), mean ± standard deviation over n seeds (n = "
            f"{', '.join(map(str, seeds))}). SF ↓ lower is better; AUC, Precision, Recall ↑ higher is better; "
            "Params ↓ fewer is better. Bold: best, underline: second best, per data set. AUC, Precision and "
            "Recall are under the prompt setting each model was trained on. "
            f"(±x%): {tests.reference}'s change relative to the best other method of the column.")
    if significance:
        text += (f" {MARK}: differs from {tests.reference} at α = {tests.alpha} by a two-sided paired "
                 f"permutation test over test users (unit: a user within one seed's test split, pooled over "
                 f"seeds), {tests.resamples:,} resamples, random seed {tests.seed}, Holm-Bonferroni over all "
                 f"{int(comparisons['p'].notna().sum())} comparisons of this table. comparisons.csv also gives "
                 f"bootstrap intervals and a seed-level paired t-test, which with {max(seeds)} seeds has very "
                 "little power.")
    else:
        text += " No significance tests were run (--no-significance)."
    if table is not None:
        text += f" Rows marked (paper): the published numbers of the paper's {table.caption}."
    return text


def _power(tests: TestConfig, comparisons) -> list[str]:
    """A warning when no difference could be marked however large: the smallest
    attainable Holm-adjusted p is (comparisons) / (resamples + 1)."""
    count = int(comparisons["p"].notna().sum()) if len(comparisons) else 0
    floor = count / (tests.resamples + 1)
    if count and floor >= tests.alpha:
        return [f"with {tests.resamples} resamples and {count} comparisons the smallest attainable Holm-adjusted "
                f"p is {floor:.3f} >= α = {tests.alpha}: no cell can be marked; raise --resamples"]
    return []


def _notes(trials, relations) -> list[str]:
    return [f"excluded {e}" for e in trials.excluded] + [text for relation, text in trials.undefined
                                                          if relation in relations]
