"""The report's prose, its caption: what the table shows and how it was measured and tested, from
what the report measured (the notes under the table: ``harness.report.notes``). Every sentence
here states a number or a choice of the report's own; none is typed in."""

from __future__ import annotations

import pandas as pd

from harness.report.comparison import CONTRAST, TestConfig
from harness.report.decision import describe as describe_rate
from harness.report.reference import DRAWS
from harness.report.remeasure import by_threshold, describe
from harness.report.subsets import is_contrast
from harness.report.support import FLAG, MIN_SUPPORT
from harness.report.table import MARK


def decision_sentence(rate) -> str:
    """The caption's sentence on Eq. 4's S where it is not the paper's (the Yes answers)."""
    if rate is None:
        return ""
    return (
        f" Recommendations (Eq. 4's S) are each row's top-scored test pairs, {describe_rate(rate)}, per seed "
        "and prompt setting, not the pairs it answers Yes (this harness's reading of the paper's S; "
        "--decision-rate yes): SF, Precision and Recall are measured there, AUC does not change; the reference "
        "rows random and oracle (liked pairs first) recommend the same share, all-yes every pair; the paper's "
        "published numbers, where shown, are on its own S."
    )


def threshold_sentence(trials, threshold) -> str:
    """The caption's last sentence: the stereotype threshold the rows are measured at, and the
    trials' own where they ran at another (whatever read stereotype labels in training read those)."""
    own = by_threshold(trials.records.values())
    if threshold is None:
        return (
            " Stereotyped items (Eq. 3) at each trial's own threshold, which differ between rows: "
            + "; ".join(f"{t}: {', '.join(m)}" for t, m in own.items())
            + " (--z and --threshold-scope measure every row at one)."
        )
    other = {t: m for t, m in own.items() if t != describe(threshold)}
    text = f" Stereotyped items (Eq. 3) at {describe(threshold)}, for every row"
    if not other:
        return text + "."
    return (
        text
        + "; the trials of "
        + "; ".join(f"{', '.join(m)} ran at {t}" for t, m in other.items())
        + ": their scores are measured here at the threshold above, while whatever they trained on stereotype "
        "labels (L_fair, Eq. 12) was trained at theirs."
    )


def caption(
    tests: TestConfig,
    comparisons,
    significance: bool,
    summary,
    table,
    sf_rank: str = "abs",
    min_support: int = MIN_SUPPORT,
    backbones=(),
) -> str:
    seeds = sorted(set(summary.loc[summary.source == "ours", "n"].astype(int)))
    sf = (
        "SF is ranked by |SF|, its distance from 0 (SF < 0 is under-recommendation, not fairness; "
        "--sf-rank signed ranks it as the paper does)"
        if sf_rank == "abs"
        else "SF ↓ lower is better, ranked signed as the paper does (a negative SF, under-recommendation, ranks "
        "as fairest)"
    )
    reading = (
        "Eq. 4's denominator counts the recommended targets stereotyped to G over all recommended pairs, "
        "as printed (--sf-reading group_users: over G's users' pairs only)"
        if tests.sf_reading == "all"
        else "Eq. 4's denominator counts the recommended targets stereotyped to G over G's users' recommended "
        "pairs only (--sf-reading group_users; the paper prints the all-pairs reading)"
    )
    text = (
        f"Values ×100 (Params % as printed), mean ± standard deviation over n seeds (n = "
        f"{', '.join(map(str, seeds))}). SF: {reading}. {sf}; AUC, Precision, Recall ↑ higher is better; "
        "Params ↓ fewer is better. Bold: best, underline: second best, per data set, among means over every "
        "seed of their row: a [k/n seeds] mean is shown but never ranked or compared. AUC, Precision and "
        "Recall are under the prompt setting each model was trained on. "
        f"(±x%): {tests.reference}'s change relative to the best other method of the column"
        f"{' (of |SF| for SF)' if sf_rank == 'abs' else ''}."
    )
    if significance:
        text += " " + significance_sentence(tests, comparisons, sf_rank, max(seeds))
    else:
        text += " No significance tests were run (--no-significance)."
    return text + _rows_sentences(summary, table, min_support, backbones)


