"""The report's pipeline: an experiment's records, measured at the report's reading (threshold,
decision rate, SF reading), compared, summarised and captioned into a ``Report``, from one frozen
``ReportOptions`` (``python -m harness.report`` fills it from the command line and report.yaml)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.records import safe
from harness.report import captions, decisions, notes
from harness.report import paper as published
from harness.report.claims import Claim
from harness.report.collect import LABELS, ReportError, load, method_of, restrict
from harness.report.compare import compare, no_comparisons
from harness.report.comparison import SF_EFFECTS, TestConfig
from harness.report.decision import at_rate, parse_rate
from harness.report.provenance import provenance_summary
from harness.report.reference import reference_values
from harness.report.remeasure import remeasure, target_threshold
from harness.report.rescore import with_sf_reading
from harness.report.routing import routing
from harness.report.summary import SF_RANKS, summarize
from harness.report.support import MIN_SUPPORT, sf_support, thin_notes, with_support
from harness.report.table import Report

RELATIONS = ("all", "inside", "outside")


@dataclass(frozen=True)
class ReportOptions:
    """How a report reads an experiment's records; checked on construction (``ReportError``).

    reference: the method every other one is tested against (and whose improvement over the best
    other method is shown). paper / paper_table: put the paper's published numbers beside ours
    (the table is inferred from the experiment's name, e.g. "table4_..."). relations: pair subsets
    to tabulate, ("all",) unless the paper table splits them (Table 1: target outside / inside the
    user's group). methods: the rows shown, and the only ones tested (with the reference). seeds:
    the seeds read (None: every seed with records), for every row, claims' included.
    sf_rank: "abs" ranks SF by |SF|, "signed" as the paper bolds (lower is better). min_support: an
    SF resting on fewer recommended targets stereotyped to a group, on any seed, is flagged
    (support.FLAG) and the notes say where. sf_reading: Eq. 4's denominator over "all" recommended
    pairs (as printed; the records hold it) or "group_users" (G's users' pairs only; recomputed from
    the per-example scores). z, threshold_scope: the stereotype threshold (Eq. 3) every row is
    measured at (``harness.report.remeasure``; None: each record's own, and the caption names them
    where they differ). decision_rate: Eq. 4's S as each row's top share of test pairs ("liked" or a
    share in (0, 1]; ``harness.report.decision``); None: the pairs a model answers Yes, as the paper.
    sf_effect: what an SF comparison tests, "signed" SF(reference) - SF(other) per seed or "abs"
    |SF(reference)| - |SF(other)| (``TestConfig.sf_effect``). claims: the experiment's claims
    (``harness.report.claims``, from its report.yaml): Holm adjusts over them alone, whatever rows
    ``methods`` shows, and each gets a verdict (claims.md); none: the table's comparisons are the
    (exploratory) family."""

    reference: str = "mos"
    alpha: float = 0.05
    resamples: int = 10_000
    seed: int = 0
    paper: bool = False
    paper_table: str | None = None
    relations: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    seeds: tuple[int, ...] | None = None
    significance: bool = True
    figures: bool = True
    allow_smoke: bool = False
    sf_rank: str = "abs"
    min_support: int = MIN_SUPPORT
    sf_reading: str = "all"
    z: float | None = None
    threshold_scope: str | None = None
    decision_rate: str | float | None = None
    sf_effect: str = "signed"
    claims: tuple[Claim, ...] = ()

    def __post_init__(self):
        for name in ("relations", "methods"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "seeds", seed_list(self.seeds))
        object.__setattr__(self, "claims", tuple(self.claims))
        if not 0 < self.alpha < 1:
            raise ReportError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.sf_reading not in ("all", "group_users"):
            raise ReportError(f"sf_reading must be 'all' or 'group_users', got {self.sf_reading!r}")
        if self.sf_reading != "all" and not self.significance:
            raise ReportError(
                "--sf-reading group_users recomputes SF from the per-example scores; drop --no-significance"
            )
        if self.sf_rank not in SF_RANKS:
            raise ReportError(f"sf_rank must be one of {', '.join(SF_RANKS)}, got {self.sf_rank!r}")
        if self.resamples < 100:
            raise ReportError(f"resamples must be at least 100 for a usable p-value, got {self.resamples}")
        if self.sf_effect not in SF_EFFECTS:
            raise ReportError(f"sf_effect must be one of {', '.join(SF_EFFECTS)}, got {self.sf_effect!r}")
        parse_rate(self.decision_rate)

    @property
    def rate(self) -> str | float | None:
        """The decision rate, parsed (``harness.report.decision.parse_rate``)."""
        return parse_rate(self.decision_rate)

    @property
    def tests(self) -> TestConfig:
        return TestConfig(
            self.reference, self.alpha, self.resamples, self.seed, self.sf_reading, self.sf_effect, self.claims
        )


def seed_list(value) -> tuple[int, ...] | None:
    """The seeds a report or plan reads: None (every seed), or "0,1,2" (the command line's), a list
    (report.yaml's) or one int, as a tuple of ints; a ReportError names what is not a seed."""
    if value is None or value == "" or value == []:
        return None
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, (list, tuple)) else [value]
    try:
        seeds = tuple(int(str(x).strip()) for x in items if str(x).strip())
    except ValueError:
        raise ReportError(f"seeds must be integers, comma-separated (e.g. 0,1,2,3,4), got {value!r}") from None
    return seeds or None


def build(folder: str | Path, options: ReportOptions, log=lambda *_: None) -> Report:
    """The report of the experiment whose records are under ``folder``/trials."""
    o, tests, rate = options, options.tests, options.rate
    trials, shown, threshold, rate_notes = measured_trials(
        folder,
        o.methods,
        o.reference,
        o.claims,
        o.z,
        o.threshold_scope,
        rate,
        o.sf_reading,
        o.allow_smoke,
        log,
        seeds=o.seeds,
    )
    table = _paper_table(trials.experiment, o.paper, o.paper_table)
    relations = _relations(o, table, trials, folder)
    gaps = table if table is not None else published.table_for(trials.experiment)  # the paper's, as asked or named
    comparisons = compare(trials, tests, relations, log, gaps, shown) if o.significance else no_comparisons()
    rows = restrict(trials, shown) if shown else trials
    references, reference_notes = (
        reference_values(rows, relations, o.reference, random_seed=o.seed, sf_denominator=o.sf_reading, rate=rate)
        if o.significance
        else (None, [])
    )
    summary = summarize(rows, comparisons, tests, relations, table, o.methods, o.sf_rank, references)
    backbones = {str(r.job.backbone) for r in rows.records.values() if r.job.backbone}
    if table is not None and backbones:
        summary = _comparable(summary, backbones)
    summary, thin = _with_support(summary, rows, relations, o)
    caption = (
        captions.caption(tests, comparisons, o.significance, summary, table, o.sf_rank, o.min_support, backbones)
        + captions.threshold_sentence(rows, threshold)
        + captions.decision_sentence(rate)
    )
    seed_note = (
        [f"Seeds read: {', '.join(map(str, o.seeds))} only (--seeds); the other seeds' records are left out."]
        if o.seeds
        else []
    )
    below = _notes(rows, relations, summary, comparisons, tests, seed_note + rate_notes + reference_notes + thin)
    extras = {
        "per_seed": _per_seed(rows, references, relations),
        "provenance": provenance_summary(trials),
        "routing": routing(rows) if o.significance else None,
        "groups": _groups(rows),
    }
    report = Report(
        trials.experiment,
        summary,
        comparisons,
        tests,
        tuple(LABELS),
        caption,
        below,
        trials.smoke,
        sf_rank=o.sf_rank,
        **extras,
    )
    if o.figures:
        from harness.report.figures import make_figures

        report.figures.update(make_figures(rows, summary, tests, o.sf_rank))
    return _with_tradeoff(report, rows, o.min_support, o.figures, rate, o.sf_reading, o.significance)


def measured_trials(
    folder,
    methods,
    reference: str,
    claims,
    z,
    threshold_scope,
    rate,
    sf_reading: str = "all",
    allow_smoke: bool = False,
    log=lambda *_: None,
    seeds=None,
    claims_only: bool = False,
):
    """The records a report (or a plan) reads, measured at its reading: (trials, the methods shown
    or None for all, the stereotype threshold, notes on the decision rate). ``methods`` restricts
    the rows, but the claims' methods stay: the family is the experiment's. ``seeds`` (None: all)
    restricts every row, claims' included, to those seeds' records, each of which every method
    read must have (``claims_only``: only the reference and the claims' methods are read, as a
    plan reads them)."""
    trials = load(folder, RELATIONS, allow_smoke)
    if seeds:
        present = {r.job.seed for r in trials.records.values()}
        missing = set(seeds) - present
        if missing:
            raise ReportError(
                f"--seeds names {sorted(missing)}, which have no ok records; seeds with records: {sorted(present)}"
            )
        trials = restrict(trials, seeds=set(seeds))
    shown = None
    kept = {reference} | {m for c in claims for m in (c.a, c.b)}  # --methods cannot leave these out
    if methods:
        unknown = set(methods) - set(trials.values.method)
        if unknown:
            raise ReportError(
                f"--methods names {sorted(unknown)}, which have no records; "
                f"methods with records: {sorted(set(trials.values.method))}"
            )
        shown = set(methods) | {reference}
        trials = restrict(trials, shown | kept)
    if seeds:
        _every_seed(trials, set(seeds), kept, kept if claims_only else None)
    threshold = target_threshold(trials, z, threshold_scope)
    trials, rate_notes = at_rate(remeasure(trials, threshold, log), rate, log)
    return with_sf_reading(trials, RELATIONS, sf_reading), shown, threshold, rate_notes


def _every_seed(trials, seeds: set, kept: set, among: set | None = None) -> None:
    """Named seeds are a promise about every row: each method read (``among``, None: every method;
    on each data set it has records of) has an ok record on each of them, or the report stops.
    Otherwise a failed or missing trial would leave its seed out of that method's tests without a
    word, and a claim would rest on fewer seeds than its plan. ``kept``: the methods --methods
    cannot leave out (the reference and the claims'), whose hint says so."""
    held: dict[tuple[str, str], set] = {}
    for record in trials.records.values():
        if among is None or method_of(record) in among:
            held.setdefault((record.job.dataset, method_of(record)), set()).add(record.job.seed)
    short = []
    for (dataset, method), have in sorted(held.items()):
        lacking = seeds - have
        if not lacking:
            continue
        prefix = f"{safe(f'{dataset}/{method}')}__"
        ends = tuple(f"__seed{n}" for n in lacking)  # trial keys: <dataset>_<method>__<config>__seed<n>
        failed = [e for e in trials.excluded if (key := e.split(":", 1)[0]).startswith(prefix) and key.endswith(ends)]
        hint = "rerun it, or name only the seeds it has" + (
            "" if method in kept else ", or leave the method out with --methods"
        )
        short.append(
            f"{method} on {dataset} has no ok record of seed(s) {sorted(lacking)}"
            + (f" (not ok: {'; '.join(failed)})" if failed else " (no record of it)")
            + f": {hint}"
        )
    if short:
        raise ReportError(f"--seeds names {sorted(seeds)}, but " + "; ".join(short))


def _relations(options: ReportOptions, table, trials, folder) -> tuple[str, ...]:
    """The pair subsets tabulated; checked, with the reference method's records."""
    relations = tuple(options.relations or (table.relations if table else ("all",)))
    bad = set(relations) - set(RELATIONS)
    if bad:
        raise ReportError(f"relations must be among all, inside, outside; got {sorted(bad)}")
    if options.reference not in set(trials.values.method):
        raise ReportError(
            f"reference method {options.reference!r} has no ok records in {folder}; methods with "
            f"records: {sorted(set(trials.values.method))} (pass --reference METHOD)"
        )
    return relations


def _notes(
    rows, relations, summary: pd.DataFrame, comparisons: pd.DataFrame, tests: TestConfig, measured: list[str]
) -> tuple[str, ...]:
    """The notes under the table, in their order: records left out or undefined, empty columns,
    ``measured`` (the decision rate's, the reference rows' and SF support's), the verdict rule, what
    the study could detect, differing precisions."""
    return tuple(
        notes.record_notes(rows, relations)
        + notes.empty_notes(summary)
        + measured
        + notes.verdict_notes(comparisons)
        + notes.power_notes(tests, comparisons)
        + notes.precision_notes(rows)
    )


def _comparable(summary: pd.DataFrame, backbones: set[str]) -> pd.DataFrame:
    """The paper's rows marked comparable or not: its numbers come from T5; beside another backbone's
    they orient."""
    summary["comparable"] = None
    summary.loc[summary.source == "paper", "comparable"] = all(b.startswith("t5") for b in backbones)
    return summary


def _with_support(summary: pd.DataFrame, rows, relations, options: ReportOptions):
    """The summary with SF's support and the decisions table's columns, and their notes; both need
    the per-example scores, as the tests do (none without significance)."""
    if not options.significance:
        return summary, []
    support = sf_support(rows, relations, options.sf_reading)
    summary = with_support(summary, support, options.min_support)
    thin = thin_notes(support, options.min_support)
    choices = decisions.decisions(rows, relations, options.sf_reading, random_seed=options.seed)
    summary = decisions.with_decisions(summary, choices)
    return summary, decisions.all_yes_notes(rows, choices) + thin


def _groups(trials) -> tuple[str, ...]:
    """The stereotype groups in the records' order (their threshold moments name them)."""
    for record in trials.records.values():
        if (record.threshold_moments or {}).get("groups"):
            return tuple(record.threshold_moments["groups"])
    return ()


def _with_tradeoff(
    report: Report,
    trials,
    min_support: int,
    figures: bool,
    rate=None,
    sf_reading: str = "all",
    significance: bool = True,
) -> Report:
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
    first = sorted({(r.job.selection or {}).get("metrics", ["valid_auc"])[0] for r in trials.searched})
    more = notes.tradeoff_notes(
        points, supports, pareto.sf_metrics(trials), first, rate, min_support, pareto.unselected(trials, min_support)
    )
    return dataclasses.replace(report, tradeoff=points, notes=report.notes + tuple(more))


def _per_seed(trials, references, relations) -> pd.DataFrame:
    """Each measured cell's seeds: the methods' values and the reference rows', per seed."""
    keep = ["dataset", "relation", "method", "seed", *LABELS]
    ours = trials.values[trials.values.relation.isin(relations)][keep].assign(source="ours")
    if references is None or references.empty:
        return ours.reset_index(drop=True)
    theirs = references[references.relation.isin(relations)][keep].assign(source="reference")
    return pd.concat([ours, theirs], ignore_index=True)


def _paper_table(experiment: str, paper: bool, name: str | None):
    if not paper and name is None:
        return None
    if name is not None:
        if name not in published.TABLES:
            raise ReportError(f"--paper-table {name!r} is not one of the paper's tables {sorted(published.TABLES)}")
        return published.TABLES[name]
    table = published.table_for(experiment)
    if table is None:
        raise ReportError(
            f"--paper: experiment {experiment!r} does not name a paper table; pass --paper-table "
            f"with one of {sorted(published.TABLES)}"
        )
    return table
