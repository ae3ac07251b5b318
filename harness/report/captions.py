"""The report's prose: the table's caption and the notes under it, from what the report measured.
Every sentence here states a number or a choice of the report's own; none is typed in."""

from __future__ import annotations

import pandas as pd

from harness.report.claims import SAME_DECISIONS
from harness.report.collect import LABELS
from harness.report.compare import CONTRAST, TestConfig
from harness.report.decision import describe as describe_rate
from harness.report.reference import DRAWS
from harness.report.remeasure import by_threshold, describe
from harness.report.support import FLAG, MIN_SUPPORT
from harness.report.table import MARK
from harness.seed_stats import POWER


def tradeoff_s(rate, selected: list[str]) -> str:
    """Where a trade-off's test |SF| and its validation |SF| each take S, when they differ."""
    on_rate = [m.endswith("_liked") for m in selected]
    if rate is None and not any(on_rate):
        return "."
    test = "the Yes answers" if rate is None else f"the top-scored pairs, {describe_rate(rate)}"
    valid = " or ".join(("the top-scored pairs, as many as are liked" if r else "the Yes answers") for r in on_rate)
    return (f"; its test |SF| takes S = {test} (as the table; --decision-rate sets it), its validation |SF| "
            f"S = {valid}, as the search selected on.")


def decision_sentence(rate) -> str:
    """The caption's sentence on Eq. 4's S where it is not the paper's (the Yes answers)."""
    if rate is None:
        return ""
    return (f" Recommendations (Eq. 4's S) are each row's top-scored test pairs, {describe_rate(rate)}, per seed "
            "and prompt setting, not the pairs it answers Yes (this harness's reading of the paper's S; "
            "--decision-rate yes): SF, Precision and Recall are measured there, AUC does not change; the reference "
            "rows random and oracle (liked pairs first) recommend the same share, all-yes every pair; the paper's "
            "published numbers, where shown, are on its own S.")


def threshold_sentence(trials, threshold) -> str:
    """The caption's last sentence: the stereotype threshold the rows are measured at, and the
    trials' own where they ran at another (whatever read stereotype labels in training read those)."""
    own = by_threshold(trials.records.values())
    if threshold is None:
        return (" Stereotyped items (Eq. 3) at each trial's own threshold, which differ between rows: "
                + "; ".join(f"{t}: {', '.join(m)}" for t, m in own.items())
                + " (--z and --threshold-scope measure every row at one).")
    other = {t: m for t, m in own.items() if t != describe(threshold)}
    text = f" Stereotyped items (Eq. 3) at {describe(threshold)}, for every row"
    if not other:
        return text + "."
    return (text + "; the trials of " + "; ".join(f"{', '.join(m)} ran at {t}" for t, m in other.items())
            + ": their scores are measured here at the threshold above, while whatever they trained on stereotype "
            "labels (L_fair, Eq. 12) was trained at theirs.")


def precision_notes(trials) -> list[str]:
    """A table whose rows were computed at different precisions (``train.precision``) says so:
    a comparison between them includes the precision's effect."""
    by = {}
    for r in trials.records.values():
        by.setdefault(r.config["train"].get("precision", "fp32"), set()).add(r.job.method)
    if len(by) < 2:
        return []
    return ["Precisions differ between rows (" + "; ".join(f"{p}: {', '.join(sorted(m))}" for p, m in sorted(by.items()))
            + "): a comparison across them includes the precision's effect (train.precision)."]


