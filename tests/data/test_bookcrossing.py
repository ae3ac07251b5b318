"""Book-Crossing loader: both layouts, on real data where it exists and on a
small hand-made original-layout fixture where it does not."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import pytest

from harness.data import bookcrossing as bx
from harness.data.bookcrossing_fetch import fetch as bx_fetch
from harness.data.bookcrossing_files import ORIGINAL
from harness.data.schema import DataError

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "bookcrossing"
SUBSET = REAL / "comp20008-subset"
ORIGINAL_USERS = REAL / "original-users" / "BX-Users.csv.gz"

needs_subset = pytest.mark.skipif(not SUBSET.is_dir(), reason=f"real comp20008 subset not found at {SUBSET}")
needs_original_users = pytest.mark.skipif(
    not ORIGINAL_USERS.is_file(), reason=f"real original BX-Users.csv.gz not found at {ORIGINAL_USERS}"
)


@pytest.fixture(scope="module")
def subset():
    if not SUBSET.is_dir():
        pytest.skip(f"real comp20008 subset not found at {SUBSET}")
    return bx.load(SUBSET)


# --- real comp20008 subset ------------------------------------------------------------


@needs_subset
def test_subset_counts(subset):
    report = subset.report
    assert report.layout == "comp20008"
    assert len(report.files) == 3 and all(len(sha) == 64 for sha in report.files.values())
    assert report.malformed == {}
    # 204,164 explicit ratings (1-10, no zeros); every rated ISBN has a title and
    # every rater is in the users file, so all survive.
    assert len(subset.interactions) == 204_164
    assert set(report.dropped.values()) == {0}
    assert subset.interactions["rating"].between(1, 10).all()
    # The data README says 18,184 books and 48,298 users: that is `wc -l` minus the
    # header, but both files lack a final newline, so each holds one row more.
    assert len(subset.items) == 18_185
    assert len(subset.users) == 48_299
    assert subset.users["age"].notna().sum() == 29_347
    assert subset.users["group"].value_counts().to_dict() == {"adult": 27_502, "teen": 1_664}
    assert report.users_without_group == {"missing age": 18_952, "unparseable age": 0, "age < 5": 129, "age > 100": 52}


@needs_subset
def test_subset_normal_form(subset):
    inter = subset.interactions
    assert list(inter.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert inter["rating"].dtype == "float64" and inter["timestamp"].isna().all()
    assert inter.iloc[0].tolist()[:3] == ["276744", "038550120X", 7.0]  # first line of BX-Ratings.csv
    assert list(subset.users.columns) == ["user_id", "group", "age"]
    assert subset.users["age"].min() == 0 and subset.users["age"].max() == 244  # outliers kept, ungrouped
    assert subset.groups == ("adult", "teen")


@needs_subset
def test_subset_stray_quotes_stripped():
    users, _ = bx.parse_users(SUBSET / "BX-Users.csv", "comp20008")
    assert not users["country"].str.contains('"').any()
    by_id = users.set_index("user_id")
    assert by_id.loc["8", "country"] == "canada"  # raw: " canada"""
    assert by_id.loc["19", "age"] == 14.0  # raw: "14"""


# --- real original users table ------------------------------------------------------------


@needs_original_users
def test_original_users_file():
    users, report = bx.parse_users(ORIGINAL_USERS, "bx-csv-dump")
    assert len(users) == 278_858
    assert users["age"].notna().sum() == 168_096
    assert report.malformed == {}
    assert report.users_without_group == {
        "missing age": 110_762,
        "unparseable age": 0,
        "age < 5": 882,
        "age > 100": 366,
    }
    assert users["group"].value_counts().to_dict() == {"adult": 155_420, "teen": 11_428}
    # User 275081's Location holds a bare line break inside its quotes.
    assert any("span several lines" in note for note in report.notes)
    assert users.set_index("user_id").loc["275081", "country"] == "italy"


