"""LoRA (Hu et al.): low-rank adapters injected into the frozen backbone with peft.

The adapters live inside the backbone's modules, so a backbone carries at most
one LoRA head: load a fresh backbone per run.
"""

from __future__ import annotations

from dataclasses import dataclass

from peft import LoraConfig, inject_adapter_in_model

from harness.backbones.base import Backbone, BackboneError
from harness.heads.base import Head, HeadSpec, register

# the attention query and value projections, the usual LoRA targets, per family
DEFAULT_TARGETS = {"seq2seq": ("q", "v"), "causal": ("q_proj", "v_proj")}


@dataclass(frozen=True)
class LoraOptions:
    r: int = 8                                   # rank
    alpha: int = 16                              # scaling numerator (scale = alpha / r)
    dropout: float = 0.05                        # on the adapter's input
    target_modules: tuple[str, ...] | None = None  # None: q and v projections of the backbone family

    def __post_init__(self):
        if self.r < 1 or self.alpha <= 0:
            raise ValueError(f"r must be >= 1 and alpha > 0, got r={self.r}, alpha={self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class LoraHead(Head):
    def attach(self, backbone: Backbone) -> None:
        if any("lora_" in name for name, _ in backbone.model.named_parameters()):
            raise BackboneError("this backbone already carries LoRA adapters; load a fresh backbone per LoRA head")
        c = self.config
        targets = list(c.target_modules or DEFAULT_TARGETS[backbone.kind])
        inject_adapter_in_model(LoraConfig(r=c.r, lora_alpha=c.alpha, lora_dropout=c.dropout,
                                           target_modules=targets), backbone.model)
        if not any("lora_" in name for name, _ in backbone.model.named_parameters()):
            raise BackboneError(f"LoRA target modules {targets} matched nothing in {backbone.name}")


SPEC = register(HeadSpec(
    name="lora", head_cls=LoraHead, config_cls=LoraOptions, family="adapter",
    objectives=("rec", "sf"), description="LoRA adapters (Hu et al.); Table 5 with L_rec + L_fair",
))
