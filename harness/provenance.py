"""Where a result came from: command, machine, date, code version, package versions.

Stamped on every result file the harness writes, so a number in results/ can be
traced to the run that made it.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import harness

PACKAGES = ("torch", "transformers", "peft", "ray", "optuna", "numpy", "pandas", "scipy", "pyarrow")
# CPU features that change which float kernels run (and so the last digits of a result)
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16")


def machine() -> dict:
    """The machine a number came from, enough to tell why two runs of one seed differ: the CPU
    model and its vector extensions, torch's CPU kernel level and the GPU (when torch is loaded)."""
    out = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "cpu_model": platform.processor() or None,
        "cpu_flags": None,
    }
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(
            (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), None
        )
        flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
        out.update(cpu_model=model or out["cpu_model"], cpu_flags=[f for f in VECTOR_FLAGS if f in flags])
    except OSError:
        pass
    torch = sys.modules.get("torch")  # only when the run used it: importing torch costs seconds
    if torch is not None:
        out["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        out["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return out


@functools.cache
def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when it has uncommitted changes; None outside git.

    Read once per process, at the first stamp: the code a process runs is what it imported
    then. A trial process that Tune reuses keeps its modules while the checkout moves on
    (a long study beside other work), so later commits would misname what ran."""
    root = Path(harness.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def package_versions(names=PACKAGES) -> dict[str, str | None]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance(argv: list[str] | None = None) -> dict:
    """A JSON-able stamp for a result file."""
    argv = sys.argv if argv is None else argv
    return {
        "command": " ".join(["python", *argv]),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "harness": harness.__version__,
        "git_commit": git_commit(),
        "packages": package_versions(),
    }
