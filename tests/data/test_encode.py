"""Tokenized prompts for every setting, within a budget, cached."""

import numpy as np
import pytest

from harness.config.data import SampleConfig
from harness.data.encode import encode_all, encode_cached, prompt_keys, render_prompts
from harness.data.prepare import prepare
from tests.conftest import word_tokenizer

WORDS = ("male", "female")


@pytest.fixture(scope="module")
def small(movielens_dir, tmp_path_factory):
    return prepare(
        "movielens-100k", movielens_dir, SampleConfig(n_sequences=300), cache_dir=tmp_path_factory.mktemp("prep")
    )


@pytest.fixture(scope="module")
def tokenizer(small):
    texts = [t for key in prompt_keys(small.samples.groups) for t in render_prompts(small.samples, key, WORDS)[0]]
    return word_tokenizer(texts)


def test_every_setting_and_group_prompt_is_encoded(small, tokenizer):
    encoded = encode_all(small.samples, tokenizer, WORDS, max_tokens=10_000)
    assert list(encoded) == ["implicit", "explicit", "counterfactual", "group:male", "group:female"]
    texts, _ = render_prompts(small.samples, "explicit", WORDS)
    assert tokenizer.decode(encoded["explicit"][7].tolist()) == tokenizer.decode(tokenizer(texts[7])["input_ids"])
    i = int(np.flatnonzero(small.samples.user_group == 1)[0])
    assert "female" in render_prompts(small.samples, "explicit", WORDS)[0][i]
    assert "this male user" in render_prompts(small.samples, "counterfactual", WORDS)[0][i]
    assert all((e.dropped == 0).all() for e in encoded.values())


def test_budget_drops_oldest_history_only(small, tokenizer):
    lengths = np.diff(encode_all(small.samples, tokenizer, WORDS, 10_000, keys=["implicit"])["implicit"].offsets)
    budget = int(np.median(lengths))
    encoded = encode_all(small.samples, tokenizer, WORDS, budget, keys=["implicit"])["implicit"]
    assert np.diff(encoded.offsets).max() <= budget
    assert (encoded.dropped > 0).sum() > 0
    i = int(np.argmax(encoded.dropped))
    target_title = small.samples.titles[small.samples.target[i]]
    assert tokenizer.decode(tokenizer(f'"{target_title}"')["input_ids"]) in tokenizer.decode(encoded[i].tolist())


def test_cache_round_trip(small, tokenizer, tmp_path):
    first = encode_cached(small, tokenizer, WORDS, 512, tmp_path)
    assert len(list(tmp_path.glob("encoded-*.npz"))) == 1
    second = encode_cached(small, tokenizer, WORDS, 512, tmp_path)
    for key in first:
        np.testing.assert_array_equal(first[key].ids, second[key].ids)
        np.testing.assert_array_equal(first[key].offsets, second[key].offsets)
