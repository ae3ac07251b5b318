"""Benchmark: trials sharing one GPU. N processes run the harness's training step
(``train_step.HarnessPath``: prompt tuning, L_rec, Adafactor) at once on the same
GPU, each for the same wall-clock window; the total samples/s for N = 1, 2, 4, ...
says whether a GPU is better used by one trial or by several (``resources:
{gpus_per_worker: 1/N}`` in a search space).

    python benchmarks/gpu_sharing.py [--model t5-small-shape] [--processes 1 2 4] [--seconds 15]
                                     [--precision fp32|bf16|fp16] [--out FILE]

Every process builds its model and warms up first, then all start timing at one
agreed moment and count the steps they finish within ``--seconds``. ``--precision`` runs
every process's step at that ``train.precision`` (harness.precision; bf16 and fp16 are
refused where they would be slow, as in a trial), so sharing is measured at each precision.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def worker(model: str, device: str, batch_size: int, seconds: float, precision: str, start_at, ready, out) -> None:
    import train_step

    from harness.train import set_seed

    backbone = train_step.MODELS[model](0)
    backbone.model.to(device)
    work = train_step.workload(backbone, batch_size, 100, 140, 0)
    set_seed(0)
    path = train_step.HarnessPath(backbone, work, precision)
    path.model.train()
    for _ in range(5):
        path.train_step()
    ready.release()
    while time.time() < start_at.value:  # the parent sets it once every process is warm
        time.sleep(0.001)
    steps, ends = 0, start_at.value + seconds
    while time.time() < ends:
        path.train_step()  # each step ends in a host read: finished when it returns
        steps += 1
    out.put(steps * batch_size / seconds)


def shared(
    model: str, device: str, processes: int, batch_size: int, seconds: float, precision: str = "fp32"
) -> list[float]:
    ctx = mp.get_context("spawn")
    start_at, ready, out = ctx.Value("d", float("inf")), ctx.Semaphore(0), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(model, device, batch_size, seconds, precision, start_at, ready, out))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start_at.value = time.time() + 0.5
    rates = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", default="t5-small-shape", choices=["t5-small-shape", "t5-base-shape", "smollm2-135m-shape"]
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu to try the script out")
    parser.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16", "fp16"),
        help="every process's train.precision (default fp32); refused where it would run slowly",
    )
    parser.add_argument("--force-precision", action="store_true", help="run --precision even where it is slow")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA GPU here; --device cpu tries the script out on the CPU")
    from harness import precision as amp
    from harness.provenance import provenance

    try:
        amp.check(args.precision, torch.device(args.device), args.force_precision)
    except amp.PrecisionError as error:
        parser.error(str(error))

    results = []
    for n in args.processes:
        rates = shared(args.model, args.device, n, args.batch_size, args.seconds, args.precision)
        results.append({"processes": n, "samples_per_s": rates, "total_samples_per_s": sum(rates)})
        base = results[0]["total_samples_per_s"]
        print(
            f"{n} process(es) at {args.precision}: {sum(rates):8.1f} samples/s in total "
            f"({sum(rates) / base:.2f}x one), each {', '.join(f'{r:.1f}' for r in rates)}",
            flush=True,
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "provenance": provenance(),
                    "settings": vars(args) | {"out": str(args.out)},
                    "device": torch.cuda.get_device_name(0) if args.device != "cpu" else "cpu",
                    "results": results,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
