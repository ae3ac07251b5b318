"""Benchmark: what Ray Tune + Ray Train add to a sweep, and 1 against 2 concurrent trials.

The same trials (every arm × seed of a search space, no search) run
(a) one after another in this process through ``harness.run.run``, the work a
    trial does (load the backbone, fit, test), and
(b) as a sweep: ``python -m harness.sweep`` in a fresh process (Ray start-up,
    Tune, one TorchTrainer per trial, records), at concurrency 1 with
    ``cpus_per_worker`` = all cores, then (with ``--scaling``) at concurrency 2 with
    half the cores each.
Data and token caches are warmed first, so neither side pays for tokenizing.
Overhead = (b) - (a); per trial = overhead / trials. The trials are the
quickstart's with smaller caps by default (``--train-samples``, ``--eval-samples``)
so the benchmark takes minutes. Per-trial overhead grows with the caps (the trials'
own work runs 5-12% slower beside Ray at the quickstart's caps, benchmarks/README.md),
so the goal's figure uses the quickstart's caps. ``overhead_fraction_of_a_quickstart_trial`` divides by the
committed quickstart records' trial time, which ran on a shared machine: do not quote it.

    python benchmarks/ray_overhead.py [--space search_spaces/quickstart.yaml] [--train-samples 192
        --eval-samples 100] [--compare-reuse] [--compare-ray-defaults] [--scaling] [--out FILE]

``--train-samples 192 --eval-samples 100`` are the quickstart's own caps: then (a) and
(b) are exactly the quickstart's trials, the goal's measure (about 30 minutes here).

With ``--scaling`` the concurrency-2 sweep also runs on a local two-node Ray cluster
(the cluster issue's test cluster: one CPU per node), joined with ``--address``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.config.datasets import get_dataset  # noqa: E402
from harness.data.encode import encode_cached  # noqa: E402
from harness.data.paths import resolve_data_dir  # noqa: E402
from harness.data.prepare import prepare  # noqa: E402
from harness.provenance import provenance  # noqa: E402
from harness.space import load_spec  # noqa: E402

# Ray's own values of what harness.sweep sets for a sweep on one machine (see its main)
RAY_DEFAULTS = {
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "2",
    "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER": "1",
    "RAY_worker_niceness": "15",
}


def variant(
    space: Path,
    folder: Path,
    name: str,
    train: int,
    evaluate: int,
    concurrency: int,
    cpus: float,
    seeds: int | None = None,
    executor: str = "torch_trainer",
) -> Path:
    """A YAML that extends ``space`` with smaller caps, the given concurrency and executor
    and the first ``seeds`` seeds."""
    path = folder / f"{name}.yaml"
    first = load_spec(space).seeds[:seeds] if seeds else None
    path.write_text(
        f"extends: {space.resolve()}\nname: {name}\n"
        + (f"seeds: {list(first)}\n" if first else "")
        + f"train: {{max_train_samples: {train}, max_eval_samples: {evaluate}}}\n"
        f"resources: {{workers: 1, cpus_per_worker: {cpus}, gpus_per_worker: 0, executor: {executor}}}\n"
        f"concurrency: {concurrency}\n"
    )
    return path


def configs(path: Path) -> list:
    spec = load_spec(path)
    return [spec.run_config(arm, {}, seed) for arm in spec.arms() for seed in spec.seeds]


def warm(config) -> None:
    from harness.backbones import load_backbone
    from harness.prompts import PromptTemplate

    prepared = prepare(
        config.dataset, resolve_data_dir(config.data_dir), config.sample, config.stereotype, log=lambda *_: None
    )
    backbone = load_backbone(config.backbone)
    encode_cached(
        prepared,
        backbone.tokenizer,
        get_dataset(config.dataset).group_words,
        config.max_tokens,
        prepared.cache_folder,
        template=PromptTemplate(answer_cue=backbone.answer_cue),
        log=lambda *_: None,
    )


def sequential(path: Path) -> dict:
    import torch

    from harness.run import run

    torch.set_num_threads(os.cpu_count())
    seconds = []
    for config in configs(path):
        started = time.perf_counter()
        run(config, log=lambda *_: None)
        seconds.append(time.perf_counter() - started)
        print(f"  sequential trial {len(seconds)}: {seconds[-1]:.1f} s", flush=True)
    return {"trials": len(seconds), "seconds": sum(seconds), "per_trial": seconds}


def sweep(path: Path, storage: Path, address: str | None = None, env: dict | None = None) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harness.sweep", str(path), "--storage", str(storage)]
        + (["--address", address] if address else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"sweep failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    records = [
        json.loads(p.read_text()) for p in storage.glob("*/trials/*.json") if not p.name.endswith(".running.json")
    ]
    return {
        "trials": len(records),
        "seconds": wall,
        "statuses": sorted({r["status"] for r in records}),
        "in_trial_seconds": [r["seconds"] for r in records],
        "nodes": len({(r.get("node") or {}).get("id") for r in records}),
        "peak_memory_mb": max(r["peak_memory_mb"] for r in records),
    }


def two_nodes(path: Path, storage: Path, folder: Path) -> dict:
    """The concurrency-2 sweep on a local two-node Ray cluster (a head and a worker
    node, one CPU each, separate ``ray start`` processes: tests/cluster/local_cluster.py)."""
    from tests.cluster.local_cluster import LocalCluster, child_env

    env = child_env()
    cluster = LocalCluster(folder, env)
    try:
        cluster.start_head()
        cluster.add_worker()
        cluster.alive_nodes(2)
        return sweep(path, storage, cluster.address, env)
    finally:
        cluster.stop()


def quickstart_trial_seconds() -> float | None:
    trials = sorted((ROOT / "results" / "quickstart" / "trials").glob("*.json"))
    values = [json.loads(p.read_text())["seconds"] for p in trials]
    return statistics.mean(values) if values else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", type=Path, default=ROOT / "search_spaces" / "quickstart.yaml")
    parser.add_argument("--train-samples", type=int, default=48)
    parser.add_argument("--eval-samples", type=int, default=32)
    parser.add_argument("--seeds", type=int, help="only the first N seeds of the space (fewer trials)")
    parser.add_argument(
        "--executor",
        choices=["torch_trainer", "tune_trial"],
        default="torch_trainer",
        help="where the sweep's trials train (resources.executor)",
    )
    parser.add_argument(
        "--compare-executors", action="store_true", help="also run the concurrency-1 sweep with the other executor"
    )
    parser.add_argument(
        "--compare-reuse",
        action="store_true",
        help="also run the concurrency-1 sweep with Tune's actor reuse off (HARNESS_REUSE_ACTORS=0)",
    )
    parser.add_argument(
        "--compare-ray-defaults",
        action="store_true",
        help="also run the concurrency-1 sweep with Ray's own settings for what harness.sweep "
        f"changes on one machine: {RAY_DEFAULTS}",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="also run the sweep at concurrency 2, on this machine's Ray and on a local two-node cluster",
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = variant(
            args.space, tmp, "bench-c1", args.train_samples, args.eval_samples, 1, cores, args.seeds, args.executor
        )
        for config in configs(one)[:1]:
            warm(config)
        print("(a) sequential, in this process", flush=True)
        seq = sequential(one)
        print("(b) sweep, concurrency 1", flush=True)
        swept = sweep(one, tmp / "c1")
        out = {
            "space": str(args.space),
            "train_samples": args.train_samples,
            "eval_samples": args.eval_samples,
            "cores": cores,
            "executor": args.executor,
            "sequential": seq,
            "sweep_c1": swept,
        }
        if args.compare_executors:
            other = "tune_trial" if args.executor == "torch_trainer" else "torch_trainer"
            print(f"(b*) sweep, concurrency 1, executor {other}", flush=True)
            path = variant(
                args.space, tmp, "bench-c1-other", args.train_samples, args.eval_samples, 1, cores, args.seeds, other
            )
            out[f"sweep_c1_{other}"] = sweep(path, tmp / "c1-other")
            wall = out[f"sweep_c1_{other}"]["seconds"]
            out[f"overhead_per_trial_seconds_{other}"] = (wall - seq["seconds"]) / seq["trials"]
            out[f"overhead_fraction_{other}"] = 1 - seq["seconds"] / wall
        if args.compare_reuse:
            print("(b') sweep, concurrency 1, Tune actor reuse off", flush=True)
            out["sweep_c1_no_reuse"] = sweep(one, tmp / "c1-no-reuse", env={**os.environ, "HARNESS_REUSE_ACTORS": "0"})
            out["reuse_saves_seconds_per_trial"] = (out["sweep_c1_no_reuse"]["seconds"] - swept["seconds"]) / seq[
                "trials"
            ]
        if args.compare_ray_defaults:
            print("(b'') sweep, concurrency 1, Ray's default settings", flush=True)
            out["sweep_c1_ray_defaults"] = sweep(one, tmp / "c1-ray-defaults", env={**os.environ, **RAY_DEFAULTS})
            out["ray_settings_save_seconds_per_trial"] = (
                out["sweep_c1_ray_defaults"]["seconds"] - swept["seconds"]
            ) / seq["trials"]
        overhead = swept["seconds"] - seq["seconds"]
        out["overhead_seconds"] = overhead
        out["overhead_per_trial_seconds"] = overhead / seq["trials"]
        out["overhead_fraction"] = overhead / swept["seconds"]
        reference = quickstart_trial_seconds()
        if reference:
            out["quickstart_trial_seconds"] = reference
            out["overhead_fraction_of_a_quickstart_trial"] = out["overhead_per_trial_seconds"] / (
                reference + out["overhead_per_trial_seconds"]
            )
        if args.scaling:
            print("(c) sweep, concurrency 2", flush=True)
            two = variant(
                args.space,
                tmp,
                "bench-c2",
                args.train_samples,
                args.eval_samples,
                2,
                cores / 2,
                args.seeds,
                args.executor,
            )
            out["sweep_c2"] = sweep(two, tmp / "c2")
            out["speedup_c2_over_c1"] = swept["seconds"] / out["sweep_c2"]["seconds"]
            print("(d) sweep, concurrency 2, two-node cluster (one CPU per node)", flush=True)
            out["sweep_c2_two_nodes"] = two_nodes(two, tmp / "c2n", tmp)
            out["speedup_two_nodes_over_c1"] = swept["seconds"] / out["sweep_c2_two_nodes"]["seconds"]
    print(json.dumps({k: v for k, v in out.items() if not isinstance(v, dict)}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"provenance": provenance(), **out}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
