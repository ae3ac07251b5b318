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
