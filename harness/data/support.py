"""How many test targets each group has at a stereotype threshold, on the splits alone.

A study's threshold (Eq. 3's z and its scope) is chosen on support, never on results: SF
(Eq. 4) of a group rests on the recommended targets stereotyped to it, so a threshold at which a
split holds a handful of them cannot carry an SF claim. This reads only the sampled splits and
the stereotype measurement of each seed, no model: per seed and threshold, the test pairs (after
the study's ``max_eval_samples`` cap, drawn as ``harness.run`` draws them), how many of their
targets are stereotyped to each group (what an all-yes recommender's SF rests on, the most any
row's can), and of those how many are liked. Per seed, also each user group's side of the test
pairs, which no threshold changes: its users, their pairs and the liked ones among those (what a
user-side subset rests on, Figure 4's ``users:<g>``, and the users Eq. 4's numerator sums over).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tabulate import tabulate

from harness.config.data import SampleConfig, StereotypeConfig
from harness.data.prepare import prepare
from harness.data.samples import capped


def parse_threshold(text: str) -> StereotypeConfig:
    """ "Z:SCOPE" (e.g. "1:per_group", "2:global") -> the StereotypeConfig it names."""
    z, _, scope = text.partition(":")
    try:
        return StereotypeConfig(z=float(z), scope=scope or "global")
    except ValueError as error:
        raise ValueError(f"--threshold {text!r}: give Z:SCOPE, e.g. 1:per_group or 2:global ({error})") from error


def test_support(
    dataset: str,
    data_dir: Path | None,
    seeds,
    thresholds: list[StereotypeConfig],
    sample: SampleConfig,
    max_eval: int | None = None,
    log=lambda *_: None,
) -> list[dict]:
    """One row per (threshold, seed): z, scope, seed, test pairs, and per group the test targets
    stereotyped to it (``targets``) and the liked ones among them (``liked``); and per user group
    its test users (``users``), their test pairs (``user_pairs``) and the liked ones among those
    (``user_liked``), the same at every threshold."""
    rows = []
    for threshold in thresholds:
        for seed in seeds:
            prepared = prepare(
                dataset, data_dir, SampleConfig(**{**sample.to_dict(), "seed": seed}), threshold, log=log
            )
            s, m = prepared.samples, prepared.measurement
            test = capped(np.flatnonzero(s.mask("test")), max_eval, seed)
            of_group = [s.user_group[test] == i for i in range(len(s.groups))]
            rows.append(
                {
                    "z": threshold.z,
                    "scope": threshold.scope,
                    "seed": seed,
                    "test_pairs": int(len(test)),
                    "targets": {g: int(m.target_in_group[test, i].sum()) for i, g in enumerate(s.groups)},
                    "liked": {
                        g: int((m.target_in_group[test, i] & (s.label[test] == 1)).sum())
                        for i, g in enumerate(s.groups)
                    },
                    "users": {g: int(len(np.unique(s.user[test][of_group[i]]))) for i, g in enumerate(s.groups)},
                    "user_pairs": {g: int(of_group[i].sum()) for i, g in enumerate(s.groups)},
                    "user_liked": {g: int((s.label[test][of_group[i]] == 1).sum()) for i, g in enumerate(s.groups)},
                }
            )
    return rows


def to_text(rows: list[dict]) -> str:
    groups = list(rows[0]["targets"]) if rows else []
    table = [
        [
            f"z = {r['z']:g}, {r['scope'].replace('_', ' ')}",
            r["seed"],
            r["test_pairs"],
            *[f"{r['targets'][g]} ({r['liked'][g]} liked)" for g in groups],
        ]
        for r in rows
    ]
    by_seed = {r["seed"]: r for r in rows}  # the user side is the same at every threshold
    users = [
        [
            seed,
            r["test_pairs"],
            *[f"{r['users'][g]} users, {r['user_pairs'][g]} pairs ({r['user_liked'][g]} liked)" for g in groups],
        ]
        for seed, r in by_seed.items()
    ]
    return (
        "Test targets stereotyped to each group (the most any row's SF can rest on), per threshold and seed\n"
        + tabulate(table, headers=["threshold", "seed", "test pairs", *groups], disable_numparse=True)
        + "\n\nTest pairs of each group's users (what a user-side subset and Eq. 4's numerator rest on), per seed\n"
        + tabulate(users, headers=["seed", "test pairs", *groups], disable_numparse=True)
    )
