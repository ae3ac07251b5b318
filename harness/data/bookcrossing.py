"""Book-Crossing (Ziegler et al. 2005): book ratings, titles and user ages.

Reads either public layout into the harness's normal form (schema.RatingsTable):

- original BX-CSV-Dump: ``BX-Book-Ratings.csv``, ``BX-Books.csv``, ``BX-Users.csv``;
  ';'-separated, latin-1, fields quoted with '"', ``\\"`` escapes, ``NULL`` ages,
  rating 0 = implicit interaction.
- comp20008 subset (Kaggle lineage): ``BX-Ratings.csv``, ``BX-Books.csv``,
  ``BX-Users.csv``; ','-separated, UTF-8, Location split into city/state/country,
  with stray '"' characters.

Groups follow the paper (§4.1.1): teen = age < 18, adult = age >= 18. There are
no timestamps, so ``timestamp`` is NaN throughout. The layouts and how their rows are read:
``harness.data.bookcrossing_files``; copying a layout into the data folder:
``harness.data.bookcrossing_fetch``.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from harness.data.bookcrossing_files import (
    LAYOUTS,
    MARKERS,
    RATINGS,
    Layout,
    count_bad,
    detect_layout,
    read_rows,
)
from harness.data.paths import dataset_dir
from harness.data.schema import LoadReport, RatingsTable
from harness.files import sha256_file

NAME = "bookcrossing"
GROUPS = ("adult", "teen")  # paper Table 3 order: G1, G2
ADULT_AGE = 18  # paper §4.1.1: teen < 18 <= adult
MIN_PLAUSIBLE_AGE = 5  # self-reported ages outside [5, 100] (0, 244, ...) are typos or jokes
MAX_PLAUSIBLE_AGE = 100
MISSING_AGE = ("", "NULL")

# Reasons an interaction is left out, checked in this order; each row counts under the first.
DROP_IMPLICIT = "implicit rating 0"
DROP_DUPLICATE = "duplicate (user, ISBN), first kept"
DROP_NO_TITLE = "ISBN has no title in books file"
DROP_NO_USER = "user not in users file"


def parse_ratings(path: Path, layout: Layout, report: LoadReport) -> pd.DataFrame:
    """Ratings in file order: ``user_id``, ``item_id`` (ISBN, as written), ``rating`` (float)."""
    frame = read_rows(path, layout, layout.widths[0], report)
    rating = pd.to_numeric(frame[2], errors="coerce")
    bad_user = ~frame[0].str.fullmatch(r"\d+")
    count_bad(frame, bad_user, lambda r: f"user id {r[0]!r} is not a number", path.name, report, layout.delimiter)
    frame, rating = frame[~bad_user], rating[~bad_user]
    bad_rating = ~(rating.between(0, 10) & (rating % 1 == 0))
    count_bad(
        frame, bad_rating, lambda r: f"rating {r[2]!r} is not an integer 0-10", path.name, report, layout.delimiter
    )
    frame, rating = frame[~bad_rating], rating[~bad_rating]
    return pd.DataFrame(
        {"user_id": frame[0].to_numpy(), "item_id": frame[1].to_numpy(), "rating": rating.to_numpy(dtype=np.float64)}
    )


def parse_books(path: Path, layout: Layout, report: LoadReport) -> pd.DataFrame:
    """Books with a title: ``item_id`` (ISBN), ``title`` with HTML entities (``&amp;``) decoded."""
    frame = read_rows(path, layout, layout.widths[1], report, columns=(0, 1))  # ISBN, title
    titles = [html.unescape(t).strip() if "&" in t else t.strip() for t in frame[1]]
    books = pd.DataFrame({"item_id": frame[0].to_numpy(), "title": pd.Series(titles, dtype=str).to_numpy()})
    untitled = books["title"] == ""
    duplicate = books["item_id"].duplicated()
    if untitled.any() or duplicate.any():
        report.notes.append(
            f"{path.name}: left out {int(untitled.sum())} book(s) with an empty title "
            f"and {int(duplicate.sum())} repeated ISBN row(s) (first kept)"
        )
    return books[~untitled & ~duplicate].reset_index(drop=True)


def parse_users(path: Path, layout: Layout | str, report: LoadReport | None = None) -> tuple[pd.DataFrame, LoadReport]:
    """Users: ``user_id``, ``group`` (GROUPS or <NA>), ``age`` (float, NaN when unknown),
    ``country`` (stray quotes removed); and the report with malformed rows and
    ``users_without_group`` filled in. A user whose age cannot be parsed is kept, ungrouped."""
    layout = LAYOUTS[layout] if isinstance(layout, str) else layout
    report = report if report is not None else LoadReport(layout=layout.name)
    frame = read_rows(path, layout, layout.widths[2], report)
    bad_user = ~frame[0].str.fullmatch(r"\d+")
    count_bad(frame, bad_user, lambda r: f"user id {r[0]!r} is not a number", path.name, report, layout.delimiter)
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
    count_bad(frame, unparseable, lambda r: f"age {r[last]!r} is not a number", path.name, report, layout.delimiter)
    # The field before Age: Location (country is its last part) or the subset's User-Country.
    location = frame[last - 1]
    country = location.str.rsplit(",", n=1).str[-1].str.replace(r'["\\]', "", regex=True).str.strip()
    users = pd.DataFrame(
        {"user_id": frame[0].to_numpy(), "age": age.to_numpy(dtype=np.float64), "country": country.to_numpy()}
    )
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


def _keep_ratings(
    ratings: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame, keep_implicit: bool, report: LoadReport
) -> pd.DataFrame:
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


def files(data_dir: Path) -> list[Path]:
    """The files ``load`` reads (ratings, books, users) from ``data_dir``: its own folder, one
    holding ``bookcrossing/``, or one holding ``bookcrossing/<one layout's folder>/``."""
    return detect_layout(dataset_dir(Path(data_dir), NAME, MARKERS, RATINGS))[1]


def load(data_dir: Path, keep_implicit: bool = False) -> RatingsTable:
    """Book-Crossing from ``data_dir`` (its own folder, one holding ``bookcrossing/``, or one
    holding ``bookcrossing/<one layout's folder>/``).

    Implicit interactions (rating 0) are dropped unless ``keep_implicit``.
    """
    folder = dataset_dir(Path(data_dir), NAME, MARKERS, RATINGS)
    layout, paths = detect_layout(folder)
    report = LoadReport(layout=layout.name)
    report.notes.append(f"{layout.name} layout in {folder} ({layout.encoding}, {layout.delimiter!r}-separated)")
    report.files = {str(path): sha256_file(path) for path in paths}
    ratings = parse_ratings(paths[0], layout, report)
    items = parse_books(paths[1], layout, report)
    users, _ = parse_users(paths[2], layout, report)
    interactions = _keep_ratings(ratings, items, users, keep_implicit, report)
    report.notes.append(f"{len(ratings)} rating rows read, {len(interactions)} kept")
    return RatingsTable(
        name=NAME,
        interactions=interactions,
        users=users[["user_id", "group", "age"]],
        items=items,
        groups=GROUPS,
        report=report,
    )
