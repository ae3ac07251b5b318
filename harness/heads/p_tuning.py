"""P-tuning (Liu et al. 2022): virtual tokens produced by a prompt encoder (an MLP).

Uses peft's ``PromptEncoder``. With 20 tokens per submodule, an MLP of hidden
size 128 and both submodules on t5-base this is 244,736 parameters, 0.1097% as in
the paper's Table 5, hence these defaults.
"""

from __future__ import annotations

import torch
from peft import PromptEncoderConfig, TaskType
from peft.tuners.p_tuning import PromptEncoder

from harness.backbones.base import Backbone
from harness.heads.base import Head
from harness.heads.prompt_tuning import split_prefix, submodules
from harness.model import Batch, Prefix


class PTuningHead(Head):
    def attach(self, backbone: Backbone) -> None:
        c = self.config
        self.n_submodules = submodules(backbone, c.decoder_prompt)
        self.encoder = PromptEncoder(
            PromptEncoderConfig(
                task_type=TaskType.SEQ_2_SEQ_LM if backbone.kind == "seq2seq" else TaskType.CAUSAL_LM,
                num_virtual_tokens=c.num_virtual_tokens,
                token_dim=backbone.hidden_size,
                num_transformer_submodules=self.n_submodules,
                encoder_hidden_size=c.encoder_hidden_size,
                encoder_reparameterization_type=c.encoder,
            )
        )
        self.register_buffer("indices", torch.arange(c.num_virtual_tokens * self.n_submodules), persistent=False)

    def prefix(self, batch: Batch, backbone: Backbone) -> tuple[Prefix, dict]:
        prompts = self.encoder(self.indices.expand(len(batch), -1))
        return split_prefix(prompts, self.config.num_virtual_tokens, self.n_submodules), {}
