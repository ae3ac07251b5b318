"""Book-Crossing into the data folder (``python -m harness.data fetch bookcrossing --source DIR``):
there is no stable, checksummed download, so a complete layout is copied from the folder the user
names, its files hashed into a manifest written last."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from harness.data.bookcrossing import NAME
from harness.data.bookcrossing_files import LAYOUTS, MARKERS, RATINGS, WHERE_TO_GET, detect_layout
from harness.data.paths import dataset_dir
from harness.data.schema import DataError
from harness.files import atomic_copy, atomic_write_bytes, sha256_file


def fetch(data_dir: Path, source: Path | None, log: Callable[[str], object] = print, force: bool = False) -> Path:
    """Copy a complete layout from ``source`` into ``data_dir/bookcrossing/`` and
    write ``MANIFEST.json`` last, so a folder with a manifest is a complete copy.
    ``force`` is accepted for a uniform interface: a copy is always made afresh."""
    if source is None:
        raise DataError(
            f"BookCrossing cannot be downloaded automatically (no stable, checksummed source); "
            f"pass --source DIR.\n{WHERE_TO_GET}"
        )
    origin = dataset_dir(Path(source), NAME, MARKERS, RATINGS)
    layout, paths = detect_layout(origin)
    target = Path(data_dir) / NAME
    (target / "MANIFEST.json").unlink(missing_ok=True)
    # Leftovers of an earlier copy would shadow the new files or make the layout ambiguous.
    for name in {n for other in LAYOUTS.values() for n in other.files}:
        for stale in (target / name, target / f"{name}.gz"):
            if stale.exists() and stale.name not in {p.name for p in paths}:
                log(f"removing stale {stale}")
                stale.unlink()
    checksums = {}
    for path in paths:
        log(f"copying {path} -> {target / path.name}")
        atomic_copy(path, target / path.name)
        checksums[path.name] = sha256_file(target / path.name)
    manifest = {
        "dataset": NAME,
        "layout": layout.name,
        "origin": str(origin.resolve()),
        "files": checksums,
        "fetched_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write_bytes(target / "MANIFEST.json", json.dumps(manifest, indent=2).encode())
    log(f"{NAME} ({layout.name}) ready in {target}")
    return target
