"""Trial records of one experiment as a table of per-seed values (×100), and
their per-example scores as the arrays the significance tests resample.

Only the finished records (status "ok") of replicated configurations enter a table: the
replication phase's, and the first seed's search trial of a configuration that was then
replicated (the sweep reuses it instead of training it again: same arm, configuration and
seed). Failed or stopped trials are listed in the report's notes, never averaged in.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.prompts import SETTINGS
from harness.records import Store, TrialRecord
from harness.report.configs import one_config_per_arm

# (column, label, higher is better). Values are ×100 as in the paper, except the
# trainable-parameter share, which the paper already prints in percent.
COLUMNS = (
    ("sf_implicit", "SF implicit", False),
    ("sf_explicit", "SF explicit", False),
    ("sf_counterfactual", "SF counterfactual", False),
    ("auc", "AUC", True),
    ("precision", "Precision", True),
    ("recall", "Recall", True),
    ("params", "Params %", False),
)
HIGHER_IS_BETTER = {name: higher for name, _, higher in COLUMNS}
LABELS = {name: label for name, label, _ in COLUMNS}
PERFORMANCE = ("auc", "precision", "recall")


class ReportError(ValueError):
    """Input the report cannot use; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Trials:
    """One experiment's usable records, and what was left out and why."""

    experiment: str
    values: pd.DataFrame  # one row per (record, relation): dataset, method, relation, seed, key, columns
    records: dict  # key -> TrialRecord (ok replication records)
    search: pd.DataFrame  # search-phase records: dataset, method, key, valid_auc, date, status
    excluded: list  # "key: status (first line of the error)"
    undefined: list  # (relation, "dataset/method: column undefined on k of n seeds: reason")
    smoke: bool
    store: Store
    searched: tuple = ()  # every search-phase TrialRecord (a multi-metric search's validation points)
    replicated: dict = field(default_factory=dict)  # key -> TrialRecord: ok records of every replicated
    # configuration (``records`` keeps one per arm)
    _scores: dict = field(default_factory=dict, repr=False, compare=False)  # key -> frame, read once

    def scores(self, key: str) -> pd.DataFrame:
        """A record's per-example scores, read once (the tests and the figures both need them)."""
        if key in self._scores:
            return self._scores[key]
        frame = self.store.scores(key)
        if frame is None:
            raise ReportError(
                f"record {key} has no per-example scores ({key}.parquet is missing); "
                "rerun its trial, or pass --no-significance for the table alone"
            )
        missing = {"user", "h"} - set(frame.columns)
        if missing or not any(c.startswith("target_in_") and c != "target_in_own_group" for c in frame.columns):
            raise ReportError(
                f"the scores of {key} predate record format 2 (no user, h or target_in_<group> "
                "columns); rerun the sweep with this version, or pass --no-significance"
            )
        self._scores[key] = frame
        return frame


def _value(entry) -> float:
    value = entry.get("value") if isinstance(entry, dict) else None
    return np.nan if value is None else 100.0 * float(value)


def performance_setting(record: TrialRecord) -> str:
    """The prompt setting whose AUC/Precision/Recall the table shows: the one the
    model was trained on (the paper's tables show one performance per method;
    it trains and, we read, reports performance under the implicit prompt)."""
    return record.config["train"].get("train_setting") or "implicit"


def _reason(entry) -> str:
    if not isinstance(entry, dict):
        return "not in the record"
    return entry.get("reason") or (entry.get("reasons") or {}).get("overall", "")


def undefined(record: TrialRecord, relation: str) -> dict[str, str]:
    """Why each column that is NaN for this record is undefined (from the record)."""
    test, out = record.test, {}
    for setting in SETTINGS:
        entry = test.get(setting, {}).get("sf", {}).get(relation)
        if entry is None or entry.get("value") is None:
            out[f"sf_{setting}"] = _reason(entry)
    performance = test[performance_setting(record)]["performance"].get(relation, {})
    out.update({m: _reason(performance.get(m)) for m in PERFORMANCE if (performance.get(m) or {}).get("value") is None})
    return out


def row_values(record: TrialRecord, relation: str) -> dict[str, float]:
    """The table's columns for one record and one relation ("all", "inside", "outside")."""
    test = record.test
    out = {f"sf_{s}": _value(test[s]["sf"][relation]) if s in test else np.nan for s in SETTINGS}
    performance = test[performance_setting(record)]["performance"].get(relation, {})
    out.update({m: _value(performance.get(m)) for m in PERFORMANCE})
    out["params"] = float(record.parameters["percent"])
    return out


def method_of(record: TrialRecord) -> str:
    return record.job.method


