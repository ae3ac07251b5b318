"""Every comparison of a table, and every claim the experiment names, tested where the seeds vary.

A comparison is method A against method B on one column of one pair subset. Its data are the
per-seed effects ``d_s = value(A, s) - value(B, s)`` over the seeds both ran (a contrast: one
method's pairs of one subset against its pairs of another, Table 1's inside against outside or a
claim's, e.g. users:male-users:female; an SF as |SF| under ``sf_effect="abs"``). The seed is the
unit of replication: it draws the split, the training samples and the initialisation, and both
methods of a seed are scored on the same test pairs.

- **Primary** (behind † and every verdict): the paired t-test over seeds and its t-interval
  (``harness.seed_stats.t_test``), the exact sign-flip test beside it; Holm-Bonferroni over the
  family: the claims of the experiment's report.yaml (``harness.report.claims``) where it names
  any, else every comparison of the table (an exploratory family, and the caption says so).
  Power from the noncentral t at the α of each one's Holm step: ``mde`` and the seeds the
  paper's gap would need. P(A better than B) over the seeds, with a Clopper-Pearson interval.
- **Conditional on these trained models** (never behind † or a verdict): the user-level
  permutation test and bootstrap interval (``harness.stats.paired_test``, test users of every
  seed pooled, the checkpoints held fixed: how sure we are of these models' numbers), and
  P(A better than B) over (seed, user) units for AUC, Precision and Recall.
- ``agreement``: the share of test pairs on which A and B make the same Yes/No decision (pooled
  over seeds); a claim on a decision column is not testable at ``claims.SAME_DECISIONS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness import seed_stats, stats
from harness.report.claims import verdict
from harness.report.collect import ReportError, Trials
from harness.report.comparison import CONTRAST, FIELDS, TESTED, Pair, TestConfig, measure
from harness.report.subsets import groups_named, groups_of


def no_comparisons() -> pd.DataFrame:
    return pd.DataFrame(columns=FIELDS)


def compare(
    trials: Trials, config: TestConfig, relations=("all",), log=lambda *_: None, paper_table=None, methods=None
) -> pd.DataFrame:
    """The long table of comparisons (``FIELDS``): the reference against every other method of
    ``methods`` (default: all) per column and relation, each method's inside against its outside
    when both are among ``relations``, and every claim of ``config.claims`` over all of
    ``trials``; Holm over the family (module docstring), verdicts on the claims."""
    pairs = _table_pairs(trials, config, relations, methods) + _claim_pairs(trials, config)
    rows = []
    for pair in pairs:
        log(
            f"  {pair.dataset} {pair.relation}: {pair.a} vs {pair.b} {pair.metric}"
            + (f" (claim {pair.claim.name})" if pair.claim else "")
        )
        rows.append(measure(trials, pair, config, paper_table))
    frame = pd.DataFrame(rows, columns=FIELDS)
    return _adjust(frame, config, {c.name: c for c in config.claims})


def _table_pairs(trials: Trials, config: TestConfig, relations, methods) -> list[Pair]:
    values = trials.values
    pairs = []
    for (dataset, relation), table in values.groupby(["dataset", "relation"], sort=True):
        shown = sorted(m for m in set(table.method) if methods is None or m in methods)
        if relation not in relations or config.reference not in shown:
            continue
        pairs += [
            Pair(dataset, relation, config.reference, other, metric, config.sf_effect)
            for other in shown
            if other != config.reference
            for metric in TESTED
        ]
    if {"inside", "outside"} <= set(relations):
        inside = values[values.relation == "inside"]
        for (dataset, method), _ in inside.groupby(["dataset", "method"], sort=True):
            if methods is None or method in methods:
                pairs += [Pair(dataset, CONTRAST, method, method, metric, config.sf_effect) for metric in TESTED]
    return pairs


def _claim_pairs(trials: Trials, config: TestConfig) -> list[Pair]:
    values, pairs = trials.values, []
    known = sorted(set(values.method))
    for claim in config.claims:
        missing = sorted({claim.a, claim.b} - set(known))
        if missing:
            raise ReportError(
                f"report.yaml claim {claim.name!r} names {missing}, which have no records here; "
                f"methods with records: {known}"
            )
        datasets = (
            [claim.dataset]
            if claim.dataset
            else sorted(set(values[values.method == claim.a].dataset) & set(values[values.method == claim.b].dataset))
        )
        for d in datasets:
            _check_groups(trials, claim, d)
        pairs += [
            Pair(d, claim.relation, claim.a, claim.b, claim.metric, claim.sf_effect or config.sf_effect, claim)
            for d in datasets
        ]
    return pairs


def _check_groups(trials: Trials, claim, dataset: str) -> None:
    """A claim whose relation names groups (users:<g>, targets:<g>) names the data set's, as A's
    per-example scores hold them (``Claim.check_groups`` refuses others)."""
    if not groups_named(claim.relation):
        return
    v = trials.values
    keys = v[(v.dataset == dataset) & (v.method == claim.a)].key
    if len(keys):  # no records: the comparison says so
        claim.check_groups(groups_of(trials.scores(keys.iloc[0])), dataset)


def _adjust(frame: pd.DataFrame, config: TestConfig, claims: dict) -> pd.DataFrame:
    """Holm over the family, each one's Holm-step α, its MDE and the seeds the paper's gap needs at
    that α, the tests against the paper's effects (Holm over those), and each claim's verdict."""
    if frame.empty:
        return frame
    in_family = (frame.claim != "") if claims else pd.Series(True, index=frame.index)
    frame["family"] = np.where(in_family, "claims" if claims else "table", "")
    p = np.where(in_family, frame.p.to_numpy(dtype=float), np.nan)
    frame["p_adjusted"] = stats.holm(p)
    frame["alpha_step"] = seed_stats.holm_levels(p, config.alpha)
    frame["significant"] = frame.p_adjusted < config.alpha
    frame["p_paper_adjusted"] = stats.holm(np.where(in_family, frame.p_paper.to_numpy(dtype=float), np.nan))
    mdes, needs, verdicts, whys = [], [], [], []
    for row in frame.itertuples():
        claim = claims.get(row.claim)
        level = row.alpha_step if not np.isnan(row.alpha_step) else config.alpha
        alternative = claim.primary[1] if claim else "two-sided"
        mdes.append(seed_stats.mde(row.sd, row.seeds, level, seed_stats.POWER, alternative))
        distance = claim.power_distance() if claim else (abs(row.paper_gap) if not np.isnan(row.paper_gap) else None)
        needed = (
            seed_stats.seeds_needed(distance, row.sd, level, seed_stats.POWER, alternative)
            if distance is not None and not row.not_testable
            else None
        )  # more seeds cannot help there
        needs.append(np.nan if needed is None else needed)
        verdicts.append("")
        whys.append("")
        if claim:
            verdicts[-1], whys[-1] = verdict(
                claim, {**row._asdict(), "seeds_for_paper_gap": needs[-1], "untestable": row.not_testable}, config.alpha
            )
    frame["mde"], frame["seeds_for_paper_gap"], frame["verdict"], frame["why"] = mdes, needs, verdicts, whys
    return frame