@needs_original_users
@needs_subset
def test_original_and_subset_ages_agree():
    original, _ = bx.parse_users(ORIGINAL_USERS, "bx-csv-dump")
    subset_users, _ = bx.parse_users(SUBSET / "BX-Users.csv", "comp20008")
    both = subset_users.merge(original, on="user_id", how="left", suffixes=("_subset", "_original"))
    assert len(both) == 48_299 and both["age_original"].notna().sum() == 29_347
    both_missing = both["age_subset"].isna() & both["age_original"].isna()
    assert ((both["age_subset"] == both["age_original"]) | both_missing).all()
    assert (both["country_subset"] == both["country_original"]).all()


# --- original layout, hand-made fixture -------------------------------------------------
# Only the original users table is real here, so these files are a hand-written
# fixture carrying the dump's known quirks: \" escapes, a title with \"; that
# swallows the author (7 fields), an extra ";" field (9), HTML entities, rating 0,
# NULL / 0 / 244 ages, CRLF line ends and latin-1 characters.

RATINGS = [
    '"User-ID";"ISBN";"Book-Rating"',
    '"1";"0000000001";"5"',  # kept
    '"2";"0000000001";"0"',  # implicit
    '"2";"0000000002";"8"',  # kept
    '"3";"0000000004";"9"',  # kept: user 3 has no age, but the rating stands
    '"2";"0000000002";"3"',  # duplicate (user 2, ISBN 2)
    '"9";"0000000001";"7"',  # user 9 not in the users file
    '"1";"0000000003";"6"',  # ISBN 3's books line is malformed: no title
    '"1";"0000000099";"6"',  # ISBN 99 not in the books file
    '"x1";"0000000001";"4"',  # malformed: user id
    '"1";"0000000004";"ten"',  # malformed: rating
    '"1";"0000000004"',  # malformed: 2 fields
]
URLS = '"http://s.jpg";"http://m.jpg";"http://l.jpg"'
BOOKS = [
    '"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"',
    f'"0000000001";"Crème Brûlée &amp; Other Desserts";"Anne Écrivain";"1999";"Pub";{URLS}',
    f'"0000000002";"The \\"Real\\" Story";"B. Author";"2001";"Pub";{URLS}',
    f'"0000000003";"DK Readers: X-Men (Level 4)\\";"Michael Teitelbaum";"2000";"DK Publishing Inc";{URLS}',
    f'"0000000004";"Plain Title";"C. Author";"2002";"Pub";{URLS}',
    f'"0000000005";"Title";"Extra";"D. Author";"2003";"Pub";{URLS}',
]
USERS = [
    '"User-ID";"Location";"Age"',
    '"1";"nyc, new york, usa";"34"',
    '"2";"zürich, \\"n/a\\", switzerland";"15"',
    '"3";"stockton, california, usa";NULL',
    '"4";"a, b, usa";"0"',
    '"5";"a, b, usa";"244"',
    '"6";"a, b, usa";"17"',
    '"7";"a, b, usa";"18"',
    '"8";"a, b, usa";"abc"',
]


def _write(path: Path, lines: list[str]) -> None:
    data = ("\r\n".join(lines) + "\r\n").encode("latin-1")
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@pytest.fixture
def original_dir(tmp_path) -> Path:
    folder = tmp_path / "bx"
    folder.mkdir()
    _write(folder / "BX-Book-Ratings.csv", RATINGS)
    _write(folder / "BX-Books.csv", BOOKS)
    _write(folder / "BX-Users.csv.gz", USERS)  # gzipped, as one may keep it
    return folder


