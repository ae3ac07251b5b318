"""From a data set name and a config to everything training and evaluation need:
samples, the training-split stereotype measurement, h for every sample, and the
tokenized prompts; cached on disk under a key made of the configuration and the
SHA-256 of the source files, so a second run reads the cache.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from harness import stereotype
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.datasets import get_dataset
from harness.data.paths import default_prepared_dir
from harness.data.samples import Samples, build_samples
from harness.data.schema import DataError, RatingsTable
from harness.files import atomic_write, find_file, sha256_file
from harness.registry import resolve

DEFAULT_SAMPLE, DEFAULT_STEREOTYPE = SampleConfig(), StereotypeConfig()  # frozen: shared defaults
CACHE_FORMAT = 2  # bump when what is cached, or how it is computed, changes


@dataclass(frozen=True)
class Measurement:
    """The training split's stereotype measurement (Eq. 1-3) and Eq. 2 for every sample.

    degree: (V, G). threshold: (G,). item_in_group: (V, G) bool.
    h: (N,) float, each sample's history share in its user's own group.
    target_in_group: (N, G) bool.
    """

    degree: np.ndarray
    threshold: np.ndarray
    item_in_group: np.ndarray
    h: np.ndarray
    target_in_group: np.ndarray
    items_measured: np.ndarray  # (V,) bool: items in the training interactions


@dataclass(frozen=True)
class Prepared:
    samples: Samples
    measurement: Measurement
    report: dict = field(default_factory=dict)  # the loader's LoadReport and data set facts
    timings: dict = field(default_factory=dict)
    from_cache: bool = False
    cache_folder: Path | None = None  # where it is cached; encoded prompts go there too


def measure(samples: Samples, config: StereotypeConfig) -> Measurement:
    """Eq. 1-3 from the training split's interactions (history and target items
    of every training sequence), then Eq. 2 for every sample of every split."""
    train = samples.mask("train")
    n_items, n_groups = len(samples.titles), len(samples.groups)
    items = np.concatenate([samples.history[train], samples.target[train, None]], axis=1)
    users = np.repeat(samples.user[train], items.shape[1])
    user_group = np.zeros(len(samples.user_ids), dtype=np.int64)
    user_group[samples.user] = samples.user_group
    rates = stereotype.group_interaction_rates(users, items.ravel(), user_group, n_items, n_groups)
    measured = np.zeros(n_items, dtype=bool)
    measured[items.ravel()] = True
    degree = stereotype.item_degree(rates)
    threshold = stereotype.stereotype_threshold(degree, config.z, config.scope, items=measured)
    in_group = stereotype.stereotyped(degree, threshold)
    return Measurement(
        degree=degree,
        threshold=threshold,
        item_in_group=in_group,
        h=stereotype.user_proportion(samples.history, samples.user_group, in_group),
        target_in_group=in_group[samples.target],
        items_measured=measured,
    )


def cache_key(dataset: str, source_hashes: dict, sample: SampleConfig, stereo: StereotypeConfig) -> str:
    threshold = get_dataset(dataset).resolve_like_threshold(sample.like_threshold, sample.like_comparison)
    blob = json.dumps(
        {
            "format": CACHE_FORMAT,
            "dataset": dataset,
            "files": sorted(source_hashes.values()),
            "sample": sample.to_dict(),
            # the threshold a None stands for (a data set's default may change: BookCrossing's did)
            "like_threshold": threshold,
            "stereotype": asdict(stereo),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def source_files(dataset: str, data_dir: Path) -> dict[str, str]:
    """SHA-256 of every data file of ``dataset`` under ``data_dir`` (the cache key's
    part that changes when the data does); empty when the data set is absent."""
    spec = get_dataset(dataset)
    if spec.generated:
        return {"generator": f"{spec.name} version {resolve(spec.generated)}"}
    try:
        folder = resolve(spec.files)(data_dir)[0].parent  # where the load reads (one copy's folder)
    except DataError:
        return {}  # the load says what is missing
    found = (find_file(folder, name) for name in resolve(spec.data_files))
    return {path.name: sha256_file(path) for path in found if path is not None}


def prepare(
    dataset: str,
    data_dir: Path,
    sample: SampleConfig = DEFAULT_SAMPLE,
    stereo: StereotypeConfig = DEFAULT_STEREOTYPE,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    log=lambda message: None,
) -> Prepared:
    """Load, sample, split and measure ``dataset``; read the cache when it holds this configuration.

    cache_dir: where prepared data is kept (default ``paths.default_prepared_dir()``).
    use_cache=False computes everything and neither reads nor writes the cache.
    """
    spec = get_dataset(dataset)
    spec.check_like_threshold(sample.like_threshold, sample.like_comparison)  # before any loading
    hashes = source_files(dataset, data_dir)
    key = cache_key(dataset, hashes, sample, stereo)
    folder = Path(cache_dir or default_prepared_dir()) / f"{dataset}-{key}" if use_cache else None
    if folder is not None and (folder / "meta.json").is_file():
        started = time.perf_counter()
        prepared = _read_cache(folder)
        prepared = replace(prepared, cache_folder=folder)
        log(f"read prepared {dataset} from cache {folder} in {time.perf_counter() - started:.2f} s")
        return prepared
    prepared = _build(spec, data_dir, sample, stereo, key, folder, log)
    if folder is not None:
        _write_cache(folder, prepared)
        log(f"cached prepared {dataset} in {folder}")
    return prepared


def _build(
    spec, data_dir: Path, sample: SampleConfig, stereo: StereotypeConfig, key: str, folder: Path | None, log
) -> Prepared:
    """Load, sample, split and measure the data set of ``spec`` (``prepare`` without its cache)."""
    timings = {}
    started = time.perf_counter()
    table: RatingsTable = resolve(spec.load)(data_dir)
    timings["load_s"] = time.perf_counter() - started
    log(
        f"loaded {spec.name}: {len(table.interactions):,} ratings, {len(table.users):,} users, "
        f"{len(table.items):,} items in {timings['load_s']:.2f} s"
    )
    started = time.perf_counter()
    threshold = spec.resolve_like_threshold(sample.like_threshold, sample.like_comparison)
    samples = build_samples(table, sample, threshold, spec.time_order)
    timings["sample_s"] = time.perf_counter() - started
    started = time.perf_counter()
    measurement = measure(samples, stereo)
    timings["measure_s"] = time.perf_counter() - started
    report = {
        "load": table.report.to_dict(),
        "dataset": dataset_facts(table),
        "cache_key": key,
        "sample_config": sample.to_dict(),
        "stereotype_config": asdict(stereo),
    }
    return Prepared(samples, measurement, report, timings, from_cache=False, cache_folder=folder)


def dataset_facts(table: RatingsTable) -> dict:
    """The paper's Table 3 columns for the whole data set (users, items, interactions, group sizes)."""
    users_with_ratings = table.users[table.users["user_id"].isin(table.interactions["user_id"].unique())]
    return {
        "users": int(table.interactions["user_id"].nunique()),
        "items": int(table.interactions["item_id"].nunique()),
        "interactions": int(len(table.interactions)),
        "users_per_group": {g: int((users_with_ratings["group"] == g).sum()) for g in table.groups},
        "users_without_group": int(users_with_ratings["group"].isna().sum()),
    }


