"""The paper's "TALLRec--" (Table 5): TALLRec with its LoRA replaced by prompt
tuning, so prompt- and adapter-based methods compare at like parameter counts;
trained with L_rec only."""

from harness.heads.base import HeadSpec, register
from harness.heads.prompt_tuning import PromptTuningHead, PromptTuningOptions

SPEC = register(HeadSpec(
    name="tallrec_pt", head_cls=PromptTuningHead, config_cls=PromptTuningOptions, family="prompt",
    objectives=("rec",), description="TALLRec-- : prompt tuning, L_rec only", base="prompt_tuning",
))
