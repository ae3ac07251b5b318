"""Every comparison of a table, and every claim the experiment names, tested where the seeds vary.

A comparison is method A against method B on one column of one pair subset. Its data are the
per-seed effects ``d_s = value(A, s) - value(B, s)`` over the seeds both ran (a Table 1
contrast: one method's inside pairs against its outside pairs; an SF as |SF| under
``sf_effect="abs"``). The seed is the unit of replication: it draws the split, the training
samples and the initialisation, and both methods of a seed are scored on the same test pairs.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import seed_stats, stats
from harness.report.claims import DECIDED, SAME_DECISIONS, Claim, verdict
from harness.report.collect import HIGHER_IS_BETTER, PERFORMANCE, ReportError, Trials, performance_setting
from harness.report.kernels import block, kernel, pooled_metric

TESTED = ("sf_implicit", "sf_explicit", "sf_counterfactual") + PERFORMANCE
CONTRAST = "inside-outside"   # the relation of a Table 1 contrast's rows (one method, inside against outside)
FIELDS = ("dataset", "relation", "method_a", "method_b", "metric", "setting", "sf_effect", "claim", "family",
          "seeds", "effect", "sd", "ci_low", "ci_high", "null", "alternative", "p", "p_adjusted", "alpha_step",
          "significant", "p_signflip", "signflip_floor", "mde", "paper_gap", "seeds_for_paper_gap", "p_paper",
          "p_paper_adjusted", "verdict", "why", "not_testable", "poi", "poi_low", "poi_high", "poi_users",
          "poi_users_low", "poi_users_high", "agreement", "p_users", "ci_users_low", "ci_users_high", "note")
SF_EFFECTS = ("signed", "abs")


@dataclass(frozen=True)
class TestConfig:
    reference: str = "mos"
    alpha: float = 0.05
    resamples: int = 10_000     # of the user-level tests (the seed-level tests are exact)
    seed: int = 0               # the resampling's random seed: same inputs, same p-values
    sf_reading: str = "all"     # Eq. 4's denominator: "all" recommended pairs (as printed) or "group_users"
    # what an SF comparison of the table tests: "signed", SF(A) - SF(B) per seed (Table 1's inside
    # against outside, where the paper's outside SF is below 0), or "abs", |SF(A)| - |SF(B)| per seed
    # (a claim of lower SF read on |SF|, the distance from 0 the table ranks by); a claim may set its own
    sf_effect: str = "signed"
    claims: tuple[Claim, ...] = ()   # the experiment's family (report.yaml); () = the table's comparisons


@dataclass(frozen=True)
class Pair:
    """One comparison's identity; ``claim`` when it tests one of the experiment's claims."""

    dataset: str
    relation: str
    a: str
    b: str
    metric: str
    sf_effect: str
    claim: Claim | None = None


def no_comparisons() -> pd.DataFrame:
    return pd.DataFrame(columns=FIELDS)


def compare(trials: Trials, config: TestConfig, relations=("all",), log=lambda *_: None, paper_table=None,
            methods=None) -> pd.DataFrame:
    """The long table of comparisons (``FIELDS``): the reference against every other method of
    ``methods`` (default: all) per column and relation, each method's inside against its outside
    when both are among ``relations``, and every claim of ``config.claims`` over all of
    ``trials``; Holm over the family (module docstring), verdicts on the claims."""
    pairs = _table_pairs(trials, config, relations, methods) + _claim_pairs(trials, config)
    rows = []
    for pair in pairs:
        log(f"  {pair.dataset} {pair.relation}: {pair.a} vs {pair.b} {pair.metric}"
            + (f" (claim {pair.claim.name})" if pair.claim else ""))
        rows.append(_row(trials, pair, config, paper_table))
    frame = pd.DataFrame(rows, columns=FIELDS)
    return _adjust(frame, config, {c.name: c for c in config.claims})


def _table_pairs(trials: Trials, config: TestConfig, relations, methods) -> list[Pair]:
    values = trials.values
    pairs = []
    for (dataset, relation), table in values.groupby(["dataset", "relation"], sort=True):
        shown = sorted(m for m in set(table.method) if methods is None or m in methods)
        if relation not in relations or config.reference not in shown:
            continue
        pairs += [Pair(dataset, relation, config.reference, other, metric, config.sf_effect)
                  for other in shown if other != config.reference for metric in TESTED]
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
            raise ReportError(f"report.yaml claim {claim.name!r} names {missing}, which have no records here; "
                              f"methods with records: {known}")
        datasets = [claim.dataset] if claim.dataset else sorted(
            set(values[values.method == claim.a].dataset) & set(values[values.method == claim.b].dataset))
        pairs += [Pair(d, claim.relation, claim.a, claim.b, claim.metric, claim.sf_effect or config.sf_effect, claim)
                  for d in datasets]
    return pairs


def _per_seed(trials: Trials, pair: Pair) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A's and B's table rows of this comparison, indexed by seed."""
    v = trials.values
    relations = ("inside", "outside") if pair.relation == CONTRAST else (pair.relation, pair.relation)
    return tuple(v[(v.dataset == pair.dataset) & (v.relation == rel) & (v.method == m)].set_index("seed")
                 for rel, m in zip(relations, (pair.a, pair.b)))


