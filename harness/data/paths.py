"""Where data sets live on disk (the file helpers every loader shares: ``harness.files``)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.files import user_cache

ENV_VAR = "HARNESS_DATA_DIR"
CACHE_ENV_VAR = "HARNESS_CACHE_DIR"


def default_data_dir() -> Path:
    """``$HARNESS_DATA_DIR``, else ``$XDG_CACHE_HOME/stereotype-harness/data``
    (``~/.cache/...`` when XDG_CACHE_HOME is unset)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return user_cache() / "data"


def default_prepared_dir() -> Path:
    """Where prepared (sampled, measured, tokenized) data is cached: ``$HARNESS_CACHE_DIR``,
    else ``~/.cache/stereotype-harness/prepared``. Kept apart from the data so a
    read-only data folder works."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    return user_cache() / "prepared"


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
