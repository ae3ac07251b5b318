"""One immutable JSON record per trial, with its per-example test scores beside it.

A ``TrialJob`` is a trial before it runs: its identity (arm, configuration, seed, phase ->
``key``) and the fields its record starts with. A ``TrialRecord`` is the job with its outcome:
status, what the run measured, how long it took and what made it (provenance). Both are frozen
dataclasses with a JSON round trip (``to_json``/``from_json``); the sweep makes the job, the
worker writes the record, the report reads it back.

``<results>/<experiment>/trials/<key>.json`` and ``<key>.parquet``. A record is
written once its trial has finished (``status`` "ok" or "failed"); a trial that
has started but not finished leaves a ``<key>.running.json`` marker, so a
restarted sweep knows what to continue. Writes are atomic (temporary file, then
rename): a killed process never leaves half a record. ``results`` may be a local
folder or a URI that pyarrow understands (``s3://…``, ``gs://…``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
from pyarrow import fs as pafs

RECORD_FORMAT = 2  # 2: scores carry user, h and target_in_<group> (the report resamples users)
STATUSES = ("ok", "failed", "stopped")  # stopped: ended early by the scheduler (ASHA)


def safe(text: str) -> str:
    """A file-name-safe form of an arm key like "movielens-100k/mos"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


_OPTIONAL = ("command", "space", "selection", "proposal")  # written only when set: older records lack them


def trial_key(arm_key: str, config_id: str, seed: int) -> str:
    return f"{safe(arm_key)}__{config_id}__seed{seed}"


@dataclass(frozen=True)
class TrialJob:
    """One trial before it runs. ``key`` (arm, configuration id, seed) names its record."""

    experiment: str
    phase: str  # "search" (Optuna, first seed) or "replicate" (every seed)
    arm: str  # "<dataset>/<method>"
    config_id: str  # SweepSpec.config_id: the hash of the resolved run config
    params: dict[str, Any]  # the searched parameters' values, by YAML path
    seed: int
    dataset: str | None = None
    backbone: str | None = None  # the backbone's name as the search space asks for it
    head: str | None = None
    objectives: dict[str, Any] | None = None
    smoke: bool = False
    command: str | None = None  # the sweep's command line (records made since commit 023908e)
    space: list[str] | None = None  # its search-space files, the extends chain
    selection: dict[str, Any] | None = (
        None  # the sweep's Selection (metrics, rule, min_support): why it replicated what it did
    )
    proposal: int | None = None  # a search trial's index in its arm's proposals (issue 36); not in the key

    @property
    def key(self) -> str:
        return trial_key(self.arm, self.config_id, self.seed)

    @property
    def method(self) -> str:
        return self.arm.split("/", 1)[1]

    def to_json(self) -> dict[str, Any]:
        """The record's leading fields; the sweep's command, files, selection and proposal only when it named them."""
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items() if v is not None or k not in _OPTIONAL}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialJob:
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names[:6] if n not in data]
        if missing:
            raise ValueError(f"a trial job needs {', '.join(missing)}; it has {', '.join(data) or 'nothing'}")
        return cls(**{n: data[n] for n in names if n in data})


# A record's JSON keys in the order they are written: the job's, then these (those a record
# holds), then any the reader did not know (kept, so that a newer record round-trips).
_OUTCOME = (
    "config",
    "threshold_moments",
    "device",
    "parameters",
    "fit",
    "test",
    "timings",
    "test_diagnostics",
    "data",
    "backbone_kind",
    "metrics",
    "peak_memory_mb",
    "pid",
    "node",
    "workers",
    "status",
    "error",
    "traceback",
    "seconds",
    "provenance",
)


