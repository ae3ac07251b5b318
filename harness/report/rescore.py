"""The rescoring of a test split from a record's per-example scores, shared by the report's
readings (a rate's S: ``decision``; another threshold: ``remeasure``; the reference rows:
``reference``): a split rebuilt from the scores, its test metrics recomputed by
``harness.metrics.setting_metrics`` (the code that scored the trial), the top share of a
split's scores (Eq. 4's S at a rate), and the SF columns under Eq. 4's other denominator."""

from __future__ import annotations

import dataclasses
from collections import Counter
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from harness import metrics
from harness.metrics import rate_cut, setting_metrics
from harness.records import TrialRecord
from harness.report.collect import LABELS, ReportError, Trials

LIKED = "liked"  # a decision rate: each seed's share of liked test pairs


def test_split(scores: pd.DataFrame):
    """A prepared-like view of one record's test pairs (one prompt setting's rows): what
    ``setting_metrics`` reads, and the pairs' labels."""
    pairs = scores[scores.setting == scores.setting.iloc[0]].sort_values("sample")
    groups = tuple(
        c.removeprefix("target_in_") for c in pairs.columns if c.startswith("target_in_") and c != "target_in_own_group"
    )
    samples = SimpleNamespace(
        label=pairs["label"].to_numpy(),
        user=pairs["user"].to_numpy(),
        groups=groups,
        user_group=pd.Categorical(pairs["user_group"], categories=groups).codes,
    )
    measurement = SimpleNamespace(
        h=pairs["h"].to_numpy(dtype=float),
        target_in_group=pairs[[f"target_in_{g}" for g in groups]].to_numpy(dtype=bool),
    )
    return SimpleNamespace(samples=samples, measurement=measurement), np.arange(len(pairs))


def measured_test(record: TrialRecord, frame: pd.DataFrame) -> dict:
    """The record's test metrics per prompt setting, recomputed from its per-example ``frame`` by
    ``harness.metrics.setting_metrics``, the code that scored the trial (its other test keys kept)."""
    test = {}
    for setting, part in frame.groupby("setting", sort=False):
        prepared, indices = test_split(part)
        result = setting_metrics(prepared, indices, part.sort_values("sample")["score"].to_numpy(dtype=float))
        test[setting] = {**record.test.get(setting, {}), "sf": result.sf, "performance": result.performance}
    return test


def share(rate: str | float, labels: np.ndarray) -> float:
    """The share of test pairs recommended: the liked share of ``labels``, or ``rate`` itself."""
    return float(np.mean(labels == 1)) if rate == LIKED else float(rate)


def cut(scores: np.ndarray, k: int) -> float:
    """The threshold whose exceedances are the top ``k`` scores, all of a tie at the cut left out
    (``harness.metrics.rate_cut``, which the selectable ``valid_abs_sf_liked`` uses too)."""
    try:
        return rate_cut(scores, k)
    except ValueError as error:
        raise ReportError(f"--decision-rate: {error}") from error


def at_share(scores: np.ndarray, fraction: float) -> np.ndarray:
    """``scores`` shifted so that the top ``round(fraction * n)`` of them (less a tie at the cut) exceed 0."""
    scores = np.asarray(scores, dtype=float)
    return scores - cut(scores, int(round(fraction * len(scores))))


def with_sf_reading(trials: Trials, relations, reading: str) -> Trials:
    """``trials`` with the SF columns recomputed from the per-example scores under Eq. 4's
    other denominator (``reading="group_users"``: G's users' recommended pairs only), and
    their undefined-value notes with them; ``"all"`` (as the records hold it) returns ``trials``."""
    if reading == "all":
        return trials
    values, reasons = trials.values.copy(), dict[str, Any]()
    for key, record in trials.records.items():
        frame = trials.scores(key)
        groups = tuple(
            c.removeprefix("target_in_")
            for c in frame.columns
            if c.startswith("target_in_") and c != "target_in_own_group"
        )
        for setting, part in frame.groupby("setting"):
            results = metrics.stereotype_fairness_by_relation(
                part["score"].to_numpy() > 0,
                pd.Categorical(part["user_group"], categories=groups).codes,
                part["h"].to_numpy(dtype=float),
                part[[f"target_in_{g}" for g in groups]].to_numpy(dtype=bool),
                groups,
                reading,
            )
            for relation in relations:
                row = (values.key == key) & (values.relation == relation)
                value = results[relation].value
                values.loc[row, f"sf_{setting}"] = np.nan if np.isnan(value) else 100.0 * value
                if np.isnan(value):
                    reasons.setdefault((record.job.arm, relation, f"sf_{setting}"), []).append(
                        results[relation].reasons.get("overall", "")
                    )
    seeds = Counter(r.job.arm for r in trials.records.values())
    undefined = [
        (
            relation,
            f"{arm}" + ("" if relation == "all" else f" ({relation})") + f": {LABELS[column]} "
            f"undefined on {len(why)} of {seeds[arm]} seed(s): {sorted(set(why))[0]}",
        )
        for (arm, relation, column), why in sorted(
            reasons.items(), key=lambda kv: (kv[0][0], kv[0][1], list(LABELS).index(kv[0][2]))
        )
    ]
    undefined += [u for u in trials.undefined if not u[1].split(": ", 1)[1].startswith("SF ")]
    return dataclasses.replace(trials, values=values, undefined=undefined, _scores=trials._scores)
