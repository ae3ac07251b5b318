"""What a sweep checks before Ray starts (no Ray here): the data folder its trials read, made
absolute and given to them; on this machine, every data set an arm reads, there and readable; and
the MLflow store it logs to, when it tracks. ``python -m harness.sweep`` exits 2 on what fails."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from harness.data.paths import ENV_VAR, check_present, resolve_data_dir
from harness.space import SweepSpec
from harness.tracking import Tracker, TrackingError, default_store


def with_data_dir(spec: SweepSpec, data_dir: str | None) -> SweepSpec:
    """The data folder every trial reads, decided here and absolute (a Ray worker's working folder is
    not this one): --data-dir, else the search space's data_dir, else ``$HARNESS_DATA_DIR`` (made
    absolute in this environment too, which a local Ray's workers inherit). Neither: each worker's own
    default (its user cache)."""
    if data_dir:
        return dataclasses.replace(spec, data_dir=str(resolve_data_dir(data_dir)))
    if spec.data_dir is None and os.environ.get(ENV_VAR):
        os.environ[ENV_VAR] = str(resolve_data_dir(None))
        return dataclasses.replace(spec, data_dir=os.environ[ENV_VAR])
    return spec


def checked(spec: SweepSpec, results: str, local: bool = True, tracking_uri: str | None = None) -> Tracker | None:
    """What must hold before Ray starts: on this machine (``local``: no --address; a cluster's workers
    keep their own data) every data set an arm reads is there and readable (a ``DataError`` with the
    fetch hint otherwise); tracking, when asked for (``tracking_uri``: --tracking-uri, "" for the local
    default, None for the search space's ``tracking:``), reaches its store (a ``TrackingError``).
    Returns the ``harness.tracking.Tracker``, or None."""
    if local:
        for dataset in spec.datasets:
            check_present(dataset, spec.data_dir)
    uri = spec.tracking if tracking_uri is None else tracking_uri
    if uri is None:
        return None
    artifacts = None
    if not uri:  # the flag alone: a SQLite store beside the experiments' folders
        uri, artifacts = default_store(Path(results).parent if "://" not in results else Path.cwd())
    try:
        return Tracker(uri, Path(results).name, artifacts)
    except TrackingError:
        raise
    except Exception as error:  # MLflow's own (an unreachable server, a bad URI): refused before Ray
        raise TrackingError(f"tracking at {uri}: {type(error).__name__}: {error}") from error