def _tested(values: pd.Series, pair: Pair) -> pd.Series:
    """A column's per-seed values as the comparison tests them: |SF| under ``sf_effect="abs"``."""
    return values.abs() if pair.metric.startswith("sf_") and pair.sf_effect == "abs" else values


def _row(trials: Trials, pair: Pair, config: TestConfig, paper_table) -> dict:
    a, b = _per_seed(trials, pair)
    seeds = sorted(set(a.index) & set(b.index))
    effects = (_tested(a.loc[seeds, pair.metric], pair) - _tested(b.loc[seeds, pair.metric], pair)).to_numpy()
    defined = [s for s, e in zip(seeds, effects) if not np.isnan(e)]
    setting = pair.metric.removeprefix("sf_") if pair.metric.startswith("sf_") else \
        performance_setting(trials.records[a.loc[seeds[0], "key"]]) if seeds else ""
    null, alternative = pair.claim.primary if pair.claim else (0.0, "two-sided")
    test = seed_stats.t_test(effects, null, alternative, confidence=1 - config.alpha)
    against = pair.claim.against_paper if pair.claim else None
    poi = seed_stats.probability_of_improvement(effects, HIGHER_IS_BETTER[pair.metric], 1 - config.alpha)
    notes = [f"seed(s) {sorted(set(seeds) - set(defined))} left out: the metric is undefined there"] \
        if len(defined) < len(seeds) else []
    untestable = ("no seed run by both" if not seeds else notes[0] if notes
                  else f"{len(defined)} seed(s): a seed-level test needs 2" if len(defined) < 2 else "")
    row = {"dataset": pair.dataset, "relation": pair.relation, "method_a": pair.a, "method_b": pair.b,
           "metric": pair.metric, "setting": setting,
           "sf_effect": pair.sf_effect if pair.metric.startswith("sf_") else "",
           "claim": pair.claim.name if pair.claim else "", "seeds": len(defined), "effect": test.mean, "sd": test.sd,
           "ci_low": test.ci_low, "ci_high": test.ci_high, "null": null, "alternative": alternative, "p": test.p,
           "p_signflip": test.p_signflip, "signflip_floor": test.signflip_floor,
           "paper_gap": pair.claim.effect if pair.claim and pair.claim.effect is not None
           else _paper_gap(paper_table, pair),
           "p_paper": seed_stats.t_test(effects, *against).p if against else np.nan,
           "poi": poi[0], "poi_low": poi[1], "poi_high": poi[2]}
    if test.reason:
        notes.append(f"seed-level: {test.reason}")
    if defined:
        row.update(_conditional(trials, pair, a, b, defined, setting, config))
        if row.get("note"):
            notes.append(row.pop("note"))
    if not untestable and pair.metric in DECIDED and pair.relation != CONTRAST and \
            row.get("agreement", 0) >= SAME_DECISIONS:
        untestable = (f"{pair.a} and {pair.b} make the same Yes/No decision on {100 * row['agreement']:.1f}% of the "
                      f"test pairs (at least {100 * SAME_DECISIONS:g}%): they decide alike")
    row["not_testable"] = untestable
    row["note"] = "; ".join(notes)
    return row


def _paper_gap(table, pair: Pair) -> float:
    """The paper's published difference A - B for this column (of |SF| under ``sf_effect="abs"``), or NaN."""
    if table is None or pair.relation == CONTRAST:
        return np.nan
    from harness.report.paper import published

    a, b = published(table, pair.dataset, pair.a, pair.relation), published(table, pair.dataset, pair.b, pair.relation)
    if not (a and b and pair.metric in a and pair.metric in b):
        return np.nan
    if pair.metric.startswith("sf_") and pair.sf_effect == "abs":
        return abs(a[pair.metric]) - abs(b[pair.metric])
    return a[pair.metric] - b[pair.metric]


