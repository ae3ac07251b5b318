"""The data sets the harness knows, by name. Adding one means one loader module
and one entry here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.config.data import COMPARISONS, READINGS, SampleConfig, is_liked
from harness.data import bookcrossing, movielens, synthetic
from harness.data.paths import dataset_dir
from harness.data.schema import RatingsTable
from harness.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    load: Callable[[Path], RatingsTable]
    fetch: Callable[..., Path | None]   # the folder it filled; None for a generated data set
    like_threshold: float      # "median" rating of §4.1.4; liked when rating > it (harness.config.data: COMPARISONS)
    rating_scale: tuple[float, float]  # the lowest and highest rating the loader keeps
    time_order: bool           # False: no timestamps, a seeded random order per user
    group_words: tuple[str, ...]  # words that name each group in prompts, in RatingsTable.groups order
    stereotype: str            # the user attribute that defines the groups
    source_hint: str           # where a user gets the data
    markers: tuple[str, ...]   # files whose presence says a folder holds this data set
    data_files: tuple[str, ...]  # every file any layout of it may have (hashed into the cache key)
    generated: str | None = None  # a generated data set's version: stands in for the file hashes

    def locate(self, data_dir: Path) -> Path:
        """The folder holding the data set: ``data_dir`` itself or ``data_dir/<name>``."""
        return dataset_dir(data_dir, self.name, self.markers)

    def resolve_like_threshold(self, like_threshold: float | None) -> float:
        """``SampleConfig.like_threshold``, None standing for this data set's."""
        return self.like_threshold if like_threshold is None else like_threshold

    def check_like_threshold(self, like_threshold: float | None = None,
                             like_comparison: str = SampleConfig.like_comparison) -> None:
        """Refuse a like threshold (None: this data set's) that puts every rating of the scale on
        one side: every label would be negative (or positive), and AUC, precision and recall undefined."""
        threshold = self.resolve_like_threshold(like_threshold)
        low, high = self.rating_scale
        high_liked, low_liked = (bool(is_liked(rating, threshold, like_comparison)) for rating in (high, low))
        side = "negative (disliked)" if not high_liked else "positive (liked)" if low_liked else None
        if side:
            sign, default = COMPARISONS[like_comparison], SampleConfig.like_comparison
            raise ValueError(f"like_threshold {threshold:g} with 'rating {sign} threshold' makes every label "
                             f"of {self.name} {side}: its ratings run from {low:g} to {high:g}; give a threshold "
                             f"inside that scale (the default is {self.like_threshold:g}, liked when rating "
                             f"{COMPARISONS[default]} it, {READINGS[default]} reading)")


DATASETS: Registry[DatasetSpec] = Registry("data set")


def register(spec: DatasetSpec) -> None:
    DATASETS.register(spec.name, spec)


def get_dataset(name: str) -> DatasetSpec:
    return DATASETS.get(name)


register(DatasetSpec(
    name=movielens.NAME, load=movielens.load, fetch=movielens.fetch, like_threshold=3.0,
    rating_scale=(1.0, 5.0), time_order=True,
    group_words=("male", "female"), stereotype="gender",
    source_hint="python -m harness.data fetch movielens-100k [--source DIR]",
    markers=movielens.MARKERS,
    data_files=tuple(spec.file for layout in movielens.LAYOUTS.values() for spec in layout.values()),
))
register(DatasetSpec(
    name=bookcrossing.NAME, load=bookcrossing.load, fetch=bookcrossing.fetch, like_threshold=5.0,
    rating_scale=(1.0, 10.0),   # explicit ratings; the loader drops 0 (implicit)
    time_order=False, group_words=("adult", "teen"), stereotype="age (teen < 18, adult >= 18)",
    source_hint="python -m harness.data fetch bookcrossing --source DIR (either BX layout)",
    markers=bookcrossing.MARKERS,
    data_files=bookcrossing.MARKERS,
))
register(DatasetSpec(
    name=synthetic.NAME, load=synthetic.load, fetch=synthetic.fetch, like_threshold=3.0,
    rating_scale=(1.0, 5.0), time_order=True, group_words=("male", "female"),
    stereotype="gender (generated, with a planted stereotype; not real data)",
    source_hint="nothing to fetch: generated in memory (harness/data/synthetic.py)",
    markers=(), data_files=(), generated=synthetic.VERSION,
))
