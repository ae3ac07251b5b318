"""Significance-tested tables and figures from one experiment's trial records.

    from harness.report import build_report
    report = build_report("results/table4_fairness_methods", reference="mos", paper=True)
    print(report.to_markdown()); report.save("results/table4_fairness_methods/report")

``python -m harness.report --help`` is the same from the command line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from harness.report import captions, decisions
from harness.report import paper as published
from harness.report.claims import Claim
from harness.report.collect import LABELS, ReportError, load, restrict, with_sf_reading
from harness.report.compare import SF_EFFECTS, TestConfig, compare, no_comparisons
from harness.report.decision import at_rate, parse_rate
from harness.report.reference import reference_values
from harness.report.remeasure import remeasure, target_threshold
from harness.report.routing import routing
from harness.report.support import FLAG, MIN_SUPPORT, sf_support, thin_notes
from harness.report.table import SF_RANKS, Report, summarize

__all__ = ["Report", "ReportError", "TestConfig", "build_report", "measured_trials"]


def build_report(folder: str | Path, reference: str = "mos", alpha: float = 0.05, resamples: int = 10_000,
                 seed: int = 0, paper: bool = False, paper_table: str | None = None, relations=None,
                 methods=None, significance: bool = True, figures: bool = True, allow_smoke: bool = False,
                 sf_rank: str = "abs", min_support: int = MIN_SUPPORT, sf_reading: str = "all",
                 z: float | None = None, threshold_scope: str | None = None, decision_rate=None,
                 sf_effect: str = "signed", claims: tuple[Claim, ...] = (), log=lambda *_: None) -> Report:
    """The report of the experiment whose records are under ``folder``/trials.

    reference: the method every other one is tested against (and whose improvement
    over the best other method is shown). paper / paper_table: put the paper's
    published numbers beside ours (the table is inferred from the experiment's
    name, e.g. "table4_..."). relations: pair subsets to tabulate, ("all",) unless
    the paper table splits them (Table 1: target outside / inside the user's group).
    sf_rank: "abs" ranks SF by |SF| (default), "signed" as the paper bolds (lower is better).
    min_support: an SF resting on fewer recommended targets stereotyped to a group, on any
    seed, is flagged (support.FLAG) and the notes say where. sf_reading: Eq. 4's denominator
    over "all" recommended pairs (as printed; the records hold it) or "group_users" (G's
    users' pairs only; recomputed from the per-example scores). z, threshold_scope: the stereotype
    threshold (Eq. 3) every row is measured at (``harness.report.remeasure``; None: each record's
    own, and the caption names them where they differ); another than a record's own rebuilds its
    split from the data. methods: the rows shown, and the only ones tested (with the reference).
    decision_rate: Eq. 4's S as each row's top share of test pairs ("liked" or a share in (0, 1];
    ``harness.report.decision``); None: the pairs a model answers Yes, as the paper.
    sf_effect: what an SF comparison tests, "signed" SF(reference) - SF(other) per seed (default)
    or "abs" |SF(reference)| - |SF(other)| per seed (``TestConfig.sf_effect``).
    claims: the experiment's claims (``harness.report.claims``, from its report.yaml): Holm adjusts
    over them alone, whatever rows ``methods`` shows, and each gets a verdict (claims.md); none:
    the table's comparisons are the (exploratory) family.
    """
    _check_options(alpha, resamples, sf_rank, sf_reading, significance, sf_effect)
    rate = parse_rate(decision_rate)
    tests = TestConfig(reference, alpha, resamples, seed, sf_reading, sf_effect, tuple(claims))
    trials, shown, threshold, rate_notes = measured_trials(folder, methods, reference, claims, z, threshold_scope,
                                                           rate, sf_reading, allow_smoke, log)
    table = _paper_table(trials.experiment, paper, paper_table)
    relations = tuple(relations or (table.relations if table else ("all",)))
    bad = set(relations) - {"all", "inside", "outside"}
    if bad:
        raise ReportError(f"relations must be among all, inside, outside; got {sorted(bad)}")
    if reference not in set(trials.values.method):
        raise ReportError(f"reference method {reference!r} has no ok records in {folder}; methods with records: "
                          f"{sorted(set(trials.values.method))} (pass --reference METHOD)")
    # the paper's gaps: from the table asked for (--paper, --paper-table), else the experiment's name
    gaps = table if table is not None else published.table_for(trials.experiment)
    comparisons = compare(trials, tests, relations, log, gaps, shown) if significance else no_comparisons()
    rows = restrict(trials, shown) if shown else trials
    references, reference_notes = reference_values(rows, relations, reference, random_seed=seed,
                                                   sf_denominator=sf_reading, rate=rate) if significance else (None, [])
    summary = summarize(rows, comparisons, tests, relations, table, methods, sf_rank, references)
    backbones = {str(r.job.backbone) for r in rows.records.values() if r.job.backbone}
    if table is not None and backbones:   # the paper's numbers come from T5: beside another backbone's they orient
        summary["comparable"] = None
        summary.loc[summary.source == "paper", "comparable"] = all(b.startswith("t5") for b in backbones)
    thin = []
    if significance:                                   # support needs the per-example scores, as the tests do
        support = sf_support(rows, relations, sf_reading)
        summary = _with_support(summary, support, min_support)
        thin = thin_notes(support, min_support)
        choices = decisions.decisions(rows, relations, sf_reading, random_seed=seed)
        summary = decisions.with_decisions(summary, choices)
        thin = decisions.all_yes_notes(rows, choices) + thin
    # every column stays, even one undefined in every row: "–" there, and a note says so
    empty = [f"{LABELS[c]} is undefined in every row (the notes above give each record's reason)"
             for c in LABELS if summary[f"{c}_mean"].isna().all()]
    report = Report(trials.experiment, summary, comparisons, tests, tuple(LABELS),
                    captions.caption(tests, comparisons, significance, summary, table, sf_rank, min_support, backbones)
                    + captions.threshold_sentence(rows, threshold) + captions.decision_sentence(rate),
                    tuple(captions.record_notes(rows, relations) + empty + rate_notes + reference_notes + thin
                          + captions.verdict_notes(comparisons) + captions.power_notes(tests, comparisons)
                          + captions.precision_notes(rows)),
                    trials.smoke, sf_rank=sf_rank, per_seed=_per_seed(rows, references, relations),
                    provenance=provenance_summary(trials), routing=routing(rows) if significance else None,
                    groups=_groups(rows))
    trials = rows
    if figures:
        from harness.report.figures import make_figures
        report.figures.update(make_figures(trials, summary, tests, sf_rank))
    return _with_tradeoff(report, trials, min_support, figures, rate, sf_reading, significance)


def measured_trials(folder, methods, reference: str, claims, z, threshold_scope, rate, sf_reading: str = "all",
                    allow_smoke: bool = False, log=lambda *_: None):
    """The records a report (or a plan) reads, measured at its reading: (trials, the methods shown
    or None for all, the stereotype threshold, notes on the decision rate). ``methods`` restricts
    the rows, but the claims' methods stay: the family is the experiment's."""
    trials = load(folder, ("all", "inside", "outside"), allow_smoke)
    shown = None
    if methods:
        unknown = set(methods) - set(trials.values.method)
        if unknown:
            raise ReportError(f"--methods names {sorted(unknown)}, which have no records; "
                              f"methods with records: {sorted(set(trials.values.method))}")
        shown = set(methods) | {reference}
        trials = restrict(trials, shown | {m for c in claims for m in (c.a, c.b)})
    threshold = target_threshold(trials, z, threshold_scope)
    trials, rate_notes = at_rate(remeasure(trials, threshold, log), rate, log)
    return with_sf_reading(trials, ("all", "inside", "outside"), sf_reading), shown, threshold, rate_notes


def _groups(trials) -> tuple[str, ...]:
    """The stereotype groups in the records' order (their threshold moments name them)."""
    for record in trials.records.values():
        if (record.threshold_moments or {}).get("groups"):
            return tuple(record.threshold_moments["groups"])
    return ()


def _with_tradeoff(report: Report, trials, min_support: int, figures: bool, rate=None,
                   sf_reading: str = "all", significance: bool = True) -> Report:
    """A multi-metric search's trade-off (``report.pareto``): every replicated configuration its
    recorded rule selects in ``tradeoff`` (pareto.md, pareto.csv) and, with figures, each arm's
    front. Its test |SF|'s support needs the per-example scores, as the tests do."""
    from harness.report import pareto

    if not pareto.has_tradeoff(trials):
        return report
    points = pareto.replicated_points(trials, min_support, sf_reading, support=significance)
    if figures:
        report.figures["pareto"] = pareto.figure(pareto.search_points(trials, min_support), points)
    supports = sorted({pareto.arm_selection(trials, d, m, min_support).min_support for d, m in pareto.arms(trials)})
    selected = pareto.sf_metrics(trials)
    first = sorted({(r.job.selection or {}).get("metrics", ["valid_auc"])[0] for r in trials.searched})
    note = (f"Trade-off (pareto.md): {len(points)} replicated configuration(s) of a search on validation AUC and "
            f"|SF| ({' and '.join(selected)}); the validation front counts an SF on "
            f"{' or '.join(map(str, supports))} or more recommended targets per group (the sweep's "
            "select.min_support); "
            "means ± sd over seeds, no test made (the table above shows one configuration per arm: of those the "
            "recorded rule selects, the most seeds, "
            f"then the best {' or '.join(first)} of its search trial)"
            + captions.tradeoff_s(rate, selected))
    notes = [note]
    if points.test_sf_thin.any():
        notes.append(f"Trade-off: {FLAG} marks a test |SF| resting, on some seed, on fewer than {min_support} "
                     "recommended targets stereotyped to a group (test_sf_support: the fewest)")
    left = pareto.unselected(trials, min_support)
    if left:
        notes.append(f"Trade-off: {len(left)} replicated configuration(s) that the sweep's recorded rule no longer "
                     f"selects from the search records are left out of pareto.md: {', '.join(left)}")
    return dataclasses.replace(report, tradeoff=points, notes=report.notes + tuple(notes))










def _check_options(alpha: float, resamples: int, sf_rank: str, sf_reading: str, significance: bool,
                   sf_effect: str = "signed") -> None:
    if not 0 < alpha < 1:
        raise ReportError(f"alpha must be in (0, 1), got {alpha}")
    if sf_reading not in ("all", "group_users"):
        raise ReportError(f"sf_reading must be 'all' or 'group_users', got {sf_reading!r}")
    if sf_reading != "all" and not significance:
        raise ReportError("--sf-reading group_users recomputes SF from the per-example scores; drop --no-significance")
    if sf_rank not in SF_RANKS:
        raise ReportError(f"sf_rank must be one of {', '.join(SF_RANKS)}, got {sf_rank!r}")
    if resamples < 100:
        raise ReportError(f"resamples must be at least 100 for a usable p-value, got {resamples}")
    if sf_effect not in SF_EFFECTS:
        raise ReportError(f"sf_effect must be one of {', '.join(SF_EFFECTS)}, got {sf_effect!r}")


def _per_seed(trials, references, relations) -> pd.DataFrame:
    """Each measured cell's seeds: the methods' values and the reference rows', per seed."""
    keep = ["dataset", "relation", "method", "seed", *LABELS]
    ours = trials.values[trials.values.relation.isin(relations)][keep].assign(source="ours")
    if references is None or references.empty:
        return ours.reset_index(drop=True)
    theirs = references[references.relation.isin(relations)][keep].assign(source="reference")
    return pd.concat([ours, theirs], ignore_index=True)


def provenance_summary(trials) -> dict:
    """What made the reported records, in a few lines: their count, commits, machines,
    devices, dates and package versions (each distinct value once, so a mix shows)."""
    provenance = [r.provenance or {} for r in trials.records.values()]

    def distinct(values) -> str:
        values = sorted({str(v) for v in values if v not in (None, "")})
        return "; ".join(values) if values else "not recorded"

    machines = [(p.get("machine") or {}) for p in provenance]
    packages = sorted({f"{name} {version}" for p in provenance for name, version in (p.get("packages") or {}).items()
                       if version})
    dates = sorted(p.get("date_utc") for p in provenance if p.get("date_utc"))
    return {
        "experiment": trials.experiment,
        "records reported": f"{len(trials.records)} ok (excluded: {len(trials.excluded)})",
        # the sweep's command line and search-space files (records made since commit 023908e name them)
        "commands": distinct(r.job.command for r in trials.records.values()),
        "search-space files": distinct(", ".join(r.job.space) if r.job.space else None
                                       for r in trials.records.values()),
        "backbones": distinct(r.job.backbone for r in trials.records.values()),
        "git commits": distinct(p.get("git_commit") for p in provenance),
        "machines": distinct(m.get("cpu_model") or (f"{m['processor']} (CPU model not recorded)"
                                                    if m.get("processor") else None) for m in machines),
        "torch CPU capability": distinct(m.get("torch_cpu_capability") for m in machines),
        "devices": distinct(r.device for r in trials.records.values()),
        "dates (UTC)": f"{dates[0]} to {dates[-1]}" if dates else "not recorded",
        "packages": "; ".join(packages) or "not recorded",
    }


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


def _with_support(summary, support, min_support: int):
    """``<sf column>_support``: the fewest recommended targets stereotyped to a group on any
    seed of the row where SF is defined (Eq. 4's smallest denominator), and ``_thin`` when
    below ``min_support``. The all-yes reference row gets what the test pairs hold (it
    recommends every pair): the most any method's SF can rest on."""
    fewest = support[support.defined].groupby(["dataset", "relation", "method", "column"]).targets.min()
    # every method of a seed is scored on the same test pairs: one count per (seed, group)
    split = support.groupby(["dataset", "relation", "column", "seed", "group"]).available.first()
    held = split.groupby(level=["dataset", "relation", "column", "seed"]).min()
    held = held[held > 0].groupby(level=["dataset", "relation", "column"]).min()
    summary = summary.copy()
    for column in ("sf_implicit", "sf_explicit", "sf_counterfactual"):
        values = [fewest.get((r.dataset, r.relation, r.method, column), float("nan")) if r.source == "ours" else
                  held.get((r.dataset, r.relation, column), float("nan"))
                  if (r.source, r.method) == ("reference", "all-yes") else float("nan")
                  for r in summary.itertuples()]
        summary[f"{column}_support"] = values
        summary[f"{column}_thin"] = [v < min_support for v in values]
    return summary






