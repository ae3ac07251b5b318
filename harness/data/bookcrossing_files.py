"""Book-Crossing's two file layouts (``harness.data.bookcrossing``'s module docstring), which one a
folder holds, and how their rows are read: rows of the wrong width counted as malformed, with
the line each starts on and a few quoted in the load report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.data.schema import DataError, LoadReport
from harness.files import find_file, read_text

MAX_EXAMPLES = 5  # malformed rows quoted per file in the report


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
        return csv.reader(
            io.StringIO(text, newline=""),
            delimiter=self.delimiter,
            quotechar='"',
            escapechar=self.escapechar,
            doublequote=self.escapechar is None,
        )


ORIGINAL = Layout(
    "bx-csv-dump", ("BX-Book-Ratings.csv", "BX-Books.csv", "BX-Users.csv"), (3, 8, 3), "latin-1", ";", "\\"
)
COMP20008 = Layout("comp20008", ("BX-Ratings.csv", "BX-Books.csv", "BX-Users.csv"), (3, 5, 5), "utf-8-sig", ",", None)
LAYOUTS = {layout.name: layout for layout in (ORIGINAL, COMP20008)}
# Any of these marks a folder as holding the data set, so an incomplete folder
# gets an error naming what is missing rather than a search one level down.
MARKERS = ("BX-Book-Ratings.csv", "BX-Ratings.csv", "BX-Books.csv", "BX-Users.csv")
# A folder inside bookcrossing/ holds a copy when it holds a layout's ratings file (a folder of users alone does not).
RATINGS = tuple(layout.files[0] for layout in LAYOUTS.values())

WHERE_TO_GET = (
    "Accepted layouts (each file may also be gzipped, *.gz):\n"
    "  original BX-CSV-Dump: BX-Book-Ratings.csv, BX-Books.csv, BX-Users.csv (';'-separated, latin-1)\n"
    "  comp20008 subset:     BX-Ratings.csv, BX-Books.csv, BX-Users.csv (','-separated, UTF-8)\n"
    'Get the original dump, "Book-Crossing Dataset" (BX-CSV-Dump.zip), from Cai-Nicolas Ziegler\'s '
    "BookCrossing page (http://www2.informatik.uni-freiburg.de/~cziegler/BX/), or the Kaggle subset "
    '"Book-Crossing: User review ratings"; unzip it and pass --data-dir DIR (the folder holding the '
    "files, or one holding bookcrossing/)."
)


def detect_layout(folder: Path) -> tuple[Layout, list[Path]]:
    """The layout whose three files ``folder`` holds, and their paths (ratings, books, users)."""
    names = sorted({name for layout in LAYOUTS.values() for name in layout.files})
    found = {name: find_file(folder, name) for name in names}
    present = [layout for layout in LAYOUTS.values() if found[layout.files[0]]]
    if len(present) > 1:
        raise DataError(
            f"{folder} holds ratings files of both layouts "
            f"({ORIGINAL.files[0]} and {COMP20008.files[0]}); keep one.\n{WHERE_TO_GET}"
        )
    if not present:
        seen = [p.name for p in found.values() if p]
        others = [name for name in ("BX-Books.csv", "BX-Users.csv") if not found[name]]
        what = (
            f"found only {', '.join(seen)}; missing {ORIGINAL.files[0]} (original) or "
            f"{COMP20008.files[0]} (comp20008)" + "".join(f", and {name}" for name in others)
            if seen
            else "no BookCrossing files"
        )
        raise DataError(
            f"BookCrossing data not found in {folder}: {what} "
            f"(looked for {', '.join(names)}, each plain or .gz).\n{WHERE_TO_GET}"
        )
    layout = present[0]
    missing = [name for name in layout.files if not found[name]]
    if missing:
        raise DataError(
            f"BookCrossing data in {folder} is incomplete for the {layout.name} layout: "
            f"missing {', '.join(missing)} (plain or .gz).\n{WHERE_TO_GET}"
        )
    return layout, [found[name] for name in layout.files]


def note_malformed(report: LoadReport, file: str, count: int, examples: list[str]) -> None:
    report.malformed[file] = report.malformed.get(file, 0) + count
    kept = report.malformed_examples.setdefault(file, [])
    kept.extend(example[:250] for example in examples[: MAX_EXAMPLES - len(kept)])


def read_rows(
    path: Path, layout: Layout, width: int, report: LoadReport, columns: tuple[int, ...] | None = None
) -> pd.DataFrame:
    """Rows with exactly ``width`` fields as string columns (numbered, all or ``columns``),
    plus ``line`` (where each row starts); any other row is counted as malformed."""
    text = read_text(path, layout.encoding)
    reader = layout.reader(text)
    header: list[str] = next(reader, [])
    if len(header) != width:
        raise DataError(
            f"{path}: header has {len(header)} fields {header!r}, but the {layout.name} "
            f"layout expects {width}; is this the right file for that layout?"
        )
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
        note_malformed(report, path.name, 1, [example])
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


def count_bad(
    frame: pd.DataFrame, bad: pd.Series, why: Callable[[pd.Series], str], file: str, report: LoadReport, delimiter: str
) -> None:
    """Count the rows of ``frame`` where ``bad`` as malformed, quoting the first few."""
    if bad.any():
        examples = [
            f"line {row['line']}: {why(row)}: {delimiter.join(row.drop('line').astype(str))}"
            for _, row in frame[bad].head(MAX_EXAMPLES).iterrows()
        ]
        note_malformed(report, file, int(bad.sum()), examples)
