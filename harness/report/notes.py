"""The report's prose, the notes under the table: records left out or undefined, what the study
could detect, the verdict rule, differing precisions, a trade-off's points (the caption:
``harness.report.captions``). Every sentence states a number or a choice of the report's own."""

from __future__ import annotations

import pandas as pd

from harness.report.claims import SAME_DECISIONS
from harness.report.collect import LABELS
from harness.report.comparison import TestConfig
from harness.report.decision import describe as describe_rate
from harness.report.subsets import is_contrast, sides
from harness.report.support import FLAG
from harness.seed_stats import POWER


def precision_notes(trials) -> list[str]:
    """A table whose rows were computed at different precisions (``train.precision``) says so:
    a comparison between them includes the precision's effect."""
    by: dict[str, set[str]] = {}
    for r in trials.records.values():
        by.setdefault(r.config["train"].get("precision", "fp32"), set()).add(r.job.method)
    if len(by) < 2:
        return []
    return [
        "Precisions differ between rows ("
        + "; ".join(f"{p}: {', '.join(sorted(m))}" for p, m in sorted(by.items()))
        + "): a comparison across them includes the precision's effect (train.precision)."
    ]


def power_notes(tests: TestConfig, comparisons) -> list[str]:
    """What the study could detect: per comparison of the family, the minimum detectable effect at
    the α of its Holm step (noncentral t, power ``POWER``, its seeds' spread) and, where a paper
    gap or claim effect is known, the seeds it would need; and the sign-flip test's floor when
    it cannot reach α at these seeds."""
    notes = []
    family = comparisons[comparisons.family != ""] if len(comparisons) else comparisons
    for (dataset, relation, a, b), part in (
        family.groupby(["dataset", "relation", "method_a", "method_b"], sort=True) if len(family) else ()
    ):
        where = f"{dataset}" + ("" if relation == "all" else f" ({relation})")
        first, second = sides(relation)
        pair = f"{a}'s {first} vs its {second} pairs" if is_contrast(relation) else f"{a} vs {b}"
        mdes = "; ".join(
            f"{LABELS[r.metric]}{' (' + r.claim + ')' if r.claim else ''} {r.mde:.2f} at α = {r.alpha_step:.3g}"
            for r in part.itertuples()
            if pd.notna(r.mde)
        )
        if mdes:
            notes.append(
                f"{where}, {pair}: the smallest true effect the seed-level test detects with power "
                f"{POWER:.0%} at the α of its Holm step, from the spread of its per-seed effects, in points "
                f"×100 (for a noninferiority claim: the distance above the margin): {mdes}"
            )
        needs = "; ".join(
            f"{LABELS[r.metric]} {r.paper_gap:+.1f} → {int(r.seeds_for_paper_gap)} seeds"
            for r in part.itertuples()
            if pd.notna(r.seeds_for_paper_gap)
        )
        if needs:
            notes.append(
                f"{where}, {pair}: the paper's effects would need, at these test pairs per seed and "
                f"this spread: {needs}"
            )
    return notes + _signflip_floor(family, tests.alpha)


def _signflip_floor(family, alpha: float) -> list[str]:
    """Where the exact sign-flip test cannot reach α at the family's seeds, the note that says so."""
    floors = (
        sorted(
            {
                (int(r.seeds), r.signflip_floor)
                for r in family.itertuples()
                if pd.notna(r.signflip_floor) and r.signflip_floor >= alpha
            }
        )
        if len(family)
        else []
    )
    if not floors:
        return []
    return [
        "the exact sign-flip test (p_signflip) cannot go below "
        + ", ".join(f"{f:.3g} with {n} seeds" for n, f in floors)
        + f", above α = {alpha}: it is shown, and the t-test decides"
    ]


def verdict_notes(comparisons) -> list[str]:
    """The verdict rule, where the report tests named claims."""
    if not len(comparisons) or not (comparisons.family == "claims").any():
        return []
    return [
        f"Verdicts (claims.md): not testable where a row is undefined on a seed, or the two rows make the "
        f"same Yes/No decision on at least {100 * SAME_DECISIONS:g}% of the test pairs on a column read from "
        "decisions (SF, Precision, Recall); agrees where the seed-level test rejects after Holm in the claim's "
        "direction (a noninferiority claim: A − B above −margin, one-sided); disagrees where it rejects in the "
        "other direction, or the one-sided test against the paper's effect rejects after Holm (Holm over "
        "those tests); inconclusive at this size otherwise. A claim with no paper number (expect: differs) "
        "reads differs or inconclusive."
    ]


def record_notes(trials, relations) -> list[str]:
    return [f"excluded {e}" for e in trials.excluded] + [
        text for relation, text in trials.undefined if relation in relations
    ]


def empty_notes(summary) -> list[str]:
    """Every column stays, even one undefined in every row: "–" there, and a note says so."""
    return [
        f"{LABELS[c]} is undefined in every row (the notes above give each record's reason)"
        for c in LABELS
        if summary[f"{c}_mean"].isna().all()
    ]


def tradeoff_notes(
    points, supports: list[int], selected: list[str], first: list[str], rate, min_support: int, left: list[str]
) -> list[str]:
    """The notes of a multi-metric search's trade-off (pareto.md): what it holds, its thin test
    |SF|s, and the replicated configurations its recorded rule no longer selects."""
    notes = [
        f"Trade-off (pareto.md): {len(points)} replicated configuration(s) of a search on validation AUC and "
        f"|SF| ({' and '.join(selected)}); the validation front counts an SF on "
        f"{' or '.join(map(str, supports))} or more recommended targets per group (the sweep's "
        "select.min_support); "
        "means ± sd over seeds, no test made (the table above shows one configuration per arm: of those the "
        "recorded rule selects, the most seeds, "
        f"then the best {' or '.join(first)} of its search trial)" + tradeoff_s(rate, selected)
    ]
    if points.test_sf_thin.any():
        notes.append(
            f"Trade-off: {FLAG} marks a test |SF| resting, on some seed, on fewer than {min_support} "
            "recommended targets stereotyped to a group (test_sf_support: the fewest)"
        )
    if left:
        notes.append(
            f"Trade-off: {len(left)} replicated configuration(s) that the sweep's recorded rule no longer "
            f"selects from the search records are left out of pareto.md: {', '.join(left)}"
        )
    return notes


def tradeoff_s(rate, selected: list[str]) -> str:
    """Where a trade-off's test |SF| and its validation |SF| each take S, when they differ."""
    on_rate = [m.endswith("_liked") for m in selected]
    if rate is None and not any(on_rate):
        return "."
    test = "the Yes answers" if rate is None else f"the top-scored pairs, {describe_rate(rate)}"
    valid = " or ".join(("the top-scored pairs, as many as are liked" if r else "the Yes answers") for r in on_rate)
    return (
        f"; its test |SF| takes S = {test} (as the table; --decision-rate sets it), its validation |SF| "
        f"S = {valid}, as the search selected on."
    )
