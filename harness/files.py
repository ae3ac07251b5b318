"""File helpers every layer shares (data loaders, caches, backbone fetchers, a command's output): the user
cache folder, a file's SHA-256, gzip-transparent reads, and atomic writes."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def user_cache() -> Path:
    """``$XDG_CACHE_HOME/stereotype-harness`` (``~/.cache/...`` when XDG_CACHE_HOME is unset): where data,
    prepared data and backbones are kept unless their own variable says otherwise."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stereotype-harness"


def find_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` or ``folder/name.gz``, whichever exists, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text(path: Path, encoding: str) -> str:
    """The whole file as text, transparently gunzipping ``*.gz``."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode(encoding)


def read_head(path: Path, size: int = 1 << 16) -> bytes:
    """The first ``size`` bytes of the file (gunzipped for ``*.gz``): that it can be read at all."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as handle:
        return handle.read(size)


def atomic_write(dst: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the result onto ``dst``, so that a killed
    process never leaves a half-written ``dst``. The temporary file keeps ``dst``'s
    suffix (``numpy.savez`` appends ``.npz`` to any other name)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=dst.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_copy(src: Path, dst: Path) -> None:
    atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))


def atomic_write_bytes(dst: Path, data: bytes) -> None:
    atomic_write(dst, lambda tmp: Path(tmp).write_bytes(data))
