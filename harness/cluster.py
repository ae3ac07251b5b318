"""Does a sweep fit a cluster? A search space's per-trial request (``resources``:
Ray Train workers, each with ``cpus_per_worker`` CPUs and ``gpus_per_worker`` GPUs)
against the node types a cluster file declares: a Ray cluster-launcher YAML
(``cluster/aws.yaml``, ``cluster/gcp.yaml``) or a KubeRay ``RayCluster`` manifest
(``cluster/kuberay/``). Checked on the files alone, before any machine is paid for.

    python -m harness.cluster search_spaces/mos.yaml cluster/aws.yaml cluster/gcp.yaml
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import yaml

from harness.config.sweep import Resources
from harness.space import SpaceError, load_spec

KUBERAY_KINDS = ("RayCluster", "RayJob")


class FitError(ValueError):
    """A search space's trials cannot run on a cluster: names the node types and the shortfall."""


@dataclass(frozen=True)
class NodeType:
    name: str
    resources: dict  # Ray resources one node of this type offers, e.g. {"CPU": 8, "GPU": 1}
    max_count: int  # nodes of this type the cluster can hold at full size


@dataclass(frozen=True)
class Fit:
    holds: dict  # node type -> Train workers one node of it holds (only types that hold one)
    trials_at_once: int  # trials the cluster runs at once at full size


def load_cluster(path) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def node_types(config: dict) -> list[NodeType]:
    """The node types of a launcher config or a KubeRay RayCluster, with what each offers."""
    if config.get("kind") in KUBERAY_KINDS:
        return _kuberay_node_types(config)
    if "available_node_types" in config:
        return _launcher_node_types(config)
    raise FitError(
        f"not a cluster file: expected a launcher YAML (available_node_types) or a KubeRay "
        f"{' or '.join(KUBERAY_KINDS)}, got kind {config.get('kind')!r}"
    )


def _launcher_node_types(config: dict) -> list[NodeType]:
    types, cap = [], config.get("max_workers", 0)  # the cluster-wide cap on worker nodes
    for name, node in config["available_node_types"].items():
        if "CPU" not in (node.get("resources") or {}):
            raise FitError(
                f"node type {name!r} declares no resources: write them (e.g. {{CPU: 8, GPU: 1}}) "
                "so the fit can be checked from the file"
            )
        count = 1 if name == config["head_node_type"] else min(node.get("max_workers", cap), cap)
        types.append(NodeType(name, dict(node["resources"]), count))
    return types


def _kuberay_node_types(manifest: dict) -> list[NodeType]:
    """Read the way Ray's autoscaler reads a RayCluster (rayStartParams num-cpus/num-gpus,
    else the Ray container's limits, e.g. nvidia.com/gpu): Ray's own derivation, so the
    check and the autoscaler cannot disagree. A RayJob is checked when it carries its own
    rayClusterSpec; one that selects an existing RayCluster has nothing to check."""
    from ray.autoscaler._private.kuberay.autoscaling_config import _derive_autoscaling_config_from_ray_cr

    spec = manifest["spec"] if manifest["kind"] == "RayCluster" else manifest["spec"].get("rayClusterSpec")
    if spec is None:
        raise FitError(
            f"RayJob {manifest['metadata']['name']!r} runs on an existing RayCluster "
            "(clusterSelector): check that RayCluster's manifest instead"
        )
    metadata = {"namespace": "default", **manifest["metadata"]}
    config = _derive_autoscaling_config_from_ray_cr({"metadata": metadata, "spec": spec})
    head = config["head_node_type"]
    return [
        NodeType(name, node["resources"], 1 if name == head else node["max_workers"])
        for name, node in config["available_node_types"].items()
    ]


def _text(resources: dict) -> str:
    return "{" + ", ".join(f"{k}: {v:g}" for k, v in resources.items()) + "}"


def check_fit(resources: Resources, types: list[NodeType]) -> Fit:
    """How the trials fit, or a ``FitError`` naming each node type and what it lacks.
    A Train worker needs its CPUs and GPUs on one node; a trial's workers may spread
    over several nodes (Ray Train's placement group packs them when it can)."""
    need = {k: v for k, v in (("CPU", resources.cpus_per_worker), ("GPU", resources.gpus_per_worker)) if v > 0}
    holds = {t.name: int(min(t.resources.get(k, 0) // v for k, v in need.items())) for t in types}
    usable = [t for t in types if holds[t.name] > 0 and t.max_count > 0]
    if not usable:
        why = "; ".join(_shortfall(t, need) for t in types)
        raise FitError(
            f"no node type holds one Train worker of {_text(need)} (the search space's resources: "
            f"cpus_per_worker, gpus_per_worker): {why}"
        )
    capacity = sum(holds[t.name] * t.max_count for t in usable)  # Train workers at once, at full size
    if capacity < resources.workers:
        where = ", ".join(f"{t.name}: {holds[t.name]} per node x {t.max_count} node(s)" for t in usable)
        raise FitError(
            f"a trial needs {resources.workers} Train workers of {_text(need)} at once, but at full "
            f"size the cluster holds {capacity} ({where}); short {resources.workers - capacity}"
        )
    return Fit({t.name: holds[t.name] for t in usable}, capacity // resources.workers)


def _shortfall(node: NodeType, need: dict) -> str:
    short = {k: v - node.resources.get(k, 0) for k, v in need.items() if node.resources.get(k, 0) < v}
    if not short:
        return f"{node.name} could hold one but the cluster never starts it (max 0 nodes)"
    return f"{node.name} has {_text({k: node.resources.get(k, 0) for k in need})}, short {_text(short)}"


def check_files(space, cluster, smoke: bool = False) -> Fit:
    """``check_fit`` of a search-space file against a cluster file; errors name both files."""
    spec = load_spec(space, smoke=smoke)
    try:
        return check_fit(spec.resources, node_types(load_cluster(cluster)))
    except FitError as error:
        raise FitError(f"{space} on {cluster}: {error}") from None


def parser() -> argparse.ArgumentParser:
    """The command line's parser (tests/test_docs.py parses the docs' commands with it)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.cluster",
        description="Check that a search space's per-trial resources fit the node types of cluster files "
        "(Ray cluster-launcher YAML or KubeRay RayCluster), and how many trials run at once.",
    )
    parser.add_argument("space", help="a search-space YAML, e.g. search_spaces/mos.yaml")
    parser.add_argument("clusters", nargs="+", help="cluster files, e.g. cluster/aws.yaml")
    parser.add_argument("--smoke", action="store_true", help="check the space's --smoke resources")
    return parser


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    failed = 0
    for cluster in args.clusters:
        try:
            fit = check_files(args.space, cluster, args.smoke)
        except (FitError, SpaceError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            failed = 1
            continue
        holds = ", ".join(f"{name} holds {n}" for name, n in fit.holds.items())
        print(f"{cluster}: fits ({holds} Train worker(s) per node); {fit.trials_at_once} trial(s) at once at full size")
    return failed


if __name__ == "__main__":
    sys.exit(main())
