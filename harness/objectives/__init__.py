"""Every registered objective. Importing this package registers them all."""

from harness.objectives import div, fairllm, ifairlrs, rec, sf, up5  # noqa: F401
from harness.objectives.base import OBJECTIVES, Objective, build_objective, get_objective

__all__ = ["OBJECTIVES", "Objective", "build_objective", "get_objective"]
