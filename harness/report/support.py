"""SF's support (Eq. 4): for each record, prompt setting and group, how many recommended
targets are stereotyped to the group (Eq. 4's denominator), how many of the group's
users have a recommended pair, and how many targets stereotyped to the group the test
pairs hold at all (``available``: the denominator of a model that recommends every pair).
An SF whose denominator is a handful of targets moves a lot with one prediction; the
table flags it (``MIN_SUPPORT``) and the notes say where.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.collect import Trials

MIN_SUPPORT = 10  # default: fewer recommended targets stereotyped to a group than this is flagged
FLAG = "‡"


def sf_support(trials: Trials, relations, sf_reading: str = "all") -> pd.DataFrame:
    """One row per (record, relation, setting, group): key, dataset, method, seed, targets, users,
    available, and ``defined``: whether that record's SF is defined there (every group has a target).
    ``sf_reading="group_users"`` counts only the group's users' recommended pairs, as that
    reading of Eq. 4's denominator does."""
    rows = []
    for key, record in trials.records.items():
        scores = trials.scores(key)
        groups = [
            c.removeprefix("target_in_")
            for c in scores.columns
            if c.startswith("target_in_") and c != "target_in_own_group"
        ]
        for setting, frame in scores.groupby("setting", sort=True):
            recommended = frame["score"].to_numpy() > 0
            own = frame["target_in_own_group"].to_numpy(dtype=bool)
            for relation in relations:
                pairs = {"all": np.ones_like(own), "inside": own, "outside": ~own}[relation]
                keep = recommended & pairs
                for group in groups:
                    users = frame["user_group"].to_numpy() == group
                    in_group = keep & users
                    stereotyped = frame[f"target_in_{group}"].to_numpy(dtype=bool)
                    rows.append(
                        {
                            "key": key,
                            "dataset": record.job.dataset,
                            "method": record.job.method,
                            "seed": record.job.seed,
                            "relation": relation,
                            "column": f"sf_{setting}",
                            "group": group,
                            "targets": int(((in_group if sf_reading == "group_users" else keep) & stereotyped).sum()),
                            "users": int(frame.loc[in_group, "user"].nunique()),
                            "available": int(
                                ((pairs & users if sf_reading == "group_users" else pairs) & stereotyped).sum()
                            ),
                        }
                    )
    frame = pd.DataFrame(
        rows,
        columns=["key", "dataset", "method", "seed", "relation", "column", "group", "targets", "users", "available"],
    )
    frame["defined"] = frame.groupby(["dataset", "method", "seed", "relation", "column"]).targets.transform("min") > 0
    return frame


def thin_notes(support: pd.DataFrame, min_support: int) -> list[str]:
    """Where a defined SF rests on fewer than ``min_support`` recommended targets stereotyped to a group."""
    thin = support[support.defined & (support.targets < min_support)]
    notes = []
    for (dataset, method, relation, group), part in thin.groupby(["dataset", "method", "relation", "group"], sort=True):
        where = "" if relation == "all" else f" ({relation})"
        cases = ", ".join(
            f"{c.removeprefix('sf_')} seed {s}: {t}"
            for c, s, t in part[["column", "seed", "targets"]].itertuples(index=False)
        )
        notes.append(
            f"{FLAG} {dataset}/{method}{where}: SF rests on fewer than {min_support} recommended targets "
            f"stereotyped to {group} ({cases})"
        )
    return notes


def with_support(summary, support, min_support: int):
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
        values = [
            fewest.get((r.dataset, r.relation, r.method, column), float("nan"))
            if r.source == "ours"
            else held.get((r.dataset, r.relation, column), float("nan"))
            if (r.source, r.method) == ("reference", "all-yes")
            else float("nan")
            for r in summary.itertuples()
        ]
        summary[f"{column}_support"] = values
        summary[f"{column}_thin"] = [v < min_support for v in values]
    return summary
