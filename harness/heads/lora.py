"""LoRA (Hu et al.): low-rank adapters injected into the frozen backbone with peft.

The adapters live inside the backbone's modules, so a backbone carries at most
one LoRA head: load a fresh backbone per run.
"""

from __future__ import annotations

from peft import LoraConfig, inject_adapter_in_model

from harness.backbones.base import Backbone, BackboneError
from harness.heads.base import Head

# the attention query and value projections, the usual LoRA targets, per family
DEFAULT_TARGETS = {"seq2seq": ("q", "v"), "causal": ("q_proj", "v_proj")}


class LoraHead(Head):
    def attach(self, backbone: Backbone) -> None:
        if any("lora_" in name for name, _ in backbone.model.named_parameters()):
            raise BackboneError("this backbone already carries LoRA adapters; load a fresh backbone per LoRA head")
        c = self.config
        targets = list(c.target_modules or DEFAULT_TARGETS[backbone.kind])
        inject_adapter_in_model(
            LoraConfig(r=c.r, lora_alpha=c.alpha, lora_dropout=c.dropout, target_modules=targets), backbone.model
        )
        if not any("lora_" in name for name, _ in backbone.model.named_parameters()):
            raise BackboneError(f"LoRA target modules {targets} matched nothing in {backbone.name}")
        # the adapters' own dropout (a plain list: they are the backbone's submodules, not the head's)
        self._dropouts = [m for name, m in backbone.model.named_modules() if "lora_dropout" in name]

    def injected_train(self, mode: bool) -> None:
        for module in self._dropouts:
            module.train(mode)
