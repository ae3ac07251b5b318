"""A frozen language model and what the harness needs to score with it.

Two families: encoder-decoder (T5, the paper's) and decoder-only causal LMs
(Llama, Qwen, SmolLM). Scoring reads logit(Yes) - logit(No) at one position:
the first decoder step (seq2seq) or after the last prompt token (causal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Kind = Literal["seq2seq", "causal"]
ANSWERS = ("Yes", "No")  # the paper's binary task: does the user like the target item?
# What a causal LM writes next after "...\nAnswer:" is the word with its leading
# space (a different token in byte-level BPE vocabularies); measured on SmolLM2-135M
# after a plain-text prompt, " Yes"/" No" are ~5.5 nats likelier than "Yes"/"No".
# A T5 decoder starts its answer fresh, where "Yes" is the sentencepiece word "▁Yes".
ANSWERS_BY_KIND = {"seq2seq": ANSWERS, "causal": (" Yes", " No")}
# Appended to every prompt of a causal LM so that the next token is the answer.
ANSWER_CUE_BY_KIND = {"seq2seq": "", "causal": "\nAnswer:"}


class BackboneError(Exception):
    """A backbone cannot be loaded or used; the message says why and how to fix it."""


@dataclass
class Backbone:
    """A frozen pretrained LM. ``model`` is in eval mode with every parameter frozen."""

    name: str
    model: nn.Module
    tokenizer: object
    kind: Kind
    yes_id: int
    no_id: int

    @property
    def answer_cue(self) -> str:
        """Text appended to prompts so the scored position is where the answer goes."""
        return ANSWER_CUE_BY_KIND[self.kind]

    @property
    def hidden_size(self) -> int:
        return int(self.model.get_input_embeddings().weight.shape[1])

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.get_input_embeddings()(input_ids)


def answer_ids(tokenizer, answers=ANSWERS) -> tuple[int, int]:
    """Token ids of "Yes" and "No"; each must be exactly one token (else the score
    would read only a prefix of the answer)."""
    ids = []
    for word in answers:
        tokens = tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(tokens) != 1:
            raise BackboneError(
                f"the answer {word!r} is {len(tokens)} tokens {tokens} for this tokenizer; "
                f"the score needs it to be one token"
            )
        ids.append(tokens[0])
    if ids[0] == ids[1]:
        raise BackboneError(f"'Yes' and 'No' map to the same token id {ids[0]}")
    return ids[0], ids[1]


def freeze(model: nn.Module) -> nn.Module:
    """Every backbone parameter frozen; eval mode so dropout is off in the frozen parts."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


def kind_of(model: nn.Module) -> Kind:
    if getattr(model.config, "is_encoder_decoder", False):
        return "seq2seq"
    return "causal"


def wrap(name: str, model: nn.Module, tokenizer) -> Backbone:
    """A loaded model and tokenizer as a frozen Backbone, answers checked."""
    yes, no = answer_ids(tokenizer, ANSWERS_BY_KIND[kind_of(model)])
    if tokenizer.pad_token_id is None:
        # causal LMs often lack one; any id works, as padded positions are masked out
        tokenizer.pad_token = tokenizer.eos_token
    return Backbone(name=name, model=freeze(model), tokenizer=tokenizer, kind=kind_of(model), yes_id=yes, no_id=no)
