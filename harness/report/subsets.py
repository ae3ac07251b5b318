"""Named subsets of a trial's test pairs, and contrasts between two of them: one definition for the
values a claim tests, the user-level kernels, the decisions' agreement and the figures.

A subset names the test pairs a value is measured on:

- ``all``; ``inside`` / ``outside``: the target stereotyped to the user's own group / not (Table 1's
  rows, ``harness.metrics.pair_relation_mask``; the records hold their values);
- ``users:<g>``: the pairs of the users in group g (Figure 4, the user side);
- ``targets:<g>``: the pairs whose target is stereotyped to g (Figure 4, the item side);
- ``below`` / ``above``: the pairs whose target is stereotyped to no group / to at least one, at the
  threshold the pairs were measured at (Figure 5; the report's, where it measures every row at one).

A relation is one subset (a claim of A against B on it) or a contrast ``<subset>-<subset>`` of one
method's pairs (a claim with A = B): two different subsets of one kind, as ``inside-outside``
(Table 1), ``users:male-users:female``, ``targets:male-targets:female`` and ``below-above``. A
group's name holds letters, digits and underscores, never '-', so a contrast's one '-' splits it.
"""

from __future__ import annotations

import re
from typing import cast

import numpy as np
import pandas as pd

from harness import metrics
from harness.report.collect import PERFORMANCE, ReportError, Trials, performance_setting

PLAIN = ("all", "inside", "outside")  # the table's relations, whose values the records hold
THRESHOLD = ("below", "above")
PER_GROUP = ("users", "targets")  # users:<g>, targets:<g>
GROUP = re.compile(r"[A-Za-z0-9_]+")
NAMES = "all, inside, outside, below, above, users:<group>, targets:<group>"
CONTRASTS = "inside-outside, below-above, users:<g>-users:<h>, targets:<g>-targets:<h>"


class SubsetError(ReportError):
    """A relation that names no subset or contrast; the message says which part and what is known."""


def kind(subset: str) -> str:
    """What ``subset`` splits the pairs by ("all", "relation", "threshold", "users", "targets"), checked."""
    if subset == "all":
        return "all"
    if subset in ("inside", "outside"):
        return "relation"
    if subset in THRESHOLD:
        return "threshold"
    side, colon, group = subset.partition(":")
    if not colon or side not in PER_GROUP:
        raise SubsetError(f"unknown pair subset {subset!r}; the subsets are {NAMES}")
    if not GROUP.fullmatch(group):
        raise SubsetError(
            f"pair subset {subset!r}: a group's name is letters, digits and underscores, as the data set "
            f"names it (e.g. {side}:male), got {group!r}"
        )
    return side


def parse(relation: str) -> tuple[str, str | None]:
    """(first, second) subsets of ``relation``; second is None for a single subset. Raises
    ``SubsetError`` naming what is wrong."""
    if not isinstance(relation, str) or not relation:
        raise SubsetError(f"a relation is a pair subset ({NAMES}) or a contrast ({CONTRASTS}), got {relation!r}")
    first, dash, second = relation.partition("-")
    if not dash:
        kind(first)
        return first, None
    if "-" in second:
        raise SubsetError(
            f"{relation!r} joins more than two subsets; a contrast is two subsets joined by one '-' ({CONTRASTS})"
        )
    if first == second or kind(first) != kind(second):
        raise SubsetError(f"{relation!r}: a contrast compares two different subsets of one kind ({CONTRASTS})")
    return first, second


def is_contrast(relation: str) -> bool:
    return parse(relation)[1] is not None


def sides(relation: str) -> tuple[str, str]:
    """The subsets A's and B's values are measured on: a contrast's two, else the one subset twice."""
    first, second = parse(relation)
    return first, second or first


def groups_named(relation: str) -> tuple[str, ...]:
    """The groups ``relation`` names (users:<g>, targets:<g>), in order."""
    return tuple(s.partition(":")[2] for s in dict.fromkeys(sides(relation)) if kind(s) in PER_GROUP)


def partitions_users(relation: str) -> bool:
    """Whether each user's pairs lie in one side of the contrast only (users:<g>-users:<h>)."""
    first, second = parse(relation)
    return second is not None and kind(first) == "users"


def difference(a: str, b: str, relation: str) -> str:
    """A comparison's A − B in words: "mos − tallrec", "mos inside − outside"."""
    first, second = parse(relation)
    if second is not None:
        return f"{a} {first} − {second}"
    return f"{a} − {b}" + ("" if first in PLAIN else f" ({first} pairs)")


def mask(subset: str, user_group: np.ndarray, target_in_group: np.ndarray, groups: tuple[str, ...]) -> np.ndarray:
    """(N,) bool: the pairs of ``subset``. user_group: (N,) int in [0, G); target_in_group: (N, G)
    bool (stereotyped to each group); groups: the G names, in that order."""
    if subset in PLAIN:
        return metrics.pair_relation_mask(user_group, target_in_group, cast(metrics.PairRelation, subset))
    if subset in THRESHOLD:
        above: np.ndarray = target_in_group.any(axis=1)
        return above if subset == "above" else ~above
    side, _, group = subset.partition(":")
    if group not in groups:
        raise SubsetError(f"pair subset {subset!r} names group {group!r}; the data set's groups: {', '.join(groups)}")
    g = groups.index(group)
    chosen: np.ndarray = user_group == g if side == "users" else target_in_group[:, g]
    return chosen


def groups_of(frame: pd.DataFrame) -> tuple[str, ...]:
    """The stereotype groups of a per-example score frame, in its ``target_in_<group>`` columns' order."""
    return tuple(
        c.removeprefix("target_in_") for c in frame.columns if c.startswith("target_in_") and c != "target_in_own_group"
    )


def arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A score frame's (user_group (N,) int, target_in_group (N, G) bool, groups), as ``mask`` reads them."""
    groups = groups_of(frame)
    user_group = pd.Categorical(frame["user_group"], categories=groups).codes.astype(np.int64)
    return user_group, frame[[f"target_in_{g}" for g in groups]].to_numpy(dtype=bool), groups


def performance_on(frame: pd.DataFrame, setting: str, subset: str) -> dict[str, float]:
    """AUC, Precision and Recall ×100 (NaN where undefined) of one prompt ``setting``'s pairs of
    ``subset`` in a per-example score frame (``harness.metrics.performance``: scores > 0 recommended)."""
    part = frame[frame.setting == setting]
    keep = mask(subset, *arrays(part))
    values = metrics.performance(part["label"].to_numpy()[keep], part["score"].to_numpy()[keep])
    return {m: 100 * values[m].value for m in PERFORMANCE}


def values_on(trials: Trials, dataset: str, method: str, subset: str) -> pd.DataFrame:
    """One method's AUC, Precision and Recall ×100 on ``subset`` per seed (index), with each record's
    key, under the record's performance setting: ``trials.values``' shape for a subset the records
    do not hold."""
    v = trials.values
    runs = v[(v.dataset == dataset) & (v.method == method) & (v.relation == "all")]
    rows = [
        {
            "seed": seed,
            "key": key,
            **performance_on(trials.scores(key), performance_setting(trials.records[key]), subset),
        }
        for seed, key in zip(runs.seed, runs.key, strict=True)
    ]
    return pd.DataFrame(rows, columns=["seed", "key", *PERFORMANCE]).set_index("seed")
