"""Where a result came from: command, machine, date, code version, package versions.

Stamped on every result file the harness writes, so a number in results/ can be
traced to the run that made it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import harness

PACKAGES = ("torch", "transformers", "peft", "ray", "optuna", "numpy", "pandas", "scipy", "pyarrow")


def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when it has uncommitted changes; None outside git."""
    root = Path(harness.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
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
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "harness": harness.__version__,
        "git_commit": git_commit(),
        "packages": package_versions(),
    }
