"""The heads' modules (``nn.Module``s). Their options and registry: ``harness.config.heads``."""

from harness.heads.base import DEFAULT_LR, HEADS, Head, HeadSpec, build_head, get_head, list_heads, make_head

__all__ = ["DEFAULT_LR", "HEADS", "Head", "HeadSpec", "build_head", "get_head", "list_heads", "make_head"]
