"""Where data sets live on disk, and the file helpers every loader shares."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

ENV_VAR = "HARNESS_DATA_DIR"
CACHE_ENV_VAR = "HARNESS_CACHE_DIR"


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stereotype-harness"


def default_data_dir() -> Path:
    """``$HARNESS_DATA_DIR``, else ``$XDG_CACHE_HOME/stereotype-harness/data``
    (``~/.cache/...`` when XDG_CACHE_HOME is unset)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return _user_cache() / "data"


def default_prepared_dir() -> Path:
    """Where prepared (sampled, measured, tokenized) data is cached: ``$HARNESS_CACHE_DIR``,
    else ``~/.cache/stereotype-harness/prepared``. Kept apart from the data so a
    read-only data folder works."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    return _user_cache() / "prepared"


def resolve_data_dir(value: str | os.PathLike | None) -> Path:
    """The data directory a command uses: the ``--data-dir`` value, else the default."""
    return Path(value).expanduser() if value else default_data_dir()


def dataset_dir(data_dir: Path, name: str, marker_files: tuple[str, ...]) -> Path:
    """The folder that holds data set ``name``: ``data_dir`` itself when it
    directly holds one of ``marker_files`` (plain or ``.gz``), else ``data_dir/name``.

    This lets ``--data-dir`` name either the cache root or the data set's own folder.
    """
    for marker in marker_files:
        if (data_dir / marker).exists() or (data_dir / f"{marker}.gz").exists():
            return data_dir
    return data_dir / name


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