@dataclass(frozen=True)
class TrialRecord:
    """A finished trial: its job and outcome. ``status`` ok: the run's measurements are set;
    failed: ``error`` and ``traceback`` say why; stopped (ASHA): ``metrics`` holds the last
    validation score only. Optional fields a record lacks stay None and are not written."""

    job: TrialJob
    status: str
    error: str | None = None
    metrics: dict[str, Any] | None = None  # {"valid_auc": …, "test": {setting: {"sf", "performance"}}}
    config: dict[str, Any] | None = None  # the resolved RunConfig.to_dict()
    threshold_moments: dict[str, Any] | None = None  # Eq. 3's mean and std per group: the report re-thresholds
    device: str | None = None
    parameters: dict[str, Any] | None = None  # trainable / backbone counts and Table 5's percent
    fit: dict[str, Any] | None = None  # per-epoch validation AUC, best epoch, steps, samples
    timings: dict[str, Any] | None = None
    test_diagnostics: dict[str, Any] | None = None  # MoS: routing on the test split
    data: dict[str, Any] | None = None  # prepared data's cache key and split sizes
    backbone_kind: str | None = None
    peak_memory_mb: float | None = None
    pid: int | None = None
    node: dict[str, Any] | None = None
    workers: int | None = None
    traceback: str | None = None
    seconds: float | None = None
    provenance: dict[str, Any] | None = None  # command, commit, machine, packages at the trial's start
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as read
    format: int = RECORD_FORMAT

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"record status must be one of {STATUSES}, got {self.status!r}")

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def test(self) -> dict[str, Any]:
        """The test metrics per prompt setting ({} unless the trial finished ok)."""
        return (self.metrics or {}).get("test") or {}

    def to_json(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.metrics and "test" in self.metrics:  # also at the top level, as records always had it
            values["test"] = self.metrics["test"]
        outcome = {k: values[k] for k in _OUTCOME if values.get(k) is not None or k == "error"}
        return {"format": self.format, "key": self.key, **self.job.to_json(), **outcome, **self.extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        job = TrialJob.from_json(data)
        if data.get("key", job.key) != job.key:
            raise ValueError(f"record {data['key']} does not match its arm, config_id and seed ({job.key})")
        known = {f.name for f in dataclasses.fields(cls)} - {"job", "extra"}
        leading = {"format", "key", "test", *job.to_json()}
        fields = {k: v for k, v in data.items() if k in known}
        return cls(job=job, **fields, extra={k: v for k, v in data.items() if k not in known | leading})


class Store:
    """The trials folder of one experiment, on a local disk or an object store."""

    def __init__(self, root: str, create: bool = True):
        """create False: a store that is only read (a dry run); its folder need not exist."""
        self.filesystem, base = pafs.FileSystem.from_uri(root) if "://" in root else (pafs.LocalFileSystem(), str(root))
        self.root = root
        self.trials = f"{base.rstrip('/')}/trials"
        self.flags = f"{base.rstrip('/')}/.missing-data"  # data sets found missing where trials ran
        if create:
            self.filesystem.create_dir(self.trials, recursive=True)

    def _write(self, name: str, data: bytes, folder: str | None = None) -> None:
        folder = folder or self.trials
        final, temporary = f"{folder}/{name}", f"{folder}/.{name}.{uuid.uuid4().hex}"
        with self.filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        self.filesystem.move(temporary, final)

    def _read(self, name: str, folder: str | None = None) -> bytes | None:
        try:
            with self.filesystem.open_input_stream(f"{folder or self.trials}/{name}") as stream:
                data: bytes = stream.read()
                return data
        except (FileNotFoundError, OSError):
            return None

    def _delete(self, name: str, folder: str | None = None) -> None:
        try:
            self.filesystem.delete_file(f"{folder or self.trials}/{name}")
        except (FileNotFoundError, OSError):
            pass

    def mark_running(self, job: TrialJob) -> None:
        self._write(f"{job.key}.running.json", json.dumps(job.to_json(), default=str).encode())

    def write(self, record: TrialRecord, scores: pd.DataFrame | None = None) -> None:
        """The final record (and scores first, so a record never points at missing scores); a
        stopped trial has none (the sweep may record a stop over a trial that had just finished)."""
        key = record.key
        if record.status == "stopped":
            self._delete(f"{key}.parquet")
        if scores is not None:
            buffer = io.BytesIO()
            scores.to_parquet(buffer, index=False)
            self._write(f"{key}.parquet", buffer.getvalue())
        self._write(f"{key}.json", json.dumps(record.to_json(), indent=2, default=_jsonable).encode())
        self._delete(f"{key}.running.json")

    def read(self, key: str) -> TrialRecord | None:
        data = self._read(f"{key}.json")
        if data is None:
            return None
        try:
            return TrialRecord.from_json(json.loads(data))
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"{self.trials}/{key}.json is not a trial record this version reads: {error}; "
                "move it out of the trials folder (or rerun its trial)"
            ) from error

    def scores(self, key: str) -> pd.DataFrame | None:
        data = self._read(f"{key}.parquet")
        return None if data is None else pd.read_parquet(io.BytesIO(data))

    def _names(self, suffix: str) -> list[str]:
        selector = pafs.FileSelector(self.trials, allow_not_found=True)
        names = [info.base_name for info in self.filesystem.get_file_info(selector)]
        return sorted(n[: -len(suffix)] for n in names if n.endswith(suffix) and not n.startswith("."))

    def records(self) -> list[TrialRecord]:
        return [r for r in (self.read(k) for k in self._names(".json") if not k.endswith(".running")) if r is not None]

    def drop_stale_markers(self) -> list[str]:
        """Delete the markers that sit beside a final record (a process killed between writing
        the record and deleting its marker): that trial finished. Returns the other markers' keys."""
        finished = set(self._names(".json"))
        markers = [k for k in finished if k.endswith(".running")]
        for key in (k[: -len(".running")] for k in markers if k[: -len(".running")] in finished):
            self._delete(f"{key}.running.json")
        return sorted(k[: -len(".running")] for k in markers if k[: -len(".running")] not in finished)

    def running(self) -> list[TrialJob]:
        """The jobs of trials that started and wrote no final record (stale markers dropped first)."""
        return self._markers(self.drop_stale_markers())

    def unfinished(self) -> list[TrialJob]:
        """``running()`` without writing anything (a stale marker is skipped, not deleted): for a dry run."""
        names = set(self._names(".json"))
        return self._markers(
            sorted(
                k[: -len(".running")] for k in names if k.endswith(".running") and k[: -len(".running")] not in names
            )
        )

    # A data set a trial found missing where it ran (a cluster's nodes keep their own data), flagged in
    # <results>/.missing-data/ while the sweep runs: its trials that start later are not run
    # (harness.sweep.trial); the sweep clears the flags when it ends and when it starts.
    def mark_missing(self, dataset: str, error: str) -> None:
        self.filesystem.create_dir(self.flags, recursive=True)
        self._write(f"{safe(dataset)}.json", json.dumps({"dataset": dataset, "error": error}).encode(), self.flags)

    def missing(self) -> dict[str, str]:
        """Data set -> the error of the first trial that found it missing."""
        flags = [self._read(name, self.flags) for name in self._flags()]
        return {f["dataset"]: f["error"] for f in (json.loads(d) for d in flags if d is not None)}

    def clear_missing(self) -> None:
        for name in self._flags():
            self._delete(name, self.flags)

    def _flags(self) -> list[str]:
        selector = pafs.FileSelector(self.flags, allow_not_found=True)
        return sorted(i.base_name for i in self.filesystem.get_file_info(selector) if not i.base_name.startswith("."))

    def _markers(self, keys: list[str]) -> list[TrialJob]:
        return [TrialJob.from_json(json.loads(cast(bytes, self._read(f"{k}.running.json")))) for k in keys]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
