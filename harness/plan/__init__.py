"""How many seeds each claim needs, and what they cost, from a pilot's records.

``python -m harness.plan RESULTS_DIR`` reads an experiment's records (the pilot) and its
report.yaml (the claims, and the reading: threshold, decision rate, |SF| or SF), measures every
claim as the report does, and for each one prints the seeds a paired t-test over seeds needs to
detect the planned effect with the asked power, and the machine hours those seeds cost.

- **Planned effect:** ``--effect X`` for every claim, else the claim's own (the paper's A - B,
  named in report.yaml); a noninferiority claim without one is planned at A = B (its distance
  from the margin is the margin). A claim with neither says so and gets no number.
- **Spread:** the SD of the pilot's per-seed effects (its seeds' own split, samples and
  initialisation: the variance a study of this design meets), and beside it the seeds at the
  SD's 80% upper confidence bound, since an SD from 3 seeds is itself uncertain.
- **Level:** Holm's first step, α / m over the m tests of the family (Bonferroni: every claim is
  sized to pass whatever its rank), two-sided (one-sided for a noninferiority claim), as the
  report's verdict rule reads them (``harness.report.claims``).
- **Cost:** the pilot's own ``seconds`` per ok trial of each method (``harness.cost``; the
  machine its records name), times the seeds; a plan's total runs every method at the most
  seeds any of its claims needs. Where ``results/benchmarks/`` holds GPU rates for the pilot's
  backbone at its batch sizes, the same work on that GPU beside it (``cost.trial_seconds`` on
  the pilot records' own work: every head costed as the timed prompt-tuning head). Claims that
  are not testable at the pilot's reading (the rows decide alike, or a row is undefined on a seed)
  are listed with the reason and no size: more seeds cannot help them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

from harness import cost, seed_stats
from harness.rates import gpu_rates
from harness.report.build import measured_trials, seed_list
from harness.report.claims import Claim
from harness.report.compare import compare
from harness.report.comparison import TestConfig
from harness.report.decision import parse_rate
from harness.report.remeasure import describe

UPPER = 0.8  # the confidence of the SD's upper bound a plan is also sized on
# user-level bootstrap resamples, for the test-pair share alone (the seed-level sizes are exact): a variance
# estimated from B resamples carries a relative Monte Carlo error of about sqrt(2 / B), 3% at 2,000 (10% at 200)
RESAMPLES = 2_000
BENCHMARKS = Path("results/benchmarks")  # where GPU rates are looked for


@dataclass(frozen=True)
class ClaimPlan:
    """One claim (on one data set) of a plan."""

    claim: str
    dataset: str
    a: str
    b: str
    metric: str
    expect: str
    pilot_seeds: int
    pilot_effect: float  # the pilot's mean A - B
    pilot_null: float  # the primary test's null: 0, or -margin for a noninferiority claim
    sd: float  # the SD of the pilot's per-seed effects
    sd_upper: float  # its upper confidence bound at UPPER
    planned_effect: float | None
    effect_source: str  # "the paper's, as the claim names it", "--effect", "A = B (margin)", or why none
    alpha: float  # the level it is sized at (Holm's first step)
    alternative: str
    power: float
    seeds: int | None  # the fewest seeds reaching ``power`` at ``sd``
    seeds_at_upper: int | None  # ... at ``sd_upper``
    not_testable: str  # why no number, when the claim is not testable at this reading
    seconds: dict  # method -> mean seconds of one trial in the pilot
    hours: float | None  # ``seeds`` x the two methods' seconds, in hours
    gpu_hours: float | None  # the same on the benchmarked GPU, where it has rates
    relation: str = "all"  # the claim's pair subset, or its contrast (harness.report.subsets)
    # the share of the per-seed variance that sampling the test pairs explains (``share_from_test_pairs``)
    test_share: float | None = None
    seeds_half_test: int | None = None  # the seeds at half the pilot's test pairs a seed (that share doubled)
    seeds_no_test_noise: int | None = None  # ... with no test sampling at all (the floor any allocation meets)


@dataclass(frozen=True)
class Plan:
    experiment: str
    claims: tuple[ClaimPlan, ...]
    family: int  # m: the tests Holm adjusts over
    methods: dict  # arm -> {"seeds": most needed, "seconds", "hours", "gpu_seconds", "gpu_hours"}
    machines: str  # the CPU models the pilot's seconds come from
    gpu: str | None  # the benchmarked GPU the gpu figures are for
    reading: str  # how the claims were measured

    def to_dict(self) -> dict:
        return asdict(self)


def arm_costs(trials, benchmarks: Path | None = BENCHMARKS) -> tuple[dict[str, dict], str | None]:
    """arm -> {"seconds": the mean seconds of its ok records, "machines", "gpu_seconds": one trial of
    the same work on the benchmarked GPU or None}, and that GPU (None where no rates)."""
    records = list(trials.records.values())
    costs, device = {}, None
    for arm, stats in cost.seconds_per_trial(records).items():
        record = next(r for r in records if r.job.arm == arm and r.seconds is not None)
        train = (record.config or {}).get("train") or {}
        rates = (
            gpu_rates(benchmarks, record.job.backbone, train.get("batch_size"), train.get("eval_batch_size"))
            if benchmarks and Path(benchmarks).is_dir()
            else None
        )
        w = cost.record_work(record)
        gpu = (
            cost.trial_seconds(w, rates["train"]["samples_per_s"], rates["eval"]["samples_per_s"], w.epochs)
            if rates and w
            else None
        )
        device = device or (rates["train"]["device"] if rates else None)
        costs[arm] = {"seconds": stats["mean"], "machines": stats["machines"], "gpu_seconds": gpu}
    return costs, device


def make_plan(
    folder,
    claims: tuple[Claim, ...],
    options: dict,
    effect: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    benchmarks: Path | None = BENCHMARKS,
    log=lambda *_: None,
) -> Plan:
    """The plan for the experiment under ``folder`` (module docstring). ``options``: the report's
    reading (report.yaml's keys: reference, z, threshold_scope, decision_rate, sf_reading,
    sf_effect, seeds). Without claims, the reference against every other method on every column is the
    family, and each needs ``effect`` (or a paper gap the experiment's name gives)."""
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ValueError(f"power and alpha must be in (0, 1), got {power} and {alpha}")
    reference = options.get("reference", "mos")
    rate = parse_rate(options.get("decision_rate"))
    sf_reading = options.get("sf_reading", "all")
    trials, _, threshold, _ = measured_trials(
        folder,
        None,
        reference,
        claims,
        options.get("z"),
        options.get("threshold_scope"),
        rate,
        sf_reading,
        log=log,
        seeds=seed_list(options.get("seeds")),
        claims_only=bool(claims),
    )
    tests = TestConfig(reference, alpha, RESAMPLES, 0, sf_reading, options.get("sf_effect", "signed"), tuple(claims))
    from harness.report import paper

    rows = compare(trials, tests, ("all",), log, paper.table_for(trials.experiment), methods=set() if claims else None)
    rows = rows[rows.family != ""]
    level = alpha / max(1, len(rows))
    costs, device = arm_costs(trials, benchmarks)
    by_name = {c.name: c for c in claims}
    plans = [_claim_plan(r, by_name.get(r.claim), effect, power, level, costs, alpha) for r in rows.itertuples()]
    methods: dict[str, dict] = {}
    for p in plans:
        for m in dict.fromkeys((p.a, p.b)):
            arm = f"{p.dataset}/{m}"
            need = max(methods.get(arm, {}).get("seeds") or 0, p.seeds or 0)
            methods[arm] = {"seeds": need or None, **costs.get(arm, {"seconds": None, "gpu_seconds": None})}
    for m in methods.values():
        m.pop("machines", None)
        m["hours"] = m["seeds"] * m["seconds"] / 3600 if m["seeds"] and m["seconds"] else None
        m["gpu_hours"] = m["seeds"] * m["gpu_seconds"] / 3600 if m["seeds"] and m["gpu_seconds"] else None
    machines = sorted({machine for c in costs.values() for machine in c["machines"]})
    reading = (
        f"stereotyped items at {describe(threshold)}"
        if threshold is not None
        else "each record's own stereotype threshold"
    ) + ("; S = the Yes answers" if rate is None else f"; S = each row's top-scored pairs at rate {rate}")
    return Plan(
        trials.experiment, tuple(plans), len(rows), methods, "; ".join(machines) or "not recorded", device, reading
    )


def _planned_effect(row, claim: Claim | None, effect) -> tuple[float | None, str]:
    """The effect a claim is sized for, and where it comes from: --effect, the claim's (the paper's),
    A = B for a noninferiority claim, the paper's gap in its table; none otherwise."""
    if effect is not None:
        return effect, "--effect"
    if claim is not None and claim.effect is not None:
        return claim.effect, "the paper's, as the claim names it"
    if claim is not None and claim.expect == "noninferior":
        return 0.0, "A = B (the distance from the margin is the margin)"
    if claim is None and not np.isnan(row.paper_gap):
        return float(row.paper_gap), "the paper's gap (its table)"
    return None, "none: give the claim an effect (report.yaml or --options FILE) or pass --effect"


def share_from_test_pairs(
    sd: float, seeds: int, ci_users_low: float, ci_users_high: float, alpha: float
) -> float | None:
    """The share of the per-seed variance (``sd``²) that sampling the test pairs explains: a seed's
    effect has the user-level SE of the mean-over-seeds effect times √seeds, read off the user-level
    bootstrap interval at 1 - ``alpha`` (its width over 2 z). Above 1 where the seeds agree more than
    test sampling alone predicts (an SD from few seeds is itself noisy); None where undefined."""
    width = ci_users_high - ci_users_low
    if seeds < 2 or not np.isfinite(width) or not np.isfinite(sd) or sd <= 0:
        return None
    se = width / (2 * norm.ppf(1 - alpha / 2)) * np.sqrt(seeds)
    return float(se**2 / sd**2)


def _claim_plan(
    row, claim: Claim | None, effect, power: float, level: float, costs: dict, alpha: float = 0.05
) -> ClaimPlan:
    alternative = claim.primary[1] if claim else "two-sided"
    planned, source = _planned_effect(row, claim, effect)
    distance = None if planned is None else (claim.power_distance(planned) if claim else abs(planned))
    sd, n = float(row.sd), int(row.seeds)
    upper = seed_stats.sd_upper(sd, n, UPPER)
    size = (
        (lambda s: seed_stats.seeds_needed(distance, s, level, power, alternative))
        if distance is not None and not row.not_testable
        else (lambda s: None)
    )
    seeds = size(sd)
    share = share_from_test_pairs(sd, n, row.ci_users_low, row.ci_users_high, alpha)
    within = None if share is None else min(share, 1.0) * sd**2  # the test sampling part of sd²
    arms = [costs.get(f"{row.dataset}/{m}", {}) for m in dict.fromkeys((row.method_a, row.method_b))]

    def hours(key: str) -> float | None:
        each = [a.get(key) for a in arms]
        return seeds * sum(each) / 3600 if seeds and all(e is not None for e in each) else None

    return ClaimPlan(
        row.claim or f"{row.method_a} vs {row.method_b}",
        row.dataset,
        row.method_a,
        row.method_b,
        row.metric,
        claim.expect if claim else "differs",
        n,
        float(row.effect),
        float(row.null),
        sd,
        upper,
        planned,
        source,
        level,
        alternative,
        power,
        seeds,
        size(upper),
        row.not_testable,
        {m: costs.get(f"{row.dataset}/{m}", {}).get("seconds") for m in (row.method_a, row.method_b)},
        hours("seconds"),
        hours("gpu_seconds"),
        row.relation,
        share,
        None if within is None else size(np.sqrt(sd**2 + within)),
        None if within is None or sd**2 - within <= 0 else size(np.sqrt(sd**2 - within)),
    )
