"""The objectives' losses. Their options and registry: ``harness.config.objectives``."""

from harness.objectives.base import OBJECTIVES, Objective, build_objective, get_objective, make_objective

__all__ = ["OBJECTIVES", "Objective", "build_objective", "get_objective", "make_objective"]
