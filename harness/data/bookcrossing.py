"""Book-Crossing (Ziegler et al. 2005): book ratings, titles and user ages.

Reads either public layout into the harness's normal form (schema.RatingsTable):

- original BX-CSV-Dump: ``BX-Book-Ratings.csv``, ``BX-Books.csv``, ``BX-Users.csv``;
  ';'-separated, latin-1, fields quoted with '"', ``\\"`` escapes, ``NULL`` ages,
  rating 0 = implicit interaction.
- comp20008 subset (Kaggle lineage): ``BX-Ratings.csv``, ``BX-Books.csv``,
  ``BX-Users.csv``; ','-separated, UTF-8, Location split into city/state/country,
  with stray '"' characters.

Groups follow the paper (§4.1.1): teen = age < 18, adult = age >= 18. There are
no timestamps, so ``timestamp`` is NaN throughout.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from harness.data.paths import dataset_dir
from harness.files import atomic_copy, atomic_write_bytes, find_file, read_text, sha256_file
from harness.data.schema import DataError, LoadReport, RatingsTable

NAME = "bookcrossing"
GROUPS = ("adult", "teen")  # paper Table 3 order: G1, G2
ADULT_AGE = 18  # paper §4.1.1: teen < 18 <= adult
MIN_PLAUSIBLE_AGE = 5  # self-reported ages outside [5, 100] (0, 244, ...) are typos or jokes
MAX_PLAUSIBLE_AGE = 100
MAX_EXAMPLES = 5  # malformed rows quoted per file in the report
MISSING_AGE = ("", "NULL")

# Reasons an interaction is left out, checked in this order; each row counts under the first.
DROP_IMPLICIT = "implicit rating 0"
DROP_DUPLICATE = "duplicate (user, ISBN), first kept"
DROP_NO_TITLE = "ISBN has no title in books file"
DROP_NO_USER = "user not in users file"


@dataclass(frozen=True)
class Layout:
    name: str
    files: tuple[str, str, str]  # ratings, books, users
    widths: tuple[int, int, int]  # fields per row of each file
    encoding: str
    delimiter: str
    escapechar: str | None  # the original dump escapes '"' as \" instead of doubling it

    def reader(self, text: str):
        """A csv reader over ``text`` in this layout's dialect."""
        return csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, quotechar='"',
                          escapechar=self.escapechar, doublequote=self.escapechar is None)


ORIGINAL = Layout("bx-csv-dump", ("BX-Book-Ratings.csv", "BX-Books.csv", "BX-Users.csv"),
                  (3, 8, 3), "latin-1", ";", "\\")
COMP20008 = Layout("comp20008", ("BX-Ratings.csv", "BX-Books.csv", "BX-Users.csv"),
                   (3, 5, 5), "utf-8-sig", ",", None)
LAYOUTS = {layout.name: layout for layout in (ORIGINAL, COMP20008)}
# Any of these marks a folder as holding the data set, so an incomplete folder
# gets an error naming what is missing rather than a search one level down.
MARKERS = ("BX-Book-Ratings.csv", "BX-Ratings.csv", "BX-Books.csv", "BX-Users.csv")

WHERE_TO_GET = (
    "Accepted layouts (each file may also be gzipped, *.gz):\n"
    "  original BX-CSV-Dump: BX-Book-Ratings.csv, BX-Books.csv, BX-Users.csv (';'-separated, latin-1)\n"
    "  comp20008 subset:     BX-Ratings.csv, BX-Books.csv, BX-Users.csv (','-separated, UTF-8)\n"
    "Get the original dump, \"Book-Crossing Dataset\" (BX-CSV-Dump.zip), from Cai-Nicolas Ziegler's "
    "BookCrossing page (http://www2.informatik.uni-freiburg.de/~cziegler/BX/), or the Kaggle subset "
    "\"Book-Crossing: User review ratings\"; unzip it and pass --data-dir DIR (the folder holding the "
    "files, or one holding bookcrossing/)."
)


