"""Provenance names the machine well enough to explain why two runs of one seed differ."""

import sys

import torch  # noqa: F401  loaded, so the stamp includes torch's CPU kernel level

from harness.provenance import VECTOR_FLAGS, machine, provenance


def test_the_stamp_names_cpu_model_vector_extensions_and_kernel_level():
    stamp = provenance(["-m", "harness"])
    assert stamp["command"] == "python -m harness" and stamp["machine"] == machine()
    m = stamp["machine"]
    assert set(m["cpu_flags"] or []) <= set(VECTOR_FLAGS)
    if sys.platform.startswith("linux"):
        assert m["cpu_model"] and m["cpu_flags"] is not None
    assert m["torch_cpu_capability"] in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR", "VSX", "SVE256", "NO AVX")
    assert "gpu" in m


def test_the_commit_is_read_once_per_process():
    """A reused trial process runs the code it imported: its later records name that commit."""
    from harness.provenance import git_commit

    assert git_commit() is git_commit()
    assert git_commit.cache_info().currsize == 1
