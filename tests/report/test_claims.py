"""The claims an experiment names in report.yaml: parsing, the verdict rule, and the report that
tests them (Holm over them alone, † from them alone, claims.md)."""

import numpy as np
import pytest
import yaml

from harness.records import Store
from harness.report import build_report
from harness.report.__main__ import main
from harness.report.claims import AGREES, DISAGREES, INCONCLUSIVE, UNTESTABLE, Claim, ClaimError, parse_claims, verdict

from .fixtures import write_experiment, write_record

FAST = {"resamples": 200, "figures": False}
CLAIMS = [
    {"name": "auc-up", "a": "mos", "b": "weak", "metric": "auc", "expect": "higher", "effect": 10.0},
    {"name": "auc-margin", "a": "mos", "b": "weak", "metric": "auc", "expect": "noninferior", "margin": 2.0},
    {
        "name": "sf-twin",
        "a": "mos",
        "b": "twin",
        "metric": "sf_implicit",
        "expect": "lower",
        "effect": -20.0,
        "sf_effect": "abs",
    },
]


@pytest.fixture
def experiment(tmp_path):
    folder = tmp_path / "exp"
    store = write_experiment(folder, {"mos": 1.5, "weak": 0.0})
    for seed in (0, 1, 2):  # the same scores as mos: the same decisions on every pair
        write_record(store, "table4_fairness_methods", "movielens-100k", "twin", seed, 1.5, noise_of="mos")
    return folder


def test_claims_parse_with_errors_that_name_the_claim_and_key():
    claims = parse_claims(CLAIMS)
    assert [c.name for c in claims] == ["auc-up", "auc-margin", "sf-twin"]
    assert claims[1].primary == (-2.0, "greater") and claims[1].against_paper == (-2.0, "less")
    assert claims[0].against_paper == (10.0, "less") and claims[2].against_paper == (-20.0, "greater")
    for bad, words in [
        ([{"name": "x", "a": "mos", "b": "weak", "metric": "auc", "expect": "better"}], "expect"),
        ([{"name": "x", "a": "mos", "b": "weak", "metric": "auc", "expect": "lower", "effect": 3}], "sign"),
        ([{"name": "x", "a": "mos", "b": "weak", "metric": "auc", "expect": "noninferior"}], "margin"),
        ([{"name": "x", "a": "mos", "metric": "auc", "expect": "lower"}], "missing b"),
        ([{"name": "x", "a": "mos", "b": "weak", "metric": "auc", "expect": "lower", "efect": 1}], "unknown key"),
        ([{"name": "x", "a": "mos", "b": "mos", "metric": "auc", "expect": "lower"}], "inside-outside"),
        (CLAIMS[:1] * 2, "unique"),
    ]:
        with pytest.raises(ClaimError, match=words):
            parse_claims(bad)


def _row(effect, p_adjusted, p_paper_adjusted=np.nan, untestable=""):
    return {
        "effect": effect,
        "p_adjusted": p_adjusted,
        "p_paper_adjusted": p_paper_adjusted,
        "untestable": untestable,
        "seeds_for_paper_gap": 7.0,
        "note": "",
    }


def test_the_verdict_rule_on_hand_made_rows():
    lower = Claim("c", "mos", "b", "sf_implicit", "lower", effect=-24.5)
    assert verdict(lower, _row(-10.0, 0.01, 0.02), 0.05)[0] == AGREES  # smaller than the paper's: still agrees
    assert "smaller than the paper's" in verdict(lower, _row(-10.0, 0.01, 0.02), 0.05)[1]
    assert verdict(lower, _row(+3.0, 0.01), 0.05)[0] == DISAGREES  # significant the other way
    assert verdict(lower, _row(-1.0, 0.5, 0.001), 0.05)[0] == DISAGREES  # the paper's -24.5 is rejected
    inconclusive = verdict(lower, _row(-1.0, 0.5, 0.3), 0.05)
    assert inconclusive[0] == INCONCLUSIVE and "7 seeds" in inconclusive[1]
    assert verdict(lower, _row(0.0, 1.0, untestable="they decide alike"), 0.05) == (UNTESTABLE, "they decide alike")
    margin = Claim("m", "mos", "b", "auc", "noninferior", effect=4.1, margin=2.0)
    assert verdict(margin, _row(-1.0, 0.01, 0.9), 0.05)[0] == AGREES
    assert verdict(margin, _row(-7.6, 0.9, 0.01), 0.05)[0] == DISAGREES
    assert verdict(margin, _row(-3.0, 0.3, 0.3), 0.05)[0] == INCONCLUSIVE
    differs = Claim("d", "mos", "b", "auc", "differs")
    assert verdict(differs, _row(-3.1, 0.01), 0.05)[0] == "differs"
    assert verdict(differs, _row(-3.1, 0.2), 0.05)[0] == INCONCLUSIVE


