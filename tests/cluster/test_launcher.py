"""cluster/aws.yaml and cluster/gcp.yaml against the schema the installed Ray ships
(ray/autoscaler/ray-schema.json) and Ray's own config validation (the defaults merge
and checks `ray up` runs before it contacts a cloud), so a misspelled key fails.
``node_config`` is free-form in Ray's schema; its keys are checked against the cloud
APIs' own field names below."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
LAUNCHER_FILES = [CLUSTER / "aws.yaml", CLUSTER / "gcp.yaml"]
RAY_SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())

# Top-level parameters of EC2 RunInstances (boto3 create_instances), plus Ray's own SubnetIds.
EC2_RUN_INSTANCES = {
    "AdditionalInfo",
    "BlockDeviceMappings",
    "CapacityReservationSpecification",
    "ClientToken",
    "CpuOptions",
    "CreditSpecification",
    "DisableApiStop",
    "DisableApiTermination",
    "DryRun",
    "EbsOptimized",
    "ElasticGpuSpecification",
    "ElasticInferenceAccelerators",
    "EnablePrimaryIpv6",
    "EnclaveOptions",
    "HibernationOptions",
    "IamInstanceProfile",
    "ImageId",
    "InstanceInitiatedShutdownBehavior",
    "InstanceMarketOptions",
    "InstanceType",
    "Ipv6AddressCount",
    "Ipv6Addresses",
    "KernelId",
    "KeyName",
    "LaunchTemplate",
    "LicenseSpecifications",
    "MaintenanceOptions",
    "MaxCount",
    "MetadataOptions",
    "MinCount",
    "Monitoring",
    "NetworkInterfaces",
    "NetworkPerformanceOptions",
    "Placement",
    "PrivateDnsNameOptions",
    "PrivateIpAddress",
    "RamdiskId",
    "SecurityGroupIds",
    "SecurityGroups",
    "SubnetId",
    "SubnetIds",
    "TagSpecifications",
    "UserData",
}
# Fields of a Compute Engine Instance (the instances.insert body).
GCE_INSTANCE = {
    "advancedMachineFeatures",
    "canIpForward",
    "confidentialInstanceConfig",
    "deletionProtection",
    "description",
    "disks",
    "displayDevice",
    "guestAccelerators",
    "hostname",
    "keyRevocationActionType",
    "labels",
    "machineType",
    "metadata",
    "minCpuPlatform",
    "name",
    "networkInterfaces",
    "networkPerformanceConfig",
    "params",
    "privateIpv6GoogleAccessType",
    "reservationAffinity",
    "resourcePolicies",
    "scheduling",
    "serviceAccounts",
    "shieldedInstanceConfig",
    "sourceMachineImage",
    "tags",
}
NODE_CONFIG_FIELDS = {"aws": EC2_RUN_INSTANCES, "gcp": GCE_INSTANCE}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _check_keys(config: dict) -> None:
    """Ray's schema, then the parts it leaves open: provider keys must be ones the schema
    documents, node_config keys fields of the cloud's API."""
    jsonschema.validate(config, RAY_SCHEMA)
    documented = set(RAY_SCHEMA["properties"]["provider"]["properties"])
    if set(config["provider"]) - documented:
        raise ValueError(f"provider keys Ray does not document: {set(config['provider']) - documented}")
    allowed = NODE_CONFIG_FIELDS[config["provider"]["type"]]
    for name, node in config["available_node_types"].items():
        if set(node["node_config"]) - allowed:
            raise ValueError(
                f"{name}.node_config: not {config['provider']['type']} API fields: {set(node['node_config']) - allowed}"
            )


@pytest.mark.parametrize("path", LAUNCHER_FILES, ids=lambda p: p.name)
def test_launcher_yaml_validates_against_rays_schema(path):
    _check_keys(_load(path))


@pytest.mark.parametrize("path", LAUNCHER_FILES, ids=lambda p: p.name)
def test_launcher_yaml_passes_rays_own_config_validation(path):
    config = prepare_config(_load(path))  # merged with the provider's defaults, as `ray up` does
    validate_config(config)
    assert config["available_node_types"][config["head_node_type"]]["max_workers"] == 0


@pytest.mark.parametrize("path", LAUNCHER_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "where",
    [(), ("provider",), ("available_node_types", "gpu"), ("available_node_types", "gpu", "node_config")],
    ids=["top", "provider", "node-type", "node-config"],
)
def test_a_misspelled_key_fails(path, where):
    config = _load(path)
    parent = config
    for key in where:
        parent = parent[key]
    for key in [k for k in parent if k != "type"]:  # each key in turn, e.g. max_workers -> max_workerz
        bad = copy.deepcopy(config)
        place = bad
        for step in where:
            place = place[step]
        place[key[:-1] + "z"] = place.pop(key)
        with pytest.raises((jsonschema.ValidationError, ValueError)):
            _check_keys(bad)


def test_gpu_workers_autoscale_from_zero():
    for path in LAUNCHER_FILES:
        config = _load(path)
        workers = [t for name, t in config["available_node_types"].items() if name != config["head_node_type"]]
        gpu = [t for t in workers if t["resources"].get("GPU", 0) > 0]
        assert gpu and all(t["min_workers"] == 0 and t["max_workers"] >= 1 for t in gpu), path.name
        assert config["available_node_types"][config["head_node_type"]]["resources"].get("GPU", 0) == 0
        assert config["idle_timeout_minutes"] > 0
