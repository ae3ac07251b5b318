"""One immutable JSON record per trial, with its per-example test scores beside it.

``<results>/<experiment>/trials/<key>.json`` and ``<key>.parquet``. A record is
written once its trial has finished (``status`` "ok" or "failed"); a trial that
has started but not finished leaves a ``<key>.running.json`` marker, so a
restarted sweep knows what to continue. Writes are atomic (temporary file, then
rename): a killed process never leaves half a record. ``results`` may be a local
folder or a URI that pyarrow understands (``s3://…``, ``gs://…``).
"""

from __future__ import annotations

import io
import json
import re
import uuid

import pandas as pd
from pyarrow import fs as pafs

RECORD_FORMAT = 2   # 2: scores carry user, h and target_in_<group> (the report resamples users)
STATUSES = ("ok", "failed", "stopped")   # stopped: ended early by the scheduler (ASHA)


def safe(text: str) -> str:
    """A file-name-safe form of an arm key like "movielens-100k/mos"."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def trial_key(arm_key: str, config_id: str, seed: int) -> str:
    return f"{safe(arm_key)}__{config_id}__seed{seed}"


class Store:
    """The trials folder of one experiment, on a local disk or an object store."""

    def __init__(self, root: str):
        self.filesystem, base = pafs.FileSystem.from_uri(root) if "://" in root else (
            pafs.LocalFileSystem(), str(root))
        self.root = root
        self.trials = f"{base.rstrip('/')}/trials"
        self.filesystem.create_dir(self.trials, recursive=True)

    def _write(self, name: str, data: bytes) -> None:
        final = f"{self.trials}/{name}"
        temporary = f"{self.trials}/.{name}.{uuid.uuid4().hex}"
        with self.filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        self.filesystem.move(temporary, final)

    def _read(self, name: str) -> bytes | None:
        try:
            with self.filesystem.open_input_stream(f"{self.trials}/{name}") as stream:
                return stream.read()
        except (FileNotFoundError, OSError):
            return None

    def _delete(self, name: str) -> None:
        try:
            self.filesystem.delete_file(f"{self.trials}/{name}")
        except (FileNotFoundError, OSError):
            pass

    def mark_running(self, key: str, info: dict) -> None:
        self._write(f"{key}.running.json", json.dumps(info, default=str).encode())

    def write(self, key: str, record: dict, scores: pd.DataFrame | None = None) -> None:
        """The final record (and scores first, so a record never points at missing scores)."""
        if record.get("status") not in STATUSES:
            raise ValueError(f"record status must be one of {STATUSES}, got {record.get('status')!r}")
        if scores is not None:
            buffer = io.BytesIO()
            scores.to_parquet(buffer, index=False)
            self._write(f"{key}.parquet", buffer.getvalue())
        self._write(f"{key}.json", json.dumps({"format": RECORD_FORMAT, "key": key, **record},
                                              indent=2, default=_jsonable).encode())
        self._delete(f"{key}.running.json")

    def read(self, key: str) -> dict | None:
        data = self._read(f"{key}.json")
        return None if data is None else json.loads(data)

    def scores(self, key: str) -> pd.DataFrame | None:
        data = self._read(f"{key}.parquet")
        return None if data is None else pd.read_parquet(io.BytesIO(data))

    def _names(self, suffix: str) -> list[str]:
        selector = pafs.FileSelector(self.trials, allow_not_found=True)
        names = [info.base_name for info in self.filesystem.get_file_info(selector)]
        return sorted(n[:-len(suffix)] for n in names if n.endswith(suffix) and not n.startswith("."))

    def records(self) -> list[dict]:
        return [r for r in (self.read(k) for k in self._names(".json") if not k.endswith(".running"))
                if r is not None]

    def drop_stale_markers(self) -> list[str]:
        """Delete the markers that sit beside a final record (a process killed between writing
        the record and deleting its marker): that trial finished. Returns the other markers' keys."""
        finished = set(self._names(".json"))
        markers = [k for k in finished if k.endswith(".running")]
        for key in (k[:-len(".running")] for k in markers if k[:-len(".running")] in finished):
            self._delete(f"{key}.running.json")
        return sorted(k[:-len(".running")] for k in markers if k[:-len(".running")] not in finished)

    def running(self) -> list[dict]:
        """Markers of trials that started and wrote no final record (stale ones dropped first)."""
        return [json.loads(self._read(f"{k}.running.json")) for k in self.drop_stale_markers()]


def _jsonable(value):
    if hasattr(value, "item"):   # numpy scalars
        return value.item()
    return str(value)
