"""Benchmark harness for stereotype-aware fairness in LLM-based recommendation.

Implements Zhao et al., "Investigating and Mitigating Stereotype-aware Unfairness
in LLM-based Recommendations" (the paper in ../shared/paper/). Equation numbers in
docstrings refer to that paper.
"""

__version__ = "0.1.0"
