"""Where data sets live on disk (the file helpers every loader shares: ``harness.files``), and the
check that a data set is there and readable before anything runs on it."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from harness.config.datasets import get_dataset
from harness.data.schema import DataError
from harness.files import read_head, user_cache
from harness.registry import resolve

ENV_VAR = "HARNESS_DATA_DIR"
CACHE_ENV_VAR = "HARNESS_CACHE_DIR"


def default_data_dir() -> Path:
    """``$HARNESS_DATA_DIR``, else ``$XDG_CACHE_HOME/stereotype-harness/data``
    (``~/.cache/...`` when XDG_CACHE_HOME is unset)."""
    if os.environ.get(ENV_VAR):
        return _absolute(os.environ[ENV_VAR])
    return user_cache() / "data"


def default_prepared_dir() -> Path:
    """Where prepared (sampled, measured, tokenized) data is cached: ``$HARNESS_CACHE_DIR``,
    else ``~/.cache/stereotype-harness/prepared``. Kept apart from the data so a
    read-only data folder works."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    return user_cache() / "prepared"


def resolve_data_dir(value: str | os.PathLike | None) -> Path:
    """The data directory a command uses, absolute (a Ray worker's working folder is not the
    command's): the ``--data-dir`` value, else the default."""
    return _absolute(value) if value else default_data_dir()


def _absolute(value: str | os.PathLike) -> Path:
    """``value`` as an absolute path, ``~`` and ``..`` resolved (symbolic links kept)."""
    return Path(os.path.abspath(Path(value).expanduser()))


def _holds(folder: Path, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that ``folder`` holds (plain or ``.gz``), else None."""
    return next((n for n in names if (folder / n).exists() or (folder / f"{n}.gz").exists()), None)


def dataset_dir(data_dir: Path, name: str, marker_files: tuple[str, ...], layouts: tuple[str, ...] = ()) -> Path:
    """The folder that holds data set ``name``: ``data_dir`` itself when it directly holds one of
    ``marker_files`` (plain or ``.gz``), else ``data_dir/name`` when that does, else the one folder
    inside ``data_dir/name`` (or inside ``data_dir`` when it is named ``name``) that holds one of
    ``layouts`` (default ``marker_files``): where users keep one layout's copy, such as
    ``bookcrossing/comp20008-subset/``. Several such folders are an error that lists them and says
    how to pick one; none leaves ``data_dir/name`` (its loader says what is missing there).

    This lets ``--data-dir`` name the cache root, the data set's own folder or one copy's folder.
    """
    own = data_dir / name
    for folder in (data_dir, own):
        if _holds(folder, marker_files):
            return folder
    parents = [own, *([data_dir] if data_dir.name == name else [])]
    copies = sorted(
        (sub, held)
        for parent in parents
        if parent.is_dir()
        for sub in parent.iterdir()
        if sub.is_dir() and (held := _holds(sub, layouts or marker_files))
    )
    if len(copies) > 1:
        listed = "; ".join(f"{sub} (holds {held})" for sub, held in copies)
        raise DataError(
            f"{name}: {len(copies)} copies found, one per folder: {listed}. Pick one: "
            f"--data-dir {copies[0][0]} (or {ENV_VAR}={copies[0][0]}), or keep one of them there"
        )
    return copies[0][0] if copies else own


def check_present(dataset: str, data_dir: str | os.PathLike | None) -> list[Path]:
    """The files a load of ``dataset`` from ``data_dir`` (None: the default) reads, each found and
    readable (its first bytes read), checked before anything runs on them; a ``DataError`` that
    says how to get them otherwise. [] for a generated data set (nothing on disk)."""
    spec = get_dataset(dataset)
    if spec.files is None:
        return []
    paths: list[Path] = resolve(spec.files)(resolve_data_dir(data_dir))
    for path in paths:
        try:
            read_head(path)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise DataError(f"{dataset}: {path} cannot be read ({error}); get it again: {spec.source_hint}") from error
    return paths
