"""``python -m harness.plan``: seeds and machine hours per claim, from a pilot's records."""

import json

import numpy as np
import pytest
import yaml

from harness import seed_stats
from harness.plan import make_plan
from harness.plan.__main__ import main
from harness.records import Store
from harness.report.claims import parse_claims
from harness.report.collect import ReportError

from .report.fixtures import write_record

CLAIMS = [
    {"name": "auc-up", "a": "mos", "b": "weak", "metric": "auc", "expect": "higher", "effect": 5.0},
    {"name": "auc-margin", "a": "mos", "b": "weak", "metric": "auc", "expect": "noninferior", "margin": 2.0},
    {"name": "sf-twin", "a": "mos", "b": "twin", "metric": "sf_implicit", "expect": "lower", "effect": -20.0},
    {"name": "router", "a": "mos", "b": "weak", "metric": "auc", "expect": "differs"},
]
SECONDS = {"mos": 100.0, "weak": 50.0, "twin": 100.0}


@pytest.fixture
def pilot(tmp_path):
    store = Store(str(tmp_path / "pilot"))
    for method, shift in (("mos", 1.5), ("weak", 1.2), ("twin", 1.5)):
        for seed in (0, 1, 2):
            write_record(
                store,
                "table4_fairness_methods",
                "movielens-100k",
                method,
                seed,
                shift,
                noise_of="mos" if method == "twin" else None,
                seconds=SECONDS[method] + seed,
            )
    (tmp_path / "pilot" / "report.yaml").write_text(yaml.safe_dump({"claims": CLAIMS}))
    return tmp_path / "pilot"


def test_each_claim_gets_the_seeds_the_noncentral_t_gives_and_their_hours(pilot):
    plan = make_plan(pilot, parse_claims(CLAIMS), {})
    by = {c.claim: c for c in plan.claims}
    assert plan.family == 4 and all(c.alpha == pytest.approx(0.05 / 4) for c in plan.claims)
    up = by["auc-up"]
    assert up.seeds == seed_stats.seeds_needed(5.0, up.sd, 0.05 / 4) and up.seeds >= 2
    assert up.seeds_at_upper >= up.seeds and up.sd_upper > up.sd
    assert up.hours == pytest.approx(up.seeds * (101.0 + 51.0) / 3600)  # mean seconds: 101 and 51
    margin = by["auc-margin"]  # no paper number: planned at A = B, 2 points from the margin
    assert margin.planned_effect == 0.0 and margin.alternative == "greater"
    assert margin.seeds == seed_stats.seeds_needed(2.0, margin.sd, 0.05 / 4, alternative="greater")
    assert by["sf-twin"].not_testable and by["sf-twin"].seeds is None  # the twin decides alike
    assert by["router"].planned_effect is None and by["router"].seeds is None
    assert plan.methods["movielens-100k/mos"]["seeds"] == max(up.seeds, margin.seeds)
    assert plan.machines == "Test CPU"
    forced = make_plan(pilot, parse_claims(CLAIMS), {}, effect=3.0)
    assert {c.claim: c.planned_effect for c in forced.claims}["router"] == 3.0


