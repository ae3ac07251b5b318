"""House rules for every cluster file (CONVENTIONS.md, 10): a short comment on every
field, no credentials anywhere, and one Ray version throughout (the Ray that
submits must equal the cluster's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import ray
import yaml

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
YAML_FILES = sorted(CLUSTER.rglob("*.yaml"))
ALL_FILES = sorted(p for p in CLUSTER.rglob("*") if p.is_file())
KEY_LINE = re.compile(r"^\s*(?:-\s+)?[\w.~/-]+:(?:\s|$)")  # a line that starts a mapping key
CREDENTIAL_KEYS = {
    "ssh_private_key",
    "KeyName",
    "gcp_credentials",
    "aws_access_key_id",
    "aws_secret_access_key",
    "password",
    "secretKeyRef",
    "token",
}
SECRET_TEXT = re.compile(r"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|\"private_key\"\s*:")


def test_cluster_files_exist():
    names = {p.relative_to(CLUSTER).as_posix() for p in ALL_FILES}
    assert {"aws.yaml", "gcp.yaml", "README.md", "kuberay/raycluster.yaml", "kuberay/rayjob.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(CLUSTER).as_posix())
def test_every_field_has_a_comment(path):
    """On its own line, or on the comment line right above it (for lines too long to share)."""
    lines = path.read_text().splitlines()
    bare = [
        f"{path.name}:{i + 1}: {line.strip()}"
        for i, line in enumerate(lines)
        if KEY_LINE.match(line) and "#" not in line and not (i and lines[i - 1].strip().startswith("#"))
    ]
    assert not bare, "fields without a comment:\n" + "\n".join(bare)


def _keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(CLUSTER).as_posix())
def test_no_credentials(path):
    text = path.read_text()
    assert not SECRET_TEXT.search(text)
    if path.suffix == ".yaml":
        assert not CREDENTIAL_KEYS & set(_keys(yaml.safe_load(text)))


def test_one_ray_version_everywhere():
    versions = {m for p in ALL_FILES for m in re.findall(r"rayproject/ray:(\d+\.\d+\.\d+)", p.read_text())}
    versions |= {yaml.safe_load((CLUSTER / "kuberay" / "raycluster.yaml").read_text())["spec"]["rayVersion"]}
    assert versions == {ray.__version__}
