"""``python -m harness.report results/<experiment>``: the experiment's table, its
significance tests and figures, written under ``results/<experiment>/report/``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from harness.report.build import ReportOptions, build
from harness.report.claims import parse_claims
from harness.report.collect import ReportError
from harness.report.paper import TABLES

FORMATS = ("md", "latex", "csv", "html", "json")


EPILOG = (
    "Options may also be set in EXPERIMENT/report.yaml (names as here, with _ for -; the command "
    "line overrides them), and its `claims:` list names the experiment's claims (harness/report/claims.py: "
    "name, a, b, metric, expect lower|higher|noninferior|differs, effect, margin, relation, dataset, "
    "sf_effect, statement): Holm adjusts over them alone, † and the verdicts in claims.md come from them; "
    "without claims every comparison of the table is the (exploratory) family. Every test behind † is the "
    "paired t-test over seeds. "
    "index.html (the whole report as one self-contained page), every format, comparisons.csv/json "
    "(each test: effect, interval, p, Holm-adjusted p, seed-level p) and figures/*.png|svg are "
    "written to OUT; --format picks what is printed. Example: "
    "python -m harness.report results/table4_fairness_methods --paper"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__.split("\n\n")[0], epilog=EPILOG)
    p.add_argument(
        "experiment",
        help="an experiment's results folder (holding trials/), e.g. results/quickstart, "
        "or its URI (s3://…, gs://…; then --out is needed)",
    )
    p.add_argument("--reference", default="mos", help="method tested against every other one (default: mos)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (default: 0.05)")
    p.add_argument("--format", choices=FORMATS, default="md", help="what to print (default: md)")
    p.add_argument(
        "--paper",
        action="store_true",
        help="put the paper's published numbers beside ours (table inferred from the experiment name)",
    )
    p.add_argument("--paper-table", choices=sorted(TABLES), help="which paper table to compare with")
    p.add_argument(
        "--relations",
        help="comma-separated pair subsets: all, inside, outside (Table 1's rows: "
        "targets inside/outside the user's group); default all, or the paper table's",
    )
    p.add_argument("--methods", help="comma-separated methods to show, in this order (default: all, reference last)")
    p.add_argument(
        "--seeds",
        help="comma-separated seeds to read, for every row and claim (default: every seed with records), "
        "e.g. a later study's arms that pair with the first seeds of an earlier study's; every method read "
        "must have an ok record on each (else the report stops and names what is missing)",
    )
    p.add_argument("--resamples", type=int, default=10_000, help="permutation and bootstrap resamples (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the resampling (default 0)")
    _reading_arguments(p)
    p.add_argument("--no-significance", action="store_true", help="tables only, no tests (e.g. for old records)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--allow-smoke", action="store_true", help="report smoke records (outputs are stamped SMOKE)")
    p.add_argument("--out", help="output folder (default: EXPERIMENT/report)")
    p.add_argument(
        "--options",
        metavar="FILE",
        help="read the options and claims from FILE instead of EXPERIMENT/report.yaml (e.g. a second, "
        "separately Holm-adjusted family of claims; give it its own --out)",
    )
    p.add_argument(
        "--open",
        action="store_true",
        help="print the path of the report page (OUT/index.html) and open it in a browser, where this machine has one",
    )
    return p


def _reading_arguments(p: argparse.ArgumentParser) -> None:
    """How the records are read: SF's ranking, effect and reading, the threshold, the decision rate, support."""
    p.add_argument(
        "--sf-rank",
        choices=("abs", "signed"),
        default="abs",
        help="rank and bold SF by |SF| (default: SF < 0 is under-recommendation, not fairness) or "
        "signed, lower is better, as the paper bolds",
    )
    p.add_argument(
        "--sf-effect",
        choices=("signed", "abs"),
        default="signed",
        help="what an SF comparison tests: signed, SF(reference) - SF(other) per seed (default), or "
        "abs, |SF(reference)| - |SF(other)| per seed: a claim of lower SF read on |SF|",
    )
    p.add_argument(
        "--sf-reading",
        choices=("all", "group_users"),
        default="all",
        help="Eq. 4's denominator: recommended targets stereotyped to G over all recommended pairs "
        "(default, as printed) or over G's users' pairs only",
    )
    p.add_argument(
        "--z",
        type=float,
        help="measure stereotyped items (Eq. 3) at this Z-score for every row (default: the records' "
        "own); another than a record's own rebuilds its split from the data set",
    )
    p.add_argument(
        "--threshold-scope",
        choices=("global", "per_group"),
        help="Eq. 3's Z-score over all items' top degree (global, the paper) or one per group "
        "(default: the records' own)",
    )
    p.add_argument(
        "--decision-rate",
        help="Eq. 4's recommendations S as each row's top share of test pairs by score: 'liked' (each "
        "seed's share of liked pairs) or a share in (0, 1]; 'yes' (default): the pairs a model "
        "answers Yes, as the paper (harness/report/decision.py says why)",
    )
    p.add_argument(
        "--min-support",
        type=int,
        default=10,
        help="flag an SF resting on fewer recommended targets stereotyped to a group (default 10)",
    )