def detect_layout(folder: Path) -> tuple[Layout, list[Path]]:
    """The layout whose three files ``folder`` holds, and their paths (ratings, books, users)."""
    names = sorted({name for layout in LAYOUTS.values() for name in layout.files})
    found = {name: find_file(folder, name) for name in names}
    present = [layout for layout in LAYOUTS.values() if found[layout.files[0]]]
    if len(present) > 1:
        raise DataError(f"{folder} holds ratings files of both layouts "
                        f"({ORIGINAL.files[0]} and {COMP20008.files[0]}); keep one.\n{WHERE_TO_GET}")
    if not present:
        seen = [p.name for p in found.values() if p]
        others = [name for name in ("BX-Books.csv", "BX-Users.csv") if not found[name]]
        what = (f"found only {', '.join(seen)}; missing {ORIGINAL.files[0]} (original) or "
                f"{COMP20008.files[0]} (comp20008)" + "".join(f", and {name}" for name in others)
                if seen else "no BookCrossing files")
        raise DataError(f"BookCrossing data not found in {folder}: {what} "
                        f"(looked for {', '.join(names)}, each plain or .gz).\n{WHERE_TO_GET}")
    layout = present[0]
    missing = [name for name in layout.files if not found[name]]
    if missing:
        raise DataError(f"BookCrossing data in {folder} is incomplete for the {layout.name} layout: "
                        f"missing {', '.join(missing)} (plain or .gz).\n{WHERE_TO_GET}")
    return layout, [found[name] for name in layout.files]


def _note_malformed(report: LoadReport, file: str, count: int, examples: list[str]) -> None:
    report.malformed[file] = report.malformed.get(file, 0) + count
    kept = report.malformed_examples.setdefault(file, [])
    kept.extend(example[:250] for example in examples[:MAX_EXAMPLES - len(kept)])


def _read_rows(path: Path, layout: Layout, width: int, report: LoadReport,
               columns: tuple[int, ...] | None = None) -> pd.DataFrame:
    """Rows with exactly ``width`` fields as string columns (numbered, all or ``columns``),
    plus ``line`` (where each row starts); any other row is counted as malformed."""
    text = read_text(path, layout.encoding)
    reader = layout.reader(text)
    header = next(reader, [])
    if len(header) != width:
        raise DataError(f"{path}: header has {len(header)} fields {header!r}, but the {layout.name} "
                        f"layout expects {width}; is this the right file for that layout?")
    first = reader.line_num + 1
    try:
        rows = list(reader)  # the csv module's C loop: a Python loop per row would double the time
    except csv.Error as err:
        raise DataError(f"{path}, line {reader.line_num}: cannot parse as {layout.name}: {err}") from err
    if reader.line_num - first + 1 == len(rows):
        starts = np.arange(first, first + len(rows))
    else:  # line breaks inside quotes (legal): parse again, tracking where each row starts
        starts = _row_starts(layout.reader(text))
        spanning = int((np.diff(np.append(starts, reader.line_num + 1)) > 1).sum())
        report.notes.append(f"{path.name}: {spanning} row(s) span several lines (line break inside quotes)")
    sizes = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    for i in np.flatnonzero((sizes != width) & (sizes > 0)):  # blank lines hold no data
        example = f"line {starts[i]}: {sizes[i]} fields, expected {width}: {layout.delimiter.join(rows[i])}"
        _note_malformed(report, path.name, 1, [example])
    good = np.flatnonzero(sizes == width)
    rows = rows if len(good) == len(rows) else [rows[i] for i in good]
    columns = range(width) if columns is None else columns
    frame = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=str) for c in columns})
    frame["line"] = starts[good]
    return frame


def _row_starts(reader) -> np.ndarray:
    """The line on which each row after the header starts."""
    next(reader, None)
    starts, last = [], reader.line_num
    for _ in reader:
        starts.append(last + 1)
        last = reader.line_num
    return np.asarray(starts, dtype=np.int64)


def _count_bad(frame: pd.DataFrame, bad: pd.Series, why: Callable[[pd.Series], str],
               file: str, report: LoadReport, delimiter: str) -> None:
    """Count the rows of ``frame`` where ``bad`` as malformed, quoting the first few."""
    if bad.any():
        examples = [f"line {row['line']}: {why(row)}: {delimiter.join(row.drop('line').astype(str))}"
                    for _, row in frame[bad].head(MAX_EXAMPLES).iterrows()]
        _note_malformed(report, file, int(bad.sum()), examples)