def test_original_layout_report(original_dir):
    table = bx.load(original_dir)
    report = table.report
    assert report.layout == "bx-csv-dump"
    assert report.malformed == {"BX-Book-Ratings.csv": 3, "BX-Books.csv": 2, "BX-Users.csv.gz": 1}
    assert report.malformed_examples["BX-Book-Ratings.csv"] == [
        "line 12: 2 fields, expected 3: 1;0000000004",
        "line 10: user id 'x1' is not a number: x1;0000000001;4",
        "line 11: rating 'ten' is not an integer 0-10: 1;0000000004;ten",
    ]
    assert report.malformed_examples["BX-Books.csv"][0].startswith("line 4: 7 fields, expected 8: 0000000003;")
    assert report.malformed_examples["BX-Books.csv"][1].startswith("line 6: 9 fields, expected 8:")
    assert report.malformed_examples["BX-Users.csv.gz"] == ["line 9: age 'abc' is not a number: 8;a, b, usa;abc"]
    assert report.dropped == {bx.DROP_IMPLICIT: 1, bx.DROP_DUPLICATE: 1, bx.DROP_NO_TITLE: 2, bx.DROP_NO_USER: 1}
    assert report.users_without_group == {"missing age": 1, "unparseable age": 1, "age < 5": 1, "age > 100": 1}
    assert set(report.files) == {
        str(original_dir / n) for n in ("BX-Book-Ratings.csv", "BX-Books.csv", "BX-Users.csv.gz")
    }


def test_original_layout_values(original_dir):
    table = bx.load(original_dir)
    inter = table.interactions
    assert inter[["user_id", "item_id", "rating"]].values.tolist() == [
        ["1", "0000000001", 5.0],
        ["2", "0000000002", 8.0],
        ["3", "0000000004", 9.0],
    ]
    assert inter["timestamp"].isna().all() and inter["timestamp"].dtype == "float64"
    titles = dict(zip(table.items["item_id"], table.items["title"], strict=True))
    assert titles == {
        "0000000001": "Crème Brûlée & Other Desserts",
        "0000000002": 'The "Real" Story',
        "0000000004": "Plain Title",
    }
    users = table.users.set_index("user_id")
    grouped = users["group"].dropna().to_dict()
    assert grouped == {"1": "adult", "2": "teen", "6": "teen", "7": "adult"}  # 17 is teen, 18 adult
    assert users.index[users["group"].isna()].tolist() == ["3", "4", "5", "8"]  # NULL, 0, 244, "abc"
    assert users["group"].dtype == "string"  # missing shows as <NA>
    assert users.loc["5", "age"] == 244.0
    assert math.isnan(users.loc["3", "age"]) and math.isnan(users.loc["8", "age"])


def test_original_layout_keep_implicit(original_dir):
    table = bx.load(original_dir, keep_implicit=True)
    assert table.report.dropped[bx.DROP_IMPLICIT] == 0
    assert table.interactions["rating"].tolist() == [5.0, 0.0, 8.0, 9.0]


def test_original_users_countries(original_dir):
    users, _ = bx.parse_users(original_dir / "BX-Users.csv.gz", ORIGINAL)
    assert users["country"].tolist()[:2] == ["usa", "switzerland"]


# --- fetch and missing data -----------------------------------------------------------------


def test_fetch_then_load_from_cache_root(original_dir, tmp_path):
    cache = tmp_path / "cache"
    logged = []
    target = bx_fetch(cache, original_dir, log=logged.append)
    assert target == cache / "bookcrossing"
    manifest = json.loads((target / "MANIFEST.json").read_text())
    assert manifest["layout"] == "bx-csv-dump" and manifest["origin"] == str(original_dir.resolve())
    assert set(manifest["files"]) == {"BX-Book-Ratings.csv", "BX-Books.csv", "BX-Users.csv.gz"}
    for name, sha in manifest["files"].items():
        assert (original_dir / name).read_bytes() == (target / name).read_bytes() and len(sha) == 64
    assert len(bx.load(cache).interactions) == 3  # the cache root
    assert len(bx.load(target).interactions) == 3  # the data set's own folder
    assert logged


def test_refetch_replaces_stale_copies(original_dir, tmp_path):
    target = tmp_path / "cache" / "bookcrossing"
    target.mkdir(parents=True)
    _write(target / "BX-Users.csv", USERS[:2])  # a plain copy would shadow the new .gz
    _write(target / "BX-Ratings.csv", RATINGS[:1])  # the other layout's ratings: ambiguous
    bx_fetch(tmp_path / "cache", original_dir, log=lambda _: None)
    assert not (target / "BX-Users.csv").exists() and not (target / "BX-Ratings.csv").exists()
    assert len(bx.load(target).users) == 8


