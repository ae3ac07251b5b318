"""Every registered head. Importing this package registers them all."""

from harness.heads import llm, lora, mos, p_tuning, prompt_tuning, tallrec, tallrec_pt  # noqa: F401
from harness.heads.base import DEFAULT_LR, HEADS, Head, HeadSpec, build_head, get_head, list_heads

__all__ = ["DEFAULT_LR", "HEADS", "Head", "HeadSpec", "build_head", "get_head", "list_heads"]