def parse_ratings(path: Path, layout: Layout, report: LoadReport) -> pd.DataFrame:
    """Ratings in file order: ``user_id``, ``item_id`` (ISBN, as written), ``rating`` (float)."""
    frame = _read_rows(path, layout, layout.widths[0], report)
    rating = pd.to_numeric(frame[2], errors="coerce")
    bad_user = ~frame[0].str.fullmatch(r"\d+")
    _count_bad(frame, bad_user, lambda r: f"user id {r[0]!r} is not a number", path.name, report,
               layout.delimiter)
    frame, rating = frame[~bad_user], rating[~bad_user]
    bad_rating = ~(rating.between(0, 10) & (rating % 1 == 0))
    _count_bad(frame, bad_rating, lambda r: f"rating {r[2]!r} is not an integer 0-10", path.name, report,
               layout.delimiter)
    frame, rating = frame[~bad_rating], rating[~bad_rating]
    return pd.DataFrame({"user_id": frame[0].to_numpy(), "item_id": frame[1].to_numpy(),
                         "rating": rating.to_numpy(dtype=np.float64)})


def parse_books(path: Path, layout: Layout, report: LoadReport) -> pd.DataFrame:
    """Books with a title: ``item_id`` (ISBN), ``title`` with HTML entities (``&amp;``) decoded."""
    frame = _read_rows(path, layout, layout.widths[1], report, columns=(0, 1))  # ISBN, title
    titles = [html.unescape(t).strip() if "&" in t else t.strip() for t in frame[1]]
    books = pd.DataFrame({"item_id": frame[0].to_numpy(), "title": pd.Series(titles, dtype=str).to_numpy()})
    untitled = books["title"] == ""
    duplicate = books["item_id"].duplicated()
    if untitled.any() or duplicate.any():
        report.notes.append(f"{path.name}: left out {int(untitled.sum())} book(s) with an empty title "
                            f"and {int(duplicate.sum())} repeated ISBN row(s) (first kept)")
    return books[~untitled & ~duplicate].reset_index(drop=True)


def parse_users(path: Path, layout: Layout | str,
                report: LoadReport | None = None) -> tuple[pd.DataFrame, LoadReport]:
    """Users: ``user_id``, ``group`` (GROUPS or <NA>), ``age`` (float, NaN when unknown),
    ``country`` (stray quotes removed); and the report with malformed rows and
    ``users_without_group`` filled in. A user whose age cannot be parsed is kept, ungrouped."""
    layout = LAYOUTS[layout] if isinstance(layout, str) else layout
    report = report if report is not None else LoadReport(layout=layout.name)
    frame = _read_rows(path, layout, layout.widths[2], report)
    bad_user = ~frame[0].str.fullmatch(r"\d+")
    _count_bad(frame, bad_user, lambda r: f"user id {r[0]!r} is not a number", path.name, report,
               layout.delimiter)
    frame = frame[~bad_user]
    duplicate = frame[0].duplicated()
    if duplicate.any():
        report.notes.append(f"{path.name}: {int(duplicate.sum())} repeated user id row(s), first kept")
        frame = frame[~duplicate]
    last = layout.widths[2] - 1  # Age is the last field in both layouts
    raw_age = frame[last].str.replace('"', "", regex=False).str.strip()
    missing = raw_age.isin(MISSING_AGE)
    age = pd.to_numeric(raw_age.where(~missing), errors="coerce")
    unparseable = age.isna() & ~missing
    # Counted, but kept: the user and their ratings are real, only the age is unknown.
    _count_bad(frame, unparseable, lambda r: f"age {r[last]!r} is not a number", path.name, report,
               layout.delimiter)
    # The field before Age: Location (country is its last part) or the subset's User-Country.
    location = frame[last - 1]
    country = location.str.rsplit(",", n=1).str[-1].str.replace(r'["\\]', "", regex=True).str.strip()
    users = pd.DataFrame({"user_id": frame[0].to_numpy(), "age": age.to_numpy(dtype=np.float64),
                          "country": country.to_numpy()})
    users.insert(1, "group", _assign_groups(users["age"], unparseable.to_numpy(), report))
    return users, report