def _conditional(trials: Trials, pair: Pair, a: pd.DataFrame, b: pd.DataFrame, seeds: list, setting: str,
                 config: TestConfig) -> dict:
    """What the trained models' per-example scores say, held fixed: the user-level test, P(A better)
    over (seed, user) units, and how often A and B decide alike."""
    contrast = pair.relation == CONTRAST
    relation, relation_b = ("inside", "outside") if contrast else (pair.relation, None)
    blocks, units = [], 0
    for seed in seeds:
        try:
            frame_a = trials.scores(a.loc[seed, "key"])
            frame_b = frame_a if contrast else trials.scores(b.loc[seed, "key"])
            blocks.append(block(frame_a, frame_b, setting, units))
        except pd.errors.MergeError as error:
            raise ReportError(f"seed {seed}: the scores of {a.loc[seed, 'key']} and {b.loc[seed, 'key']} "
                              f"do not pair one to one ({error})") from error
        units = blocks[-1].units.stop
    absolute = pair.sf_effect == "abs"
    users = stats.paired_test(pooled_metric(blocks, pair.metric, relation, config.sf_reading, relation_b, absolute),
                              units, n_resamples=config.resamples, confidence=1 - config.alpha, seed=config.seed)
    out = {"p_users": users.p_value, "ci_users_low": users.ci_low, "ci_users_high": users.ci_high,
           "note": f"user-level {users.reason}" if users.reason else ""}
    if not contrast:
        out["agreement"] = _agreement(blocks, relation)
        if pair.metric in PERFORMANCE:
            share, low, high = _units_better(blocks, pair.metric, relation, config)
            out.update({"poi_users": share, "poi_users_low": low, "poi_users_high": high})
    return out


def _agreement(blocks, relation: str) -> float:
    """The share of the compared test pairs (pooled over seeds) on which A and B decide alike."""
    same = []
    for bl in blocks:
        inside = bl.target_in_group[np.arange(len(bl.unit)), bl.user_group]
        keep = {"all": np.ones_like(inside), "inside": inside, "outside": ~inside}[relation]
        same.append(((bl.score_a > 0) == (bl.score_b > 0))[keep])
    pooled = np.concatenate(same)
    return float(pooled.mean()) if len(pooled) else np.nan


def _units_better(blocks, metric: str, relation: str, config: TestConfig) -> tuple[float, float, float]:
    """P(A better than B) over (seed, test user) units where both are defined (ties count one half),
    and its percentile interval from resampling users within each seed (the models held fixed)."""
    better, strata = [], []
    for i, bl in enumerate(blocks):
        k = kernel(bl, metric, relation, "all")
        n = bl.units.stop - bl.units.start
        eye, zero = np.eye(n), np.zeros((n, n))
        difference = k(eye, zero) - k(zero, eye)                   # (n,) per unit: A's value minus B's
        keep = ~np.isnan(difference)
        better.append(np.where(difference[keep] > 0, 1.0, np.where(difference[keep] == 0, 0.5, 0.0)))
        strata.append(np.full(keep.sum(), i))
    values, strata = np.concatenate(better), np.concatenate(strata)
    if not len(values):
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(config.seed)
    draws = np.zeros((config.resamples, 2))
    for i in np.unique(strata):                                     # users resampled within their seed
        mine = values[strata == i]
        picks = mine[rng.integers(0, len(mine), size=(config.resamples, len(mine)))]
        draws += np.stack([picks.sum(axis=1), np.full(config.resamples, len(mine))], axis=1)
    tail = 50.0 * config.alpha
    low, high = np.percentile(draws[:, 0] / draws[:, 1], [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)


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
        distance = claim.power_distance() if claim else (abs(row.paper_gap) if not np.isnan(row.paper_gap)
                                                         else None)
        needed = seed_stats.seeds_needed(distance, row.sd, level, seed_stats.POWER, alternative) \
            if distance is not None and not row.not_testable else None     # more seeds cannot help there
        needs.append(np.nan if needed is None else needed)
        verdicts.append("")
        whys.append("")
        if claim:
            verdicts[-1], whys[-1] = verdict(claim, {**row._asdict(), "seeds_for_paper_gap": needs[-1],
                                                     "untestable": row.not_testable}, config.alpha)
    frame["mde"], frame["seeds_for_paper_gap"], frame["verdict"], frame["why"] = mdes, needs, verdicts, whys
    return frame
