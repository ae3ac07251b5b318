"""One comparison (method A against method B on one column of one pair subset) and its row of
``FIELDS``: the per-seed effects and their seed-level tests (``harness.seed_stats``), the paper's
gap, and what the trained models' per-example scores say held fixed (the user-level test,
P(A better) over users, how often A and B decide alike). ``harness.report.compare`` makes every
comparison of a table and adjusts over the family."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import seed_stats, stats
from harness.report.claims import DECIDED, SAME_DECISIONS, Claim
from harness.report.collect import HIGHER_IS_BETTER, PERFORMANCE, ReportError, Trials, performance_setting
from harness.report.kernels import agreement, block, pooled_metric, unit_sides, units_better
from harness.report.subsets import PLAIN, is_contrast, partitions_users, sides, values_on

TESTED = ("sf_implicit", "sf_explicit", "sf_counterfactual") + PERFORMANCE
CONTRAST = "inside-outside"  # Table 1's contrast (one method's inside pairs against its outside pairs);
# harness.report.subsets names the others (users:male-users:female, targets:male-targets:female, below-above)
FIELDS = (
    "dataset",
    "relation",
    "method_a",
    "method_b",
    "metric",
    "setting",
    "sf_effect",
    "claim",
    "family",
    "seeds",
    "effect",
    "sd",
    "ci_low",
    "ci_high",
    "null",
    "alternative",
    "p",
    "p_adjusted",
    "alpha_step",
    "significant",
    "p_signflip",
    "signflip_floor",
    "mde",
    "paper_gap",
    "seeds_for_paper_gap",
    "p_paper",
    "p_paper_adjusted",
    "verdict",
    "why",
    "not_testable",
    "poi",
    "poi_low",
    "poi_high",
    "poi_users",
    "poi_users_low",
    "poi_users_high",
    "agreement",
    "p_users",
    "ci_users_low",
    "ci_users_high",
    "note",
)
SF_EFFECTS = ("signed", "abs")


@dataclass(frozen=True)
class TestConfig:
    reference: str = "mos"
    alpha: float = 0.05
    resamples: int = 10_000  # of the user-level tests (the seed-level tests are exact)
    seed: int = 0  # the resampling's random seed: same inputs, same p-values
    sf_reading: str = "all"  # Eq. 4's denominator: "all" recommended pairs (as printed) or "group_users"
    # what an SF comparison of the table tests: "signed", SF(A) - SF(B) per seed (Table 1's inside
    # against outside, where the paper's outside SF is below 0), or "abs", |SF(A)| - |SF(B)| per seed
    # (a claim of lower SF read on |SF|, the distance from 0 the table ranks by); a claim may set its own
    sf_effect: str = "signed"
    claims: tuple[Claim, ...] = ()  # the experiment's family (report.yaml); () = the table's comparisons


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


def _per_seed(trials: Trials, pair: Pair) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A's and B's rows of this comparison, indexed by seed: the table's for a subset the records
    hold (all, inside, outside), else measured on the subset from the per-example scores."""
    v = trials.values
    return tuple(
        v[(v.dataset == pair.dataset) & (v.relation == subset) & (v.method == m)].set_index("seed")
        if subset in PLAIN
        else values_on(trials, pair.dataset, m, subset)
        for subset, m in zip(sides(pair.relation), (pair.a, pair.b), strict=True)
    )


def _tested(values: pd.Series, pair: Pair) -> pd.Series:
    """A column's per-seed values as the comparison tests them: |SF| under ``sf_effect="abs"``."""
    return values.abs() if pair.metric.startswith("sf_") and pair.sf_effect == "abs" else values


def measure(trials: Trials, pair: Pair, config: TestConfig, paper_table) -> dict:
    """The comparison's row of ``FIELDS`` (the family's adjustment and verdicts come later)."""
    a, b = _per_seed(trials, pair)
    seeds = sorted(set(a.index) & set(b.index))
    effects = (_tested(a.loc[seeds, pair.metric], pair) - _tested(b.loc[seeds, pair.metric], pair)).to_numpy()
    defined = [s for s, e in zip(seeds, effects, strict=True) if not np.isnan(e)]
    setting = (
        pair.metric.removeprefix("sf_")
        if pair.metric.startswith("sf_")
        else performance_setting(trials.records[a.loc[seeds[0], "key"]])
        if seeds
        else ""
    )
    row, notes, untestable = _seed_level(pair, effects, seeds, defined, setting, config, paper_table)
    if defined:
        row.update(_conditional(trials, pair, a, b, defined, setting, config))
        if row.get("note"):
            notes.append(row.pop("note"))
    if (
        not untestable
        and pair.metric in DECIDED
        and not is_contrast(pair.relation)
        and row.get("agreement", 0) >= SAME_DECISIONS
    ):
        untestable = (
            f"{pair.a} and {pair.b} make the same Yes/No decision on {100 * row['agreement']:.1f}% of the "
            f"test pairs (at least {100 * SAME_DECISIONS:g}%): they decide alike"
        )
    row["not_testable"] = untestable
    row["note"] = "; ".join(notes)
    return row