_ARRAYS = ("user", "user_group", "history", "history_liked", "target", "label", "target_rating", "split")
_MEASURED = tuple(f.name for f in fields(Measurement))


def _write_cache(folder: Path, prepared: Prepared) -> None:
    """Arrays in one .npz, the rest in meta.json, written last: a cache folder
    without meta.json is incomplete and is rebuilt."""
    folder.mkdir(parents=True, exist_ok=True)
    s, m = prepared.samples, prepared.measurement
    arrays = {f"s_{n}": getattr(s, n) for n in _ARRAYS} | {f"m_{n}": getattr(m, n) for n in _MEASURED}
    atomic_write(folder / "arrays.npz", lambda path: np.savez(path, **arrays))
    meta = {
        "dataset": s.dataset,
        "groups": list(s.groups),
        "user_ids": [str(u) for u in s.user_ids],
        "titles": [str(t) for t in s.titles],
        "like_threshold": s.like_threshold,
        "like_comparison": s.like_comparison,
        "notes": s.notes,
        "report": prepared.report,
        "timings": prepared.timings,
    }
    atomic_write(folder / "meta.json", lambda path: Path(path).write_text(json.dumps(meta)))


def _read_cache(folder: Path) -> Prepared:
    meta = json.loads((folder / "meta.json").read_text())
    with np.load(folder / "arrays.npz") as arrays:
        samples = Samples(
            dataset=meta["dataset"],
            groups=tuple(meta["groups"]),
            user_ids=np.array(meta["user_ids"], dtype=object),
            titles=np.array(meta["titles"], dtype=object),
            like_threshold=meta["like_threshold"],
            like_comparison=meta["like_comparison"],
            notes=meta["notes"],
            **{n: arrays[f"s_{n}"] for n in _ARRAYS},
        )
        measurement = Measurement(**{n: arrays[f"m_{n}"] for n in _MEASURED})
    return Prepared(samples, measurement, meta["report"], meta["timings"], from_cache=True)