def test_both_layouts_in_one_folder_is_an_error(original_dir):
    _write(original_dir / "BX-Ratings.csv", ["User-ID,ISBN,Book-Rating"])
    with pytest.raises(DataError, match="both layouts"):
        bx.load(original_dir)


def test_missing_data_set_error_names_both_layouts(tmp_path):
    with pytest.raises(DataError) as err:
        bx.load(tmp_path)
    message = str(err.value)
    for needed in (
        "BX-Book-Ratings.csv",
        "BX-Ratings.csv",
        "BX-Books.csv",
        "BX-Users.csv",
        str(tmp_path),
        "Ziegler",
        "Book-Crossing Dataset",
        "Kaggle",
        "--data-dir",
    ):
        assert needed in message


def test_users_only_folder_is_incomplete(tmp_path):
    _write(tmp_path / "BX-Users.csv.gz", USERS)
    expected = (
        "found only BX-Users.csv.gz; missing BX-Book-Ratings.csv (original) or BX-Ratings.csv "
        "(comp20008), and BX-Books.csv"
    )
    with pytest.raises(DataError, match=re.escape(expected)):
        bx.load(tmp_path)
    with pytest.raises(DataError):
        bx_fetch(tmp_path / "cache", tmp_path, log=lambda _: None)
    assert not (tmp_path / "cache").exists()


@needs_original_users
def test_real_users_only_folder_is_incomplete():
    with pytest.raises(DataError, match=r"missing BX-Book-Ratings.csv .* and BX-Books.csv"):
        bx.load(ORIGINAL_USERS.parent)


def test_half_a_layout_names_missing_files(original_dir):
    (original_dir / "BX-Books.csv").unlink()
    with pytest.raises(DataError, match="incomplete for the bx-csv-dump layout: missing BX-Books.csv"):
        bx.load(original_dir)


# --- where users keep it: a data folder holding bookcrossing/<one layout's folder>/ (issue 34) --------


def _copy_in(data_dir: Path, folder: str, source: Path) -> Path:
    copy = data_dir / "bookcrossing" / folder
    copy.mkdir(parents=True)
    for path in source.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def test_a_data_folder_holding_one_layouts_folder_finds_it(original_dir, tmp_path):
    data_dir = tmp_path / "data"
    copy = _copy_in(data_dir, "original-dump", original_dir)
    users_only = data_dir / "bookcrossing" / "original-users"  # users alone: not a copy (as ../shared/data has)
    users_only.mkdir()
    _write(users_only / "BX-Users.csv.gz", USERS)
    assert len(bx.load(data_dir).interactions) == 3
    assert bx.files(data_dir) == [copy / "BX-Book-Ratings.csv", copy / "BX-Books.csv", copy / "BX-Users.csv.gz"]
    assert len(bx.load(data_dir / "bookcrossing").interactions) == 3  # the data set's own folder, too


def test_several_layouts_folders_are_listed_with_how_to_pick_one(original_dir, tmp_path):
    data_dir = tmp_path / "data"
    first = _copy_in(data_dir, "a-dump", original_dir)
    second = data_dir / "bookcrossing" / "b-subset"
    second.mkdir()
    _write(second / "BX-Ratings.csv", ["User-ID,ISBN,Book-Rating"])
    with pytest.raises(DataError) as err:
        bx.load(data_dir)
    message = str(err.value)
    assert f"{first} (holds BX-Book-Ratings.csv)" in message and f"{second} (holds BX-Ratings.csv)" in message
    assert f"--data-dir {first}" in message and "HARNESS_DATA_DIR" in message
    assert len(bx.load(first).interactions) == 3  # picking one works


@needs_subset
def test_describe_finds_the_shared_copy_from_the_project_root(tmp_path):
    """``HARNESS_DATA_DIR=../shared/data python -m harness.data describe bookcrossing``, as issue 34 runs it:
    a relative data folder whose bookcrossing/ holds comp20008-subset/ and a users-only folder."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "HARNESS_DATA_DIR": "../shared/data", "HARNESS_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "harness.data", "describe", "bookcrossing", "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"comp20008 layout in {SUBSET}" in done.stdout, done.stdout[-2000:]
