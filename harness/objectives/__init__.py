"""The objectives' losses. Their options and registry: ``harness.config.objectives``."""

from harness.objectives.base import Objective, build_objective, make_objective

__all__ = ["Objective", "build_objective", "make_objective"]
