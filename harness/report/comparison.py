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
from harness.report.kernels import block, kernel, pooled_metric

TESTED = ("sf_implicit", "sf_explicit", "sf_counterfactual") + PERFORMANCE
CONTRAST = "inside-outside"  # the relation of a Table 1 contrast's rows (one method, inside against outside)
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
    """A's and B's table rows of this comparison, indexed by seed."""
    v = trials.values
    relations = ("inside", "outside") if pair.relation == CONTRAST else (pair.relation, pair.relation)
    return tuple(
        v[(v.dataset == pair.dataset) & (v.relation == rel) & (v.method == m)].set_index("seed")
        for rel, m in zip(relations, (pair.a, pair.b), strict=True)
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
        and pair.relation != CONTRAST
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
    if table is None or pair.relation == CONTRAST:
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
            raise ReportError(
                f"seed {seed}: the scores of {a.loc[seed, 'key']} and {b.loc[seed, 'key']} "
                f"do not pair one to one ({error})"
            ) from error
        units = blocks[-1].units.stop
    absolute = pair.sf_effect == "abs"
    users = stats.paired_test(
        pooled_metric(blocks, pair.metric, relation, config.sf_reading, relation_b, absolute),
        units,
        n_resamples=config.resamples,
        confidence=1 - config.alpha,
        seed=config.seed,
    )
    out = {
        "p_users": users.p_value,
        "ci_users_low": users.ci_low,
        "ci_users_high": users.ci_high,
        "note": f"user-level {users.reason}" if users.reason else "",
    }
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
        difference = k(eye, zero) - k(zero, eye)  # (n,) per unit: A's value minus B's
        keep = ~np.isnan(difference)
        better.append(np.where(difference[keep] > 0, 1.0, np.where(difference[keep] == 0, 0.5, 0.0)))
        strata.append(np.full(keep.sum(), i))
    values, strata = np.concatenate(better), np.concatenate(strata)
    if not len(values):
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(config.seed)
    draws = np.zeros((config.resamples, 2))
    for i in np.unique(strata):  # users resampled within their seed
        mine = values[strata == i]
        picks = mine[rng.integers(0, len(mine), size=(config.resamples, len(mine)))]
        draws += np.stack([picks.sum(axis=1), np.full(config.resamples, len(mine))], axis=1)
    tail = 50.0 * config.alpha
    low, high = np.percentile(draws[:, 0] / draws[:, 1], [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)
