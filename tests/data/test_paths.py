"""Where data sets are found, and the check a sweep makes before Ray starts (``check_present``):
every file a load reads, there and readable, else a DataError that says how to get it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.data.paths import ENV_VAR, check_present, default_data_dir, resolve_data_dir
from harness.data.schema import DataError


def test_a_relative_data_folder_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir("../shared/data") == tmp_path.parent / "shared" / "data"
    monkeypatch.setenv(ENV_VAR, "data/../here")
    assert default_data_dir() == tmp_path / "here" and resolve_data_dir(None) == tmp_path / "here"


def test_a_missing_data_set_is_refused_with_how_to_fetch_it(tmp_path):
    with pytest.raises(DataError, match=r"MovieLens-100K not found in .*python -m harness\.data fetch movielens-100k"):
        check_present("movielens-100k", tmp_path)
    with pytest.raises(DataError, match=r"BookCrossing data not found"):
        check_present("bookcrossing", tmp_path)


def test_a_generated_data_set_needs_no_files(tmp_path):
    assert check_present("synthetic-movielens", tmp_path) == []


def test_the_files_a_load_reads_are_checked_readable(movielens_dir, tmp_path):
    assert sorted(p.name for p in check_present("movielens-100k", movielens_dir.parent)) == [
        "ml-100k.inter",
        "ml-100k.item",
        "ml-100k.user",
    ]
    copy = tmp_path / "movielens-100k"
    copy.mkdir()
    for path in movielens_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    broken = copy / "ml-100k.user.gz"  # gzipped as one may keep it, but not gzip at all
    broken.write_bytes(b"not gzip")
    (copy / "ml-100k.user").unlink()
    with pytest.raises(DataError, match=r"ml-100k\.user\.gz cannot be read .*harness\.data fetch movielens-100k"):
        check_present("movielens-100k", tmp_path)
    if os.geteuid() != 0:  # root reads any file
        broken.unlink()
        (copy / "ml-100k.user").write_bytes(b"x")
        (copy / "ml-100k.user").chmod(0)
        with pytest.raises(DataError, match="cannot be read"):
            check_present("movielens-100k", Path(tmp_path))
