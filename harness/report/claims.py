"""The claims an experiment tests, named before its first record in its ``report.yaml``, and the
verdict on each.

A claim compares method A with method B on one column (``metric``) of one pair subset
(``relation``), or one method's pairs of two subsets (a contrast, with A = B: Table 1's
``inside-outside``; Figure 4's ``users:male-users:female`` and ``targets:male-targets:female``;
Figure 5's ``below-above``; the subsets are ``harness.report.subsets``'), and says what it
expects of the effect A - B (a contrast's: its first subset's value minus its second's):

- ``lower`` / ``higher``: A's value is below / above B's (a paper's "MoS has lower SF"); ``effect``
  is the paper's A - B, whose sign must match;
- ``noninferior``: A is not worse than B by more than ``margin`` (a paper's "at an AUC within 2
  points": A - B > -margin); ``effect``, optional, is the paper's A - B (for power);
- ``differs``: a two-sided question the paper puts no number on (e.g. one router against
  another); ``effect``, optional, is the smallest difference that matters (for power).

SF (Eq. 4) is claimed on all, inside, outside or inside-outside only: the paper defines it on no
other subset. An SF claim reads ``sf_effect`` ("abs": |SF(A)| - |SF(B)| per seed, "lower SF" read as closer
to 0; "signed": SF(A) - SF(B)); by default the report's. Holm-Bonferroni adjusts over exactly
these claims (their family), and † and every verdict come from the seed-level test
(``harness.seed_stats``) alone.

The verdict rule (``verdict``), four outcomes:

- **not testable**: a row's metric is undefined on a seed both ran, fewer than 2 seeds, or, for
  a column read from decisions (SF, Precision, Recall), the two rows make the same Yes/No
  decision on at least ``SAME_DECISIONS`` of the test pairs (pooled over seeds): a difference
  of ~0 there says the rows decide alike, not that the study had power;
- **agrees**: the primary test rejects after Holm, in the claim's direction (``noninferior``:
  the one-sided test of A - B <= -margin rejects);
- **disagrees**: the primary test rejects in the other direction, or the test against the
  paper's effect rejects after Holm (``lower``/``higher``: A - B is smaller than the paper's
  effect, one-sided at the paper's value; ``noninferior``: A - B is below -margin);
- **inconclusive at this size** otherwise, with the seeds the paper's effect would need.
A ``differs`` claim reads **differs** where the two-sided test rejects after Holm, else
inconclusive at this size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from harness.report.collect import ReportError
from harness.report.subsets import SubsetError, groups_named, parse

EXPECTS = ("lower", "higher", "noninferior", "differs")
SF_RELATIONS = ("all", "inside", "outside", "inside-outside")  # where the paper defines SF (Eq. 4, Table 1)
METRICS = ("sf_implicit", "sf_explicit", "sf_counterfactual", "auc", "precision", "recall")
DECIDED = ("sf_implicit", "sf_explicit", "sf_counterfactual", "precision", "recall")  # read from Yes/No decisions
SAME_DECISIONS = 0.99  # rows deciding alike on this share of pairs cannot differ on a decision metric
AGREES, DISAGREES, INCONCLUSIVE, UNTESTABLE, DIFFERS = (
    "agrees",
    "disagrees",
    "inconclusive at this size",
    "not testable",
    "differs",
)


class ClaimError(ReportError):
    """A claim in report.yaml that cannot be tested as written; the message names the claim and key."""


@dataclass(frozen=True)
class Claim:
    name: str
    a: str  # method A (a row of the table, by method name)
    b: str  # method B; = A for a contrast of two pair subsets (inside-outside, below-above, ...)
    metric: str  # a column: sf_implicit, ..., auc, precision, recall
    expect: str  # lower, higher, noninferior, differs
    effect: float | None = None  # the paper's A - B (×100), or the smallest difference that matters
    margin: float | None = None  # noninferior: A - B > -margin (×100 points)
    relation: str = "all"  # a pair subset, or a contrast "<subset>-<subset>" (harness.report.subsets)
    dataset: str | None = None  # None: every data set holding both rows (one test each)
    sf_effect: str | None = None  # "abs" or "signed"; None: the report's
    statement: str = ""  # the claim in words, as the paper makes it

    def __post_init__(self):
        where = f"claim {self.name!r}"
        if self.expect not in EXPECTS:
            raise ClaimError(f"{where}: expect must be one of {', '.join(EXPECTS)}, got {self.expect!r}")
        if self.metric not in METRICS:
            raise ClaimError(f"{where}: metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        self._check_relation(where)
        if self.sf_effect not in (None, "abs", "signed"):
            raise ClaimError(f"{where}: sf_effect must be abs or signed, got {self.sf_effect!r}")
        if self.expect == "noninferior" and (self.margin is None or not self.margin > 0):
            raise ClaimError(f"{where}: a noninferior claim needs margin > 0 (A - B > -margin), got {self.margin}")
        if self.expect != "noninferior" and self.margin is not None:
            raise ClaimError(f"{where}: margin applies to expect: noninferior only")
        if (
            self.expect in ("lower", "higher")
            and self.effect is not None
            and (self.effect < 0) != (self.expect == "lower")
        ):
            raise ClaimError(
                f"{where}: expect {self.expect} with the paper's effect {self.effect:+g}: "
                "the sign of effect (A - B) must match"
            )

    def _check_relation(self, where: str) -> None:
        """The relation parses, A = B exactly for a contrast, and SF only where the paper defines it."""
        try:
            _, second = parse(self.relation)
        except SubsetError as error:
            raise ClaimError(f"{where}: relation: {error}") from error
        if (second is not None) != (self.a == self.b):
            raise ClaimError(
                f"{where}: a and b name the same method exactly when relation is a contrast of two pair "
                "subsets (one model's pairs of one subset against its pairs of another: inside-outside, "
                f"users:<g>-users:<h>, targets:<g>-targets:<h>, below-above); got a={self.a!r}, "
                f"b={self.b!r}, relation={self.relation!r}"
            )
        if self.metric.startswith("sf_") and self.relation not in SF_RELATIONS:
            raise ClaimError(
                f"{where}: {self.metric} on relation {self.relation!r}: the paper defines SF (Eq. 4, which "
                "reads the users' groups and the targets' stereotypes itself) on all pairs and Table 1's "
                f"inside and outside pairs only; claim SF on {', '.join(SF_RELATIONS)}, or auc, precision "
                f"or recall on {self.relation}"
            )

    def check_groups(self, groups: tuple[str, ...], dataset: str) -> None:
        """Refuses a relation that names a group ``dataset`` does not have (its groups: ``groups``)."""
        unknown = [g for g in groups_named(self.relation) if g not in groups]
        if unknown:
            raise ClaimError(
                f"claim {self.name!r}: relation {self.relation!r} names group(s) {unknown}, which {dataset} "
                f"does not have; its groups are {', '.join(groups) or 'none'}"
                + (f" (e.g. users:{groups[0]}-users:{groups[1]})" if len(groups) > 1 else "")
            )

    # ---- the tests a claim makes, as (null, alternative) of harness.seed_stats.t_test
    @property
    def primary(self) -> tuple[float, str]:
        """The test behind † and "agrees": A - B against 0 two-sided; noninferior: one-sided
        against -margin (H1: A - B > -margin)."""
        return (-self.margin, "greater") if self.expect == "noninferior" else (0.0, "two-sided")

    @property
    def against_paper(self) -> tuple[float, str] | None:
        """The test behind "disagrees" (one-sided): lower/higher, H1: the effect is smaller than the
        paper's; noninferior, H1: A - B < -margin; None where there is nothing to disagree with."""
        if self.expect == "noninferior":
            return -self.margin, "less"
        if self.expect in ("lower", "higher") and self.effect is not None:
            return self.effect, "greater" if self.expect == "lower" else "less"
        return None

    def power_distance(self, effect: float | None = None) -> float | None:
        """How far ``effect`` (default: the claim's) lies from the primary null, in the primary
        test's direction: what an MDE is compared with and seeds are sized on."""
        effect = self.effect if effect is None else effect
        if effect is None or np.isnan(effect):
            return None
        return effect + self.margin if self.expect == "noninferior" else abs(effect)

    def describe(self) -> str:
        what = {
            "lower": "lower than",
            "higher": "higher than",
            "differs": "different from",
            "noninferior": f"within {self.margin:g} points of (not below)",
        }[self.expect]
        subset = "" if self.relation == "all" else f" ({self.relation} pairs)"
        first, second = parse(self.relation)
        if self.relation == "inside-outside":
            return f"{self.a}'s {self.metric} inside the user's group {what} outside"
        if second is not None:
            return f"{self.a}'s {self.metric} on its {first} pairs {what} on its {second} pairs"
        return f"{self.a}'s {self.metric}{subset} {what} {self.b}'s"


