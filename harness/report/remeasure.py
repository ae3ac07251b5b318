"""Every row of a table measured at one stereotype threshold (Eq. 3's z and its scope).

Which items are stereotyped to a group is a measurement, not a property of a trained model:
a model's per-example scores stay what they are, while the set of targets stereotyped to G
(Eq. 3), each user's share h of such items in the history (Eq. 2), and with them SF (Eq. 4)
and Table 1's inside/outside rows all move with z. So a table may measure every row at
one threshold, whatever threshold each record's trial was run at:

- the threshold is rebuilt from the trial's own data: the same split (the record's sample
  configuration), the degrees of Eq. 1 from its training split, then Eq. 3 at the asked z
  and scope, so this needs the data set (``HARNESS_DATA_DIR``), as the trial did;
- the per-example frame keeps its scores and takes the new h and ``target_in_<group>``;
  the targets' degrees (Eq. 1, independent of z) are checked against the frame's, so a
  split that is not the trial's is refused rather than measured;
- the record's test metrics are recomputed from the frame by ``harness.metrics.setting_metrics``,
  the code that scored the trial: at the record's own threshold this gives back its numbers.

For a model trained on L_rec alone (the frozen LLM, TALLRec, TALLRec--) nothing it learned
depends on z, so its row measured at z is the row a trial run at z would give. A model whose
objective reads stereotype labels (L_fair, Eq. 12) was trained at its own z; the report's
caption names both thresholds whenever they differ.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import stereotype
from harness.config.data import StereotypeConfig
from harness.records import TrialRecord
from harness.report.collect import ReportError, Trials, with_rescored
from harness.report.rescore import measured_test

SCOPES = ("global", "per_group")


def threshold_of(record: TrialRecord) -> StereotypeConfig:
    """The threshold the record's trial measured stereotypes at (its run configuration's)."""
    own = (record.config or {}).get("stereotype") or {}
    return StereotypeConfig(**own)


def describe(threshold: StereotypeConfig) -> str:
    scope = "one global Z-score, as the paper" if threshold.scope == "global" else "one Z-score per group"
    return f"z = {threshold.z:g}, {scope}"


def target_threshold(trials: Trials, z: float | None, scope: str | None) -> StereotypeConfig | None:
    """The one threshold every row is measured at: ``z`` and ``scope`` where given, else the
    records' own. None when neither is given and the records' own differ (as Figure 5's
    retrained arms do by design): then each row stays at its own, and the caption says so."""
    if scope is not None and scope not in SCOPES:
        raise ReportError(f"threshold scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    try:
        wanted = {
            dataclasses.replace(
                threshold_of(r), **({} if z is None else {"z": float(z)}), **({} if scope is None else {"scope": scope})
            )
            for r in trials.records.values()
        }
    except ValueError as error:
        raise ReportError(f"--z: {error}") from error
    if len(wanted) == 1:
        return wanted.pop()
    if z is None and scope is None:
        return None
    raise ReportError(
        "the rows' trials measured stereotypes at different thresholds ("
        + "; ".join(f"{t}: {', '.join(m)}" for t, m in by_threshold(trials.records.values()).items())
        + "): pass both --z Z and --threshold-scope global|per_group to measure every row at one"
    )


def by_threshold(records) -> dict[str, list[str]]:
    """Each threshold the records' trials ran at, with the methods that ran there."""
    by: dict[str, set] = {}
    for r in records:
        by.setdefault(describe(threshold_of(r)), set()).add(r.job.method)
    return {t: sorted(m) for t, m in sorted(by.items())}


def remeasure(trials: Trials, threshold: StereotypeConfig | None, log=lambda *_: None) -> Trials:
    """``trials`` with every record not measured at ``threshold`` measured there: new
    per-example frames, test metrics, table values and undefined-value notes (None: as they are)."""
    todo = [key for key, r in trials.replicated.items() if threshold is not None and threshold_of(r) != threshold]
    if not todo:
        return trials
    log(f"measuring {len(todo)} record(s) at {describe(threshold)} (rebuilding their splits from the data)")
    measured, frames, records = dict[tuple, Any](), dict(trials._scores), dict(trials.replicated)
    for key in todo:
        record = trials.replicated[key]
        samples, measurement = _measurement(record, threshold, measured)
        frames[key] = _relabelled(trials.scores(key), samples, measurement, key)
        records[key] = _with_test(record, frames[key], measurement, threshold, samples.groups)
    return with_rescored(trials, records, frames)


def _measurement(record: TrialRecord, threshold: StereotypeConfig, memo: dict):
    """The record's split (rebuilt from its sample configuration) measured at ``threshold``."""
    from harness.config.data import SampleConfig
    from harness.data.paths import resolve_data_dir
    from harness.data.prepare import prepare
    from harness.data.schema import DataError

    config = record.config or {}
    if "sample" not in config or "dataset" not in config:
        raise ReportError(
            f"{record.key} does not record its data configuration, so its split cannot be rebuilt "
            "at another threshold; drop --z/--threshold-scope"
        )
    sample = dict(config["sample"], ratios=tuple(config["sample"]["ratios"]))
    key = (config["dataset"], config.get("data_dir"), repr(sorted(sample.items())))
    if key not in memo:
        data_dir = resolve_data_dir(config.get("data_dir"))
        try:
            prepared = prepare(config["dataset"], Path(data_dir), SampleConfig(**sample), threshold)
        except (DataError, OSError, ValueError) as error:
            raise ReportError(
                f"measuring {record.key} at {describe(threshold)} rebuilds its split of "
                f"{config['dataset']} from {data_dir}, which failed: {error}. Put the data set "
                "there (HARNESS_DATA_DIR), or drop --z/--threshold-scope for the records' own "
                "threshold"
            ) from error
        memo[key] = (prepared.samples, prepared.measurement)
    return memo[key]


def _relabelled(frame: pd.DataFrame, samples, measurement, key: str) -> pd.DataFrame:
    index = frame["sample"].to_numpy()
    groups = samples.groups
    columns = [f"degree_{g}" for g in groups]
    if set(columns) - set(frame.columns):
        raise ReportError(
            f"the scores of {key} predate the targets' degree columns ({', '.join(columns)}), which "
            "check that a rebuilt split is the trial's; measure it at its own threshold"
        )
    degree = measurement.degree[samples.target[index]]
    stored = frame[columns].to_numpy(dtype=float)
    if not np.allclose(degree, stored, rtol=0, atol=1e-9):
        raise ReportError(
            f"the split rebuilt for {key} is not the one its trial scored: its test targets' "
            "stereotype degrees (Eq. 1) differ from the record's. The data set changed since; "
            "measure it at its own threshold (drop --z/--threshold-scope)"
        )
    out = frame.copy()
    own = samples.user_group[index]
    out["h"] = np.nan_to_num(measurement.h[index])
    out["target_in_own_group"] = measurement.target_in_group[index, own]
    for g, name in enumerate(groups):
        out[f"target_in_{name}"] = measurement.target_in_group[index, g]
    return out


def _with_test(
    record: TrialRecord, frame: pd.DataFrame, measurement, threshold: StereotypeConfig, groups
) -> TrialRecord:
    test = measured_test(record, frame)
    mean, std = stereotype.threshold_moments(measurement.degree, threshold.scope, measurement.items_measured)
    moments = {"scope": threshold.scope, "mean": mean.tolist(), "std": std.tolist(), "groups": list(groups)}
    return dataclasses.replace(record, metrics={**(record.metrics or {}), "test": test}, threshold_moments=moments)
