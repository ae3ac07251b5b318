"""cluster/kuberay/ against the project's own schema of every KubeRay field the
manifests rely on (tests/cluster/kuberay_schema.yaml, written from KubeRay's API
reference), the project's requirements on them (in-tree autoscaling, a GPU group
from 0 to N with GPU limits and tolerations, a memory-backed /dev/shm, the sweep as
the RayJob's entrypoint), and Ray's own reading of the RayCluster (the autoscaling
config Ray's KubeRay autoscaler derives from it must pass Ray's validation)."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.scripts.scripts import start as ray_start

from harness.cluster import node_types
from harness.space import load_spec
from harness.sweep import _parser

ROOT = Path(__file__).resolve().parents[2]
KUBERAY = ROOT / "cluster" / "kuberay"
SCHEMA = yaml.safe_load((Path(__file__).parent / "kuberay_schema.yaml").read_text())
ENTRYPOINT = "python -m harness.sweep search_spaces/mos.yaml --address auto"
MANIFESTS = sorted(KUBERAY.glob("*.yaml"))
RAY_START_FLAGS = {option.lstrip("-") for param in ray_start.params for option in param.opts}


def _load(name: str) -> dict:
    return yaml.safe_load((KUBERAY / name).read_text())


def _validate(manifest: dict) -> None:
    """The project's schema, then rayStartParams keys against the installed `ray start`'s flags."""
    kind = manifest.get("kind")
    if kind not in ("RayCluster", "RayJob"):
        raise jsonschema.ValidationError(f"kind {kind!r}: the project's schema knows RayCluster and RayJob")
    jsonschema.Draft7Validator({**SCHEMA, "$ref": f"#/definitions/{kind}"}).validate(manifest)
    spec = manifest["spec"] if kind == "RayCluster" else manifest["spec"].get("rayClusterSpec", {})
    groups = [spec.get("headGroupSpec", {}), *spec.get("workerGroupSpecs", [])]
    unknown = {flag for g in groups for flag in g.get("rayStartParams", {})} - RAY_START_FLAGS
    if unknown:
        raise jsonschema.ValidationError(f"rayStartParams: not flags of `ray start`: {sorted(unknown)}")


def _paths(node, path=()):
    """Every mapping key's path in a manifest."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _pods(cluster: dict) -> list[dict]:
    spec = cluster["spec"]
    return [spec["headGroupSpec"]["template"]["spec"]] + [g["template"]["spec"] for g in spec["workerGroupSpecs"]]


def test_both_manifests_are_there():
    assert [p.name for p in MANIFESTS] == ["raycluster.yaml", "rayjob.yaml"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_against_the_projects_schema(path):
    _validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_misspelled_field_fails(path):
    manifest = yaml.safe_load(path.read_text())
    fields = [p for p in _paths(manifest) if isinstance(p[-1], str)]
    assert len(fields) >= 8
    for field in fields:
        bad = copy.deepcopy(manifest)
        parent = bad
        for step in field[:-1]:
            parent = parent[step]
        parent[field[-1] + "x"] = parent.pop(field[-1])  # e.g. minReplicas -> minReplicasx
        with pytest.raises(jsonschema.ValidationError):
            _validate(bad)


@pytest.mark.parametrize("field", ["rayVersion", "headGroupSpec"])
def test_a_missing_required_field_fails(field):
    cluster = _load("raycluster.yaml")
    del cluster["spec"][field]
    with pytest.raises(jsonschema.ValidationError):
        _validate(cluster)


def test_ray_start_params_must_be_strings():
    cluster = _load("raycluster.yaml")
    cluster["spec"]["headGroupSpec"]["rayStartParams"]["num-cpus"] = 0  # KubeRay wants "0"
    with pytest.raises(jsonschema.ValidationError):
        _validate(cluster)


def test_raycluster_autoscales_a_gpu_group_from_zero():
    cluster = _load("raycluster.yaml")
    spec = cluster["spec"]
    assert spec["enableInTreeAutoscaling"] is True and spec["autoscalerOptions"]["idleTimeoutSeconds"] > 0
    assert spec["rayVersion"] == ray.__version__  # the Ray that submits must equal the cluster's
    [gpu] = [
        g
        for g in spec["workerGroupSpecs"]
        if g["template"]["spec"]["containers"][0]["resources"]["limits"].get("nvidia.com/gpu", 0) >= 1
    ]
    assert gpu["minReplicas"] == 0 and gpu.get("replicas", 0) == 0 and gpu["maxReplicas"] >= 1
    tolerations = gpu["template"]["spec"]["tolerations"]
    assert any(t["key"] == "nvidia.com/gpu" and t["effect"] == "NoSchedule" for t in tolerations)
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert "nvidia.com/gpu" not in head["resources"]["limits"]
    assert {p["containers"][0]["image"] for p in _pods(cluster)} == {head["image"]}
    assert head["image"].endswith(f"ray-{ray.__version__}")


def test_every_pod_has_a_memory_backed_dev_shm():
    for pod in _pods(_load("raycluster.yaml")):
        memory = {v["name"] for v in pod["volumes"] if v.get("emptyDir", {}).get("medium") == "Memory"}
        mounts = {m["name"] for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/dev/shm"}
        assert mounts and mounts <= memory


def test_rays_autoscaler_reads_the_raycluster():
    """Ray's KubeRay autoscaler derives its config from the RayCluster and validates it
    (harness.cluster.node_types calls that derivation): a GPU type of 0..N nodes."""
    types = {t.name: t for t in node_types(_load("raycluster.yaml"))}
    assert types["headgroup"].resources["CPU"] == 0 and "GPU" not in types["headgroup"].resources
    assert types["gpu"].resources["GPU"] == 1 and types["gpu"].max_count == 8


def test_rayjob_runs_the_sweep_on_the_raycluster():
    job, cluster = _load("rayjob.yaml"), _load("raycluster.yaml")
    entrypoint = job["spec"]["entrypoint"]
    assert entrypoint.startswith(ENTRYPOINT)
    command = shlex.split(entrypoint)
    assert command[:3] == ["python", "-m", "harness.sweep"]
    args = _parser().parse_args(command[3:])  # the sweep's own argument parser
    load_spec(ROOT / args.space)  # the search space exists and validates
    assert args.address == "auto" and args.storage.split("://")[0] in ("s3", "gs")  # pods share no disk
    assert job["spec"]["clusterSelector"]["ray.io/cluster"] == cluster["metadata"]["name"]


def test_dockerfile_builds_on_the_clusters_ray():
    dockerfile = (KUBERAY / "Dockerfile").read_text()
    [base] = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert base.startswith(f"rayproject/ray:{ray.__version__}-py311") and base.endswith("-gpu")
