"""The table's rows: mean, std (ddof 1) and n over seeds per (data set, relation, method); the
direction-aware ranks (bold, underline), the reference's improvement over the best other method
and the test markers of each block; the reference recommenders' rows and the paper's beside ours.
``harness.report.table.Report`` renders them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report import paper
from harness.report.collect import COLUMNS, HIGHER_IS_BETTER, Trials
from harness.report.comparison import TestConfig
from harness.report.reference import REFERENCES

SF_RANKS = ("abs", "signed")


def _means(values: pd.DataFrame, columns) -> pd.DataFrame:
    """Mean, std (ddof 1), the count of defined values per column, and n per (dataset, relation, method)."""
    grouped = values.groupby(["dataset", "relation", "method"], sort=True)
    summary = grouped[columns].agg(["mean", "std"])
    summary.columns = [f"{c}_{s}" for c, s in summary.columns]
    counts = grouped[columns].count()
    summary[[f"{c}_n" for c in columns]] = counts.to_numpy()
    summary["n"] = grouped.size()
    return summary.reset_index()


def summarize(
    trials: Trials,
    comparisons: pd.DataFrame,
    tests: TestConfig,
    relations,
    table: paper.PaperTable | None,
    methods=None,
    sf_rank: str = "abs",
    references: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean, std (ddof 1), n per (dataset, relation, method); ranks, markers, the
    reference's improvement; the reference recommenders' rows (``references``, from
    ``reference.reference_values``; first in each block, never ranked) and the paper's
    rows beside ours when ``table`` is given. ``sf_rank``: see ``_annotate``."""
    values = trials.values[trials.values.relation.isin(relations)]
    columns = [c for c, _, _ in COLUMNS]
    summary = _means(values, columns)
    summary["source"] = "ours"
    order = methods or sorted(set(summary.method) - {tests.reference}) + [tests.reference]
    unknown = set(order) - set(summary.method)
    if methods and unknown:
        raise ValueError(
            f"--methods names {sorted(unknown)}, which have no records; "
            f"methods with records: {sorted(set(summary.method))}"
        )
    summary = summary[summary.method.isin(order)]
    summary["_order"] = summary.method.map({m: i for i, m in enumerate(order)})
    parts = [
        _annotate(part, comparisons, tests, columns, sf_rank)
        for _, part in summary.groupby(["dataset", "relation"], sort=True)
    ]
    summary = pd.concat(parts, ignore_index=True) if parts else summary
    if references is not None and len(references):
        rows = _means(references[references.relation.isin(relations)], columns)
        rows["source"] = "reference"
        rows["_order"] = rows.method.map({m: i - len(REFERENCES) for i, m in enumerate(REFERENCES)})
        summary = pd.concat([summary, rows], ignore_index=True)
    if table is not None:
        summary = pd.concat([summary, _paper_rows(summary, table, columns)], ignore_index=True)
    relation_order = {r: i for i, r in enumerate(relations)}
    summary["_relation"] = summary.relation.map(relation_order)
    summary["_source"] = summary.source.map({"reference": 0, "ours": 0, "paper": 1})
    summary = summary.sort_values(["dataset", "_relation", "_order", "_source"], ignore_index=True)
    return summary.drop(columns=["_order", "_relation", "_source"])


def _annotate(
    part: pd.DataFrame, comparisons: pd.DataFrame, tests: TestConfig, columns, sf_rank: str = "abs"
) -> pd.DataFrame:
    """Ranks (1 bold, 2 underline, 0 none), the reference's improvement over the best other
    method, and the test markers, for one (dataset, relation) block of rows.

    Only a mean over every seed of its row is ranked or taken as the best other method: a
    ``[k/n seeds]`` mean is shown, never ranked. SF is ranked by |SF| (``sf_rank="abs"``,
    default): SF < 0 is under-recommendation, as far from fair as SF > 0; ``"signed"``
    ranks lower as better, as the paper bolds. The improvement compares the same ranked
    quantity (|SF| under "abs")."""
    if sf_rank not in SF_RANKS:
        raise ValueError(f"sf_rank must be one of {SF_RANKS}, got {sf_rank!r}")
    part = part.copy()
    dataset, relation = part.dataset.iloc[0], part.relation.iloc[0]
    for c in columns:
        magnitude = c.startswith("sf_") and sf_rank == "abs"
        values = part[f"{c}_mean"].to_numpy(dtype=float)
        values = np.abs(values) if magnitude else values
        complete = (part[f"{c}_n"] == part["n"]).to_numpy()
        key = np.where(complete, values if HIGHER_IS_BETTER[c] else -values, np.nan)
        distinct = np.unique(key[~np.isnan(key)])[::-1]  # ties share a rank
        part[f"{c}_rank"] = [
            int(np.flatnonzero(distinct == k)[0]) + 1 if not np.isnan(k) and np.flatnonzero(distinct == k)[0] < 2 else 0
            for k in key
        ]
        part[f"{c}_improvement"] = np.nan
        is_ref = (part.method == tests.reference).to_numpy()
        others = ~is_ref & ~np.isnan(key)
        if is_ref.any() and not np.isnan(key[is_ref][0]) and others.any():
            best = values[others][np.argmax(key[others])]
            if best != 0:
                part.loc[is_ref, f"{c}_improvement"] = 100.0 * (values[is_ref][0] - best) / abs(best)
        significant, adjusted = _marks(comparisons, dataset, relation, c, tests.reference)
        part[f"{c}_significant"] = [bool(significant[m]) if m in significant else None for m in part.method]
        part[f"{c}_p_adjusted"] = [adjusted.get(m, np.nan) for m in part.method]
    return part


def _marks(comparisons: pd.DataFrame, dataset: str, relation: str, column: str, reference: str) -> tuple[dict, dict]:
    """method -> significant and -> Holm-adjusted p of its cell: the two-sided tests of the family
    between the reference and that method on this column (either way round); a cell the family
    does not test has none."""
    if not len(comparisons):
        return {}, {}
    c = comparisons
    tested = c[
        (c.dataset == dataset)
        & (c.relation == relation)
        & (c.metric == column)
        & (c.family != "")
        & (c.alternative == "two-sided")
        & ((c.method_a == reference) | (c.method_b == reference))
    ]
    other = np.where(tested.method_a == reference, tested.method_b, tested.method_a)
    return dict(zip(other, tested.significant, strict=True)), dict(zip(other, tested.p_adjusted, strict=True))


def _paper_rows(summary: pd.DataFrame, table: paper.PaperTable, columns) -> pd.DataFrame:
    rows = []
    for (dataset, relation, method), order in (
        summary.groupby(["dataset", "relation", "method"])["_order"].first().items()
    ):
        published = paper.published(table, dataset, method, relation)
        if published is None:
            continue
        rows.append(
            {
                "dataset": dataset,
                "relation": relation,
                "method": method,
                "source": "paper",
                "n": 3,
                "_order": order,
                **{f"{c}_mean": published.get(c, np.nan) for c in columns},
                **{f"{c}_std": np.nan for c in columns},
            }
        )
    return pd.DataFrame(rows)