def _assign_groups(age: pd.Series, unparseable: np.ndarray, report: LoadReport) -> pd.Series:
    """Paper §4.1.1 groups by age; implausible or unknown ages get <NA>, counted per reason."""
    reasons = {
        "missing age": age.isna().to_numpy() & ~unparseable,
        "unparseable age": unparseable,
        f"age < {MIN_PLAUSIBLE_AGE}": (age < MIN_PLAUSIBLE_AGE).to_numpy(),
        f"age > {MAX_PLAUSIBLE_AGE}": (age > MAX_PLAUSIBLE_AGE).to_numpy(),
    }
    for reason, mask in reasons.items():
        report.users_without_group[reason] = report.users_without_group.get(reason, 0) + int(mask.sum())
    plausible = age.between(MIN_PLAUSIBLE_AGE, MAX_PLAUSIBLE_AGE).to_numpy()
    group = np.where(age.to_numpy() >= ADULT_AGE, GROUPS[0], GROUPS[1]).astype(object)
    group[~plausible] = None
    return pd.Series(group, index=age.index, dtype="string")


def _keep_ratings(ratings: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame,
                  keep_implicit: bool, report: LoadReport) -> pd.DataFrame:
    """The ratings that can become prompts; every other row is counted under its first reason."""
    keep = pd.Series(True, index=ratings.index)

    def drop(reason: str, mask: pd.Series) -> None:
        report.dropped[reason] = int((keep & mask).sum())
        keep.loc[mask] = False

    drop(DROP_IMPLICIT, (ratings["rating"] == 0) & (not keep_implicit))
    duplicate = ratings.loc[keep, ["user_id", "item_id"]].duplicated()
    drop(DROP_DUPLICATE, duplicate.reindex(ratings.index, fill_value=False))
    # Index lookups: Series.isin on pyarrow strings walks the values in Python (pandas 3.1).
    drop(DROP_NO_TITLE, pd.Series(pd.Index(items["item_id"]).get_indexer(ratings["item_id"]) < 0, ratings.index))
    drop(DROP_NO_USER, pd.Series(pd.Index(users["user_id"]).get_indexer(ratings["user_id"]) < 0, ratings.index))
    kept = ratings[keep].reset_index(drop=True)
    kept["timestamp"] = np.full(len(kept), np.nan)
    return kept


def load(data_dir: Path, keep_implicit: bool = False) -> RatingsTable:
    """Book-Crossing from ``data_dir`` (its own folder, or one holding ``bookcrossing/``).

    Implicit interactions (rating 0) are dropped unless ``keep_implicit``.
    """
    folder = dataset_dir(Path(data_dir), NAME, MARKERS)
    layout, paths = detect_layout(folder)
    report = LoadReport(layout=layout.name)
    report.notes.append(f"{layout.name} layout in {folder} ({layout.encoding}, {layout.delimiter!r}-separated)")
    report.files = {str(path): sha256_file(path) for path in paths}
    ratings = parse_ratings(paths[0], layout, report)
    items = parse_books(paths[1], layout, report)
    users, _ = parse_users(paths[2], layout, report)
    interactions = _keep_ratings(ratings, items, users, keep_implicit, report)
    report.notes.append(f"{len(ratings)} rating rows read, {len(interactions)} kept")
    return RatingsTable(name=NAME, interactions=interactions, users=users[["user_id", "group", "age"]],
                        items=items, groups=GROUPS, report=report)


def fetch(data_dir: Path, source: Path | None, log: Callable[[str], object] = print, force: bool = False) -> Path:
    """Copy a complete layout from ``source`` into ``data_dir/bookcrossing/`` and
    write ``MANIFEST.json`` last, so a folder with a manifest is a complete copy.
    ``force`` is accepted for a uniform interface: a copy is always made afresh."""
    if source is None:
        raise DataError(f"BookCrossing cannot be downloaded automatically (no stable, checksummed source); "
                        f"pass --source DIR.\n{WHERE_TO_GET}")
    origin = dataset_dir(Path(source), NAME, MARKERS)
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
    manifest = {"dataset": NAME, "layout": layout.name, "origin": str(origin.resolve()), "files": checksums,
                "fetched_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_bytes(target / "MANIFEST.json", json.dumps(manifest, indent=2).encode())
    log(f"{NAME} ({layout.name}) ready in {target}")
    return target
