"""The data sets the harness knows, by name (torch-free: a config names a data set, its label
threshold and its groups without reading it). Adding one means one loader module in
``harness.data`` and one entry here; the loader's parts are named as "module:attr" and imported
(``harness.registry.resolve``) where the data is read."""

from __future__ import annotations

from dataclasses import dataclass

from harness.config.data import COMPARISONS, READINGS, SampleConfig, is_liked
from harness.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    load: str  # "module:function": its folder -> RatingsTable (the data_dir, or the data set's own)
    fetch: str  # "module:function": fills a data folder, returns it (None for a generated data set)
    like_threshold: float  # the working default: liked when rating > it (docs/data.md, "Which ratings are liked")
    rating_scale: tuple[float, float]  # the lowest and highest rating the loader keeps
    time_order: bool  # False: no timestamps, a seeded random order per user
    group_words: tuple[str, ...]  # words that name each group in prompts, in RatingsTable.groups order
    stereotype: str  # the user attribute that defines the groups
    source_hint: str  # where a user gets the data
    markers: str | None = None  # "module:attr": files whose presence says a folder holds it (None: generated)
    data_files: str | None = None  # "module:attr": every file any layout of it may have (hashed into the cache key)
    # "module:function": a data folder -> the files a load reads from it, found (DataError saying how to get them
    # otherwise); checked before a sweep starts (harness.data.paths.check_present)
    files: str | None = None
    generated: str | None = None  # "module:attr": a generated data set's version, standing in for the file hashes
    # §4.1.4's "median rating" (3 MovieLens, 5 BookCrossing), the threshold TALLRec's `>` and the paper's literal
    # `>=` read; None: like_threshold. It differs where TALLRec's rule breaks down on the data (BookCrossing)
    paper_median: float | None = None

    @property
    def median(self) -> float:
        """The paper's median rating (``paper_median``, else ``like_threshold``)."""
        return self.like_threshold if self.paper_median is None else self.paper_median

    def resolve_like_threshold(
        self, like_threshold: float | None, like_comparison: str = SampleConfig.like_comparison
    ) -> float:
        """``SampleConfig.like_threshold``; None stands for this data set's: the working threshold under
        ``gt`` (the default), the paper's median under ``ge`` (so ``ge`` alone is always the paper's literal)."""
        if like_threshold is not None:
            return like_threshold
        return self.median if like_comparison == "ge" else self.like_threshold

    def readings(self) -> list[tuple[str, float, str]]:
        """The named readings of this data set's labels, (comparison, threshold, name), the default first."""
        if self.like_threshold == self.median:
            return [("gt", self.median, f"{READINGS['gt']}, the default"), ("ge", self.median, READINGS["ge"])]
        return [
            ("gt", self.like_threshold, "the working default, docs/data.md"),
            ("gt", self.median, f"{READINGS['gt']} rule"),
            ("ge", self.median, READINGS["ge"]),
        ]

    def check_like_threshold(
        self, like_threshold: float | None = None, like_comparison: str = SampleConfig.like_comparison
    ) -> None:
        """Refuse a like threshold (None: this data set's) that puts every rating of the scale on
        one side: every label would be negative (or positive), and AUC, precision and recall undefined."""
        threshold = self.resolve_like_threshold(like_threshold, like_comparison)
        low, high = self.rating_scale
        high_liked, low_liked = (bool(is_liked(rating, threshold, like_comparison)) for rating in (high, low))
        side = "negative (disliked)" if not high_liked else "positive (liked)" if low_liked else None
        if side:
            sign, default = COMPARISONS[like_comparison], self.resolve_like_threshold(None, like_comparison)
            name = next(n for c, t, n in self.readings() if (c, t) == (like_comparison, default))
            raise ValueError(
                f"like_threshold {threshold:g} with 'rating {sign} threshold' makes every label "
                f"of {self.name} {side}: its ratings run from {low:g} to {high:g}; give a threshold "
                f"inside that scale (with like_comparison {like_comparison}, the default is rating {sign} "
                f"{default:g}, {name})"
            )


def _check(name: str, spec: DatasetSpec) -> None:
    if (spec.generated is None) == (spec.markers is None or spec.data_files is None or spec.files is None):
        raise ValueError(f"data set {name!r} needs markers, data_files and files (on disk) or generated, not both")


DATASETS: Registry[DatasetSpec] = Registry("data set", check=_check)


def register(spec: DatasetSpec) -> None:
    DATASETS.register(spec.name, spec)


def get_dataset(name: str) -> DatasetSpec:
    return DATASETS.get(name)


register(
    DatasetSpec(
        name="movielens-100k",
        load="harness.data.movielens:load",
        fetch="harness.data.movielens_fetch:fetch",
        like_threshold=3.0,
        rating_scale=(1.0, 5.0),
        time_order=True,
        group_words=("male", "female"),
        stereotype="gender",
        source_hint="python -m harness.data fetch movielens-100k [--source DIR]",
        markers="harness.data.movielens:MARKERS",
        data_files="harness.data.movielens:DATA_FILES",
        files="harness.data.movielens:files",
    )
)
register(
    DatasetSpec(
        name="bookcrossing",
        load="harness.data.bookcrossing:load",
        fetch="harness.data.bookcrossing_fetch:fetch",
        # The working default, > 7 (at least the subset's median, 8): TALLRec's > 5 kept BX's implicit 0 ratings as
        # dislikes (43% Yes in its own test.json); on the explicit ratings the loader keeps it labels 86% liked, the
        # say-Yes regime, and the paper's BookCrossing rows fit about 58-60% (docs/data.md); > 7: 61%
        like_threshold=7.0,
        paper_median=5.0,
        rating_scale=(1.0, 10.0),  # explicit ratings; the loader drops 0 (implicit)
        time_order=False,
        group_words=("adult", "teen"),
        stereotype="age (teen < 18, adult >= 18)",
        source_hint="python -m harness.data fetch bookcrossing --source DIR (either BX layout)",
        markers="harness.data.bookcrossing_files:MARKERS",
        data_files="harness.data.bookcrossing_files:MARKERS",
        files="harness.data.bookcrossing:files",
    )
)
register(
    DatasetSpec(
        name="synthetic-movielens",
        load="harness.data.synthetic:load",
        fetch="harness.data.synthetic:fetch",
        like_threshold=3.0,
        rating_scale=(1.0, 5.0),
        time_order=True,
        group_words=("male", "female"),
        stereotype="gender (generated, with a planted stereotype; not real data)",
        source_hint="nothing to fetch: generated in memory (harness/data/synthetic.py)",
        generated="harness.data.synthetic:VERSION",
    )
)
