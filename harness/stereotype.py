"""Stereotype measurement: item-side degree (Eq. 1), its Z-score threshold
(Eq. 3) and the user-side proportion h (Eq. 2).

Pure functions over numpy arrays. Shapes: U users, V items, G stereotype groups,
M interactions, N recommendation samples, L history length. Users are given as
group indices in ``[0, G)``; items as indices in ``[0, V)``; ``-1`` pads histories.

Choices where the paper is ambiguous (each has an option):
- Eq. 1 subtracts the interaction rates of the *other* groups ("G' != G"), so with
  two groups ``d[v, G1] = -d[v, G2]``; the paper's example (30% of G1, 10% of G2
  -> 0.2) is ``item_degree``'s first column. The ``max_G`` of Eq. 1 is taken by
  ``stereotype_threshold`` (one value per item) and by ``stereotyped`` (an item
  belongs to G when its degree towards G reaches the threshold).
- A group's size |G| counts the distinct users of G present in the interactions
  the degree is computed from (the training split), not every user of the data set.
- Eq. 3's Z-score is taken over items that have at least one interaction; items
  nobody interacted with have degree 0 by construction and would only deflate the
  spread. The standard deviation is the population one (ddof=0, as scipy.stats.zscore).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ThresholdScope = Literal["global", "per_group"]


def group_interaction_rates(
    user_idx: np.ndarray, item_idx: np.ndarray, user_group: np.ndarray, n_items: int, n_groups: int
) -> np.ndarray:
    """Share of each group's users who interacted with each item.

    user_idx, item_idx: (M,) int, one interaction each (duplicates count once).
    user_group: (U,) int, group of every user index.
    Returns (V, G) float: ``rates[v, g] = |{u in G_g: v in H_u}| / |G_g|``.
    """
    pairs = np.unique(np.stack([user_idx, item_idx], axis=1), axis=0)
    groups_of_pairs = user_group[pairs[:, 0]]
    counts = np.zeros((n_items, n_groups))
    np.add.at(counts, (pairs[:, 1], groups_of_pairs), 1.0)
    group_sizes = np.bincount(user_group[np.unique(user_idx)], minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(group_sizes > 0, counts / group_sizes, 0.0)


def item_degree(rates: np.ndarray) -> np.ndarray:
    """Eq. 1: degree to which each item is biased towards each group.

    rates: (V, G) from ``group_interaction_rates``.
    Returns (V, G): ``d[v, g] = rates[v, g] - sum_{g' != g} rates[v, g']``.
    """
    return 2.0 * rates - rates.sum(axis=1, keepdims=True)


def stereotype_threshold(
    degree: np.ndarray, z: float = 3.0, scope: ThresholdScope = "global", items: np.ndarray | None = None
) -> np.ndarray:
    """Eq. 3 threshold as mean + z * std of the item degrees.

    degree: (V, G). items: (V,) bool, the items the Z-score is taken over
    (default: every row). ``scope="global"`` (the paper's text) takes one Z-score
    over each item's degree towards its own group, ``max_g d[v, g]``, and returns
    the same threshold for every group; ``"per_group"`` takes one per column.
    Returns (G,) float.
    """
    mean, std = threshold_moments(degree, scope, items)
    return mean + z * std


def threshold_moments(
    degree: np.ndarray, scope: ThresholdScope = "global", items: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The mean and standard deviation (each (G,)) that Eq. 3's Z-score threshold is made of:
    with them, the threshold at any z is ``mean + z * std``, with no retraining (Figure 5)."""
    rows = degree if items is None else degree[items]
    if rows.shape[0] == 0:
        raise ValueError("stereotype_threshold: no items to take a Z-score over")
    if scope == "global":
        top = rows.max(axis=1)
        return np.full(degree.shape[1], top.mean()), np.full(degree.shape[1], top.std())
    if scope == "per_group":
        return rows.mean(axis=0), rows.std(axis=0)
    raise ValueError(f"threshold scope must be 'global' or 'per_group', got {scope!r}")


def stereotyped(degree: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Eq. 3 indicator: (V, G) bool, ``d[v, g] >= threshold[g]``."""
    return degree >= np.asarray(threshold)[None, :]


def user_proportion(history: np.ndarray, user_group: np.ndarray, item_in_group: np.ndarray) -> np.ndarray:
    """Eq. 2: share of each sample's history stereotyped to its user's own group.

    history: (N, L) int item indices, ``-1`` for padding (not counted in |H_u|).
    user_group: (N,) int group of each sample's user.
    item_in_group: (V, G) bool from ``stereotyped``.
    Returns (N,) float; NaN for an empty history.
    """
    valid = history >= 0
    hits = item_in_group[np.where(valid, history, 0), user_group[:, None]] & valid
    lengths = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, hits.sum(axis=1) / lengths, np.nan)


def routing_separation(usage) -> float | None:
    """How differently the stereotype groups route in MoS (§3.3: the router "assigns different
    stereotype groups to multiple experts"). usage: (G, N) each group's expert usage (a row sums
    to K; ``expert_usage`` of the routing diagnostics) -> the total variation distance between
    two groups' usage distributions (rows / K), 0.5 * sum_n |u_g[n] - u_h[n]|, averaged over the
    pairs of groups: 0 = every group uses the same experts as often, 1 = no expert serves two
    groups. None for fewer than two groups or a group that routed nothing."""
    usage = np.asarray(usage, dtype=np.float64)
    totals = usage.sum(axis=-1, keepdims=True)
    if usage.ndim != 2 or len(usage) < 2 or not (totals > 0).all():
        return None
    shares = usage / totals
    first, second = np.triu_indices(len(usage), k=1)
    return float((0.5 * np.abs(shares[first] - shares[second]).sum(axis=-1)).mean())
