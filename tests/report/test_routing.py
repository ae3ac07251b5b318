"""MoS's routing in the report: separation per seed, each group's most used expert, the router's
gradient norm (routing.md)."""

import numpy as np
import pytest

from harness.records import Store
from harness.report import build_report
from harness.stereotype import routing_separation

from .fixtures import write_record


def test_routing_separation_on_hand_made_usage():
    assert routing_separation([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]) == 1.0  # disjoint experts
    assert routing_separation([[0.25] * 4, [0.25] * 4]) == 0.0  # the same use
    assert routing_separation([[0.5, 0.5, 0, 0], [0.5, 0, 0.5, 0]]) == pytest.approx(0.5)
    assert routing_separation([[2.0, 0, 0], [0, 1.0, 1.0]]) == 1.0  # top-2 rows sum to 2
    assert routing_separation([[1.0, 0.0]]) is None and routing_separation([[1.0, 0], [0, 0]]) is None


def test_the_report_tabulates_each_mos_rows_routing(tmp_path):
    store = Store(str(tmp_path / "exp"))
    usages = {
        0: [[1.0, 0, 0, 0], [0, 1.0, 0, 0]],
        1: [[0, 0, 1.0, 0], [0, 0, 1.0, 0]],
        2: [[0.6, 0.4, 0, 0], [0, 0.4, 0.6, 0]],
    }
    for seed, usage in usages.items():
        fit = {"epochs": [{"diagnostics": {"router_grad_norm": 0.1 * (seed + 1)}}, {"diagnostics": {}}]}
        write_record(
            store,
            "table4_fairness_methods",
            "movielens-100k",
            "mos",
            seed,
            1.0,
            test_diagnostics={"expert_usage": usage},
            fit=fit,
        )  # no separation recorded: computed
        write_record(store, "table4_fairness_methods", "movielens-100k", "weak", seed, 0.0)
    report = build_report(tmp_path / "exp", resamples=200, figures=False)
    table = report.routing.set_index("seed")
    assert list(table.separation) == pytest.approx([1.0, 0.0, 0.6])
    assert table.loc[1, "grad_norm"] == pytest.approx(0.2) and set(report.routing.method) == {"mos"}
    written = {p.name for p in report.save(tmp_path / "out")}
    assert {"routing.md", "routing.csv"} <= written
    text = (tmp_path / "out" / "routing.md").read_text()
    assert "1.00, 0.00, 0.60" in text and "2 of 3" in text and "seed 0: male → 0 (100%), female → 1 (100%)" in text
    assert "<h2>Routing</h2>" in report.to_page()
    assert np.isclose(report.routing.grad_norm.mean(), 0.2)


def test_the_table_gives_each_prompt_settings_routing_where_the_record_holds_it(tmp_path):
    """A router can send a group to another expert in each prompt setting: pooled over the settings
    the groups then look apart (here 2/3) though under the training setting they share one expert.
    Study v2's PLAN.md reports the separation per setting, the training setting's first."""
    store = Store(str(tmp_path / "exp"))
    per_setting = {
        "implicit": {"samples": 10, "expert_usage": [[1.0, 0, 0], [1.0, 0, 0]]},
        "explicit": {"samples": 10, "expert_usage": [[1.0, 0, 0], [0, 1.0, 0]]},
        "counterfactual": {"samples": 10, "expert_usage": [[1.0, 0, 0], [0, 0, 1.0]]},
    }
    pooled = {"samples": 30, "expert_usage": [[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3]], "routing_separation": 2 / 3}
    write_record(store, "exp", "movielens-100k", "mos", 0, 1.0, test_diagnostics={**pooled, "per_setting": per_setting})
    write_record(store, "exp", "movielens-100k", "mos", 1, 1.0, test_diagnostics=pooled)  # an older record
    write_record(store, "exp", "movielens-100k", "weak", 0, 0.0)
    write_record(store, "exp", "movielens-100k", "weak", 1, 0.0)
    report = build_report(tmp_path / "exp", resamples=200, figures=False)
    table = report.routing
    # each setting the record holds has a row, the training setting's first; the older record's one row is pooled
    assert list(zip(table.seed, table.setting, table.training, strict=True)) == [
        (0, "implicit", True),
        (1, "pooled", False),
        (0, "explicit", False),
        (0, "counterfactual", False),
    ]
    assert list(table.separation) == pytest.approx([0.0, 2 / 3, 1.0, 1.0])
    report.save(tmp_path / "out")
    lines = (tmp_path / "out" / "routing.md").read_text().splitlines()
    prompts = [line.split("|")[3].strip() for line in lines if line.startswith("| movielens")]
    assert prompts == ["implicit (training)", "pooled", "explicit", "counterfactual"]
