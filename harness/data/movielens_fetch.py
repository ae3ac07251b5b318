"""Fetching MovieLens-100K into the data folder (``python -m harness.data fetch movielens-100k``):
from a folder the user names, else GroupLens's zip, else the RecBole wheel on PyPI (its atomic
files), each source's bytes checked against its pin and the content fingerprints of
``harness.data.movielens`` before the files are installed with a manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from harness.data.movielens import (
    ATOMIC_SHA256,
    CONTENT_SHA256,
    GROUPLENS_SHA256,
    LAYOUTS,
    MANIFEST,
    NAME,
    layout_of,
    read_folder,
)
from harness.data.schema import DataError
from harness.files import atomic_copy, atomic_write_bytes, find_file, sha256_file

ZIP_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
URL_ENV, WHEEL_ENV = "HARNESS_MOVIELENS_URL", "HARNESS_RECBOLE_WHEEL"
WHEEL_REQ = "recbole==1.2.1"
WHEEL_MEMBER = "recbole/dataset_example/ml-100k/"

# Wheel: PyPI's listed sha256. Zip: published by many users beside GroupLens's MD5
# 0e33842e24a9c977be4e0107933c0723 (not recomputed here).
ZIP_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"


def _check_bytes(path: Path, expected: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(f"{path.name}: SHA-256 {actual}, expected {expected}")


def _stage_directory(source: Path, _tmp: Path) -> Path:
    if not source.is_dir():
        raise DataError(f"--source {source} is not a directory")
    if layout_of(source) == "atomic":  # the atomic files are pinned byte for byte
        for name, expected in ATOMIC_SHA256.items():
            path = find_file(source, name)
            if path.suffix != ".gz":
                _check_bytes(path, expected)
    return source


def _extract(archive: Path, members: dict[str, str], tmp: Path) -> Path:
    """Write only ``members`` (archive name -> our file name) into ``tmp``."""
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        for member, target in members.items():
            if member not in names:
                raise DataError(f"{archive.name} lacks {member}")
            atomic_write_bytes(tmp / target, zipped.read(member))
    return tmp


def _stage_zip(url: str, tmp: Path) -> Path:
    archive = tmp / "ml-100k.zip"
    with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 (URL is ours or the user's)
        archive.write_bytes(response.read())
    _check_bytes(archive, ZIP_SHA256)
    return _extract(archive, {f"ml-100k/{n}": n for n in GROUPLENS_SHA256}, tmp / "files")


def _stage_wheel(tmp: Path) -> Path:
    wheel = os.environ.get(WHEEL_ENV)
    if not wheel:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", WHEEL_REQ, "-d", str(tmp)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        wheels = sorted(tmp.glob("recbole-*.whl"))
        if done.returncode != 0 or not wheels:
            raise DataError(f"pip download {WHEEL_REQ} failed: {done.stderr.strip()[-400:]}")
        wheel = wheels[0]
    _check_bytes(Path(wheel), WHEEL_SHA256)
    return _extract(Path(wheel), {WHEEL_MEMBER + n: n for n in ATOMIC_SHA256}, tmp / "files")


def _install(staged: Path, target: Path, kind: str, origin: str) -> None:
    """Copy verified files into the cache, drop the other layout's, write the manifest last."""
    layout, _, report = read_folder(staged)
    (target / MANIFEST).unlink(missing_ok=True)
    for other in LAYOUTS.keys() - {layout}:  # a layout switch must not leave two copies
        for spec in LAYOUTS[other].values():
            (target / spec.file).unlink(missing_ok=True)
            (target / f"{spec.file}.gz").unlink(missing_ok=True)
    files = {}
    for spec in LAYOUTS[layout].values():
        path = find_file(staged, spec.file)
        atomic_copy(path, target / path.name)
        files[path.name] = report.files[str(path)]
    manifest = {
        "dataset": NAME,
        "source": {"kind": kind, "origin": origin},
        "layout": layout,
        "files": files,
        "content_sha256": CONTENT_SHA256,
        "fetched_utc": datetime.now(UTC).isoformat(),
    }
    atomic_write_bytes(target / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def fetch(data_dir: Path, source: Path | None = None, log=print, force: bool = False) -> Path:
    """Fill ``data_dir/movielens-100k`` from ``source``, else GroupLens, else the RecBole wheel.

    A copy already there that passes every check is kept unless ``force``.
    """
    target = Path(data_dir) / NAME
    if (target / MANIFEST).is_file() and source is None and not force:
        try:
            read_folder(target)
            log(f"{NAME}: already in {target} and verified (pass --force to fetch again)")
            return target
        except DataError as err:
            log(f"{NAME}: the copy in {target} fails its checks, fetching again: {err}")
    url = os.environ.get(URL_ENV) or ZIP_URL
    if source is not None:
        attempts = [("directory", str(source), lambda tmp: _stage_directory(Path(source), tmp))]
    else:
        attempts = [
            ("grouplens-zip", url, lambda tmp: _stage_zip(url, tmp)),
            ("recbole-wheel", os.environ.get(WHEEL_ENV) or f"pip download {WHEEL_REQ}", _stage_wheel),
        ]
    failures = []
    for kind, origin, stage in attempts:
        log(f"{NAME}: trying {kind} ({origin})")
        try:
            with tempfile.TemporaryDirectory(prefix="movielens-") as tmp:
                _install(stage(Path(tmp)), target, kind, origin)
        except (DataError, OSError, ValueError, zipfile.BadZipFile, subprocess.SubprocessError) as err:
            log(f"{NAME}: {kind} failed: {err}")
            failures.append(f"{kind} ({origin}): {err}")
            continue
        log(f"{NAME}: fetched from {kind} into {target}")
        return target
    raise DataError(
        f"could not fetch {NAME}; tried:\n  "
        + "\n  ".join(failures)
        + f"\nFix: get ml-100k.zip from {ZIP_URL} yourself and pass --source DIR (u.data/u.user/u.item "
        f"or ml-100k.inter/.user/.item), or set {WHEEL_ENV}=PATH to a downloaded {WHEEL_REQ} wheel"
    )
