"""Are BookCrossing's prompts longer than MovieLens's (PLAN.md, "Size": may MovieLens's seconds stand in)?
SmolLM2-135M's tokenizer on the first 3,000 implicit and explicit prompts of seed 0's samples, each data set at
its working labels. Run: HARNESS_DATA_DIR=../shared/data python results/study-v3/sizing/prompt_tokens.py"""

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from harness.backbones.load import default_models_dir
from harness.config.datasets import get_dataset
from harness.data.encode import render_prompts
from harness.data.prepare import DEFAULT_SAMPLE, prepare

tokenizer = AutoTokenizer.from_pretrained(default_models_dir() / "smollm2-135m")  # python -m harness.backbones fetch
for dataset, threshold in (("movielens-100k", 3), ("bookcrossing", 7)):
    sample = replace(DEFAULT_SAMPLE, like_threshold=threshold, like_comparison="gt")
    samples = prepare(dataset, Path(os.environ["HARNESS_DATA_DIR"]), sample).samples
    for setting in ("implicit", "explicit"):
        texts, _ = render_prompts(samples, setting, get_dataset(dataset).group_words)
        n = np.array([len(ids) for ids in tokenizer(texts[:3000])["input_ids"]])
        p95 = np.percentile(n, 95)
        print(f"{dataset} {setting}: mean {n.mean():.1f} tokens, 95th percentile {p95:.0f}, max {n.max()}")
