"""Reference rows: what recommenders that learn nothing score on each seed's own test
split, at no training cost. They give SF (Eq. 4) its zero point on that split: on
MovieLens an all-yes recommender's SF moves from seed to seed more than the paper's
gaps between methods, so a method's SF means little without them.

- ``all-yes``: every pair recommended (score +1 everywhere; AUC 0.5).
- ``oracle``: exactly the liked targets recommended (score +1 if liked, else -1).
- ``random``: standard-normal scores, seeded, averaged over ``draws`` draws.

Each is scored by ``harness.metrics.setting_metrics``, the code that scores a
trial, on the pairs of a trained method's per-example scores (the pairs, labels,
groups, h and stereotyped targets of that seed's test split). A reference does not
read its prompt, so its SF is the same in the three prompt settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics import setting_metrics
from harness.report.collect import PERFORMANCE, Trials
from harness.report.rescore import at_share, share, test_split

REFERENCES = ("all-yes", "oracle", "random")
DRAWS = 100  # random scores: draws averaged per seed
SF_COLUMNS = ("sf_implicit", "sf_explicit", "sf_counterfactual")


def reference_scores(name: str, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if name == "all-yes":
        return np.ones(len(labels))
    if name == "oracle":
        return np.where(labels == 1, 1.0, -1.0)
    if name == "random":
        return rng.standard_normal(len(labels))
    raise ValueError(f"unknown reference {name!r}; known: {', '.join(REFERENCES)}")


def _columns(result, relation: str) -> dict[str, float]:
    sf = result.sf[relation].get("value")
    out = dict.fromkeys(SF_COLUMNS, np.nan if sf is None else 100.0 * sf)
    performance = result.performance.get(relation, {})
    out.update(
        {
            m: np.nan if (performance.get(m) or {}).get("value") is None else 100.0 * performance[m]["value"]
            for m in PERFORMANCE
        }
    )
    return out


def reference_values(
    trials: Trials,
    relations,
    reference_method: str,
    draws: int = DRAWS,
    random_seed: int = 0,
    sf_denominator: str = "all",
    rate=None,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per (dataset, reference, relation, seed), with the table's columns, and notes.
    ``random_seed`` with the trial seed seeds the random scores. ``rate`` (``harness.report.decision``):
    random and oracle recommend their top share of the pairs, as the methods' rows do; all-yes
    recommends every pair whatever the rate (it ranks nothing).

    Each seed's pairs are those of ``reference_method``'s record on that seed, else of
    the first method (by name) with a record there; the notes say which."""
    rows, notes = [], []
    for (dataset, seed), block in trials.values.groupby(["dataset", "seed"], sort=True):
        methods = sorted(set(block.method))
        method = reference_method if reference_method in methods else methods[0]
        key = block.loc[block.method == method, "key"].iloc[0]
        if method != reference_method:
            notes.append(
                f"reference rows of {dataset} seed {seed}: on {method}'s test pairs "
                f"({reference_method} has no record there)"
            )
        prepared, indices = test_split(trials.scores(key))
        for name in REFERENCES:
            rng = np.random.default_rng([random_seed, seed, draws, REFERENCES.index(name)])
            runs = _runs(name, prepared, indices, rng, draws, sf_denominator, rate)
            for relation in relations:
                notes += _all_yes_note(name, runs[0], relation, dataset, seed, sf_denominator)
                per_draw = pd.DataFrame([_columns(r, relation) for r in runs])
                with np.errstate(all="ignore"):
                    mean = per_draw.mean(skipna=True)  # random: over the draws where a value is defined
                rows.append(
                    {
                        "dataset": dataset,
                        "method": name,
                        "relation": relation,
                        "seed": seed,
                        "key": key,
                        **mean.to_dict(),
                        "params": np.nan,
                    }
                )
    return pd.DataFrame(rows), notes


def _runs(
    name: str, prepared, indices: np.ndarray, rng: np.random.Generator, draws: int, sf_denominator: str, rate
) -> list:
    """The reference's test metrics on the split, once (``draws`` times for random)."""
    labels = prepared.samples.label
    return [
        setting_metrics(
            prepared,
            indices,
            _at(rate, name, reference_scores(name, labels, rng), labels, rng),
            sf_denominator=sf_denominator,
        )
        for _ in range(draws if name == "random" else 1)
    ]


def _all_yes_note(name: str, result, relation: str, dataset: str, seed: int, sf_denominator: str) -> list[str]:
    """Where even the all-yes row's SF is undefined, why: the split holds no target to rest it on."""
    if name != "all-yes" or result.sf[relation].get("value") is not None:  # every pair recommended
        return []
    where = "" if relation == "all" else f" ({relation} pairs)"
    missing = [g for g in result.sf[relation]["reasons"] if g != "overall"]
    lacking = (
        f"holds no target stereotyped to {' or '.join(missing)}"
        if sf_denominator == "all"
        else f"holds no pair of a {' or '.join(missing)} user whose target is stereotyped to that group"
    )
    return [
        f"{dataset} seed {seed}{where}: SF is undefined for every method: the test split {lacking}, so even "
        "recommending every pair leaves Eq. 4's denominator at 0"
    ]


def _at(rate, name: str, scores: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A reference's scores with S its top ``rate`` share (all-yes: unchanged). The oracle's ±1
    tie within each class: a random order inside each (below the 2 between them) lets a rate
    cut it, liked pairs first."""
    if rate is None or name == "all-yes":
        return scores
    if name == "oracle":
        scores = scores + rng.uniform(0.0, 1.0, len(scores))
    return at_share(scores, share(rate, labels))
