"""Mixed precision (``train.precision``): the frozen backbone's forward and backward under
autocast (bf16 or fp16), while the head's parameters, its gradients and the optimizer's state
stay fp32 and the loss is taken in fp32 (``Recommender.forward`` wraps only the backbone's
part; ``harness.train`` scales an fp16 loss).

A precision the device cannot run fast is refused, naming the device and what it can run,
unless ``train.force_precision`` is set: bf16 on a CPU without AMX or AVX-512-BF16 (emulated
there: about 100x slower than fp32 on this project's AVX2 machines, 2.5x on its AVX-512 ones
without BF16, benchmarks/train_step.py --precision), fp16 on any CPU (no fast
fp16 kernels, and loss scaling is a GPU tool), bf16 on a GPU without bf16 (before Ampere).
"""

from __future__ import annotations

import contextlib
import platform
from pathlib import Path

import torch

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class PrecisionError(ValueError):
    """A precision this device cannot run fast; the message names the device and the alternatives."""


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return set()
    for line in path.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_runs_bf16_fast(flags: set[str] | None = None) -> bool:
    """AMX (amx_bf16) or AVX-512-BF16 (avx512_bf16): bf16 matrix products in hardware."""
    flags = cpu_flags() if flags is None else flags
    return bool({"amx_bf16", "avx512_bf16"} & flags)


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "this CPU"


def check(precision: str, device: torch.device, force: bool = False, flags: set[str] | None = None) -> None:
    """Refuse ``precision`` on ``device`` where it would run slowly (see the module's docstring),
    unless ``force``. ``flags``: the CPU's flags (tests pass them; default: this machine's)."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32" or force:
        return
    hint = "set train.force_precision: true (--force-precision on the command line) to run it anyway"
    if device.type == "cpu":
        name = _cpu_name()
        if precision == "fp16":
            raise PrecisionError(
                f"precision fp16 on the CPU ({name}): CPUs have no fast fp16 kernels and loss "
                f"scaling is a GPU tool; use fp32, or bf16 on a CPU with AMX or AVX-512-BF16; {hint}"
            )
        if not cpu_runs_bf16_fast(flags):
            raise PrecisionError(
                f"precision bf16 on the CPU ({name}), which has neither AMX nor AVX-512-BF16: bf16 "
                f"would be emulated, slower than fp32 (benchmarks/README.md: measured); use fp32 "
                f"here; {hint}"
            )
    elif device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise PrecisionError(
            f"precision bf16 on {torch.cuda.get_device_name(device)}, which has no bf16 "
            f"(before Ampere): use fp16 (with loss scaling) or fp32; {hint}"
        )


def autocast(precision: str, device: torch.device):
    """The context the backbone's part of a forward runs in: autocast to ``precision``, or nothing."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device):
    """fp16's loss scaling (its small exponent range underflows small gradients); None otherwise."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def set_tf32(enabled: bool) -> None:
    """TF32 matrix products for what stays fp32 on a GPU (Ampere and later); no effect on a CPU."""
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