def load(folder: str | Path, relations=("all",), allow_smoke: bool = False) -> Trials:
    """Read ``folder``'s trial records (a local path or a pyarrow URI)."""
    root = str(folder)
    store, records = _records(root, allow_smoke)
    experiments = sorted({r.job.experiment for r in records})
    if len(experiments) > 1:
        raise ReportError(f"{root} mixes records of experiments {experiments}; report one experiment folder")
    replicated = {(r.job.arm, r.job.config_id) for r in records if r.job.phase == "replicate"}
    replicate = [r for r in records if (r.job.arm, r.job.config_id) in replicated]
    ok = {r.key: r for r in replicate if r.ok}
    excluded = [
        f"{r.key}: {r.status}" + (f" ({str(r.error).splitlines()[0][:160]})" if r.error else "")
        for r in records
        if not r.ok
    ]
    replicated_ok = dict(ok)
    ok, dropped = one_config_per_arm(ok, records)
    excluded += dropped
    values = values_of(ok, relations)
    if values.empty:
        raise ReportError(
            f"{root} has no finished replication record with status ok; "
            f"{len(excluded)} trial(s) failed or stopped: {excluded[:3]}"
        )
    searched = tuple(r for r in records if r.job.phase == "search")
    return Trials(
        experiments[0],
        values,
        ok,
        _search_history(searched),
        sorted(excluded),
        undefined_notes(ok, relations),
        any(r.job.smoke for r in records),
        store,
        searched,
        replicated_ok,
    )


def _search_history(searched: tuple[TrialRecord, ...]) -> pd.DataFrame:
    """One row per search record: its arm, validation AUC, status and date (the search figure)."""
    return pd.DataFrame(
        [
            {
                "dataset": r.job.dataset,
                "method": method_of(r),
                "key": r.key,
                "valid_auc": (r.metrics or {}).get("valid_auc"),
                "status": r.status,
                "date": (r.provenance or {}).get("date_utc", ""),
            }
            for r in searched
        ],
        columns=["dataset", "method", "key", "valid_auc", "status", "date"],
    )


def _records(root: str, allow_smoke: bool) -> tuple[Store, list[TrialRecord]]:
    """The store at ``root`` and its finished records; smoke records only when allowed."""
    if "://" not in root and not (Path(root) / "trials").is_dir():
        raise ReportError(
            f"{root} has no trials/ folder: pass an experiment's results folder, "
            "e.g. results/quickstart (the sweep writes <storage>/<experiment>/trials)"
        )
    store = Store(root)
    try:
        records = store.records()
    except ValueError as error:  # a file in trials/ that is not a record of this version
        raise ReportError(str(error)) from error
    if not records:
        raise ReportError(f"{root}/trials holds no finished trial record yet")
    if any(r.job.smoke for r in records) and not allow_smoke:
        raise ReportError(
            f"{root} holds smoke records (tiny untrained models, not results); pass --allow-smoke "
            "to report them anyway: every output is then stamped SMOKE"
        )
    return store, records


def values_of(ok: dict, relations) -> pd.DataFrame:
    """The table's values: one row per (record, relation), sorted."""
    rows = [
        {
            "dataset": r.job.dataset,
            "method": method_of(r),
            "relation": rel,
            "seed": r.job.seed,
            "key": key,
            **row_values(r, rel),
        }
        for key, r in ok.items()
        for rel in relations
    ]
    if not rows:
        return pd.DataFrame(rows)
    return pd.DataFrame(rows).sort_values(["dataset", "method", "relation", "seed"], ignore_index=True)


def undefined_notes(ok: dict, relations) -> list[tuple[str, str]]:
    """(relation, note) for each column undefined on some seed of an arm, with the records' reason."""
    counts: dict[tuple, list] = {}
    for r in ok.values():
        for relation in relations:
            for column, reason in undefined(r, relation).items():
                counts.setdefault((r.job.arm, relation, column), []).append(reason)
    seeds = Counter(r.job.arm for r in ok.values())
    return [
        (
            relation,
            f"{arm}" + ("" if relation == "all" else f" ({relation})") + f": {LABELS[column]} "
            f"undefined on {len(reasons)} of {seeds[arm]} seed(s): {sorted(set(reasons))[0]}",
        )
        for (arm, relation, column), reasons in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1], list(LABELS).index(kv[0][2]))
        )
    ]


def with_rescored(trials: Trials, replicated: dict, frames: dict) -> Trials:
    """``trials`` after its records were measured again (at another decision rate or threshold):
    ``replicated`` holds every record, new or not, ``frames`` their per-example scores; the table's
    records, values and undefined-value notes follow them."""
    ok = {key: replicated[key] for key in trials.records}
    relations = tuple(dict.fromkeys(trials.values.relation))
    return dataclasses.replace(
        trials,
        records=ok,
        replicated=replicated,
        values=values_of(ok, relations),
        undefined=undefined_notes(ok, relations),
        _scores=frames,
    )


def restrict(trials: Trials, methods: set | None = None, seeds: set | None = None) -> Trials:
    """``trials`` with the records of ``methods`` alone (a table of some methods tests only them),
    and of ``seeds`` alone (a study's row that pairs with some of another study's seeds); None keeps
    every one."""

    def kept(r: TrialRecord) -> bool:
        return (methods is None or method_of(r) in methods) and (seeds is None or r.job.seed in seeds)

    keep = {key: r for key, r in trials.records.items() if kept(r)}
    relations = tuple(dict.fromkeys(trials.values.relation))
    return dataclasses.replace(
        trials,
        records=keep,
        values=values_of(keep, relations),
        undefined=undefined_notes(keep, relations),
        _scores=trials._scores,
        replicated={k: r for k, r in trials.replicated.items() if kept(r)},
    )
