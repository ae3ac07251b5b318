"""Prompt tuning (Lester et al. 2021): trainable soft-prompt tokens before the input.

Uses peft's ``PromptEmbedding``. For seq2seq models peft's default puts one set of
virtual tokens before the encoder input and one before the decoder start
(``num_transformer_submodules=2``); with 20 tokens on t5-base that is 30,720
parameters, 0.0138% as in the paper's Table 5, so it is the default here too.
"""

from __future__ import annotations

import torch
from peft import PromptTuningConfig, PromptTuningInit, TaskType
from peft.tuners.prompt_tuning import PromptEmbedding

from harness.backbones.base import Backbone
from harness.heads.base import Head
from harness.model import Batch, Prefix


def submodules(backbone: Backbone, decoder_prompt: bool) -> int:
    return 2 if backbone.kind == "seq2seq" and decoder_prompt else 1


def split_prefix(prompts: torch.Tensor, n_tokens: int, n_submodules: int) -> Prefix:
    """peft's layout: the first ``n_tokens`` go before the encoder, the rest before the decoder."""
    if n_submodules == 1:
        return Prefix(encoder=prompts)
    return Prefix(encoder=prompts[:, :n_tokens], decoder=prompts[:, n_tokens:])


class PromptTuningHead(Head):
    def attach(self, backbone: Backbone) -> None:
        c = self.config
        self.n_submodules = submodules(backbone, c.decoder_prompt)
        peft_config = PromptTuningConfig(
            task_type=TaskType.SEQ_2_SEQ_LM if backbone.kind == "seq2seq" else TaskType.CAUSAL_LM,
            num_virtual_tokens=c.num_virtual_tokens,
            token_dim=backbone.hidden_size,
            num_transformer_submodules=self.n_submodules,
            prompt_tuning_init=PromptTuningInit.SAMPLE_VOCAB if c.init == "sample_vocab" else PromptTuningInit.RANDOM,
        )
        self.prompt = PromptEmbedding(peft_config, backbone.model.get_input_embeddings())
        self.register_buffer("indices", torch.arange(c.num_virtual_tokens * self.n_submodules), persistent=False)

    def prefix(self, batch: Batch, backbone: Backbone) -> tuple[Prefix, dict]:
        prompts = self.prompt(self.indices.expand(len(batch), -1))
        return split_prefix(prompts, self.config.num_virtual_tokens, self.n_submodules), {}