FIELDS = {f.name for f in dataclasses.fields(Claim)}


def parse_claims(values, where: str = "report.yaml") -> tuple[Claim, ...]:
    """``claims:`` of an experiment's report.yaml: a list of mappings with Claim's fields; names
    unique. Every error names the claim and the key."""
    if values is None:
        return ()
    if not isinstance(values, list):
        raise ClaimError(f"{where}: claims must be a list of mappings, got {type(values).__name__}")
    claims = []
    for i, entry in enumerate(values):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ClaimError(f"{where}: claim {i + 1} must be a mapping with a name, got {entry!r}")
        unknown = sorted(set(entry) - FIELDS)
        missing = sorted({"a", "b", "metric", "expect"} - set(entry))
        if unknown or missing:
            raise ClaimError(
                f"{where}: claim {entry['name']!r}: "
                + "; ".join(
                    ([f"unknown key(s) {unknown} (known: {', '.join(sorted(FIELDS))})"] if unknown else [])
                    + ([f"missing {', '.join(missing)}"] if missing else [])
                )
            )
        try:
            claims.append(
                Claim(**{k: (float(v) if k in ("effect", "margin") and v is not None else v) for k, v in entry.items()})
            )
        except (TypeError, ValueError) as error:
            raise ClaimError(f"{where}: {error}") from error
    names = [c.name for c in claims]
    if len(set(names)) < len(names):
        raise ClaimError(
            f"{where}: claim names must be unique; repeated: {sorted({n for n in names if names.count(n) > 1})}"
        )
    return tuple(claims)