def _seed_level(
    pair: Pair, effects: np.ndarray, seeds: list, defined: list, setting: str, config: TestConfig, paper_table
) -> tuple[dict, list[str], str]:
    """The row's seed-level part (the t-test, the sign-flip test, P(A better), the paper's gap), its
    notes, and why the comparison cannot be tested ("" when it can)."""
    null, alternative = pair.claim.primary if pair.claim else (0.0, "two-sided")
    test = seed_stats.t_test(effects, null, alternative, confidence=1 - config.alpha)
    poi = seed_stats.probability_of_improvement(effects, HIGHER_IS_BETTER[pair.metric], 1 - config.alpha)
    notes = (
        [f"seed(s) {sorted(set(seeds) - set(defined))} left out: the metric is undefined there"]
        if len(defined) < len(seeds)
        else []
    )
    untestable = (
        "no seed run by both"
        if not seeds
        else notes[0]
        if notes
        else f"{len(defined)} seed(s): a seed-level test needs 2"
        if len(defined) < 2
        else ""
    )
    if test.reason:
        notes.append(f"seed-level: {test.reason}")
    return _row(pair, test, setting, len(defined), poi, effects, paper_table), notes, untestable


def _row(pair: Pair, test, setting: str, seeds: int, poi: tuple, effects: np.ndarray, paper_table) -> dict:
    """The seed-level fields of a comparison's row (``FIELDS``)."""
    null, alternative = pair.claim.primary if pair.claim else (0.0, "two-sided")
    against = pair.claim.against_paper if pair.claim else None
    return {
        "dataset": pair.dataset,
        "relation": pair.relation,
        "method_a": pair.a,
        "method_b": pair.b,
        "metric": pair.metric,
        "setting": setting,
        "sf_effect": pair.sf_effect if pair.metric.startswith("sf_") else "",
        "claim": pair.claim.name if pair.claim else "",
        "seeds": seeds,
        "effect": test.mean,
        "sd": test.sd,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "null": null,
        "alternative": alternative,
        "p": test.p,
        "p_signflip": test.p_signflip,
        "signflip_floor": test.signflip_floor,
        "paper_gap": pair.claim.effect
        if pair.claim and pair.claim.effect is not None
        else _paper_gap(paper_table, pair),
        "p_paper": seed_stats.t_test(effects, *against).p if against else np.nan,
        "poi": poi[0],
        "poi_low": poi[1],
        "poi_high": poi[2],
    }


def _paper_gap(table, pair: Pair) -> float:
    """The paper's published difference A - B for this column (of |SF| under ``sf_effect="abs"``), or NaN."""
    if table is None or is_contrast(pair.relation):
        return np.nan
    from harness.report.paper import published

    a, b = published(table, pair.dataset, pair.a, pair.relation), published(table, pair.dataset, pair.b, pair.relation)
    if not (a and b and pair.metric in a and pair.metric in b):
        return np.nan
    if pair.metric.startswith("sf_") and pair.sf_effect == "abs":
        return abs(a[pair.metric]) - abs(b[pair.metric])
    return a[pair.metric] - b[pair.metric]


def _conditional(
    trials: Trials, pair: Pair, a: pd.DataFrame, b: pd.DataFrame, seeds: list, setting: str, config: TestConfig
) -> dict:
    """What the trained models' per-example scores say, held fixed: the user-level test, P(A better)
    over (seed, user) units, and how often A and B decide alike (not for a contrast: one model)."""
    contrast = is_contrast(pair.relation)
    relation, relation_b = sides(pair.relation) if contrast else (pair.relation, None)
    blocks, units = [], 0
    for seed in seeds:
        try:
            frame_a = trials.scores(a.loc[seed, "key"])
            frame_b = frame_a if contrast else trials.scores(b.loc[seed, "key"])
            blocks.append(block(frame_a, frame_b, setting, units))
        except pd.errors.MergeError as error:
            raise ReportError(
                f"seed {seed}: the scores of {a.loc[seed, 'key']} and {b.loc[seed, 'key']} "
                f"do not pair one to one ({error})"
            ) from error
        units = blocks[-1].units.stop
    users, how = _user_test(blocks, pair, relation, relation_b, config)
    out = {
        "p_users": users.p_value,
        "ci_users_low": users.ci_low,
        "ci_users_high": users.ci_high,
        "note": "; ".join(n for n in (how, f"user-level {users.reason}" if users.reason else "") if n),
    }
    if not contrast:
        out["agreement"] = agreement(blocks, relation)
        if pair.metric in PERFORMANCE:
            share, low, high = units_better(blocks, pair.metric, relation, config.resamples, config.seed, config.alpha)
            out.update({"poi_users": share, "poi_users_low": low, "poi_users_high": high})
    return out


def _user_test(blocks: list, pair: Pair, relation: str, relation_b: str | None, config: TestConfig):
    """The user-level test (``stats.paired_test``) of this comparison's blocks, and a note on how it
    permuted where A's and B's rows are different users (users:<g>-users:<h>): it permutes the users
    between the two groups within each seed instead of swapping A and B within a user."""
    metric = pooled_metric(blocks, pair.metric, relation, config.sf_reading, relation_b, pair.sf_effect == "abs")
    apart = partitions_users(pair.relation)
    result = stats.paired_test(
        metric,
        blocks[-1].units.stop,
        n_resamples=config.resamples,
        confidence=1 - config.alpha,
        seed=config.seed,
        sides=unit_sides(blocks, relation, relation_b or relation) if apart else None,
    )
    how = (
        f"user-level: each user's pairs are all in {relation} or all in {relation_b}, so the permutation "
        "reassigns users between the two within each seed (group sizes kept)"
        if apart
        else ""
    )
    return result, how
