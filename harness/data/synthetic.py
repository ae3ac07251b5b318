"""``synthetic-movielens``: a small MovieLens-shaped data set generated in memory.

Not real data, and never a result: it exists so that training, the command line
and sweeps can be run and tested where no real data set is at hand (a clone
without ``../shared/data``, a laptop before ``python -m harness.data fetch``).
Records name the data set, so nothing made from it passes for MovieLens.

Shape: MovieLens-100K's normal form (users with a gender, M/F about 70/30 as in
MovieLens; films titled "Title (Year)"; 1-5 star ratings with timestamps), at
about a tenth of its size. A stereotype is planted: a few films are watched
mostly by one gender, so Eq. 1-3 find stereotyped items in both groups, and a
user's rating depends on the film and on whether it is one of their group's,
so there is something to learn. The generator's seed is fixed: the data set is
the same everywhere; a trial's seed still draws its sequences and split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.data.schema import LoadReport, RatingsTable

NAME = "synthetic-movielens"
GROUPS = ("male", "female")
VERSION = "1"  # stands in for the file hashes in the prepared-data cache key: bump on any change
SEED = 20261201
USERS, ITEMS = (170, 70), 160  # male, female users; films
PLANTED = 10  # films per group watched mostly by that group


def load(data_dir: Path | None = None) -> RatingsTable:
    """The generated table; ``data_dir`` is ignored (nothing is read)."""
    rng = np.random.default_rng(SEED)
    n_users = sum(USERS)
    gender = np.repeat(["M", "F"], USERS)
    quality = rng.normal(0.0, 0.8, ITEMS)  # some films are better liked
    popularity = rng.dirichlet(np.full(ITEMS, 0.7))
    own = np.full((2, ITEMS), 1.0)
    own[0, :PLANTED] = own[1, PLANTED : 2 * PLANTED] = 12.0  # the planted stereotype
    own[1, :PLANTED] = own[0, PLANTED : 2 * PLANTED] = 0.2
    rows = []
    for user in range(n_users):
        group = int(gender[user] == "F")
        weights = popularity * own[group]
        count = int(rng.integers(20, 61))
        items = rng.choice(ITEMS, size=count, replace=False, p=weights / weights.sum())
        in_own = own[group, items] > 1
        stars = 3.2 + quality[items] + 0.8 * in_own + rng.normal(0.0, 1.0, count)
        start = 880_000_000 + int(rng.integers(0, 10_000_000))
        times = start + np.sort(rng.integers(0, 5_000_000, count))
        rows.append(
            pd.DataFrame(
                {
                    "user_id": str(user + 1),
                    "item_id": (items + 1).astype(str),
                    "rating": np.clip(np.rint(stars), 1, 5),
                    "timestamp": times.astype(float),
                }
            )
        )
    interactions = pd.concat(rows, ignore_index=True)
    users = pd.DataFrame(
        {
            "user_id": [str(u + 1) for u in range(n_users)],
            "group": pd.Series(gender).map({"M": "male", "F": "female"}),
            "gender": gender,
            "age": rng.integers(18, 70, n_users).astype(str),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": [str(i + 1) for i in range(ITEMS)],
            "title": [f"Synthetic Film {i + 1:03d} ({1970 + i % 30})" for i in range(ITEMS)],
        }
    )
    report = LoadReport(
        layout="generated",
        notes=[f"{NAME}: generated in memory (harness.data.synthetic, version {VERSION}), not real data"],
    )
    return RatingsTable(NAME, interactions, users, items, GROUPS, report)


def fetch(data_dir: Path, source: Path | None = None, log=print, force: bool = False) -> None:
    """Nothing to fetch: the data set is generated when it is loaded (no folder to name)."""
    log(f"{NAME} is generated in memory when a run loads it; nothing to fetch")