def verdict(claim: Claim, row: dict, alpha: float) -> tuple[str, str]:
    """(verdict, why) of one claim from its comparison row (``comparison.FIELDS``), by the rule in
    the module docstring."""
    if row.get("untestable"):
        return UNTESTABLE, row["untestable"]
    effect, p_adjusted = row["effect"], row["p_adjusted"]
    if np.isnan(p_adjusted):
        return UNTESTABLE, row.get("note") or "no seed-level p"
    rejects = p_adjusted < alpha
    against = row.get("p_paper_adjusted", np.nan)
    needs = row.get("seeds_for_paper_gap")
    more = (
        f"; at the effect of {claim.effect:+.1f} about {int(needs)} seeds would detect it (80% power)"
        if claim.effect is not None and needs is not None and not np.isnan(needs)
        else ""
    )
    if claim.expect == "differs":
        if rejects:
            return DIFFERS, f"{'A above B' if effect > 0 else 'A below B'}, p = {p_adjusted:.3g} after Holm"
        return INCONCLUSIVE, f"p = {p_adjusted:.3g} after Holm{more}"
    if claim.expect == "noninferior":
        if rejects:
            return AGREES, f"A - B > -{claim.margin:g} (one-sided p = {p_adjusted:.3g} after Holm)"
        if against < alpha:
            return DISAGREES, f"A - B < -{claim.margin:g} (one-sided p = {against:.3g} after Holm)"
        return (
            INCONCLUSIVE,
            f"neither side of the margin is shown (p = {p_adjusted:.3g} and {against:.3g} after Holm){more}",
        )
    expected = -1 if claim.expect == "lower" else 1
    if rejects and np.sign(effect) == expected:
        smaller = (
            f"; smaller than the paper's {claim.effect:+.1f} (one-sided p = {against:.3g} after Holm)"
            if against < alpha
            else ""
        )
        return AGREES, f"p = {p_adjusted:.3g} after Holm{smaller}"
    if rejects:
        return DISAGREES, f"significant in the other direction (p = {p_adjusted:.3g} after Holm)"
    if against < alpha:
        return DISAGREES, f"the paper's {claim.effect:+.1f} is rejected (one-sided p = {against:.3g} after Holm)"
    return INCONCLUSIVE, f"p = {p_adjusted:.3g} after Holm" + (
        f"; the paper's {claim.effect:+.1f} is not rejected (one-sided p = {against:.3g})"
        if not np.isnan(against)
        else ""
    ) + more
