"""Significance-tested tables and figures from one experiment's trial records.

    from harness.report import build_report
    report = build_report("results/table4_fairness_methods", reference="mos", paper=True)
    print(report.to_markdown()); report.save("results/table4_fairness_methods/report")

``python -m harness.report --help`` is the same from the command line. The package's modules:

- ``build``: the pipeline, from one frozen ``ReportOptions`` (``build``, ``measured_trials``)
- ``collect``: the records read and typed; ``remeasure``, ``decision``, ``rescore``: the readings
  (another threshold, a decision rate, a test split rescored); ``reference``: the all-yes, oracle
  and random rows; ``support``: SF's support; ``decisions``: each row's Yes rate
- ``claims``, ``compare``, ``kernels``: the claims, every comparison and its tests; ``subsets``: the
  pair subsets and contrasts they read (Table 1's, Figures 4 and 5's)
- ``summary``, ``table``, ``page``, ``figures``, ``pareto``, ``routing``: the outputs
- ``captions``: the prose (caption and notes); ``provenance``: what made the records
"""

from __future__ import annotations

from pathlib import Path

from harness.report.build import ReportOptions, build
from harness.report.collect import ReportError
from harness.report.comparison import TestConfig
from harness.report.table import Report

__all__ = ["Report", "ReportError", "ReportOptions", "TestConfig", "build", "build_report"]


def build_report(folder: str | Path, log=lambda *_: None, **options) -> Report:
    """``build(folder, ReportOptions(**options), log)``: the report's options as keywords
    (``ReportOptions`` names and explains each)."""
    return build(folder, ReportOptions(**options), log)
