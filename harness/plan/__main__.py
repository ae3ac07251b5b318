"""``python -m harness.plan RESULTS_DIR``: the seeds each claim of an experiment needs, and their
machine hours, from a pilot's records (harness/plan/__init__.py says how)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.plan import BENCHMARKS, Plan, make_plan
from harness.report.__main__ import CLAIMS, options_file, options_path
from harness.report.__main__ import parser as report_parser
from harness.report.claims import parse_claims
from harness.report.collect import LABELS, ReportError
from harness.report.subsets import difference

READING = ("reference", "z", "threshold_scope", "decision_rate", "sf_reading", "sf_effect", "seeds")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness.plan",
        description=__doc__.split("\n\n")[0].replace("``", ""),
        epilog="The claims and the reading (threshold, decision rate, |SF|) come from RESULTS_DIR/report.yaml, as "
        "the report's do. Sizes are for the paired t-test over seeds at Holm's first step (α / m over the "
        "family's m tests), from the noncentral t and the SD of the pilot's per-seed effects; hours from the "
        "pilot records' own seconds per trial (the machine they name). Example: "
        "python -m harness.plan results/study-smollm2-ml100k",
    )
    p.add_argument("experiment", help="a pilot's results folder (holding trials/ and, for claims, report.yaml)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--effect", type=float, help="the effect (A − B, ×100) to detect, for every claim")
    which.add_argument(
        "--paper", action="store_true", help="each claim's own effect from report.yaml, the paper's (the default)"
    )
    p.add_argument("--power", type=float, default=0.8, help="the power to reach (default 0.8)")
    p.add_argument("--alpha", type=float, default=0.05, help="the family's α before Holm (default 0.05)")
    p.add_argument(
        "--decision-rate",
        help="measure the claims at this decision rate (liked, a share, or yes) instead of report.yaml's",
    )
    p.add_argument(
        "--benchmarks",
        type=Path,
        default=BENCHMARKS,
        help=f"GPU benchmark rates (benchmarks/train_step.py JSONs) for the GPU projection (default {BENCHMARKS})",
    )
    p.add_argument(
        "--options",
        metavar="FILE",
        help="read the claims and the reading from FILE instead of EXPERIMENT/report.yaml",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    return p


def render(plan: Plan) -> str:
    lines = [
        f"plan for {plan.experiment}: {plan.family} test(s) in the family, each sized at "
        f"α = {plan.claims[0].alpha:.4g} (Holm's first step), power {plan.claims[0].power:.0%}; "
        f"measured at {plan.reading}; seconds from {plan.machines}"
        if plan.claims
        else f"plan for {plan.experiment}: no claim to plan"
    ]
    for c in plan.claims:
        lines += _claim_lines(c, plan.gpu)
    sized = {m: v for m, v in plan.methods.items() if v["seeds"]}
    if sized:
        total = sum(v["hours"] or 0 for v in sized.values())
        gpu = [v["gpu_hours"] for v in sized.values()]
        lines.append(
            "\nevery arm at the most seeds its claims need: "
            + "; ".join(
                f"{m} {v['seeds']} seeds"
                + (f" × {v['seconds']:,.0f} s = {v['hours']:.1f} h" if v["hours"] else " (no seconds recorded)")
                for m, v in sorted(sized.items())
            )
            + f"; {total:.1f} h in all on the pilot's machine (a pilot run with the study's settings "
            "counts toward its seeds)"
            + (
                f"; {sum(gpu):.2f} h on one {plan.gpu}, one trial at a time (every head costed as the "
                "benchmarked prompt-tuning head)"
                if all(g is not None for g in gpu)
                else ""
            )
        )
    return "\n".join(lines)


def _claim_lines(c, gpu: str | None) -> list[str]:
    """One claim's lines: the pilot's effect and spread, the seeds to detect the planned effect, and their
    machine time."""
    lines = []
    what = difference(c.a, c.b, c.relation)
    lines.append(f"\n{c.claim} ({c.dataset}): {what}, {LABELS[c.metric]}, expect {c.expect}")
    lines.append(
        f"  pilot: {c.pilot_seeds} seeds, effect {c.pilot_effect:+.2f}, SD of the per-seed effects "
        f"{c.sd:.2f} ({int(100 * 0.8)}% upper bound {c.sd_upper:.2f})"
    )
    if c.not_testable and c.pilot_seeds < 2:  # the pilot's fault, not the reading's
        lines.append(
            f"  no size yet: {c.not_testable}; an SD needs the metric on at least 2 seeds of both arms "
            "(run the pilot on more seeds)"
        )
        return lines
    if c.not_testable:
        lines.append(f"  not testable at this reading: {c.not_testable}; more seeds cannot help")
        return lines
    if c.planned_effect is None:
        lines.append(f"  planned effect: {c.effect_source}")
        return lines
    seeds = "more than 10,000" if c.seeds is None else str(c.seeds)
    upper = "more than 10,000" if c.seeds_at_upper is None else str(c.seeds_at_upper)
    side = (
        "two-sided"
        if c.alternative == "two-sided"
        else f"one-sided, {c.planned_effect - c.pilot_null:+.2f} from the margin {c.pilot_null:+g}"
    )
    lines.append(
        f"  to detect {c.planned_effect:+.2f} ({c.effect_source}; {side}): {seeds} seeds per method "
        f"({upper} at the SD's upper bound)"
    )
    if c.hours is not None:
        parts = " + ".join(f"{m} {s:,.0f} s" for m, s in dict(c.seconds).items() if s is not None)
        lines.append(
            f"  machine time: {c.seeds} seeds × ({parts}) = {c.hours:.1f} h"
            + (f"; on the GPU ({gpu}) {c.gpu_hours:.2f} h" if c.gpu_hours is not None else "")
        )
    if c.test_share is not None:
        n = lambda k: "more than 10,000" if k is None else str(k)  # noqa: E731
        lines.append(
            f"  test-pair sampling: about {min(c.test_share, 1.0):.0%} of the per-seed variance (user-level "
            f"bootstrap against the pilot's SD, a point estimate from {c.pilot_seeds} seeds"
            f"{'; above 1, capped: the seeds agree more than it predicts' if c.test_share > 1 else ''}): "
            f"at half the pilot's test pairs a seed {n(c.seeds_half_test)} seeds, with no test sampling at all "
            f"{n(c.seeds_no_test_noise) if c.test_share < 1 else 'no floor measurable'}"
        )
    return lines


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        options = options_file(report_parser(), args.experiment, args.options)
        claims = parse_claims(options.pop(CLAIMS, None), str(options_path(args.experiment, args.options)))
        reading = {k: v for k, v in options.items() if k in READING}
        if args.decision_rate is not None:
            reading["decision_rate"] = args.decision_rate
        plan = make_plan(
            args.experiment,
            claims,
            reading,
            args.effect,
            args.power,
            args.alpha,
            args.benchmarks,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )
    except (ReportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(plan.to_dict(), indent=2, default=str) if args.json else render(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
