"""One training run end to end, without Ray: data -> backbone -> head -> fit ->
test metrics under the three prompt settings. The sweep (issue 4) calls ``run``
inside its trials; tests and the command line call it directly.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from harness import precision, stereotype
from harness.config.datasets import get_dataset
from harness.config.run import RunConfig
from harness.data.encode import encode_cached
from harness.data.paths import resolve_data_dir
from harness.data.prepare import prepare
from harness.data.samples import capped
from harness.device import describe_device, resolve_device
from harness.evaluate import evaluate
from harness.heads import make_head
from harness.model import Recommender
from harness.prompts import SETTINGS, PromptTemplate
from harness.train import fit, needs_group_prompts, set_seed


def trainable_parameters(model: Recommender) -> dict:
    """Count and share of trainable parameters (Table 5). The paper's percentages are
    trainable / (backbone + trainable): that reproduces its t5-base figures for prompt
    tuning (0.0138%), p-tuning (0.1097%) and TALLRec (0.3953% vs the printed 0.3954%)."""
    trainable = sum(p.numel() for p in model.trainable_parameters())
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {
        "trainable": trainable,
        "backbone": frozen,
        "percent": 100.0 * trainable / (frozen + trainable),
        "percent_of_backbone": 100.0 * trainable / frozen,
    }


def run(config: RunConfig, backbone=None, log=print, fit_hooks: dict | None = None, device: str | None = None) -> dict:
    """Train and test one configuration; returns metrics, timings and counts (JSON-able)
    and the per-example test scores (a DataFrame) under key ``"scores"``.

    backbone: a Backbone, a function of the prepared data that makes one, or None to
    load ``config.backbone``. fit_hooks: extra arguments for ``fit`` (resume,
    on_epoch_end, after_backward, shard), as the Ray Train worker passes them.
    device: where to train and score (``harness.device.resolve_device``; None: the GPU
    if torch sees one). It is not part of the configuration: the record names it.
    """
    device = resolve_device(device)
    precision.check(config.train.precision, device, config.train.force_precision)  # before the data and model
    timings = {}
    started = time.perf_counter()
    prepared, backbone, encoded = _data(config, backbone, log)
    timings["data_s"] = time.perf_counter() - started
    set_seed(config.train.seed)
    model = Recommender(backbone, make_head(config.train.head, config.train.head_config)).to(device)
    pad_id = backbone.tokenizer.pad_token_id
    started = time.perf_counter()
    fitted = fit(model, prepared, encoded, config.train, pad_id, log=log, **(fit_hooks or {}))
    timings["train_s"] = time.perf_counter() - started
    started = time.perf_counter()
    test_idx = capped(np.flatnonzero(prepared.samples.mask("test")), config.train.max_eval_samples, config.train.seed)
    results, frames, routing = {}, [], {}
    for setting in SETTINGS:  # one setting at a time, so MoS's routing is recorded per setting
        model.head.reset_diagnostics()
        result, frame = evaluate(
            model,
            prepared,
            encoded,
            test_idx,
            config.train.eval_batch_size,
            pad_id,
            needs_group_prompts(model, config.train),
            settings=(setting,),
        )
        results.update(result)
        frames.append(frame)
        routing[setting] = model.head.diagnostics()
    scores = pd.concat(frames, ignore_index=True)
    timings["test_s"] = time.perf_counter() - started
    test_diagnostics = model.head.pool_diagnostics(routing)  # MoS: routing on the test split, per setting and pooled
    return {
        "config": config.to_dict(),
        "backbone": {"name": backbone.name, "kind": backbone.kind},
        "threshold_moments": _threshold_moments(prepared, config.stereotype.scope),
        "device": describe_device(device),
        "parameters": trainable_parameters(model),
        "fit": dataclasses.asdict(fitted),
        "test": {k: dataclasses.asdict(v) for k, v in results.items()},
        "timings": timings,
        **({"test_diagnostics": test_diagnostics} if test_diagnostics else {}),
        "data": {"cache_key": prepared.report["cache_key"], "splits": prepared.samples.split_sizes},
        "scores": scores,
    }


def _data(config: RunConfig, backbone, log):
    """The prepared data (cached), the backbone (``run``'s argument, else loaded by name) and the
    encoded prompts (cached)."""
    from harness.backbones import load_backbone

    prepared = prepare(config.dataset, resolve_data_dir(config.data_dir), config.sample, config.stereotype, log=log)
    if callable(backbone):
        backbone = backbone(prepared)
    backbone = backbone or load_backbone(config.backbone)
    template = PromptTemplate(answer_cue=backbone.answer_cue)
    encoded = encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset(config.dataset).group_words,
        config.max_tokens,
        prepared.cache_folder,
        template=template,
        log=log,
    )
    return prepared, backbone, encoded


def _threshold_moments(prepared, scope: str) -> dict:
    """Eq. 3's threshold at any z is mean + z * std: the report re-thresholds with it (Figure 5)."""
    mean, std = stereotype.threshold_moments(prepared.measurement.degree, scope, prepared.measurement.items_measured)
    return {"scope": scope, "mean": mean.tolist(), "std": std.tolist(), "groups": list(prepared.samples.groups)}
