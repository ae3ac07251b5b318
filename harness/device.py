"""Where a run trains and scores: the device a name picks (the GPU when torch sees one), refused
with what to do where it is absent, and how a record names it."""

from __future__ import annotations

import torch


def resolve_device(name: str | None = None) -> torch.device:
    """The device a run trains on: ``name`` ("cpu", "cuda", "cuda:1", ...), or None for
    the GPU when torch sees one, else the CPU. The model is built on the CPU and then
    moved, so a seed initialises the head alike on either; results still differ between
    devices in the last digits (other kernels, other summation order)."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r} ({error}); use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {name!r} asked for, but this torch ({torch.__version__}) sees no CUDA GPU; "
            "use --device cpu, or install a CUDA build of torch on a machine with a GPU"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} asked for, but torch sees {torch.cuda.device_count()} GPU(s)")
    return device


def describe_device(device: torch.device) -> str:
    """For the record: "cpu", or the GPU's index and name."""
    if device.type != "cuda":
        return str(device)
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
