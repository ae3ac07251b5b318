"""Recommendation samples (paper §2.1.1, §4.1.1): sliding windows over each
user's interactions; the first ``window - 1`` items are the history, the last
the target; a seeded sample of sequences; a leak-free train/validation/test split.

Split policy (the paper says only "8:1:1, which prevents data leakage"):
- ``split="user"`` (default): users are shuffled and assigned whole to one split,
  cut where the cumulative share of sequences reaches 80% and 90%. Sliding
  windows overlap, so splitting windows at random would put a test target into
  a training history; splitting by user cannot. Split sizes are therefore close
  to, not exactly, 8:1:1 (the exact counts are in ``Samples.split_sizes``). With
  few users, one user may take a whole split's share; a split with a share > 0
  that gets no sequence is refused with a ``DataError`` naming the counts.
- ``split="random"``: windows shuffled and cut at exactly 8:1:1. It leaks
  (overlapping windows of one user land in different splits); offered only to
  compare with work that splits this way.

Order: MovieLens by timestamp (ties keep the file's order: a stable sort);
BookCrossing has no timestamps, so each user's interactions are put in a seeded
random order (``time_order=False``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.config.data import SampleConfig, is_liked
from harness.data.schema import DataError, RatingsTable

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Samples:
    """N sampled sequences. Item indices point into ``titles``; users into ``user_ids``.

    user: (N,) int. user_group: (N,) int index into ``groups``.
    history: (N, L) int item indices, oldest first. history_liked: (N, L) bool.
    target: (N,) int. label: (N,) int {0, 1}: the target is liked, by the rule that marks
    the history (``like_comparison`` against ``like_threshold``). target_rating: (N,) float.
    split: (N,) int index into SPLITS.
    """

    dataset: str
    groups: tuple[str, ...]
    user_ids: np.ndarray
    titles: np.ndarray
    user: np.ndarray
    user_group: np.ndarray
    history: np.ndarray
    history_liked: np.ndarray
    target: np.ndarray
    label: np.ndarray
    target_rating: np.ndarray
    split: np.ndarray
    like_threshold: float
    like_comparison: str
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.target)

    def mask(self, split: str) -> np.ndarray:
        return self.split == SPLITS.index(split)

    @property
    def split_sizes(self) -> dict[str, int]:
        return {name: int((self.split == i).sum()) for i, name in enumerate(SPLITS)}


def _ordered(table: RatingsTable, time_order: bool, rng: np.random.Generator) -> pd.DataFrame:
    """Interactions of users in a stereotype group, each user's in time order."""
    grouped = table.users.loc[table.users["group"].notna(), ["user_id", "group"]]
    df = table.interactions.merge(grouped, on="user_id", how="inner", sort=False)
    if time_order:
        return df.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    df = df.iloc[rng.permutation(len(df))]
    return df.sort_values("user_id", kind="stable").reset_index(drop=True)


