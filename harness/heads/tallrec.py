"""TALLRec (Bao et al. 2023) as the paper runs it: LoRA r=8, alpha=16, dropout 0.05
on q and v, trained with L_rec only (Tables 1, 2, 5)."""

from harness.heads.base import HeadSpec, register
from harness.heads.lora import LoraHead, LoraOptions

SPEC = register(HeadSpec(
    name="tallrec", head_cls=LoraHead, config_cls=LoraOptions, family="adapter", objectives=("rec",),
    description="TALLRec: LoRA r=8 alpha=16 dropout=0.05 on q,v; L_rec only", base="lora",
    preset={"r": 8, "alpha": 16, "dropout": 0.05},
))
