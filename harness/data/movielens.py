"""MovieLens-100K (Harper & Konstan 2015): verify and load (fetching it: ``harness.data.movielens_fetch``).

Two layouts hold the same data: GroupLens's original (``u.data``, ``u.user``,
``u.item``) and RecBole's atomic files (``ml-100k.inter/.user/.item``). Whichever is
read, ``load`` checks three content fingerprints, so a table that loads is the real
data set: the SHA-256 of ``user\titem\trating\ttimestamp`` lines (exactly the official
``u.data``), of ``id|age|gender|occupation|zip`` lines (exactly the official
``u.user``) and of ``item_id\ttitle`` lines in the title normal form below.

Title normal form: GroupLens's ``"Title (Year)"``, because titles go into prompts and
the year tells same-named films apart. Atomic titles are rebuilt as
``f"{movie_title} ({release_year})"``; against the official ``u.item`` all 1,682
agree once GroupLens titles are stripped (items 1128, 1201, 1635 end in a space) and
item 267 (GroupLens ``unknown``; RecBole ``unkonwn``, year ``unkonwn``) takes the
GroupLens spelling.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.data.paths import dataset_dir
from harness.data.schema import DataError, LoadReport, RatingsTable
from harness.files import find_file, read_text, sha256_file

NAME = "movielens-100k"
GROUPS = ("male", "female")  # paper Table 3: G1, G2
MARKERS = ("u.data", "ml-100k.inter")
MANIFEST = "MANIFEST.json"
FETCH_HINT = (
    f"run `python -m harness.data fetch {NAME}` (or `--source DIR`), or pass --data-dir "
    "to a folder holding u.data/u.user/u.item or ml-100k.inter/.user/.item"
)

# Byte pins. Atomic: the recbole-1.2.1 wheel's files. GroupLens: the official files' published
# hashes (u.data and u.user are the atomic bodies, header dropped, "|" for tab in u.user); a
# mismatch is only noted, as copies circulate re-encoded, and the content fingerprints decide.
# The sources' own pins (the zip, the wheel) are harness.data.movielens_fetch's.
ATOMIC_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
}
GROUPLENS_SHA256 = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
}
CONTENT_SHA256 = {
    "ratings": GROUPLENS_SHA256["u.data"],
    "users": GROUPLENS_SHA256["u.user"],
    "items": "f87524728155990906245c350fd8fd464db236c01decad42887dc8b0b3efb8ab",
}


@dataclass(frozen=True)
class _Spec:
    """How one file of one layout is laid out: ``width`` fields, of which ``keep`` are read."""

    file: str
    sep: str
    encoding: str
    header: tuple[str, ...]  # expected header names; () when the file has none
    width: int
    keep: dict[int, str]  # column index -> our name
    ints: tuple[str, ...]  # kept columns that must parse as integers


_RATINGS = {0: "user_id", 1: "item_id", 2: "rating", 3: "timestamp"}
_USERS = {0: "user_id", 1: "age", 2: "gender", 3: "occupation", 4: "zip"}
LAYOUTS = {
    "atomic": {
        "ratings": _Spec(
            "ml-100k.inter", "\t", "utf-8", tuple(_RATINGS.values()), 4, _RATINGS, ("rating", "timestamp")
        ),
        "users": _Spec(
            "ml-100k.user", "\t", "utf-8", ("user_id", "age", "gender", "occupation", "zip_code"), 5, _USERS, ("age",)
        ),
        "items": _Spec(
            "ml-100k.item",
            "\t",
            "utf-8",
            ("item_id", "movie_title", "release_year", "class"),
            4,
            {0: "item_id", 1: "title", 2: "year"},
            (),
        ),
    },
    "grouplens": {
        "ratings": _Spec("u.data", "\t", "latin-1", (), 4, _RATINGS, ("rating", "timestamp")),
        "users": _Spec("u.user", "|", "latin-1", (), 5, _USERS, ("age",)),
        "items": _Spec("u.item", "|", "latin-1", (), 24, {0: "item_id", 1: "title"}, ()),
    },
}
_RECBOLE_UNKNOWN = "unkonwn"  # RecBole's spelling for item 267's missing title and year


# every file any layout may hold: the prepared-data cache key hashes those present
DATA_FILES = tuple(spec.file for layout in LAYOUTS.values() for spec in layout.values())


def _parse_fast(text: str, spec: _Spec) -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(text),
        sep=spec.sep,
        header=None,
        skiprows=1 if spec.header else 0,
        names=list(range(spec.width)),
        usecols=list(spec.keep),
        quoting=csv.QUOTE_NONE,
        dtype={i: "int64" if name in spec.ints else str for i, name in spec.keep.items()},
        na_filter=False,
        engine="c",
    )
    # Long rows raise above; short ones are padded with "" unless the separators don't add up.
    if text.count(spec.sep) != (spec.width - 1) * (len(frame) + bool(spec.header)):
        raise ValueError("a row has too few fields")
    return frame.rename(columns=spec.keep)


def _parse_slow(text: str, spec: _Spec, report: LoadReport) -> pd.DataFrame:
    """Line by line, counting (never silently dropping) the rows the fast parser choked on."""
    rows, bad = [], []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if (number == 1 and spec.header) or (number == len(lines) and not line):
            continue  # the header; the empty string after the final newline
        fields = line.rstrip("\r").split(spec.sep)
        if len(fields) == spec.width and all(
            fields[i].lstrip("-").isdigit() for i, name in spec.keep.items() if name in spec.ints
        ):
            rows.append([fields[i] for i in spec.keep])
        else:
            bad.append(f"line {number}: {line[:80]}")
    if bad:
        report.malformed[spec.file] = len(bad)
        report.malformed_examples[spec.file] = bad[:5]
    frame = pd.DataFrame(rows, columns=list(spec.keep.values()), dtype=str)
    return frame.astype({name: "int64" for name in spec.ints})


def _read(path: Path, spec: _Spec, report: LoadReport) -> pd.DataFrame:
    text = read_text(path, spec.encoding)
    if spec.header:  # atomic "name:type" header: the columns must be the ones we index
        names = tuple(field.split(":", 1)[0] for field in text.split("\n", 1)[0].rstrip("\r").split(spec.sep))
        if names != spec.header:
            raise DataError(f"{path}: header names {names}, expected {spec.header} (RecBole atomic layout)")
    try:
        return _parse_fast(text, spec)
    except (ValueError, pd.errors.ParserError):
        return _parse_slow(text, spec, report)


def _fingerprint(frame: pd.DataFrame, columns: list[str], sep: str) -> str:
    text = frame[columns[0]].astype(str)
    for column in columns[1:]:
        text = text + sep + frame[column].astype(str)
    return hashlib.sha256(("\n".join(text) + "\n").encode("utf-8")).hexdigest()


def _titles(items: pd.DataFrame, layout: str) -> pd.Series:
    """Titles in the normal form, ``"Title (Year)"`` (see the module docstring)."""
    if layout == "grouplens":
        return items["title"].str.strip()
    unknown = items["year"] == _RECBOLE_UNKNOWN
    return (items["title"] + " (" + items["year"] + ")").where(~unknown, "unknown")


def layout_of(folder: Path) -> str:
    for layout, specs in LAYOUTS.items():
        if find_file(folder, specs["ratings"].file):
            missing = [s.file for s in specs.values() if not find_file(folder, s.file)]
            if missing:
                raise DataError(f"{folder} holds {specs['ratings'].file} but not {', '.join(missing)}; {FETCH_HINT}")
            return layout
    raise DataError(f"no MovieLens-100K files in {folder}; {FETCH_HINT}")


def _verify(name: str, actual: str, file: str, report: LoadReport) -> None:
    if actual != CONTENT_SHA256[name]:
        bad = f"; malformed rows: {report.malformed}, e.g. {report.malformed_examples}" if report.malformed else ""
        raise DataError(
            f"{file}: content SHA-256 of the {name} is {actual}, expected {CONTENT_SHA256[name]} "
            f"(not the MovieLens-100K release){bad}; re-fetch: {FETCH_HINT}"
        )


def read_folder(folder: Path) -> tuple[str, dict[str, pd.DataFrame], LoadReport]:
    """Parse and content-check one folder; raises DataError unless it is the real data."""
    layout = layout_of(folder)
    report = LoadReport(layout=layout, notes=["titles in GroupLens 'Title (Year)' form"])
    pins = ATOMIC_SHA256 if layout == "atomic" else GROUPLENS_SHA256
    frames = {}
    for kind, spec in LAYOUTS[layout].items():
        path = find_file(folder, spec.file)
        report.files[str(path)] = digest = sha256_file(path)
        if digest != pins[spec.file]:
            report.notes.append(f"{spec.file}: bytes differ from the official release (content checked below)")
        frames[kind] = _read(path, spec, report)
    frames["items"]["title"] = _titles(frames["items"], layout)
    for kind, columns, sep in (
        ("ratings", list(_RATINGS.values()), "\t"),
        ("users", list(_USERS.values()), "|"),
        ("items", ["item_id", "title"], "\t"),
    ):
        _verify(kind, _fingerprint(frames[kind], columns, sep), LAYOUTS[layout][kind].file, report)
    return layout, frames, report


def files(data_dir: Path) -> list[Path]:
    """The files ``load`` reads from ``data_dir`` (the cache root or the data folder): ratings, users,
    items of the layout found; a DataError with the fetch hint when they are not all there."""
    folder = dataset_dir(Path(data_dir), NAME, MARKERS)
    if not folder.is_dir():
        raise DataError(f"MovieLens-100K not found in {data_dir} (looked in {folder}); {FETCH_HINT}")
    return [find_file(folder, spec.file) for spec in LAYOUTS[layout_of(folder)].values()]


def load(data_dir: Path) -> RatingsTable:
    """MovieLens-100K in the normal form; ``data_dir`` is the cache root or the data folder."""
    _, frames, report = read_folder(files(data_dir)[0].parent)
    ratings, users = frames["ratings"], frames["users"]
    interactions = pd.DataFrame(
        {
            "user_id": ratings["user_id"],
            "item_id": ratings["item_id"],
            "rating": ratings["rating"].astype("float64"),
            "timestamp": ratings["timestamp"].astype("float64"),
        }
    )
    group = users["gender"].map({"M": "male", "F": "female"})
    if group.isna().any():
        report.users_without_group["gender not M/F"] = int(group.isna().sum())
    users_out = pd.DataFrame(
        {"user_id": users["user_id"], "group": group, "gender": users["gender"], "age": users["age"]}
    )
    return RatingsTable(NAME, interactions, users_out, frames["items"][["item_id", "title"]], GROUPS, report)
