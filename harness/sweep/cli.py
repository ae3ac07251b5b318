"""``python -m harness.sweep SPACE.yaml``: validate the space, the data it reads and its tracking
before Ray starts, start (or join) Ray, run the sweep, print its summary and exit with a status
that says how it ended (``harness.sweep.outcome``); with ``--dry-run``, print what it would run and
cost instead, without Ray."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from harness.console import Console
from harness.data.paths import ENV_VAR
from harness.data.schema import DataError
from harness.space import SpaceError, list_files, load_spec
from harness.sweep import outcome
from harness.sweep.phases import Sweep
from harness.sweep.preflight import checked, with_data_dir
from harness.tracking import TrackingError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness.sweep",
        description="Run a search space (search on the first seed with Optuna, then replicate the best "
        "configuration of each arm on every seed) with Ray Tune and Ray Train. Running the same "
        "command again resumes: finished trials are kept, unfinished ones continue.",
        epilog=outcome.help_text(),
    )
    parser.add_argument("space", nargs="?", help="a search-space YAML, e.g. search_spaces/mos.yaml")
    parser.add_argument(
        "--address", help="Ray cluster to join ('auto' for the running one); default: start Ray on this machine"
    )
    parser.add_argument(
        "--storage", help="where records and checkpoints go: a folder or a URI (s3://, gs://); default: results/"
    )
    parser.add_argument("--name", help="experiment name (default: the YAML's name)")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="trials at once (default: the YAML's concurrency, else "
        "as many as fit in the cluster's resources at start; "
        "set it on an autoscaling cluster)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny random backbone and a few dozen samples: checks the set-up in minutes; records are stamped smoke",
    )
    parser.add_argument(
        "--list", action="store_true", help="list search spaces, data sets, backbones, heads, objectives"
    )
    _run_arguments(parser)
    _dry_run_arguments(parser)
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="also show Ray Tune's status box and the trials' own output (-vv: Tune's "
        "per-result detail); by default one status line for the whole sweep, and the "
        "trials' output goes to Ray's log files (/tmp/ray/session_latest/logs)",
    )
    return parser


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """--data-dir, --tracking-uri and --allow-failures."""
    parser.add_argument(
        "--data-dir",
        help=f"where the data sets are (default: the search space's data_dir, else ${ENV_VAR}, else the user "
        "cache); made absolute here and given to every trial. Without --address every data set an arm reads "
        "is checked before Ray starts",
    )
    parser.add_argument(
        "--tracking-uri",
        nargs="?",
        const="",
        metavar="URI",
        help="log every trial to MLflow as one run (pip install -e '.[tracking]'): a tracking server "
        "(http://host:5000) or a store (sqlite:///mlflow.db); without URI, a SQLite store beside the "
        "experiments: STORAGE/mlflow.db (default: the search space's tracking:, else off)",
    )
    parser.add_argument(
        "--allow-failures",
        action="store_true",
        help="exit 0 even when trials failed or were not run (a sweep expected to lose some); the summary says so",
    )


def _dry_run_arguments(parser: argparse.ArgumentParser) -> None:
    """--dry-run and what goes with it (--json, --pilot, --benchmarks)."""
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="start nothing: print each arm's phases (search on the first seed, replication on "
        "every seed), their trials, how many the storage already holds and the projected "
        "machine hours of the rest (from this storage's records of the arm, else --pilot's, "
        "else none; and on a GPU where results/benchmarks holds its rates for the backbone); "
        "respects --smoke, --storage and --name",
    )
    parser.add_argument("--json", action="store_true", help="with --dry-run: print it as JSON")
    parser.add_argument(
        "--pilot",
        metavar="DIR",
        help="with --dry-run: another experiment's folder (e.g. results/study-smollm2-ml100k) whose "
        "ok records of the same arm, method or head, scaled to each arm's work, project an "
        "arm without records of its own",
    )
    parser.add_argument(
        "--benchmarks",
        type=Path,
        default=Path("results/benchmarks"),
        metavar="DIR",
        help="with --dry-run: where benchmarks/train_step.py's GPU rates are (default: results/benchmarks)",
    )


def _list(folder: Path) -> None:
    from harness.config import registered

    print("search spaces:")
    for path in list_files(folder):
        spec = load_spec(path)
        print(f"  {path}: {spec.paper or ''} {spec.description or ''}".rstrip())
    print("\n".join(registered()))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        _list(Path(args.space).parent if args.space else Path("search_spaces"))
        return 0
    try:
        spec = _spec(args)  # everything validated before Ray starts
    except (SpaceError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return outcome.REFUSED
    results = _results(args, spec)
    if args.dry_run:
        return _dry_run(args, spec, results)
    if args.json or args.pilot:
        print("error: --json and --pilot go with --dry-run", file=sys.stderr)
        return outcome.REFUSED
    if args.address and "://" not in results:
        print(
            f"WARNING: --address with a local --storage: records go to {results} on whichever node writes "
            "them; on a cluster give a folder every node shares, or s3://… / gs://…",
            file=sys.stderr,
        )
    try:
        spec = with_data_dir(spec, args.data_dir)
        tracker = checked(spec, results, local=args.address is None, tracking_uri=args.tracking_uri)
    except (DataError, OSError, ValueError, TrackingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return outcome.REFUSED
    if args.smoke:
        print(
            "WARNING: --smoke runs a tiny random model on a few dozen samples; its records are stamped "
            "smoke and are not results.",
            file=sys.stderr,
        )
    try:
        return _sweep(args, argv, spec, results, tracker)
    except KeyboardInterrupt:  # while Ray starts: the sweep itself catches its own
        return outcome.INTERRUPTED


def _sweep(args, argv, spec, results: str, tracker=None) -> int:
    """Start (or join) Ray, run the sweep, print its summary; the exit status says how it ended."""
    _ray_environment(args)
    import ray

    def start_ray():
        # log_to_driver off by default: the trials' own lines go to Ray's log files
        # (/tmp/ray/session_latest/logs), and the console shows the sweep's status line
        ray.init(
            address=args.address,
            include_dashboard=False,
            ignore_reinit_error=True,
            log_to_driver=bool(args.verbose),
            logging_level="WARNING" if not args.verbose else "INFO",
        )

    def restart_local_ray():
        # Measured here (Ray 2.60, 2 cores): a second Tuner in the same local Ray session
        # could not start its Train worker group (startup timeout, with every CPU free);
        # a fresh local Ray between phases avoids it. A cluster (--address) is left alone.
        if args.address is None:
            ray.shutdown()
            start_ray()

    start_ray()
    started = time.time()
    command = " ".join(["python -m harness.sweep", *(argv if argv is not None else sys.argv[1:])])
    sweep = Sweep(
        spec,
        results,
        f"{results}/ray",
        between_phases=restart_local_ray,
        console=Console(),
        verbose=args.verbose,
        command=command,
        tracker=tracker,
    )
    sweep.run()
    ended = sweep.outcome()
    closing = sweep.summary((time.time() - started) / 60) + outcome.describe(ended, args.allow_failures)
    print("\n".join(closing), flush=True)
    return outcome.exit_status(ended, args.allow_failures)


def _dry_run(args, spec, results: str) -> int:
    """What the sweep would run and what it would cost, without Ray (harness.sweep.dryrun)."""
    from harness.sweep.dryrun import dry_run, render

    try:
        plan = dry_run(spec, results, pilot=args.pilot, benchmarks=args.benchmarks)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(plan, indent=1) if args.json else "\n".join(render(plan)))
    return 0


def _spec(args):
    """The validated search space, with ``--concurrency`` applied."""
    if not args.space:
        raise ValueError("give a search-space YAML (see --list)")
    spec = load_spec(args.space, smoke=args.smoke)
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise ValueError(f"--concurrency must be >= 1, got {args.concurrency}")
        spec = dataclasses.replace(spec, concurrency=args.concurrency)
    return spec


def _results(args, spec) -> str:
    """The experiment's folder (records under trials/, Ray's checkpoints under ray/): an absolute
    path, or the URI as given."""
    name = (args.name + ("-smoke" if args.smoke else "")) if args.name else spec.experiment
    results = f"{(args.storage or 'results').rstrip('/')}/{name}"
    return results if "://" in results else str(Path(results).resolve())


def _ray_environment(args) -> None:
    """Ray's and the trials' settings, each one an environment variable a user may set first."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray Train's per-trial costs (benchmarks/ray_overhead.py measures them): its controller
    # polls the workers every 2 s by default, so a finished trial waits up to 2 s to be
    # noticed; and on one machine nothing is ever preempted, so the per-trial preemption
    # watcher actor (one more process) has nothing to watch.
    os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.5")
    if args.address is None:
        os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")
        # Ray runs its workers at niceness 15, under its own services; on a small machine
        # every wake-up of those then stalls the training threads (a probe's trials did
        # their work 1-5 s faster at niceness 0: benchmarks/README.md, Ray's cost).
        os.environ.setdefault("RAY_worker_niceness", "0")
    if not args.verbose:
        # no progress bars from inside the trials (weight loading): their logs stay in Ray's files
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
