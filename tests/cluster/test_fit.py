"""harness.cluster: every shipped search space (its real and its --smoke resources)
fits every cluster file's node types; a request no node type can hold fails with
the node types and the shortfall named."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cluster import FitError, NodeType, check_files, check_fit, load_cluster, main, node_types
from harness.config.sweep import Resources
from harness.space import list_files

ROOT = Path(__file__).resolve().parents[2]
SPACES = list_files(ROOT / "search_spaces")
CLUSTERS = [ROOT / "cluster" / name for name in ("aws.yaml", "gcp.yaml", "kuberay/raycluster.yaml")]
TYPES = [NodeType("head", {"CPU": 0}, 1), NodeType("gpu", {"CPU": 8, "GPU": 1}, 8)]


def test_mos_is_among_the_checked_spaces():
    assert ROOT / "search_spaces" / "mos.yaml" in SPACES


@pytest.mark.parametrize("smoke", [False, True], ids=["real", "smoke"])
@pytest.mark.parametrize("cluster", CLUSTERS, ids=lambda p: p.name)
@pytest.mark.parametrize("space", SPACES, ids=lambda p: p.stem)
def test_every_search_space_fits_every_cluster(space, cluster, smoke):
    fit = check_files(space, cluster, smoke=smoke)
    assert fit.trials_at_once >= 1 and "gpu" in fit.holds


@pytest.mark.parametrize("cluster", CLUSTERS, ids=lambda p: p.name)
def test_the_paper_sweeps_get_one_gpu_node_per_trial(cluster):
    fit = check_files(ROOT / "search_spaces" / "mos.yaml", cluster)
    assert fit.holds == {"gpu": 1} and fit.trials_at_once == 8


def test_both_launcher_files_and_the_raycluster_declare_the_same_gpu_node():
    shapes = {
        c.name: {t.name: (t.resources.get("GPU", 0), t.max_count) for t in node_types(load_cluster(c))}
        for c in CLUSTERS
    }
    assert {shape["gpu"] for shape in shapes.values()} == {(1, 8)}


def test_too_many_gpus_per_worker_names_every_node_type_and_the_shortfall():
    with pytest.raises(FitError) as error:
        check_fit(Resources(workers=1, cpus_per_worker=4, gpus_per_worker=2), TYPES)
    message = str(error.value)
    assert "{CPU: 4, GPU: 2}" in message
    assert "head has {CPU: 0, GPU: 0}, short {CPU: 4, GPU: 2}" in message
    assert "gpu has {CPU: 8, GPU: 1}, short {GPU: 1}" in message


def test_more_workers_than_the_cluster_holds_names_the_shortfall():
    with pytest.raises(FitError, match=r"needs 10 Train workers .* holds 8 \(gpu: 1 per node x 8 node\(s\)\); short 2"):
        check_fit(Resources(workers=10, cpus_per_worker=4, gpus_per_worker=1), TYPES)


def test_a_node_type_the_cluster_never_starts_does_not_count():
    with pytest.raises(FitError, match="gpu could hold one but the cluster never starts it"):
        check_fit(
            Resources(workers=1, cpus_per_worker=4, gpus_per_worker=1),
            [TYPES[0], NodeType("gpu", {"CPU": 8, "GPU": 1}, 0)],
        )


def test_several_workers_per_trial_share_nodes():
    fit = check_fit(Resources(workers=2, cpus_per_worker=2, gpus_per_worker=0), TYPES)
    assert fit.holds == {"gpu": 4} and fit.trials_at_once == 16


def test_launcher_node_types_without_resources_are_refused():
    config = {
        "head_node_type": "head",
        "max_workers": 2,
        "available_node_types": {"head": {"resources": {"CPU": 0}}, "gpu": {"resources": {}}},
    }
    with pytest.raises(FitError, match="'gpu' declares no resources"):
        node_types(config)


def test_cli_reports_the_fit_and_fails_on_a_misfit(tmp_path, capsys):
    assert main([str(ROOT / "search_spaces" / "mos.yaml"), *map(str, CLUSTERS)]) == 0
    assert capsys.readouterr().out.count("8 trial(s) at once") == 3
    big = tmp_path / "big.yaml"
    big.write_text(f"extends: {ROOT / 'search_spaces' / 'mos.yaml'}\nresources: {{gpus_per_worker: 2}}\n")
    assert main([str(big), str(CLUSTERS[0])]) == 1
    err = capsys.readouterr().err
    assert "big.yaml on" in err and "aws.yaml" in err and "short {GPU: 1}" in err
