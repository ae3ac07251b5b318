"""Shared fixtures: the real data copies in ../shared/data (skipped when absent),
the generated ``synthetic-movielens`` data set that every clone has (training,
command-line, device and sweep tests run on it), and a tiny tokenizer that needs
no download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MOVIELENS = SHARED_DATA / "movielens-100k"
BOOKCROSSING_SUBSET = SHARED_DATA / "bookcrossing" / "comp20008-subset"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data copy {path} is absent (the project's ../shared/data); nothing to test against")
    return path


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    return _need(MOVIELENS)


@pytest.fixture(scope="session")
def bookcrossing_subset_dir() -> Path:
    return _need(BOOKCROSSING_SUBSET)


@dataclass(frozen=True)
class TrainData:
    """A data set to train on: its registered name and a data directory holding it."""

    dataset: str
    data_dir: Path


SYNTHETIC = "synthetic-movielens"


@pytest.fixture(scope="session")
def train_data(tmp_path_factory) -> TrainData:
    """``synthetic-movielens`` (harness/data/synthetic.py): generated in memory, so it needs
    no files and no ../shared; the data directory is an empty folder."""
    return TrainData(SYNTHETIC, tmp_path_factory.mktemp("no-data-needed"))


@pytest.fixture(scope="session", params=[SYNTHETIC, "movielens-100k"])
def any_train_data(request, tmp_path_factory) -> TrainData:
    """The generated data set, then the real MovieLens-100K copy (skipped when absent)."""
    if request.param == SYNTHETIC:
        return TrainData(SYNTHETIC, tmp_path_factory.mktemp("no-data-needed"))
    return TrainData(request.param, _need(MOVIELENS))


@pytest.fixture(autouse=True)
def _private_caches(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's own data and prepared-data caches."""
    root = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("HARNESS_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(root / "prepared"))
    monkeypatch.setenv("HARNESS_MODELS_DIR", str(root / "models"))


def word_tokenizer(texts):
    """A test fixture, not a real model's tokenizer: a word-level vocabulary built
    from ``texts`` with the ``tokenizers`` library, wrapped as a transformers fast
    tokenizer, so tests need no download."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for text in texts for w in re.findall(r"\w+|[^\w\s]", text)})
    vocab = {"<unk>": 0, **{w: i + 1 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")