def test_the_command_prints_the_plan_and_json(pilot, capsys):
    assert main([str(pilot)]) == 0
    out = capsys.readouterr().out
    assert "4 test(s) in the family" in out and "not testable at this reading" in out and "Test CPU" in out
    assert "seeds per method" in out and "h in all" in out
    assert main([str(pilot), "--json", "--power", "0.9"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["claim"] for c in data["claims"]} == {"auc-up", "auc-margin", "sf-twin", "router"}
    assert all(c["power"] == 0.9 for c in data["claims"])
    assert main([str(pilot), "--power", "1.5"]) == 2
    assert "power and alpha must be in (0, 1)" in capsys.readouterr().err
    assert main([str(pilot.parent / "absent")]) == 2


def test_without_claims_the_tables_comparisons_are_planned_at_the_given_effect(pilot):
    (pilot / "report.yaml").unlink()
    plan = make_plan(pilot, (), {}, effect=4.0)
    assert plan.family == 2 * 6 and all(c.planned_effect == 4.0 for c in plan.claims)
    assert np.isfinite([c.sd for c in plan.claims]).all()


def test_the_gpu_projection_costs_the_pilot_records_own_work():
    from pathlib import Path

    from harness.plan import arm_costs
    from harness.report.collect import load

    root = Path(__file__).resolve().parents[1]
    trials = load(root / "results" / "study-smollm2-ml100k")
    costs, device = arm_costs(trials, root / "results" / "benchmarks")
    assert "H200" in device
    tallrec = costs["movielens-100k/tallrec"]
    assert tallrec["seconds"] == pytest.approx(
        np.mean([r.seconds for r in trials.records.values() if r.job.method == "tallrec"])
    )
    assert 0 < tallrec["gpu_seconds"] < tallrec["seconds"]
    assert arm_costs(trials, None)[1] is None


def test_another_options_file_names_another_family(pilot, tmp_path, capsys):
    """--options FILE reads the claims from FILE, not EXPERIMENT/report.yaml (a second family, Holm over
    its own claims), for the plan and the report alike; a FILE that is not there is refused."""
    from harness.report.__main__ import main as report_main

    second = tmp_path / "second.yaml"
    second.write_text(yaml.safe_dump({"claims": CLAIMS[:1]}))
    assert main([str(pilot), "--options", str(second), "--json"]) == 0
    assert [c["claim"] for c in json.loads(capsys.readouterr().out)["claims"]] == ["auc-up"]
    out = tmp_path / "second-report"
    argv = [str(pilot), "--options", str(second), "--out", str(out), "--no-figures", "--resamples", "200"]
    assert report_main(argv) == 0
    assert "1 claim(s) from " + str(second) in capsys.readouterr().err
    assert "auc-up" in (out / "claims.md").read_text() and "sf-twin" not in (out / "claims.md").read_text()
    assert report_main([str(pilot), "--options", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert "--options" in err and "no such file" in err


def test_a_pilot_of_one_seed_asks_for_more_pilot_seeds_not_calls_the_claim_untestable(pilot, capsys):
    """An arm the pilot ran on one seed has no SD yet: the plan says the pilot needs a second seed, and
    does not call the claim untestable (which more seeds could not help)."""
    for seed in (1, 2):
        for path in (pilot / "trials").glob(f"*weak*seed{seed}.*"):
            path.unlink()
    assert main([str(pilot)]) == 0
    out = capsys.readouterr().out
    block = out.split("auc-up (")[1].split("\n\n")[0]
    assert "no size yet: 1 seed(s)" in block and "at least 2 seeds" in block
    assert "more seeds cannot help" not in block


def test_the_share_from_test_pairs_reads_the_user_level_interval_as_a_seeds_se():
    """share = (interval width / 2z × √seeds)² / SD²: a seed's effect's user-level variance over the
    per-seed variance; undefined with fewer than 2 seeds, no interval or no spread."""
    from scipy.stats import norm

    from harness.plan import share_from_test_pairs

    z = norm.ppf(0.975)
    # a pooled SE of 1 over 4 seeds is a seed SE of 2: variance 4, against an SD of 4 (variance 16)
    assert share_from_test_pairs(4.0, 4, -z, z, 0.05) == pytest.approx(0.25)
    assert share_from_test_pairs(1.0, 4, -z, z, 0.05) == pytest.approx(4.0)  # seeds agree more than sampling says
    assert share_from_test_pairs(4.0, 1, -z, z, 0.05) is None
    assert share_from_test_pairs(4.0, 4, np.nan, np.nan, 0.05) is None
    assert share_from_test_pairs(0.0, 4, -z, z, 0.05) is None


def test_each_claim_says_what_half_the_test_pairs_and_none_of_their_noise_would_need(pilot, capsys):
    plan = make_plan(pilot, parse_claims(CLAIMS), {})
    shares = [c for c in plan.claims if c.test_share is not None]
    assert shares and all(c.test_share > 0 for c in shares)
    for c in shares:  # half the pairs never needs fewer seeds; no test noise never more
        assert c.seeds is None or c.seeds_half_test >= c.seeds
        assert c.test_share >= 1 or c.seeds is None or c.seeds_no_test_noise <= c.seeds
    assert main([str(pilot)]) == 0
    assert "test-pair sampling: about" in capsys.readouterr().out


def test_seeds_in_the_options_plan_from_those_seeds_alone(pilot):
    """report.yaml's ``seeds:`` (a row that pairs with some seeds of another study's) reads the same
    seeds in the plan as in the report."""
    by = {c.claim: c for c in make_plan(pilot, parse_claims(CLAIMS), {"seeds": "0,1"}).claims}
    assert by["auc-up"].pilot_seeds == 2
    assert {c.claim: c.pilot_seeds for c in make_plan(pilot, parse_claims(CLAIMS), {}).claims}["auc-up"] == 3
    # a method no claim reads (a later study's arm on fewer seeds) does not stop the plan; a claim's does
    write_record(Store(str(pilot)), "table4_fairness_methods", "movielens-100k", "later", 0, 0.0)
    assert len(make_plan(pilot, parse_claims(CLAIMS), {"seeds": "0,1,2"}).claims) == len(CLAIMS)
    write_record(Store(str(pilot)), "table4_fairness_methods", "movielens-100k", "weak", 3, 1.2)
    with pytest.raises(ReportError, match=r"mos on movielens-100k has no ok record of seed\(s\) \[3\]"):
        make_plan(pilot, parse_claims(CLAIMS), {"seeds": "0,1,2,3"})
