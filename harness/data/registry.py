"""The data sets the harness knows, by name. Adding one means one loader module
and one entry here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.data import bookcrossing, movielens
from harness.data.paths import dataset_dir
from harness.data.schema import RatingsTable


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    load: Callable[[Path], RatingsTable]
    fetch: Callable[..., Path]
    like_threshold: float      # "median" rating of §4.1.4: liked when rating >= it
    time_order: bool           # False: no timestamps, a seeded random order per user
    group_words: tuple[str, ...]  # words that name each group in prompts, in RatingsTable.groups order
    stereotype: str            # the user attribute that defines the groups
    source_hint: str           # where a user gets the data
    markers: tuple[str, ...]   # files whose presence says a folder holds this data set
    data_files: tuple[str, ...]  # every file any layout of it may have (hashed into the cache key)

    def locate(self, data_dir: Path) -> Path:
        """The folder holding the data set: ``data_dir`` itself or ``data_dir/<name>``."""
        return dataset_dir(data_dir, self.name, self.markers)


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> None:
    if spec.name in DATASETS:
        raise ValueError(f"data set {spec.name!r} is already registered")
    DATASETS[spec.name] = spec


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; registered: {', '.join(sorted(DATASETS))}") from None


register(DatasetSpec(
    name=movielens.NAME, load=movielens.load, fetch=movielens.fetch, like_threshold=3.0, time_order=True,
    group_words=("male", "female"), stereotype="gender",
    source_hint="python -m harness.data fetch movielens-100k [--source DIR]",
    markers=movielens.MARKERS,
    data_files=tuple(spec.file for layout in movielens.LAYOUTS.values() for spec in layout.values()),
))
register(DatasetSpec(
    name=bookcrossing.NAME, load=bookcrossing.load, fetch=bookcrossing.fetch, like_threshold=5.0,
    time_order=False, group_words=("adult", "teen"), stereotype="age (teen < 18, adult >= 18)",
    source_hint="python -m harness.data fetch bookcrossing --source DIR (either BX layout)",
    markers=bookcrossing.MARKERS,
    data_files=bookcrossing.MARKERS,
))
