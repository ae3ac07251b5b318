"""Every comparison of the reference method against every other method of a table:
a paired two-level bootstrap (seeds, then test users within seeds:
``harness.stats.two_level_test``), whose p is Holm-adjusted over the whole table and
marks †; beside it the user-level permutation test and interval with the trained
models held fixed (``harness.stats.paired_test``, ``p_users``) and a seed-level paired
t-test.

Pairing: within one seed both methods scored the same test pairs (the sample
split follows the seed), so rows are matched on the sample index; across seeds
the test users differ, so a resampling unit is a (seed, user) pair. The effect
is the difference of the per-seed metric averaged over the seeds both methods
have, which is the difference of the table's means when every seed is paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness import stats
from harness.report.collect import PERFORMANCE, ReportError, Trials, performance_setting

TESTED = ("sf_implicit", "sf_explicit", "sf_counterfactual") + PERFORMANCE
CONTRAST = "inside-outside"   # the relation of a Table 1 contrast's rows (one method, inside against outside)
FIELDS = ("dataset", "relation", "method_a", "method_b", "metric", "setting", "effect", "ci_low", "ci_high",
          "p", "p_adjusted", "significant", "seeds", "units", "p_users", "ci_users_low", "ci_users_high",
          "mde", "paper_gap", "seeds_for_paper_gap", "seed_p", "seed_note", "note")


@dataclass(frozen=True)
class TestConfig:
    reference: str = "mos"
    alpha: float = 0.05
    resamples: int = 10_000
    seed: int = 0          # the resampling's random seed: same inputs, same p-values
    sf_reading: str = "all"   # Eq. 4's denominator: "all" recommended pairs (as printed) or "group_users"
    # what an SF comparison tests: "signed", SF(A) - SF(B) per seed (Table 1's inside against
    # outside, where the paper's outside SF is below 0), or "abs", |SF(A)| - |SF(B)| per seed (a
    # claim of lower SF read on |SF|, the distance from 0 the table ranks by). Either way the
    # effect is averaged over the seeds; it is the table's |mean| difference when no SF of a row
    # changes sign across seeds.
    sf_effect: str = "signed"


SF_EFFECTS = ("signed", "abs")


@dataclass(frozen=True)
class Block:
    """One seed's paired rows of both methods (n rows each), and where its units sit
    among all units (``units``: a slice of the global unit axis)."""

    label: np.ndarray
    score_a: np.ndarray
    score_b: np.ndarray
    user_group: np.ndarray
    h: np.ndarray
    target_in_group: np.ndarray   # (n, G)
    unit: np.ndarray              # (n,) local unit index in [0, units.stop - units.start)
    units: slice


def _block(a: pd.DataFrame, b: pd.DataFrame, setting: str, offset: int) -> Block:
    a, b = a[a.setting == setting], b[b.setting == setting]
    merged = a.merge(b[["sample", "score"]], on="sample", suffixes=("_a", "_b"), validate="one_to_one")
    groups = [c.removeprefix("target_in_") for c in a.columns if c.startswith("target_in_")
              and c != "target_in_own_group"]
    users, unit = np.unique(merged["user"].to_numpy(), return_inverse=True)
    return Block(
        label=merged["label"].to_numpy(), score_a=merged["score_a"].to_numpy(), score_b=merged["score_b"].to_numpy(),
        user_group=pd.Categorical(merged["user_group"], categories=groups).codes.astype(np.int64),
        h=merged["h"].to_numpy(dtype=float),
        target_in_group=merged[[f"target_in_{g}" for g in groups]].to_numpy(dtype=bool),
        unit=unit, units=slice(offset, offset + len(users)))


def _kernel(block: Block, metric: str, relation: str, sf_reading: str = "all", relation_b: str | None = None,
            sf_effect: str = "signed"):
    """(weights_a (B, u), weights_b (B, u)) -> (B,): the metric of this seed's rows of
    both methods pooled, each row weighted by its unit's weight for its method.
    The pooled rows are A's then B's; B's units are numbered after A's. ``relation_b``:
    B's rows restricted to another pair subset than A's (Table 1: one model's rows
    inside against the same model's rows outside the user's group). ``sf_effect="abs"``:
    an SF is returned as |SF| (``TestConfig.sf_effect``)."""
    n_units, n_rows = block.units.stop - block.units.start, len(block.unit)
    inside = block.target_in_group[np.arange(len(block.unit)), block.user_group]
    subset = {"all": np.ones_like(inside), "inside": inside, "outside": ~inside}
    keep = np.r_[subset[relation], subset[relation_b or relation]]
    # AUC, precision and recall sum integer weights of 0/1 (or 1/2) terms, exact in float64
    # whatever the order; SF's h is a fraction, so its two methods are summed apart
    scores, label = np.r_[block.score_a, block.score_b], np.tile(block.label, 2)
    unit = np.r_[block.unit, block.unit + n_units]
    if metric.startswith("sf_"):
        # each method's sums apart, then added: identical methods give an effect of exactly 0
        rows = (block.user_group, block.h, block.target_in_group)
        rec_a, rec_b = (block.score_a > 0) & keep[:n_rows], (block.score_b > 0) & keep[n_rows:]

        def sf(wa, wb):
            num_a, den_a = stats.sf_sums(rec_a, *rows, wa, block.unit, sf_reading)
            num_b, den_b = stats.sf_sums(rec_b, *rows, wb, block.unit, sf_reading)
            return stats.sf_from_sums(num_a + num_b, den_a + den_b)
        return (lambda wa, wb: np.abs(sf(wa, wb))) if sf_effect == "abs" else sf
    scores, label, unit = scores[keep], label[keep], unit[keep]
    if metric == "auc":
        return lambda wa, wb: stats.weighted_auc(label, scores, np.hstack([wa, wb]), unit)
    function = stats.weighted_precision if metric == "precision" else stats.weighted_recall
    return lambda wa, wb: function(label, scores > 0, np.hstack([wa, wb]), unit)


def pooled_metric(blocks: list[Block], metric: str, relation: str, sf_reading: str = "all",
                  relation_b: str | None = None, sf_effect: str = "signed") -> stats.PooledMetric:
    """``stats.PooledMetric`` of one table column (×100): the mean over seeds of the
    metric of both methods' rows pooled (scores > 0 are the recommended pairs)."""
    kernels = [_kernel(b, metric, relation, sf_reading, relation_b, sf_effect) for b in blocks]

    def value(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
        wa, wb = np.atleast_2d(wa), np.atleast_2d(wb)
        return 100.0 * np.mean([k(wa[:, b.units], wb[:, b.units]) for b, k in zip(blocks, kernels)], axis=0)
    return value


def no_comparisons() -> pd.DataFrame:
    return pd.DataFrame(columns=FIELDS)


def compare(trials: Trials, config: TestConfig, relations=("all",), log=lambda *_: None,
            paper_table=None) -> pd.DataFrame:
    """The long table of comparisons (``FIELDS``), Holm-adjusted over all of them: the
    reference against every other method, and with Table 1's rows (inside and outside among
    ``relations``) each method's inside against its outside (``contrast``).

    ``mde``: the minimum detectable effect of each comparison (two-sided α, power
    ``stats.POWER``, this study's seeds and test pairs); with ``paper_table`` (the paper's
    published numbers), ``paper_gap`` is the paper's difference for the same pair and column
    and ``seeds_for_paper_gap`` how many seeds, at these test pairs, would detect it."""
    rows = []
    for (dataset, relation), table in trials.values.groupby(["dataset", "relation"], sort=True):
        if relation not in relations:
            continue
        methods = sorted(set(table.method))
        if config.reference not in methods:
            continue
        ref = table[table.method == config.reference].set_index("seed")
        for other in (m for m in methods if m != config.reference):
            alt = table[table.method == other].set_index("seed")
            seeds = sorted(set(ref.index) & set(alt.index))
            log(f"  {dataset} {relation}: {config.reference} vs {other} on seeds {seeds}")
            for metric in TESTED:
                row = _one(trials, ref, alt, seeds, metric, relation, config)
                gap = _paper_gap(paper_table, dataset, config.reference, other, metric, relation,
                                 config.sf_effect)
                parts = row.pop("_variances", (np.nan, np.nan))
                rows.append(row | {"dataset": dataset, "relation": relation, "method_a": config.reference,
                                   "method_b": other, "metric": metric, "paper_gap": gap,
                                   "seeds_for_paper_gap": stats.seeds_to_detect(gap, *parts, alpha=config.alpha)})
    frame = pd.DataFrame(rows, columns=FIELDS)
    if {"inside", "outside"} <= set(relations):
        frame = pd.concat([frame, contrast(trials, config, log)], ignore_index=True)
    frame["p_adjusted"] = stats.holm(frame["p"].to_numpy(dtype=float)) if len(frame) else []
    frame["significant"] = frame["p_adjusted"] < config.alpha
    return frame


def contrast(trials: Trials, config: TestConfig, log=lambda *_: None) -> pd.DataFrame:
    """Table 1's claim, per method: its metric on the pairs whose target is inside the user's
    stereotype group minus on those outside, by the same two-level test (the seeds, then
    the test users within a seed, whose inside and outside pairs stay together). Rows as
    ``compare``'s, relation ``CONTRAST`` and the method as both A and B; ``compare`` adjusts
    them with its own."""
    rows = []
    values = trials.values
    for (dataset, method), table in values[values.relation == "inside"].groupby(["dataset", "method"], sort=True):
        runs = table.set_index("seed")
        seeds = sorted(runs.index)
        outside = values[(values.relation == "outside") & (values.dataset == dataset)
                         & (values.method == method)].set_index("seed")
        log(f"  {dataset} {method}: inside vs outside on seeds {seeds}")
        for metric in TESTED:
            setting = metric.removeprefix("sf_") if metric.startswith("sf_") else \
                performance_setting(trials.records[runs.loc[seeds[0], "key"]])
            blocks, units = [], 0
            for seed in seeds:
                frame = trials.scores(runs.loc[seed, "key"])
                blocks.append(_block(frame, frame, setting, units))
                units = blocks[-1].units.stop
            row = _tested(blocks, units, metric, "inside", config, relation_b="outside")
            row.pop("_variances", None)
            row["seed_p"], row["seed_note"] = stats.seed_level_test(
                *(_tested_values(v.loc[seeds, metric], metric, config) for v in (runs, outside)))
            rows.append(row | {"dataset": dataset, "relation": CONTRAST, "method_a": method, "method_b": method,
                               "metric": metric, "setting": setting, "seeds": len(seeds), "paper_gap": np.nan,
                               "seeds_for_paper_gap": np.nan})
    return pd.DataFrame(rows, columns=FIELDS)


def _tested_values(values: pd.Series, metric: str, config: TestConfig) -> pd.Series:
    """A column's per-seed values as its test compares them: |SF| under ``sf_effect="abs"``."""
    return values.abs() if metric.startswith("sf_") and config.sf_effect == "abs" else values


def _paper_gap(table, dataset: str, reference: str, other: str, metric: str, relation: str,
               sf_effect: str = "signed") -> float:
    """The paper's published difference reference - other for this column (of |SF| under
    ``sf_effect="abs"``), or NaN."""
    if table is None:
        return np.nan
    from harness.report.paper import published

    a, b = published(table, dataset, reference, relation), published(table, dataset, other, relation)
    if not (a and b and metric in a and metric in b):
        return np.nan
    if metric.startswith("sf_") and sf_effect == "abs":
        return abs(a[metric]) - abs(b[metric])
    return a[metric] - b[metric]


def _one(trials, ref, alt, seeds, metric, relation, config) -> dict:
    setting = metric.removeprefix("sf_") if metric.startswith("sf_") else \
        performance_setting(trials.records[ref.loc[seeds[0], "key"]]) if seeds else ""
    seed_p, seed_note = stats.seed_level_test(_tested_values(ref.loc[seeds, metric], metric, config),
                                              _tested_values(alt.loc[seeds, metric], metric, config))
    defined = [s for s in seeds if not (np.isnan(ref.loc[s, metric]) or np.isnan(alt.loc[s, metric]))]
    notes = [f"seed(s) {sorted(set(seeds) - set(defined))} left out: the metric is undefined there"] \
        if len(defined) < len(seeds) else []
    out = {"setting": setting, "seeds": len(defined), "seed_p": seed_p, "seed_note": seed_note}
    if not defined:
        why = "no seed run by both methods" if not seeds else "the metric is undefined on every seed"
        return out | {"effect": np.nan, "p": np.nan, "units": 0, "note": why}
    seeds = defined
    blocks, units = [], 0
    for seed in seeds:
        try:
            blocks.append(_block(trials.scores(ref.loc[seed, "key"]), trials.scores(alt.loc[seed, "key"]), setting,
                                 units))
        except pd.errors.MergeError as error:
            raise ReportError(f"seed {seed}: the scores of {ref.loc[seed, 'key']} and {alt.loc[seed, 'key']} "
                              f"do not pair one to one ({error})") from error
        units = blocks[-1].units.stop
    tested = _tested(blocks, units, metric, relation, config)
    return out | tested | {"note": "; ".join(n for n in notes + [tested["note"]] if n)}


def _tested(blocks: list[Block], units: int, metric: str, relation: str, config: TestConfig,
            relation_b: str | None = None) -> dict:
    """The two-level test (behind †), the user-level test and the minimum detectable effect
    of one column over ``blocks``, A's rows against B's."""
    # the test behind †: seeds, then users within seeds, resampled (training variance counts)
    per_seed = [lambda wa, wb, k=_kernel(b, metric, relation, config.sf_reading, relation_b, config.sf_effect):
                100.0 * k(wa, wb) for b in blocks]   # ×100
    result = stats.two_level_test(per_seed,
                                  [b.units.stop - b.units.start for b in blocks], n_resamples=config.resamples,
                                  confidence=1 - config.alpha, seed=config.seed)
    # beside it: these trained models held fixed, test users resampled (pooled over seeds)
    users = stats.paired_test(pooled_metric(blocks, metric, relation, config.sf_reading, relation_b,
                                            config.sf_effect), units,
                              n_resamples=config.resamples, confidence=1 - config.alpha, seed=config.seed)
    reasons = [f"two-level {result.reason}" if result.reason else "", f"user-level {users.reason}" if users.reason
               else ""]
    mde = stats.minimum_detectable_effect(result.var_between, result.var_within, len(blocks), config.alpha) \
        if len(blocks) > 1 else np.nan
    return {"effect": result.effect, "ci_low": result.ci_low, "ci_high": result.ci_high,
            "mde": mde, "_variances": (result.var_between, result.var_within),
            "p": result.p_value, "units": result.n_units, "p_users": users.p_value,
            "ci_users_low": users.ci_low, "ci_users_high": users.ci_high,
            "note": "; ".join(n for n in reasons if n)}
