"""The heads' modules (``nn.Module``s). Their options and registry: ``harness.config.heads``."""

from harness.heads.base import Head, build_head, make_head

__all__ = ["Head", "build_head", "make_head"]