def test_the_report_tests_the_claims_and_marks_only_their_cells(experiment, tmp_path):
    report = build_report(experiment, claims=parse_claims(CLAIMS), **FAST)
    c = report.comparisons
    family = c[c.family == "claims"]
    assert sorted(family.claim) == ["auc-margin", "auc-up", "sf-twin"] and (c[c.claim == ""].family == "").all()
    assert c[c.family == ""].p_adjusted.isna().all() and not c[c.family == ""].significant.any()
    claims = report.claims().set_index("claim")
    assert claims.loc["sf-twin", "verdict"] == UNTESTABLE and claims.loc["sf-twin", "agreement"] == 1.0
    assert claims.loc["auc-margin", "verdict"] == AGREES and claims.loc["auc-margin", "alternative"] == "greater"
    assert claims.loc["auc-up", "effect"] > 0 and claims.loc["auc-up", "verdict"] in (AGREES, DISAGREES)
    # Holm over the three claims: a claim's p_adjusted is at most 3 times its p
    assert (claims.p_adjusted <= np.minimum(1, 3 * claims.p) + 1e-12).all()
    # † only where a two-sided claim tests the cell: mos vs weak's AUC, never Precision or Recall
    weak = report.summary[(report.summary.method == "weak") & (report.summary.source == "ours")].iloc[0]
    assert weak["auc_significant"] == bool(claims.loc["auc-up", "significant"])
    assert weak["precision_significant"] is None and weak["recall_significant"] is None
    assert "claims named before the records" in report.caption
    written = {p.name for p in report.save(tmp_path / "out")}
    assert {"claims.md", "claims.csv"} <= written
    text = (tmp_path / "out" / "claims.md").read_text()
    assert "**not testable**" in text and "sf-twin" in text
    assert any(n.startswith("Verdicts (claims.md)") for n in report.notes)


def test_the_family_is_the_experiments_whatever_rows_a_table_shows(experiment):
    claims = parse_claims(CLAIMS)
    full = build_report(experiment, claims=claims, **FAST).claims().set_index("claim")
    part = build_report(experiment, claims=claims, methods=["weak"], **FAST)
    assert set(part.summary[part.summary.source == "ours"].method) == {"weak"}
    assert part.claims().set_index("claim").p_adjusted.equals(full.p_adjusted)


def test_report_yaml_names_the_claims_and_a_bad_one_is_refused(experiment, capsys):
    (experiment / "report.yaml").write_text(yaml.safe_dump({"claims": CLAIMS}))
    assert main([str(experiment), "--resamples", "200", "--no-figures"]) == 0
    assert (experiment / "report" / "claims.md").is_file()
    assert "3 claim(s)" in capsys.readouterr().err
    bad = [dict(CLAIMS[0], metric="ndcg")]
    (experiment / "report.yaml").write_text(yaml.safe_dump({"claims": bad}))
    assert main([str(experiment), "--no-figures"]) == 2
    assert "claim 'auc-up': metric must be one of" in capsys.readouterr().err
    (experiment / "report.yaml").write_text(yaml.safe_dump({"claims": [dict(CLAIMS[0], b="absent")]}))
    assert main([str(experiment), "--no-figures"]) == 2
    assert "names ['absent'], which have no records" in capsys.readouterr().err


def test_an_undefined_seed_makes_a_claim_not_testable(tmp_path):
    store = Store(str(tmp_path / "exp"))
    for method, shift in (("mos", 1.5), ("weak", 0.0)):
        for seed in (0, 1):
            write_record(store, "table4_fairness_methods", "movielens-100k", method, seed, shift)
    report = build_report(tmp_path / "exp", claims=parse_claims(CLAIMS[:1]), **FAST)
    claim = report.claims().iloc[0]
    assert claim.seeds == 2 and claim.verdict in (AGREES, DISAGREES, INCONCLUSIVE)
    one = Store(str(tmp_path / "one"))
    for method, shift in (("mos", 1.5), ("weak", 0.0)):
        write_record(one, "table4_fairness_methods", "movielens-100k", method, 0, shift)
    claim = build_report(tmp_path / "one", claims=parse_claims(CLAIMS[:1]), **FAST).claims().iloc[0]
    assert claim.verdict == UNTESTABLE and "needs 2" in claim.why