def caption(tests: TestConfig, comparisons, significance: bool, summary, table, sf_rank: str = "abs",
             min_support: int = MIN_SUPPORT, backbones=()) -> str:
    seeds = sorted(set(summary.loc[summary.source == "ours", "n"].astype(int)))
    sf = ("SF is ranked by |SF|, its distance from 0 (SF < 0 is under-recommendation, not fairness; "
          "--sf-rank signed ranks it as the paper does)" if sf_rank == "abs" else
          "SF ↓ lower is better, ranked signed as the paper does (a negative SF, under-recommendation, ranks "
          "as fairest)")
    reading = ("Eq. 4's denominator counts the recommended targets stereotyped to G over all recommended pairs, "
               "as printed (--sf-reading group_users: over G's users' pairs only)" if tests.sf_reading == "all" else
               "Eq. 4's denominator counts the recommended targets stereotyped to G over G's users' recommended "
               "pairs only (--sf-reading group_users; the paper prints the all-pairs reading)")
    text = (f"Values ×100 (Params % as printed), mean ± standard deviation over n seeds (n = "
            f"{', '.join(map(str, seeds))}). SF: {reading}. {sf}; AUC, Precision, Recall ↑ higher is better; "
            "Params ↓ fewer is better. Bold: best, underline: second best, per data set, among means over every "
            "seed of their row: a [k/n seeds] mean is shown but never ranked or compared. AUC, Precision and "
            "Recall are under the prompt setting each model was trained on. "
            f"(±x%): {tests.reference}'s change relative to the best other method of the column"
            f"{' (of |SF| for SF)' if sf_rank == 'abs' else ''}.")
    if significance:
        text += " " + significance_sentence(tests, comparisons, sf_rank, max(seeds))
    else:
        text += " No significance tests were run (--no-significance)."
    ours = summary[summary.source == "ours"]
    if any(ours.get(f"{c}_thin", pd.Series(dtype=bool)).any() for c in ("sf_implicit", "sf_explicit",
                                                                           "sf_counterfactual")):
        text += (f" {FLAG}: on some seed this SF rests on fewer than {min_support} recommended targets stereotyped "
                 "to a group (Eq. 4's denominator; the notes and the SF support table say where), so one "
                 "prediction moves it a lot.")
    if (summary.source == "reference").any():
        text += (" Rows marked (reference) learn nothing and are never ranked: all-yes recommends every pair, "
                 "oracle exactly the liked targets, random scores are standard normal (mean of "
                 f"{DRAWS} seeded draws); each is scored on the same test pairs as the methods of its seed, so "
                 "they give SF its zero point on this split.")
    if table is not None:
        text += f" Rows marked (paper): the published numbers of the paper's {table.caption}."
        if backbones and not all(b.startswith("t5") for b in backbones):
            text += (f" They are not comparable with ours: the paper's backbone is T5 (t5-base), these records' "
                     f"is {', '.join(sorted(backbones))}.")
        if "bookcrossing" in set(summary.dataset):
            text += " The paper's BookCrossing is the full data set; compare with a subset's rows with care."
    return text


def significance_sentence(tests: TestConfig, comparisons, sf_rank: str, seeds: int) -> str:
    """What † means: the test, its level, its family, and what the effect is."""
    family = comparisons[comparisons.family != ""] if len(comparisons) else comparisons
    named = bool(len(family)) and (family.family == "claims").all()
    contrast = (comparisons.relation == CONTRAST).any() if len(comparisons) else False
    tested = int(family.p.notna().sum()) if len(family) else 0
    untested = (f"; {len(family) - tested} more could not be tested (comparisons.csv says why)"
                if tested < len(family) else "")
    what = (f"the {tested} test(s) of the claims named before the records in the experiment's report.yaml "
            f"(claims.md gives each verdict){untested}; a cell no claim tests carries no " + MARK if named else
            f"the {tested} tested comparisons of this table{untested} (no claims are named in the experiment's "
            "report.yaml, so this is an exploratory family)")
    return (f"{MARK}: differs from {tests.reference} at α = {tests.alpha} by the paired t-test over seeds (the seed, "
            "which draws the split, the training samples and the initialisation, is the unit of replication; "
            f"df = seeds − 1), Holm-Bonferroni over {what}"
            + (f" (among them each method's inside pairs against its outside pairs, Table 1's claim: "
               f"comparisons.csv, relation {CONTRAST})" if contrast and not named else "")
            + f". An effect is the mean over seeds of {tests.reference}'s value minus the other method's "
            "(comparisons.csv: method_a − method_b"
            + ("; a Table 1 contrast: inside minus outside" if contrast else "") + ")"
            + ("; for SF, of |SF|: each seed's |SF| minus the other's (--sf-effect abs)" if tests.sf_effect == "abs"
               else "; for SF, of signed SF, though the table ranks |SF| (--sf-effect abs tests |SF|)"
               if sf_rank == "abs" else "")
            + f". With {seeds} seed(s) the test has {max(seeds - 1, 0)} degree(s) of freedom: a missing {MARK} is "
            "often a too small study, not no difference (the notes give what it could detect). comparisons.csv also "
            "gives the t-interval, the exact sign-flip test and P(A better than B) over seeds; and, conditional on "
            "these trained models and never behind " + MARK + ", the user-level permutation test (p_users) and "
            "P(A better than B) over (seed, user) units.")