def _window_starts(user_codes: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Row offsets where a full window of one user's interactions starts."""
    starts_of_user = np.flatnonzero(np.r_[True, user_codes[1:] != user_codes[:-1]])
    lengths = np.diff(np.r_[starts_of_user, len(user_codes)])
    out = [
        s + np.arange(0, n - window + 1, stride) for s, n in zip(starts_of_user, lengths, strict=True) if n >= window
    ]
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _split(users: np.ndarray, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    n = len(users)
    cuts = np.cumsum(config.ratios)[:2]
    if config.split == "random":
        order = rng.permutation(n)
        out = np.empty(n, dtype=np.int8)
        out[order] = np.searchsorted(np.round(cuts * n), np.arange(n), side="right")
        return out
    unique, counts = np.unique(users, return_counts=True)
    order = rng.permutation(len(unique))
    # a user goes to the split in which its first sequence falls, cumulatively
    before = np.cumsum(counts[order]) - counts[order]
    split_of_user = np.empty(len(unique), dtype=np.int8)
    split_of_user[order] = np.searchsorted(cuts * n, before, side="right")
    return split_of_user[np.searchsorted(unique, users)]


def _check_splits(name: str, split: np.ndarray, user: np.ndarray, config: SampleConfig) -> None:
    """Refuse a split that leaves train, validation or test (with a share > 0) empty: a
    sweep would select on an empty validation set, or report on an empty test set."""
    sizes = {s: int((split == i).sum()) for i, s in enumerate(SPLITS)}
    empty = [s for s, ratio in zip(SPLITS, config.ratios, strict=True) if ratio > 0 and sizes[s] == 0]
    if empty:
        counts = " / ".join(f"{s} {n:,}" for s, n in sizes.items())
        found = (
            f"the {config.split} split left {' and '.join(empty)} empty ({counts} of {len(split):,} sequences "
            f"from {len(np.unique(user)):,} users)"
        )
        if config.split == "random":
            raise DataError(
                f"{name}: {found}: too few sequences for data.ratios {list(config.ratios)}; use more "
                "sequences (data.n_sequences, a shorter data.window) or other ratios"
            )
        raise DataError(
            f"{name}: {found}. A user's sequences all go to one split, so with few users, some of whom have many "
            "sequences, one user can take a whole split's share. Fix: more users (a larger data set, a larger "
            "data.n_sequences when not every window is used, or a shorter data.window), other data.ratios, or "
            "data.split: random (exact 8:1:1, but overlapping windows of a user leak across splits)"
        )


def build_samples(table: RatingsTable, config: SampleConfig, like_threshold: float, time_order: bool) -> Samples:
    """Sample ``config.n_sequences`` windows and split them (see module docstring)."""
    rng = np.random.default_rng(config.seed)
    df = _ordered(table, time_order, rng)
    user_codes, user_ids = pd.factorize(df["user_id"], sort=True)
    item_codes, titles = _item_codes(df, table)
    starts = _window_starts(user_codes, config.window, config.stride)
    notes = []
    if len(starts) < config.n_sequences:
        notes.append(
            f"only {len(starts)} windows of {config.window} exist; all are used "
            f"instead of the {config.n_sequences} asked for"
        )
        chosen = np.sort(starts)
    else:
        chosen = np.sort(rng.choice(starts, size=config.n_sequences, replace=False))
    rows = chosen[:, None] + np.arange(config.window)[None, :]
    ratings = df["rating"].to_numpy(dtype=np.float64)
    likes = is_liked(ratings, like_threshold, config.like_comparison)  # one rule: history and target
    groups = table.groups
    group_codes = pd.Categorical(df["group"], categories=list(groups)).codes
    user = user_codes[chosen]
    split = _split(user, config, rng)
    _check_splits(table.name, split, user, config)
    return Samples(
        dataset=table.name,
        groups=groups,
        user_ids=np.asarray(user_ids, dtype=object),
        titles=titles,
        user=user,
        user_group=group_codes[chosen].astype(np.int64),
        history=item_codes[rows[:, :-1]],
        history_liked=likes[rows[:, :-1]],
        target=item_codes[rows[:, -1]],
        label=likes[rows[:, -1]].astype(np.int64),
        target_rating=ratings[rows[:, -1]],
        split=split,
        like_threshold=like_threshold,
        like_comparison=config.like_comparison,
        notes=notes,
    )


def _item_codes(df: pd.DataFrame, table: RatingsTable) -> tuple[np.ndarray, np.ndarray]:
    """Item index per interaction row, and the title of each index."""
    items = table.items.drop_duplicates("item_id").reset_index(drop=True)
    codes = pd.Index(items["item_id"]).get_indexer(df["item_id"])
    if (codes < 0).any():
        missing = df.loc[codes < 0, "item_id"].iloc[0]
        raise ValueError(f"{table.name}: interaction with item {missing!r} has no entry in the items table")
    return codes.astype(np.int64), items["title"].to_numpy(dtype=object)


def capped(indices: np.ndarray, cap: int | None, seed: int) -> np.ndarray:
    """``indices`` cut to ``cap`` of them, drawn with ``seed`` and sorted (all when ``cap`` is None or
    not smaller): how a run caps its training, validation and test samples."""
    if cap is None or cap >= len(indices):
        return indices
    return np.sort(np.random.default_rng(seed).choice(indices, size=cap, replace=False))
