"""Prompts for every sample in every setting, tokenized within a token budget.

Encoded prompts are cached beside the prepared data, keyed by the tokenizer's
own serialisation, the budget and the template, so a second run reads them back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from harness.files import atomic_write
from harness.prompts import SETTINGS, PromptTemplate, build_prompt, group_word_for


@dataclass(frozen=True)
class Encoded:
    """Token ids of N prompts, ragged: prompt i is ``ids[offsets[i]:offsets[i + 1]]``.

    dropped: (N,) int, oldest history items dropped to fit ``max_tokens``.
    """

    ids: np.ndarray
    offsets: np.ndarray
    dropped: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]


DEFAULT_TEMPLATE = PromptTemplate()  # frozen, so one shared default (not a call per signature)


def prompt_keys(groups: Sequence[str]) -> tuple[str, ...]:
    """The three settings, then one multi-stereotype prompt per group ("group:<name>")."""
    return tuple(SETTINGS) + tuple(f"group:{g}" for g in groups)


def render_prompts(
    samples,
    key: str,
    group_words: Sequence[str],
    template: PromptTemplate = DEFAULT_TEMPLATE,
    count_tokens=None,
    max_tokens: int | None = None,
) -> tuple[list[str], np.ndarray]:
    """Prompt text of every sample for one key of ``prompt_keys``, and items dropped."""
    texts, dropped = [], np.zeros(len(samples), dtype=np.int64)
    titles = samples.titles
    for i in range(len(samples)):
        if key.startswith("group:"):
            word = group_words[samples.groups.index(key[len("group:") :])]
        else:
            word = group_word_for(key, int(samples.user_group[i]), group_words)
        text, dropped[i] = build_prompt(
            [titles[j] for j in samples.history[i]],
            samples.history_liked[i],
            titles[samples.target[i]],
            word,
            template,
            count_tokens,
            max_tokens,
        )
        texts.append(text)
    return texts, dropped


def tokenizer_fingerprint(tokenizer) -> str:
    """Changes whenever the tokenizer would produce other ids."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    text = backend.to_str() if backend is not None else f"{tokenizer.name_or_path}:{len(tokenizer)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_all(
    samples,
    tokenizer,
    group_words: Sequence[str],
    max_tokens: int,
    template: PromptTemplate = DEFAULT_TEMPLATE,
    keys: Sequence[str] | None = None,
) -> dict[str, Encoded]:
    """Tokenize every sample's prompt for each key (default: all ``prompt_keys``).

    Every prompt is tokenized once in a batch; only prompts over ``max_tokens`` are
    rebuilt item by item (dropping the oldest history first).
    """
    count = lambda text: len(tokenizer(text)["input_ids"])  # noqa: E731
    out = {}
    for key in keys or prompt_keys(samples.groups):
        texts, dropped = render_prompts(samples, key, group_words, template)
        ids = tokenizer(texts)["input_ids"]
        for i in [i for i, seq in enumerate(ids) if len(seq) > max_tokens]:
            one = _subset(samples, i)
            [text], [dropped[i]] = render_prompts(one, key, group_words, template, count, max_tokens)
            ids[i] = tokenizer(text)["input_ids"]
        lengths = np.fromiter((len(seq) for seq in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((t for seq in ids for t in seq), dtype=np.int32, count=int(lengths.sum()))
        out[key] = Encoded(flat, np.r_[0, np.cumsum(lengths)], dropped)
    return out


def _subset(samples, i: int):
    """A one-sample view with the fields ``render_prompts`` reads."""
    return replace(
        samples,
        user=samples.user[i : i + 1],
        user_group=samples.user_group[i : i + 1],
        history=samples.history[i : i + 1],
        history_liked=samples.history_liked[i : i + 1],
        target=samples.target[i : i + 1],
        label=samples.label[i : i + 1],
        target_rating=samples.target_rating[i : i + 1],
        split=samples.split[i : i + 1],
    )


def encode_cached(
    prepared,
    tokenizer,
    group_words: Sequence[str],
    max_tokens: int,
    cache_dir: Path | None,
    template: PromptTemplate = DEFAULT_TEMPLATE,
    log=lambda message: None,
) -> dict[str, Encoded]:
    """``encode_all`` through a cache file keyed by data, tokenizer, budget and template."""
    blob = json.dumps(
        {
            "data": prepared.report.get("cache_key"),
            "tok": tokenizer_fingerprint(tokenizer),
            "max": max_tokens,
            "template": asdict(template),
            "words": list(group_words),
        },
        sort_keys=True,
    )
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"encoded-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.npz"
        if path.is_file():
            with np.load(path) as z:
                return {
                    k: Encoded(z[f"{k}|ids"], z[f"{k}|offsets"], z[f"{k}|dropped"]) for k in json.loads(str(z["keys"]))
                }
    started = time.perf_counter()
    encoded = encode_all(prepared.samples, tokenizer, group_words, max_tokens, template)
    log(f"tokenized {len(encoded)} x {len(prepared.samples):,} prompts in {time.perf_counter() - started:.2f} s")
    if path is not None:
        arrays = {f"{k}|{f}": getattr(e, f) for k, e in encoded.items() for f in ("ids", "offsets", "dropped")}
        atomic_write(path, lambda tmp: np.savez(tmp, keys=json.dumps(list(encoded)), **arrays))
    return encoded