def power_notes(tests: TestConfig, comparisons) -> list[str]:
    """What the study could detect: per comparison of the family, the minimum detectable effect at
    the α of its Holm step (noncentral t, power ``POWER``, its seeds' spread) and, where a paper
    gap or claim effect is known, the seeds it would need; and the sign-flip test's floor when
    it cannot reach α at these seeds."""
    notes = []
    family = comparisons[comparisons.family != ""] if len(comparisons) else comparisons
    for (dataset, relation, a, b), part in family.groupby(["dataset", "relation", "method_a", "method_b"],
                                                         sort=True) if len(family) else ():
        where = f"{dataset}" + ("" if relation == "all" else f" ({relation})")
        pair = f"{a}'s inside vs its outside pairs" if relation == CONTRAST else f"{a} vs {b}"
        mdes = "; ".join(f"{LABELS[r.metric]}{' (' + r.claim + ')' if r.claim else ''} {r.mde:.2f} "
                         f"at α = {r.alpha_step:.3g}" for r in part.itertuples() if pd.notna(r.mde))
        if mdes:
            notes.append(f"{where}, {pair}: the smallest true effect the seed-level test detects with power "
                         f"{POWER:.0%} at the α of its Holm step, from the spread of its per-seed effects, in points "
                         f"×100 (for a noninferiority claim: the distance above the margin): {mdes}")
        needs = "; ".join(f"{LABELS[r.metric]} {r.paper_gap:+.1f} → {int(r.seeds_for_paper_gap)} seeds"
                          for r in part.itertuples() if pd.notna(r.seeds_for_paper_gap))
        if needs:
            notes.append(f"{where}, {pair}: the paper's effects would need, at these test pairs per seed and "
                         f"this spread: {needs}")
    floors = sorted({(int(r.seeds), r.signflip_floor) for r in family.itertuples()
                     if pd.notna(r.signflip_floor) and r.signflip_floor >= tests.alpha}) if len(family) else []
    if floors:
        notes.append("the exact sign-flip test (p_signflip) cannot go below "
                     + ", ".join(f"{f:.3g} with {n} seeds" for n, f in floors)
                     + f", above α = {tests.alpha}: it is shown, and the t-test decides")
    return notes


def verdict_notes(comparisons) -> list[str]:
    """The verdict rule, where the report tests named claims."""
    if not len(comparisons) or not (comparisons.family == "claims").any():
        return []
    return [f"Verdicts (claims.md): not testable where a row is undefined on a seed, or the two rows make the "
            f"same Yes/No decision on at least {100 * SAME_DECISIONS:g}% of the test pairs on a column read from "
            "decisions (SF, Precision, Recall); agrees where the seed-level test rejects after Holm in the claim's "
            "direction (a noninferiority claim: A − B above −margin, one-sided); disagrees where it rejects in the "
            "other direction, or the one-sided test against the paper's effect rejects after Holm (Holm over "
            "those tests); inconclusive at this size otherwise. A claim with no paper number (expect: differs) "
            "reads differs or inconclusive."]


def record_notes(trials, relations) -> list[str]:
    return [f"excluded {e}" for e in trials.excluded] + [text for relation, text in trials.undefined
                                                          if relation in relations]


def empty_notes(summary) -> list[str]:
    """Every column stays, even one undefined in every row: "–" there, and a note says so."""
    return [f"{LABELS[c]} is undefined in every row (the notes above give each record's reason)"
            for c in LABELS if summary[f"{c}_mean"].isna().all()]


def tradeoff_notes(points, supports: list[int], selected: list[str], first: list[str], rate, min_support: int,
                   left: list[str]) -> list[str]:
    """The notes of a multi-metric search's trade-off (pareto.md): what it holds, its thin test
    |SF|s, and the replicated configurations its recorded rule no longer selects."""
    notes = [f"Trade-off (pareto.md): {len(points)} replicated configuration(s) of a search on validation AUC and "
             f"|SF| ({' and '.join(selected)}); the validation front counts an SF on "
             f"{' or '.join(map(str, supports))} or more recommended targets per group (the sweep's "
             "select.min_support); "
             "means ± sd over seeds, no test made (the table above shows one configuration per arm: of those the "
             "recorded rule selects, the most seeds, "
             f"then the best {' or '.join(first)} of its search trial)"
             + tradeoff_s(rate, selected)]
    if points.test_sf_thin.any():
        notes.append(f"Trade-off: {FLAG} marks a test |SF| resting, on some seed, on fewer than {min_support} "
                     "recommended targets stereotyped to a group (test_sf_support: the fewest)")
    if left:
        notes.append(f"Trade-off: {len(left)} replicated configuration(s) that the sweep's recorded rule no longer "
                     f"selects from the search records are left out of pareto.md: {', '.join(left)}")
    return notes