def _rows_sentences(summary, table, min_support: int, backbones) -> str:
    """The caption's sentences on particular rows: thin SFs, the reference rows, the paper's rows."""
    text = ""
    ours = summary[summary.source == "ours"]
    if any(
        ours.get(f"{c}_thin", pd.Series(dtype=bool)).any() for c in ("sf_implicit", "sf_explicit", "sf_counterfactual")
    ):
        text += (
            f" {FLAG}: on some seed this SF rests on fewer than {min_support} recommended targets stereotyped "
            "to a group (Eq. 4's denominator; the notes and the SF support table say where), so one "
            "prediction moves it a lot."
        )
    if (summary.source == "reference").any():
        text += (
            " Rows marked (reference) learn nothing and are never ranked: all-yes recommends every pair, "
            "oracle exactly the liked targets, random scores are standard normal (mean of "
            f"{DRAWS} seeded draws); each is scored on the same test pairs as the methods of its seed, so "
            "they give SF its zero point on this split."
        )
    if table is not None:
        text += f" Rows marked (paper): the published numbers of the paper's {table.caption}."
        if backbones and not all(b.startswith("t5") for b in backbones):
            text += (
                f" They are not comparable with ours: the paper's backbone is T5 (t5-base), these records' "
                f"is {', '.join(sorted(backbones))}."
            )
        if "bookcrossing" in set(summary.dataset):
            text += " The paper's BookCrossing is the full data set; compare with a subset's rows with care."
    return text


def significance_sentence(tests: TestConfig, comparisons, sf_rank: str, seeds: int) -> str:
    """What † means: the test, its level, its family, and what the effect is."""
    family = comparisons[comparisons.family != ""] if len(comparisons) else comparisons
    named = bool(len(family)) and (family.family == "claims").all()
    contrast = (comparisons.relation == CONTRAST).any() if len(comparisons) else False
    tested = int(family.p.notna().sum()) if len(family) else 0
    untested = (
        f"; {len(family) - tested} more could not be tested (comparisons.csv says why)" if tested < len(family) else ""
    )
    what = (
        f"the {tested} test(s) of the claims named before the records in the experiment's report.yaml "
        f"(claims.md gives each verdict){untested}; a cell no claim tests carries no " + MARK
        if named
        else f"the {tested} tested comparisons of this table{untested} (no claims are named in the experiment's "
        "report.yaml, so this is an exploratory family)"
    )
    return (
        f"{MARK}: differs from {tests.reference} at α = {tests.alpha} by the paired t-test over seeds (the seed, "
        "which draws the split, the training samples and the initialisation, is the unit of replication; "
        f"df = seeds − 1), Holm-Bonferroni over {what}"
        + (
            f" (among them each method's inside pairs against its outside pairs, Table 1's claim: "
            f"comparisons.csv, relation {CONTRAST})"
            if contrast and not named
            else ""
        )
        + f". An effect is the mean over seeds of {tests.reference}'s value minus the other method's "
        "(comparisons.csv: method_a − method_b"
        + ("; a Table 1 contrast: inside minus outside" if contrast else "")
        + _other_contrasts(comparisons)
        + ")"
        + (
            "; for SF, of |SF|: each seed's |SF| minus the other's (--sf-effect abs)"
            if tests.sf_effect == "abs"
            else "; for SF, of signed SF, though the table ranks |SF| (--sf-effect abs tests |SF|)"
            if sf_rank == "abs"
            else ""
        )
        + f". With {seeds} seed(s) the test has {max(seeds - 1, 0)} degree(s) of freedom: a missing {MARK} is "
        "often a too small study, not no difference (the notes give what it could detect). comparisons.csv also "
        "gives the t-interval, the exact sign-flip test and P(A better than B) over seeds; and, conditional on "
        "these trained models and never behind " + MARK + ", the user-level permutation test (p_users) and "
        "P(A better than B) over (seed, user) units."
    )


def _other_contrasts(comparisons) -> str:
    """The effect of the claims' contrasts other than Table 1's (Figures 4 and 5), or ""."""
    named = sorted({r for r in comparisons.relation if r != CONTRAST and is_contrast(r)}) if len(comparisons) else []
    return (
        f"; a contrast of one method's pair subsets, as {', '.join(named)}: its first subset's value minus its second's"
        if named
        else ""
    )
