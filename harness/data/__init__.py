"""Data sets, recommendation samples, stereotype measurement inputs and prompts.

Entry points: ``python -m harness.data --help``; in code, ``prepare(name, data_dir)``.
"""