OPTIONS_FILE = "report.yaml"
CLAIMS = "claims"  # report.yaml's list of the experiment's claims (not a command-line option)


def options_path(experiment: str, given: str | None = None) -> Path:
    """Where a report's options are read from: ``given`` (``--options FILE``), else
    ``<experiment>/report.yaml``."""
    return Path(given) if given else Path(experiment) / OPTIONS_FILE


def options_file(p: argparse.ArgumentParser, experiment: str, given: str | None = None) -> dict:
    """The experiment's report options (``options_path``: option names as the command line's, with _
    for -), which the command line overrides; {} when there is none (an error when ``given`` is not
    a file)."""
    import yaml

    path = options_path(experiment, given)
    if given and not path.is_file():
        raise ReportError(f"--options {given}: no such file (a YAML of report options and claims, as report.yaml)")
    if not given and ("://" in experiment or not path.is_file()):
        return {}
    values = yaml.safe_load(path.read_text()) or {}
    known = {a.dest for a in p._actions} - {"help", "experiment", "out", "open", "format", "options"} | {CLAIMS}
    if not isinstance(values, dict) or set(values) - known:
        bad = sorted(set(values) - known) if isinstance(values, dict) else values
        raise ReportError(f"{path}: unknown report option(s) {bad}; known: {', '.join(sorted(known))}")
    return values


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        source = options_path(args.experiment, args.options)
        defaults = options_file(p, args.experiment, args.options)
        claims = parse_claims(defaults.pop(CLAIMS, None), str(source))
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if claims:
        print(
            f"{len(claims)} claim(s) from {source}: " + ", ".join(c.name for c in claims),
            file=sys.stderr,
        )
    if defaults:
        p.set_defaults(**defaults)
        args = p.parse_args(argv)
        print(
            f"options from {source}: "
            + ", ".join(f"{k}={v}" for k, v in defaults.items())
            + " (the command line overrides them)",
            file=sys.stderr,
        )
    started = time.time()
    try:
        report = build(args.experiment, options(args, claims), log=_log)
    except (ReportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if "://" in args.experiment and not args.out:
        print("error: the records are in an object store; pass --out FOLDER for the report's files", file=sys.stderr)
        return 2
    out = args.out or f"{args.experiment.rstrip('/')}/report"
    written = report.save(out)
    print(report.render(args.format))
    _log(f"wrote {len(written)} files to {out} in {time.time() - started:.1f} s")
    if args.open:
        _open(Path(out) / "index.html")
    return 0


def _split(text: str | None) -> tuple[str, ...] | None:
    return tuple(x.strip() for x in text.split(",") if x.strip()) if text else None


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def options(args: argparse.Namespace, claims=()) -> ReportOptions:
    """The report's options from the parsed command line (report.yaml's values already its defaults)."""
    return ReportOptions(
        reference=args.reference,
        alpha=args.alpha,
        resamples=args.resamples,
        seed=args.seed,
        paper=args.paper,
        paper_table=args.paper_table,
        relations=_split(args.relations),
        methods=_split(args.methods),
        seeds=args.seeds,
        significance=not args.no_significance,
        figures=not args.no_figures,
        allow_smoke=args.allow_smoke,
        sf_rank=args.sf_rank,
        min_support=args.min_support,
        sf_reading=args.sf_reading,
        z=args.z,
        threshold_scope=args.threshold_scope,
        decision_rate=args.decision_rate,
        sf_effect=args.sf_effect,
        claims=tuple(claims),
    )


def _open(page: Path) -> None:
    """Print the page's path (on stdout's last line) and open it where a browser is registered."""
    import webbrowser

    print(f"report page: {page.resolve()}")
    # no display: Python would pick a text browser (w3m, lynx), which takes over the terminal
    graphical = sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    try:
        browser = webbrowser.get() if graphical else None
    except webbrowser.Error:
        browser = None
    if browser is None:
        print("(no graphical browser here: open that file in one, or copy it; it is self-contained)", file=sys.stderr)
        return
    browser.open(page.resolve().as_uri())


if __name__ == "__main__":
    sys.exit(main())
